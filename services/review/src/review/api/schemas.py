"""API: response bodies of the review service, so OpenAPI (and the web client generated from it) knows every
field. The use cases still build dicts; FastAPI validates each against its model and serialises it.

Response models forbid extra keys: a key a use case adds without a field here fails the tests instead of being
dropped silently. Titles are the labels a user sees; times keep the isoformat() text the use cases write
(`zc_http.IsoDateTime`). Open by nature, and so `dict[str, Any]`: a history entry's `details` (what each kind of
step records: the start's event data, a message's name, a return's reasons, a migration's versions)."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, JsonValue, RootModel

from zc_http import IsoDateTime, Paged

RESPONSE = ConfigDict(extra="forbid")

InstanceStatus = Literal["running", "completed", "error", "stalled", "suspended", "cancelled"]


# -- reviewers' inbox --------------------------------------------------------------------------------------


class DecisionOption(BaseModel):
    """A decision the task allows, with its label (approve → 通过)."""

    model_config = RESPONSE

    value: str = Field(description="审核结论的取值，办理时作为 decision 发送")
    label: str = Field(title="审核结论")


class Task(BaseModel):
    """A task in the inbox: who may act (role and scope), in which stage, by when."""

    model_config = RESPONSE

    task_id: UUID
    process_key: str = Field(description="流程标识")
    business_key: str = Field(description="业务标识（申报或记录的标识）")
    name: str = Field(description="环节标识（BPMN 元素 id）")
    title: str = Field(title="任务名称")
    role: str | None = Field(title="办理角色")
    scope_type: str | None = Field(title="办理范围类型")
    scope_id: str | None = Field(title="办理范围", description="单位、主管部门、评委会的标识或行政区划代码")
    form_key: str | None = Field(description="环节表单")
    decisions: list[DecisionOption] = Field(title="可选审核结论")
    stage: str | None = Field(title="环节")
    series_code: str | None = Field(title="职称系列")
    unit_id: str | None = Field(description="申报人的工作单位")
    assignee: str | None = Field(title="认领人")
    claimed_at: IsoDateTime | None = Field(title="认领时间")
    created_at: IsoDateTime = Field(title="到达时间")
    due_at: IsoDateTime | None = Field(title="办理期限")
    working_days_left: int | None = Field(
        default=None, title="剩余工作日", description="距办理期限的工作日数，逾期为负数"
    )


class TaskPage(Paged):
    model_config = RESPONSE

    items: list[Task] = Field(title="我的待办")


class StageCounts(RootModel[dict[str, int]]):
    """各环节待办数量: stage (as the diagrams name it: unit, department, committee, …; `other` for tasks without
    one) → the number of open tasks the caller may act on."""


class TaskRouting(BaseModel):
    """What the submission told the process (who, which unit, series, level…) and what the process found for the
    reviewers to see (初定's recommendation, the experts' votes). Keys a process does not know are absent. What a
    diagram computes is any JSON, and keys of older instances are passed on: a diagram's choice never makes the
    task unreadable (a 500)."""

    model_config = ConfigDict(extra="allow")

    application_id: str | None = Field(default=None, description="申报标识")
    record_id: str | None = Field(default=None, description="记录标识（职称确认、统计、证书核验）")
    applicant_id: str | None = Field(default=None, description="申报人（用户标识）")
    unit_id: str | None = Field(default=None, description="工作单位")
    department_ids: list[str] | None = Field(default=None, description="主管部门（由近及远）")
    department_id: str | None = Field(default=None, description="当前主管部门")
    committee_id: str | None = Field(default=None, description="评审组织（评委会）")
    series_code: str | None = Field(default=None, title="职称系列")
    level_code: str | None = Field(default=None, title="职称层级")
    qualification_code: str | None = Field(default=None, title="资格代码")
    method: str | None = Field(default=None, title="评审方式")
    year: int | None = Field(default=None, title="年度")
    evaluation_mode: str | None = Field(default=None, title="评价类型", description="评审（review）或初定")
    record_kind: str | None = Field(default=None, title="记录类型")
    education_level: str | None = Field(default=None, title="最高学历")
    work_years: int | None = Field(default=None, title="工作年限（整年）")
    qualification_name: str | None = Field(default=None, title="资格名称")
    specialty: str | None = Field(default=None, title="专业")
    committee_name: str | None = Field(default=None, title="评审组织")
    entrusting_unit_name: str | None = Field(default=None, title="委托单位")
    correlation_id: str | None = Field(default=None, description="关联标识（追踪同一申报的事件）")
    recommended_level: JsonValue = Field(default=None, title="建议层级代码")
    recommended_level_name: JsonValue = Field(default=None, title="建议层级")
    recommendation: JsonValue = Field(default=None, title="建议依据")
    votes: JsonValue = Field(default=None, title="专家表决")


class TaskDetail(Task):
    """任务详情: the task with its instance and what the reviewers see of the submission."""

    form_schema: dict[str, JsonValue] | None = Field(
        title="环节表单", description="办理时 form 的 JSON Schema（组织专家评审、发证数据等）；无表单的环节为空"
    )
    trail: list[TrailStep] = Field(title="审核记录", description="此前各环节的办理情况")

    instance_id: UUID
    routing: TaskRouting = Field(title="申报信息")
    current_stage: str | None = Field(title="当前环节")


class CompletedTask(BaseModel):
    """办理的结果: the decision taken and where the process stands now (a retry with the same Idempotency-Key
    answers the same)."""

    model_config = RESPONSE

    task_id: UUID
    decision: str = Field(title="审核结论")
    instance_id: UUID
    status: InstanceStatus = Field(title="流程状态")
    current_stage: str | None = Field(title="当前环节")


class DecidedTask(BaseModel):
    """已办: a task the caller completed, as the review's history kept it."""

    model_config = RESPONSE

    task_id: UUID
    instance_id: UUID
    process_key: str = Field(description="流程标识")
    business_key: str = Field(description="业务标识（申报或记录的标识）")
    title: str = Field(title="任务名称")
    stage: str | None = Field(title="环节")
    role: str | None = Field(title="办理角色")
    decision: str | None = Field(description="审核结论的取值")
    decision_label: str | None = Field(title="审核结论")
    comment: str | None = Field(title="审核意见")
    reasons: list[str] = Field(title="退回或不通过原因")
    decided_at: IsoDateTime = Field(title="办理时间")


class DecidedPage(Paged):
    model_config = RESPONSE

    items: list[DecidedTask] = Field(title="已办")


class InNotice(BaseModel):
    """An application in its unit's 公示: until when, and since when."""

    model_config = RESPONSE

    instance_id: UUID
    process_key: str = Field(description="流程标识")
    business_key: str = Field(description="业务标识（申报的标识）")
    unit_id: str | None = Field(description="工作单位")
    qualification_name: str | None = Field(title="申报资格")
    ends_at: IsoDateTime | None = Field(title="公示截止")
    since: IsoDateTime = Field(title="公示开始")


class NoticePage(Paged):
    model_config = RESPONSE

    items: list[InNotice] = Field(title="公示中")


# -- the applicant's trail ---------------------------------------------------------------------------------


class Waiting(BaseModel):
    """What the instance waits for besides its tasks: a timer (公示期满) or a message (申报人修改后重新提交)."""

    model_config = RESPONSE

    kind: Literal["timer", "message"] = Field(title="等待类型")
    name: str = Field(title="名称")
    due_at: IsoDateTime | None = Field(title="到期时间")


class TrailTask(BaseModel):
    model_config = RESPONSE

    title: str = Field(title="当前任务")
    stage: str | None = Field(title="环节")
    due_at: IsoDateTime | None = Field(title="办理期限")


class TrailStep(BaseModel):
    model_config = RESPONSE

    at: IsoDateTime = Field(title="时间")
    kind: str = Field(description="记录类型（task_completed、message、timer、started、cancelled）")
    label: str = Field(title="审核进度")
    stage: str | None = Field(title="环节")
    decision: str | None = Field(title="审核结论")
    reason: str | None = Field(title="退回或不通过原因")


class Trail(BaseModel):
    """审核进度 as the applicant sees it: the steps passed, the current tasks and their due dates."""

    model_config = RESPONSE

    business_key: str = Field(description="业务标识（申报或记录的标识）")
    process_key: str = Field(description="流程标识")
    status: InstanceStatus = Field(title="流程状态")
    current_stage: str | None = Field(title="当前环节")
    current_tasks: list[TrailTask] = Field(title="当前任务")
    waiting: list[Waiting] = Field(title="等待中")
    steps: list[TrailStep] = Field(title="审核记录")


# -- operators ---------------------------------------------------------------------------------------------


class InstanceDeadline(BaseModel):
    """A due time as the operator console shows it: working days left by the service's clock and calendar
    (none when the calendar lacks the year)."""

    model_config = RESPONSE

    working_days_left: int = Field(
        title="剩余工作日", description="到期日前还剩的工作日（到期当天为 0）；已超期时为负数，即超期的工作日数"
    )
    overdue: bool = Field(title="已超期")


class ProcessInstance(BaseModel):
    """A process instance as operators search and act on it."""

    model_config = RESPONSE

    instance_id: UUID
    process_key: str = Field(title="流程")
    business_key: str = Field(title="业务标识")
    status: InstanceStatus = Field(title="状态")
    current_stage: str | None = Field(title="当前环节")
    next_due_at: IsoDateTime | None = Field(title="下一定时器到期")
    error: str | None = Field(title="错误")
    tree_size: int = Field(description="引擎状态中保留的任务数")
    created_at: IsoDateTime = Field(title="启动时间")
    updated_at: IsoDateTime = Field(title="更新时间", description="最后一次变化的时间，即从何时起在等待")
    next_due: InstanceDeadline | None = Field(title="下一定时器期限")


class InstancePage(Paged):
    model_config = RESPONSE

    items: list[ProcessInstance] = Field(title="流程实例")


class HistoryEntry(BaseModel):
    """One step of an instance's history, with who did it and why."""

    model_config = RESPONSE

    at: IsoDateTime = Field(title="时间")
    kind: str = Field(title="类型")
    actor_id: str | None = Field(title="操作人")
    actor_role: str | None = Field(title="操作角色")
    task_name: str | None = Field(title="任务")
    stage: str | None = Field(title="环节")
    decision: str | None = Field(title="审核结论")
    comment: str | None = Field(title="意见或原因")
    details: dict[str, Any] = Field(
        title="详情", description="因类型而异（启动时的数据、消息名、退回原因、迁移的版本）"
    )
    definition_version: int | None = Field(title="流程版本")


class InstanceTimer(Waiting):
    """A timer the instance waits on: where it sits in the diagram, and how much time is left."""

    element_id: str | None = Field(title="流程元素", description="BPMN 元素 id（旧数据可能缺失）")
    deadline: InstanceDeadline | None = Field(title="期限")


class InstanceExplanation(ProcessInstance):
    """Why the instance waits: its open tasks, the messages and timers it waits for, its error, its history, and
    what its diagram highlights."""

    definition_version: int = Field(title="流程版本")
    open_tasks: list[Task] = Field(title="待办任务")
    waiting_messages: list[str] = Field(title="等待的消息")
    timers: list[InstanceTimer] = Field(title="定时器")
    history: list[HistoryEntry] = Field(title="历史")
    active_elements: list[str] = Field(
        title="当前所在的流程元素", description="待办任务、定时器和等待消息所在的 BPMN 元素 id"
    )
    passed_elements: list[str] = Field(title="已走过的流程元素", description="已完成的 BPMN 元素 id，按首次完成的顺序")


# -- process definitions -----------------------------------------------------------------------------------


class ValidationProblem(BaseModel):
    """One finding in an uploaded diagram: where (element id, line) and why."""

    model_config = RESPONSE

    element_id: str | None = Field(title="元素")
    line: int | None = Field(title="行")
    reason: str = Field(title="问题")


class DiagramValidation(BaseModel):
    """校验结果. A valid diagram also has its name and user tasks; an invalid one has neither."""

    model_config = RESPONSE

    valid: bool = Field(title="校验通过")
    problems: list[ValidationProblem] = Field(title="问题")
    name: str | None = Field(default=None, title="流程名称")
    user_tasks: list[str] | None = Field(default=None, title="人工任务")


class DeployedDefinition(BaseModel):
    """A deployed version of a process (its BPMN text is downloaded separately)."""

    model_config = RESPONSE

    id: UUID
    process_key: str = Field(title="流程标识")
    version: int = Field(title="版本")
    name: str = Field(title="流程名称")
    content_hash: str = Field(description="BPMN 与 DMN 文本的摘要：内容不变则版本不变")
    deployed_by: str = Field(title="部署人")
    deployed_at: IsoDateTime = Field(title="部署时间")
    trusted: bool = Field(title="可信", description="允许脚本任务")


class DefinitionList(BaseModel):
    model_config = RESPONSE

    items: list[DeployedDefinition] = Field(title="已部署的流程定义")


class DiagramElement(BaseModel):
    model_config = RESPONSE

    id: str = Field(title="元素")
    name: str = Field(title="名称")


class ChangedElement(DiagramElement):
    attributes: list[str] = Field(title="修改的属性")


class DefinitionDiff(BaseModel):
    """两个版本的差异: the elements added, removed and changed from one version to the other."""

    model_config = RESPONSE

    process_key: str = Field(title="流程标识")
    from_version: int = Field(alias="from", title="原版本")
    to_version: int = Field(alias="to", title="新版本")
    added: list[DiagramElement] = Field(title="新增")
    removed: list[DiagramElement] = Field(title="删除")
    changed: list[ChangedElement] = Field(title="修改")


class MigrationEntry(BaseModel):
    """One instance of the old version: whether it can move, why not, and whether it moved."""

    model_config = RESPONSE

    instance_id: UUID
    business_key: str = Field(title="业务标识")
    status: InstanceStatus = Field(title="状态")
    safe: bool = Field(title="可以迁移")
    reasons: list[str] = Field(title="不能迁移的原因")
    reset_tasks: list[str] = Field(title="按新版本重新生成的任务")
    kept_timers: list[str] = Field(title="保留到期时间的定时器")
    migrated: bool = Field(title="已迁移")


class MigrationReport(BaseModel):
    """迁移（或预演）的结果."""

    model_config = RESPONSE

    process_key: str = Field(title="流程标识")
    from_version: int = Field(alias="from", title="原版本")
    to_version: int = Field(alias="to", title="新版本")
    dry_run: bool = Field(title="仅预演")
    instances: list[MigrationEntry] = Field(title="流程实例")
    safe: int = Field(title="可迁移数")
    unsafe: int = Field(title="不可迁移数")


class VocabularyOption(BaseModel):
    model_config = RESPONSE

    value: str = Field(description="写入流程图的取值")
    label: str = Field(title="名称")


class DesignerVocabulary(BaseModel):
    """流程设计可选项: what the review service reads from a diagram, for the designer's selects (the validation
    accepts the same values)."""

    model_config = RESPONSE

    roles: list[VocabularyOption] = Field(title="泳道角色")
    stages: list[VocabularyOption] = Field(title="环节")
    decisions: list[VocabularyOption] = Field(title="审核结论")
    scope_types: list[VocabularyOption] = Field(title="办理范围类型")
    inbound_messages: list[VocabularyOption] = Field(title="流入消息")
    outbound_messages: list[VocabularyOption] = Field(title="流出消息")
    forms: list[VocabularyOption] = Field(title="带字段的环节表单")


class DecisionTables(BaseModel):
    """The DMN tables deployed with a version (the business rule tasks call them)."""

    model_config = RESPONSE

    process_key: str = Field(title="流程标识")
    version: int = Field(title="版本")
    tables: list[str] = Field(title="DMN 决策表", description="DMN 文本，与该版本一同部署")
