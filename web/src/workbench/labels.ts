// What the workbench shows for the review service's keys. The processes' own titles come with each task; these
// are the names of the processes and stages for filters and tabs.
export const PROCESS_NAMES: Record<string, string> = {
  application_review: "申报评审",
  initial_determination: "职称初定",
  certificate_verification: "证书核验",
  out_of_province_confirmation: "外省职称确认",
  talent_statistics: "专技人才统计",
};

export const STAGE_NAMES: Record<string, string> = {
  unit: "单位审核",
  department: "主管部门审核",
  committee: "评委会",
  expert: "专家评审",
  authority: "授权管理单位",
  other: "其他",
};

export function processName(key: string): string {
  return PROCESS_NAMES[key] ?? key;
}

export function stageName(key: string | null | undefined): string {
  return key ? (STAGE_NAMES[key] ?? key) : "—";
}

/** 剩余 N 个工作日 / 已逾期 N 个工作日 / 今日到期, from the server's count of working days. */
export function dueText(daysLeft: number | null | undefined): string {
  if (daysLeft === null || daysLeft === undefined) return "";
  if (daysLeft > 0) return `剩余 ${daysLeft} 个工作日`;
  if (daysLeft === 0) return "今日到期";
  return `已逾期 ${-daysLeft} 个工作日`;
}

export function when(iso: string | null | undefined): string {
  return iso ? iso.slice(0, 16).replace("T", " ") : "—";
}
