// What the operator console shows in Chinese: statuses, stages, history kinds, roles, times in Beijing time,
// working days left, and the four actions with what each does to an instance.
import type { Schemas } from "@/api/client";

export type InstanceStatus = Schemas["ProcessInstance"]["status"];
export type Action = "retry" | "suspend" | "resume" | "cancel";
type TagType = "success" | "warning" | "danger" | "info" | "primary";

export const STATUS_LABELS: Record<InstanceStatus, string> = {
  running: "运行中",
  suspended: "已挂起",
  error: "出错",
  stalled: "停滞",
  completed: "已完成",
  cancelled: "已终止",
};

const STATUS_TAGS: Record<InstanceStatus, TagType> = {
  running: "primary",
  suspended: "warning",
  error: "danger",
  stalled: "danger",
  completed: "success",
  cancelled: "info",
};

export function statusTag(status: InstanceStatus): TagType {
  return STATUS_TAGS[status];
}

/** The `stage` property of the diagrams' user tasks (bpmn/README.md). */
export const STAGE_LABELS: Record<string, string> = {
  unit: "单位审核",
  department: "主管部门审核",
  committee: "评委会",
  expert: "专家评审",
  authority: "授权管理单位",
};

export function stageLabel(stage: string | null | undefined): string {
  if (!stage) return "—";
  return STAGE_LABELS[stage] ?? stage;
}

/** History rows by kind: what the engine, the scheduler, people and operators did. */
const KIND_LABELS: Record<string, string> = {
  started: "流程启动",
  task_completed: "办理任务",
  message: "收到消息",
  timer: "定时器到期",
  error: "出错",
  stalled: "停滞",
  withdraw_refused: "撤回被拒绝",
  migrated: "迁移到新版本",
  retry: "重试",
  suspend: "挂起",
  resume: "恢复",
  cancel: "终止",
};

export function kindLabel(kind: string): string {
  return KIND_LABELS[kind] ?? kind;
}

const ROLE_LABELS: Record<string, string> = {
  applicant: "申报人",
  unit_reviewer: "单位审核人员",
  department_reviewer: "主管部门审核人员",
  committee_staff: "评委会工作人员",
  committee_organiser: "评委会组建单位",
  expert: "评审专家",
  authority: "授权管理单位",
  operator: "运维人员",
  process_designer: "流程设计人员",
  admin: "系统管理员",
  system: "系统",
};

export function roleLabel(role: string | null | undefined): string {
  if (!role) return "";
  return ROLE_LABELS[role] ?? role;
}

/** Who acted, as the history names them: people by id, the system's parts in words. */
export function actorLabel(actorId: string | null | undefined, role: string | null | undefined): string {
  if (!actorId) return "—";
  if (actorId.startsWith("system:")) return "系统";
  const r = roleLabel(role);
  return r ? `${r}（${actorId}）` : actorId;
}

/** The messages the diagrams wait for (bpmn/README.md). */
const MESSAGE_LABELS: Record<string, string> = {
  resubmitted: "申报人修改后重新提交",
  withdraw: "申报人撤回",
  notice_objection: "公示异议",
};

export function messageLabel(name: string): string {
  return MESSAGE_LABELS[name] ? `${MESSAGE_LABELS[name]}（${name}）` : name;
}

const DECISION_LABELS: Record<string, string> = { approve: "通过", return: "退回修改", reject: "不通过" };

export function decisionLabel(decision: string | null | undefined): string {
  if (!decision) return "";
  return DECISION_LABELS[decision] ?? decision;
}

const BEIJING = new Intl.DateTimeFormat("zh-CN", {
  timeZone: "Asia/Shanghai",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});

function beijingParts(iso: string): Record<string, string> {
  return Object.fromEntries(BEIJING.formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
}

/** A time as the province reads it: Beijing time, to the minute. */
export function beijingTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const p = beijingParts(iso);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

/** A due time: one at midnight is the end of the day before (公示 "to 24:00 of the 5th working day"). */
export function dueTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const p = beijingParts(iso);
  if (p.hour === "00" && p.minute === "00") {
    const before = beijingParts(new Date(new Date(iso).getTime() - 60_000).toISOString());
    return `${before.year}-${before.month}-${before.day} 24:00`;
  }
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

export interface DeadlineText {
  text: string;
  overdue: boolean;
}

/** Working days left by the service's clock and calendar (it counts them; the browser's clock may differ). */
export function deadlineText(
  deadline: Schemas["InstanceDeadline"] | null | undefined,
): DeadlineText | null {
  if (!deadline) return null;
  const left = deadline.working_days_left;
  if (deadline.overdue) return { text: left < 0 ? `已超期 ${-left} 个工作日` : "已超期", overdue: true };
  return { text: left > 0 ? `剩余 ${left} 个工作日` : "今日到期", overdue: false };
}

/** An open task's working days left (negative once overdue), as the inbox counts them. */
export function taskDeadlineText(left: number | null | undefined): DeadlineText | null {
  if (left === null || left === undefined) return null;
  return deadlineText({ working_days_left: left, overdue: left < 0 });
}

export interface ActionSpec {
  label: string;
  from: InstanceStatus[]; // the statuses the service accepts it in
  effect: string; // what it does, shown before the operator confirms
  danger: boolean;
}

export const ACTIONS: Record<Action, ActionSpec> = {
  retry: {
    label: "重试",
    from: ["error", "stalled"],
    effect: "重新执行出错或停滞的环节（请先排除出错原因，例如导入缺少的工作日历）。",
    danger: false,
  },
  suspend: {
    label: "挂起",
    from: ["running"],
    effect: "挂起后定时器不再触发，待办不能办理，收到的消息暂缓投递，直到恢复。",
    danger: false,
  },
  resume: {
    label: "恢复",
    from: ["suspended"],
    effect: "恢复后流程继续运行，挂起期间已到期的定时器会立即触发。",
    danger: false,
  },
  cancel: {
    label: "终止",
    from: ["running", "suspended", "error", "stalled"],
    effect: "终止后流程实例结束，待办全部关闭，且不能恢复。",
    danger: true,
  },
};

export function actionsFor(status: InstanceStatus): Action[] {
  return (Object.keys(ACTIONS) as Action[]).filter((a) => ACTIONS[a].from.includes(status));
}
