"""API: the reviewers' task inbox, the applicant's trail, operator endpoints and process definitions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Protocol
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from review.api.schemas import (
    CompletedTask,
    DecidedPage,
    DecisionTables,
    DefinitionDiff,
    DefinitionList,
    DeployedDefinition,
    DesignerVocabulary,
    DiagramValidation,
    InstanceExplanation,
    InstancePage,
    MigrationReport,
    NoticePage,
    ProcessInstance,
    StageCounts,
    Task,
    TaskDetail,
    TaskPage,
    Trail,
)
from review.usecases.definitions import Definitions
from review.usecases.operations import OPERATOR_ROLES, Operations
from review.usecases.reviews import Reviews
from review.usecases.tasks import Decision, Tasks
from review.usecases.trails import Trails
from review.usecases.vocabulary import vocabulary
from zc_auth import Principal, PrincipalDep, Role, require_role
from zc_auth.routes import whoami_router
from zc_http import ForbiddenProblem, problem

router = APIRouter()
router.include_router(whoami_router())

REVIEWER_ROLES = (
    Role.UNIT_REVIEWER,
    Role.DEPARTMENT_REVIEWER,
    Role.COMMITTEE_STAFF,
    Role.COMMITTEE_ORGANISER,
    Role.EXPERT,
    Role.AUTHORITY,
)


class Container(Protocol):
    reviews: Reviews


def _reviews(request: Request) -> Reviews:
    container: Container = request.app.state.container
    return container.reviews


# each use case as a dependency (async: a plain def would hop to the threadpool)
async def get_tasks(request: Request) -> Tasks:
    return _reviews(request).tasks


async def get_trails(request: Request) -> Trails:
    return _reviews(request).trails


async def get_operations(request: Request) -> Operations:
    return _reviews(request).operations


async def get_definitions(request: Request) -> Definitions:
    return _reviews(request).definitions


TasksDep = Annotated[Tasks, Depends(get_tasks)]
TrailsDep = Annotated[Trails, Depends(get_trails)]
OperationsDep = Annotated[Operations, Depends(get_operations)]
DefinitionsDep = Annotated[Definitions, Depends(get_definitions)]
ReviewerDep = Annotated[Principal, Depends(require_role(*REVIEWER_ROLES))]
UnitReviewerDep = Annotated[Principal, Depends(require_role(Role.UNIT_REVIEWER))]
ReviewsDep = Annotated[Reviews, Depends(_reviews)]
OperatorDep = Annotated[Principal, Depends(require_role(*OPERATOR_ROLES))]
DesignerDep = Annotated[Principal, Depends(require_role(Role.PROCESS_DESIGNER, Role.ADMIN, Role.OPERATOR))]
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", max_length=100, description="重试同一请求时携带同一值")
]


# -- reviewers' inbox --------------------------------------------------------------------------------------


@router.get("/tasks", tags=["tasks"], summary="我的待办（按角色与所辖范围）", response_model=TaskPage)
async def inbox(
    principal: ReviewerDep,
    tasks: TasksDep,
    process: Annotated[str | None, Query(max_length=100, description="流程")] = None,
    stage: Annotated[str | None, Query(max_length=30, description="环节")] = None,
    series: Annotated[str | None, Query(max_length=20, description="系列")] = None,
    unit: Annotated[str | None, Query(max_length=100, description="工作单位")] = None,
    due_before: Annotated[datetime | None, Query(description="截止时间早于")] = None,
    mine: Annotated[bool, Query(description="只看本人认领的")] = False,
    sort: Literal["created_at", "due_at", "stage", "title"] = "created_at",
    order: Literal["asc", "desc"] = "asc",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    filters = {
        "process": process,
        "stage": stage,
        "series": series,
        "unit": unit,
        "due_before": due_before,
        "mine": principal.subject if mine else None,
    }
    return await tasks.inbox(principal, filters, sort=sort, descending=order == "desc", page=page, size=size)


@router.get("/tasks/decided", tags=["tasks"], summary="已办（本人办理过的任务）", response_model=DecidedPage)
async def decided(
    principal: ReviewerDep,
    tasks: TasksDep,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    return await tasks.decided(principal, page=page, size=size)


@router.get("/notices", tags=["notices"], summary="公示中（本单位在公示期内的申报）", response_model=NoticePage)
async def notices(
    principal: UnitReviewerDep,
    reviews: ReviewsDep,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    return await reviews.notices.in_notice(principal, page=page, size=size)


class Objection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=2, max_length=500, title="异议内容")
    raised_by: str | None = Field(default=None, max_length=50, title="异议人")


@router.post(
    "/notices/{business_key}/objections",
    tags=["notices"],
    status_code=204,
    summary="登记公示异议（退回单位重新审核）",
    response_class=Response,
)
async def object_to_notice(
    business_key: Annotated[str, Path(max_length=100)], body: Objection, principal: UnitReviewerDep, reviews: ReviewsDep
) -> Response:
    await reviews.notices.object(principal, business_key, reason=body.reason, raised_by=body.raised_by)
    return Response(status_code=204)


@router.get("/tasks/counts", tags=["tasks"], summary="各环节待办数量", response_model=StageCounts)
async def counts(principal: ReviewerDep, tasks: TasksDep) -> dict[str, int]:
    return await tasks.stage_counts(principal)


# response_model_exclude_unset: the routing holds only the keys the submission and the process gave it (a record
# has no series, an application no record kind); every other field of the task detail is always set
@router.get(
    "/tasks/{task_id}",
    tags=["tasks"],
    summary="任务详情",
    response_model=TaskDetail,
    response_model_exclude_unset=True,
)
async def task_detail(task_id: UUID, principal: ReviewerDep, tasks: TasksDep) -> dict[str, Any]:
    return await tasks.task_detail(principal, task_id)


# a task another reviewer claimed or decided first: 409 with the reason (refresh the inbox)
_TASK_CONFLICT: dict[int | str, dict[str, Any]] = {409: problem(409, "任务已被他人认领或已办理")}


@router.post("/tasks/{task_id}/claim", tags=["tasks"], summary="认领", response_model=Task, responses=_TASK_CONFLICT)
async def claim(task_id: UUID, principal: ReviewerDep, tasks: TasksDep) -> dict[str, Any]:
    return await tasks.claim(principal, task_id)


@router.post(
    "/tasks/{task_id}/unclaim", tags=["tasks"], summary="取消认领", response_model=Task, responses=_TASK_CONFLICT
)
async def unclaim(task_id: UUID, principal: ReviewerDep, tasks: TasksDep) -> dict[str, Any]:
    return await tasks.claim(principal, task_id, release=True)


class CompleteTask(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: str = Field(
        min_length=1, max_length=30, description="审核结论：approve 通过 / return 退回 / reject 不通过"
    )
    comment: str | None = Field(default=None, max_length=500, description="审核意见")
    reasons: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=20, description="退回原因"
    )
    return_target: Literal["applicant", "previous"] | None = Field(default=None, description="退回至：申报人 / 下一级")
    form: dict[str, Any] = Field(default_factory=dict, description="环节表单（如组织专家评审、发证数据）")


@router.post(
    "/tasks/{task_id}/complete",
    tags=["tasks"],
    summary="办理（通过 / 退回 / 不通过）",
    response_model=CompletedTask,
    responses=_TASK_CONFLICT,
)
async def complete(
    task_id: UUID, body: CompleteTask, principal: ReviewerDep, tasks: TasksDep, idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    decision = Decision(body.decision, body.comment, tuple(body.reasons), body.return_target, body.form)
    return await tasks.complete(principal, task_id, decision, idempotency_key=idempotency_key)


# -- the applicant's trail ---------------------------------------------------------------------------------


@router.get("/trails/{business_key}", tags=["trail"], summary="审核进度（申报人查看）", response_model=Trail)
async def trail(
    business_key: Annotated[str, Field(max_length=100)], principal: PrincipalDep, trails: TrailsDep
) -> dict[str, Any]:
    return await trails.trail(principal, business_key)


# -- operators ---------------------------------------------------------------------------------------------


@router.get("/operator/instances", tags=["operator"], summary="流程实例查询", response_model=InstancePage)
async def instances(
    _: OperatorDep,
    operations: OperationsDep,
    status: Literal["running", "completed", "error", "stalled", "suspended", "cancelled"] | None = None,
    process: Annotated[str | None, Query(max_length=100)] = None,
    business_key: Annotated[str | None, Query(max_length=100)] = None,
    waiting_since: Annotated[
        AwareDatetime | None, Query(description="等待起始不晚于：此时间之后没有任何变化的实例（须含时区）")
    ] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    return await operations.search(
        status=status,
        process_key=process,
        business_key=business_key,
        unchanged_since=waiting_since,
        page=page,
        size=size,
    )


@router.get(
    "/operator/instances/{instance_id}",
    tags=["operator"],
    summary="实例为何等待：待办、消息、定时器、错误",
    response_model=InstanceExplanation,
)
async def explain(instance_id: UUID, _: OperatorDep, operations: OperationsDep) -> dict[str, Any]:
    return await operations.explain(instance_id)


class OperatorAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=2, max_length=500, title="操作原因", description="操作原因（记入审计）")


@router.post(
    "/operator/instances/{instance_id}/{action}",
    tags=["operator"],
    summary="重试 / 挂起 / 恢复 / 终止",
    response_model=ProcessInstance,
)
async def operate(
    instance_id: UUID,
    action: Literal["retry", "suspend", "resume", "cancel"],
    body: OperatorAction,
    principal: OperatorDep,
    operations: OperationsDep,
) -> dict[str, Any]:
    return await operations.operate(principal, instance_id, action, body.reason)


# -- process definitions -----------------------------------------------------------------------------------


class DiagramUpload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    process_key: str = Field(pattern=r"^[a-z][a-z0-9_]{2,99}$", description="流程标识（与 BPMN 中 process 的 id 相同）")
    source: str = Field(min_length=1, max_length=2_097_152, description="BPMN 文本")
    decisions: list[Annotated[str, Field(max_length=2_097_152)]] = Field(
        default_factory=list, max_length=10, description="流程调用的 DMN 决策表文本"
    )
    trusted: bool = Field(default=False, description="可信（允许脚本任务；仅系统管理员）")


def _trusted(body: DiagramUpload, principal: Principal) -> bool:
    if body.trusted and not principal.has_role(Role.ADMIN):
        raise ForbiddenProblem("只有系统管理员可以将流程标记为可信", code="review.trust_forbidden")
    return body.trusted


# response_model_exclude_unset: an invalid diagram has no name and no user tasks (the keys are absent)
@router.post(
    "/definitions/validate",
    tags=["definitions"],
    summary="校验流程文件（不部署、不执行）",
    response_model=DiagramValidation,
    response_model_exclude_unset=True,
)
async def validate(body: DiagramUpload, principal: DesignerDep, definitions: DefinitionsDep) -> dict[str, Any]:
    return await definitions.validate(body.process_key, body.source, body.decisions, trusted=_trusted(body, principal))


@router.post(
    "/definitions",
    tags=["definitions"],
    status_code=201,
    summary="部署新版本（内容不变则不产生新版本）",
    response_model=DeployedDefinition,
)
async def deploy(body: DiagramUpload, principal: DesignerDep, definitions: DefinitionsDep) -> dict[str, Any]:
    row = await definitions.deploy(
        body.process_key,
        body.source,
        deployed_by=principal.subject,
        decisions=body.decisions,
        trusted=_trusted(body, principal),
    )
    return _definition_view(row)


@router.get(
    "/definitions/{process_key}/{version}/source",
    tags=["definitions"],
    summary="下载某一版本的 BPMN",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}}, "description": "BPMN 文件"}},
)
async def download(process_key: str, version: int, _: DesignerDep, definitions: DefinitionsDep) -> Response:
    row = await definitions.source(process_key, version)
    return Response(
        row["source"],
        media_type="application/xml; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{process_key}-v{version}.bpmn"',
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get(
    "/definitions/{process_key}/diff",
    tags=["definitions"],
    summary="两个版本的差异（新增 / 删除 / 修改的元素）",
    response_model=DefinitionDiff,
)
async def diff(
    process_key: str,
    _: DesignerDep,
    definitions: DefinitionsDep,
    from_version: Annotated[int, Query(ge=1)],
    to_version: Annotated[int, Query(ge=1)],
) -> dict[str, Any]:
    return await definitions.diff(process_key, from_version, to_version)


class Migration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    from_version: int = Field(ge=1)
    to_version: int = Field(ge=1)
    dry_run: bool = Field(default=True, description="只预演，不迁移")
    reason: str = Field(min_length=2, max_length=500, description="迁移原因（记入审计）")


@router.post(
    "/definitions/{process_key}/migrations",
    tags=["definitions"],
    summary="迁移运行中的实例到新版本（先预演）",
    response_model=MigrationReport,
)
async def migrate(
    process_key: str, body: Migration, principal: DesignerDep, definitions: DefinitionsDep
) -> dict[str, Any]:
    return await definitions.migrate(
        principal, process_key, body.from_version, body.to_version, dry_run=body.dry_run, reason=body.reason
    )


def _definition_view(r: dict[str, Any]) -> dict[str, Any]:
    keep = ("process_key", "version", "name", "content_hash", "deployed_by", "trusted")
    return {"id": str(r["id"]), "deployed_at": r["deployed_at"].isoformat(), **{k: r.get(k) for k in keep}}


@router.get("/definitions", tags=["definitions"], summary="已部署的流程定义", response_model=DefinitionList)
async def definitions(_: DesignerDep, definitions: DefinitionsDep) -> dict[str, Any]:
    return {"items": [_definition_view(r) for r in await definitions.deployed()]}


@router.get(
    "/definitions/vocabulary",
    tags=["definitions"],
    summary="流程设计可选项：泳道角色、环节、审核结论、办理范围、消息、表单",
    response_model=DesignerVocabulary,
)
async def designer_vocabulary(_: DesignerDep) -> dict[str, Any]:
    return vocabulary()


@router.get(
    "/definitions/{process_key}/{version}/decisions",
    tags=["definitions"],
    summary="某一版本的 DMN 决策表",
    response_model=DecisionTables,
)
async def decision_tables(
    process_key: str, version: int, _: DesignerDep, definitions: DefinitionsDep
) -> dict[str, Any]:
    row = await definitions.source(process_key, version)
    return {"process_key": process_key, "version": version, "tables": list(row["decisions"])}
