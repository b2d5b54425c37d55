"""Use cases: the workflow host — start, complete, deliver, fire timers, withdraw, operate.

Every transition follows one path (`_transition`): lock the instance row, run the engine, then in the
same transaction save the state (version-checked), rewrite the open-task rows, append history and put
the outbound events in the outbox. A state change is committed before anyone is told about it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

from cachetools import LRUCache
from opentelemetry import metrics
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from review.domain.calendar import BusinessCalendar
from review.domain.errors import (
    DecisionNotAllowedError,
    DirectoryUnavailableError,
    DomainError,
    ForbiddenError,
    InstanceStateError,
    NotFoundError,
    ProcessNotDeployedError,
    TaskConflictError,
)
from review.usecases.forms import PEOPLE_FIELDS, FormError, validate_form
from review.usecases.outbound import outbound_payload, stage_reached
from review.usecases.ports import (
    DiagramProblem,
    EngineState,
    NotWaitingError,
    OpenTask,
    PeopleDirectory,
    ProcessDefinition,
    WorkflowEngine,
)
from zc_auth import Principal, Role, ScopeType
from zc_contracts import Envelope, EventPayload, make_envelope, review_v1
from zc_db import MessagingTables
from zc_messaging import add_all_to_outbox, add_to_outbox

log = logging.getLogger(__name__)

SOURCE = "review"
Row = dict[str, Any]
OPERATOR_ROLES = (Role.OPERATOR, Role.ADMIN)
WITHDRAW_REFUSED = "工作单位已审核，不能撤回"


STALLED_INSTANCES = metrics.get_meter("review").create_counter(
    "review.instances.stalled", description="process instances found with nothing to wait for (need an operator)"
)
BEIJING = timezone(timedelta(hours=8))
VALIDATION_SECONDS = 10.0  # one diagram's validation (2 MB at most) in its thread
DEFINITIONS_CACHE_CHARS = 32 * 1024 * 1024  # characters of diagram text whose parsed definitions are kept


class InvalidDiagramError(DomainError):
    code = "review.invalid_diagram"
    status_hint = 422


@dataclass(frozen=True)
class TransitionWrite:
    """What one transition writes: the instance's new values (if it still has `expected_version`), its
    open tasks (`open_ids`, rows for each) and its history rows."""

    instance_id: UUID
    expected_version: int
    values: Mapping[str, Any]
    open_ids: set[UUID]
    task_rows: Sequence[Row]
    history_rows: Sequence[Row]


class InstanceStore(Protocol):
    async def definition(self, definition_id: UUID) -> Row | None: ...
    async def latest_definition(self, process_key: str) -> Row | None: ...
    async def definition_by_hash(self, process_key: str, content_hash: str) -> Row | None: ...
    async def insert_definition(self, row: Row) -> None: ...
    async def definitions(self) -> list[Row]: ...
    async def definition_version(self, process_key: str, version: int) -> Row | None: ...
    async def instances_on(self, definition_id: UUID) -> list[Row]: ...
    async def insert_instance(self, row: Row) -> bool: ...
    async def instance(self, instance_id: UUID, *, lock: bool = False) -> Row | None: ...
    async def instance_by_business_key(
        self, business_key: str, *, process_keys: Sequence[str] | None = None, lock: bool = False
    ) -> Row | None: ...
    async def save_instance(self, instance_id: UUID, expected_version: int, values: Mapping[str, Any]) -> bool: ...
    async def save_transitions(self, writes: Sequence[TransitionWrite]) -> list[set[UUID] | None]: ...
    async def claim_due(self, now: datetime, limit: int) -> list[Row]: ...
    async def claim_stalled(self, limit: int, changed_since: datetime | None = None) -> list[Row]: ...
    async def search_instances(
        self, *, status: str | None, process_key: str | None, business_key: str | None, limit: int, offset: int
    ) -> tuple[list[Row], int]: ...
    async def tasks_of(self, instance_id: UUID) -> list[Row]: ...
    async def task(self, task_id: UUID) -> Row | None: ...
    async def sync_tasks(self, instance_id: UUID, open_ids: set[UUID], rows: Sequence[Row]) -> set[UUID]: ...
    async def task_with_instance(self, task_id: UUID) -> tuple[Row, Row] | None: ...
    async def set_assignee(
        self, task_id: UUID, assignee: str | None, at: datetime | None, *, only_if: str | None
    ) -> bool: ...
    async def inbox(
        self,
        groups: Sequence[tuple[str, str, str | None]],
        filters: Mapping[str, Any],
        *,
        sort: str,
        descending: bool,
        limit: int,
        offset: int,
    ) -> tuple[list[Row], int]: ...
    async def stage_counts(self, groups: Sequence[tuple[str, str, str | None]], user: str) -> dict[str, int]: ...
    async def append_history(self, rows: Sequence[Row]) -> None: ...
    async def completion_of(self, task_id: UUID) -> Row | None: ...
    async def history_of(self, instance_id: UUID) -> list[Row]: ...
    async def command_result(self, actor_id: str, key: str) -> Row | None: ...
    async def store_command_result(self, row: Row) -> None: ...


@dataclass(frozen=True)
class Actor:
    """Who caused a transition, as the history records it."""

    id: str | None
    role: str | None = None
    scope_type: str | None = None
    scope_id: str | None = None

    @classmethod
    def system(cls, what: str) -> Actor:
        return cls(id=f"system:{what}")


@dataclass(frozen=True)
class Decision:
    decision: str
    comment: str | None = None
    reasons: tuple[str, ...] = ()
    return_target: str | None = None
    form: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class _Step:
    """What one transition records besides the new state."""

    kind: str
    actor: Actor
    task: Row | None = None
    decision: str | None = None
    comment: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Pending:
    """An engine outcome waiting to be saved."""

    instance: Row
    version: int  # of the definition, for the history
    result: EngineState
    step: _Step
    definition_id: UUID | None = None  # a migration moves the instance to another version


def _groups(principal: Principal) -> list[tuple[str, str, str | None]]:
    return [(g.role.value, g.scope_type.value, g.scope_id) for g in principal.roles]


def may_act(principal: Principal, task: Row) -> bool:
    """The lane names the role; the task's scope (from the instance's routing) narrows it; a task the
    process made for one person (an expert's vote) is theirs alone."""
    if task.get("candidate_user") and task["candidate_user"] != principal.subject:
        return False
    try:
        role = Role(task["role"])
    except ValueError:
        return False
    if task["scope_type"] is None:
        return principal.has_role(role)
    try:
        scope = ScopeType(task["scope_type"])
    except ValueError:
        return False
    if not task["scope_id"]:
        return False  # the routing did not say whose task it is: nobody's, until an operator mends the data
    return principal.has_role(role, scope, task["scope_id"])


def _refuse_own(principal: Principal, instance: Row) -> None:
    """Segregation of duties: nobody decides on (or claims a task of) their own application or record."""
    if instance["routing"].get("applicant_id") == principal.subject:
        raise ForbiddenError("不能审核本人的申报或记录", field="task_id")


class ReviewService:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        store: Callable[[AsyncSession], InstanceStore],
        engine: WorkflowEngine,
        calendar: BusinessCalendar,
        outbox: MessagingTables,
        clock: Callable[[], datetime] | None = None,
        people: PeopleDirectory | None = None,
    ) -> None:
        self._people = people  # the API's; a worker completes no tasks and needs none
        self._sessions = sessions
        self._store = store
        self._engine = engine
        self._calendar = calendar
        self._outbox = outbox
        self._clock = clock or (lambda: datetime.now(UTC))
        # definition id -> (version, parsed): bounded like the engine's own cache (by the size of the texts)
        self._definitions: LRUCache[UUID, tuple[int, ProcessDefinition]] = LRUCache(
            maxsize=DEFINITIONS_CACHE_CHARS, getsizeof=lambda entry: entry[1].text_size
        )

    def now(self) -> datetime:
        return self._clock()

    # -- definitions ------------------------------------------------------------------------------------

    async def deploy(
        self,
        process_key: str,
        source: str,
        *,
        deployed_by: str,
        decisions: Sequence[str] = (),
        trusted: bool = False,
    ) -> Row:
        """Validate; store a new version only when the text changed (same text = same version)."""
        problems = await self._problems(process_key, source, decisions, trusted=trusted)
        if problems:
            first = problems[0]
            where = f"（元素 {first.element_id}，第 {first.line} 行）" if first.element_id or first.line else ""
            more = f"，共 {len(problems)} 处问题" if len(problems) > 1 else ""
            raise InvalidDiagramError(f"流程校验未通过{where}：{first.message}{more}", field="source")
        parsed = self._engine.parse(process_key, source, decisions)
        for _attempt in range(3):  # another replica deploying the same text at once wins; we read its row
            try:
                return await self._insert_definition(process_key, source, parsed, deployed_by, trusted)
            except IntegrityError:
                continue
        raise InstanceStateError("流程部署冲突，请重试")

    async def _insert_definition(
        self, process_key: str, source: str, parsed: ProcessDefinition, deployed_by: str, trusted: bool
    ) -> Row:
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            existing = await store.definition_by_hash(process_key, parsed.content_hash)
            if existing is not None:
                return existing
            latest = await store.latest_definition(process_key)
            row = {
                "id": uuid.uuid4(),
                "process_key": process_key,
                "version": (latest["version"] + 1) if latest else 1,
                "content_hash": parsed.content_hash,
                "name": parsed.name,
                "source": source,
                "decisions": list(parsed.decisions),
                "deployed_by": deployed_by,
                "trusted": trusted,
                "deployed_at": self.now(),
            }
            await store.insert_definition(row)
        log.info("process deployed", extra={"process_key": process_key, "version": row["version"]})
        return row

    async def deploy_directory(self, root: Path, *, deployed_by: str = "system:startup") -> list[Row]:
        """`bpmn/<key>/<key>.bpmn` for every key found (the repository's diagrams at start-up)."""
        diagrams = await asyncio.to_thread(read_diagrams, root)
        return [
            # the repository's diagrams are reviewed like code: trusted (their script tasks may run)
            await self.deploy(key, text, deployed_by=deployed_by, decisions=tables, trusted=True)
            for key, text, tables in diagrams
        ]

    async def definitions(self) -> list[Row]:
        async with self._sessions() as s:
            return await self._store(s).definitions()

    async def _definition(self, store: InstanceStore, definition_id: UUID) -> tuple[int, ProcessDefinition]:
        cached = self._definitions.get(definition_id)
        if cached is None:
            row = await store.definition(definition_id)
            if row is None:
                raise NotFoundError("流程定义不存在")
            cached = (row["version"], self._engine.parse(row["process_key"], row["source"], row["decisions"]))
            self._definitions[definition_id] = cached
        return cached

    async def _problems(
        self, process_key: str, source: str, decisions: Sequence[str], *, trusted: bool
    ) -> list[DiagramProblem]:
        """Validation parses and checks up to 2 MB of XML: it runs in a thread so the event loop keeps serving,
        and it has a time limit (the thread cannot be stopped, but the caller gets an answer and the diagram is
        not deployed)."""
        validate = functools.partial(self._engine.validate, process_key, source, decisions, trusted=trusted)
        try:
            return await asyncio.wait_for(asyncio.to_thread(validate), VALIDATION_SECONDS)
        except TimeoutError:
            raise InvalidDiagramError(
                f"流程文件过于复杂，未能在 {VALIDATION_SECONDS:g} 秒内完成校验", field="source"
            ) from None

    async def validate(
        self, process_key: str, source: str, decisions: Sequence[str], *, trusted: bool
    ) -> dict[str, Any]:
        problems = await self._problems(process_key, source, decisions, trusted=trusted)
        summary: dict[str, Any] = {}
        if not problems:
            parsed = self._engine.parse(process_key, source, decisions)
            summary = {"name": parsed.name, "user_tasks": list(parsed.user_tasks)}
        return {"valid": not problems, "problems": [p.as_dict() for p in problems], **summary}

    async def _version(self, store: InstanceStore, process_key: str, version: int) -> Row:
        row = await store.definition_version(process_key, version)
        if row is None:
            raise NotFoundError(f"流程 {process_key} 没有第 {version} 版")
        return row

    async def source(self, process_key: str, version: int) -> Row:
        async with self._sessions() as s:
            return await self._version(self._store(s), process_key, version)

    async def diff(self, process_key: str, old: int, new: int) -> dict[str, Any]:
        async with self._sessions() as s:
            store = self._store(s)
            a, b = await self._version(store, process_key, old), await self._version(store, process_key, new)
            _, before = await self._definition(store, a["id"])
            _, after = await self._definition(store, b["id"])
        return {"process_key": process_key, "from": old, "to": new, **self._engine.diff(before, after)}

    async def migrate(
        self, principal: Principal, process_key: str, old: int, new: int, *, dry_run: bool, reason: str
    ) -> dict[str, Any]:
        """Move unfinished instances from one version to a newer one. A dry run only reports; a real run
        moves every safe instance (with its history record, in one transaction) and leaves the others."""
        if new <= old:
            raise InstanceStateError("只能迁移到更新的版本", field="to_version")
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            source, target = await self._version(store, process_key, old), await self._version(store, process_key, new)
            _, before = await self._definition(store, source["id"])
            new_version, after = await self._definition(store, target["id"])
            report = []
            for instance in await store.instances_on(source["id"]):
                plan = self._engine.plan_migration(before, instance["state"], after)
                entry: dict[str, Any] = {
                    "instance_id": str(instance["id"]),
                    "business_key": instance["business_key"],
                    "status": instance["status"],
                    "safe": plan.safe,
                    "reasons": list(plan.reasons),
                    "reset_tasks": list(plan.reset_tasks),
                    "kept_timers": list(plan.kept_timers),
                    "migrated": False,
                }
                if plan.safe and not dry_run:
                    result = self._engine.migrate(before, instance["state"], after, now=self.now())
                    if instance["status"] == "suspended" and result.status == "running":
                        result = replace(result, status="suspended")
                    step = _Step(
                        "migrated",
                        Actor(principal.subject, Role.PROCESS_DESIGNER.value),
                        comment=reason,
                        details={"from_version": old, "to_version": new},
                    )
                    await self._transition(s, store, instance, new_version, result, step, definition_id=target["id"])
                    entry["migrated"] = True
                report.append(entry)
        log.info(
            "process migration",
            extra={"process_key": process_key, "from": old, "to": new, "dry_run": dry_run, "instances": len(report)},
        )
        return {
            "process_key": process_key,
            "from": old,
            "to": new,
            "dry_run": dry_run,
            "instances": report,
            "safe": sum(1 for r in report if r["safe"]),
            "unsafe": sum(1 for r in report if not r["safe"]),
        }

    # -- events in (called by consumers inside the inbox transaction) -------------------------------------

    async def start(
        self,
        session: AsyncSession,
        process_key: str,
        business_key: str,
        data: Mapping[str, Any],
        *,
        cause: Envelope | None = None,
    ) -> bool:
        """Start once per (process, business key); False when it already runs (a duplicate submission)."""
        store = self._store(session)
        latest = await store.latest_definition(process_key)
        if latest is None:
            raise ProcessNotDeployedError(f"流程 {process_key} 尚未部署")
        version, definition = await self._definition(store, latest["id"])
        now = self.now()
        routing = {k: v for k, v in data.items() if k in ROUTING_KEYS}
        if cause is not None:
            routing["correlation_id"] = str(cause.correlation_id or cause.id)
        instance = {
            "id": uuid.uuid4(),
            "definition_id": latest["id"],
            "process_key": process_key,
            "business_key": business_key,
            "status": "running",
            "state": {},
            "version": 0,
            "routing": routing,
            "created_at": now,
            "updated_at": now,
        }
        if not await store.insert_instance(instance):
            return False
        result = self._engine.start(definition, data, now=now)
        await self._transition(
            session, store, instance, version, result, _Step("started", Actor.system("event"), details={"data": data})
        )
        return True

    async def deliver(
        self,
        session: AsyncSession,
        business_key: str,
        message: str,
        payload: Mapping[str, Any],
        *,
        process_keys: Sequence[str] | None = None,
        actor: Actor | None = None,
    ) -> bool:
        """Deliver a message to the instance of `business_key`; False when it does not wait for it."""
        store = self._store(session)
        instance = await store.instance_by_business_key(business_key, process_keys=process_keys, lock=True)
        if instance is not None and instance["status"] == "suspended":
            raise InstanceStateError("流程实例已挂起，恢复后再投递")  # the consumer retries later
        if instance is None or instance["status"] != "running":
            return False
        version, definition = await self._definition(store, instance["definition_id"])
        try:
            result = self._engine.deliver_message(definition, instance["state"], message, payload, now=self.now())
        except NotWaitingError:
            return False
        step = _Step("message", actor or Actor.system("event"), details={"message": message})
        await self._transition(session, store, instance, version, result, step)
        return True

    async def request_withdraw(self, session: AsyncSession, business_key: str, *, cause: Envelope) -> bool:
        """撤回 is granted only while the unit has not decided: the process must still wait for `withdraw`."""
        accepted = await self.deliver(session, business_key, "withdraw", {}, actor=Actor.system("applicant-withdraw"))
        if not accepted:
            instance = await self._store(session).instance_by_business_key(business_key)
            refused = review_v1.WithdrawRefused(
                application_id=UUID(business_key), reason=WITHDRAW_REFUSED, refused_at=self.now()
            )
            await add_to_outbox(
                session, self._outbox, make_envelope(refused, source=SOURCE, subject_id=business_key, causation=cause)
            )
            if instance is not None:
                await self._store(session).append_history(
                    [
                        self._history(
                            instance, _Step("withdraw_refused", Actor.system("applicant-withdraw")), self.now(), None
                        )
                    ]
                )
        return accepted

    # -- reviewers ----------------------------------------------------------------------------------------

    async def inbox(
        self, principal: Principal, filters: Mapping[str, Any], *, sort: str, descending: bool, page: int, size: int
    ) -> dict[str, Any]:
        async with self._sessions() as s:
            store = self._store(s)
            rows, total = await store.inbox(
                _groups(principal),
                {**filters, "user": principal.subject},
                sort=sort,
                descending=descending,
                limit=size,
                offset=(page - 1) * size,
            )
            return {"items": [task_view(r) for r in rows], "total": total, "page": page, "size": size}

    async def stage_counts(self, principal: Principal) -> dict[str, int]:
        async with self._sessions() as s:
            return await self._store(s).stage_counts(_groups(principal), principal.subject)

    async def task_detail(self, principal: Principal, task_id: UUID) -> dict[str, Any]:
        async with self._sessions() as s:
            store = self._store(s)
            task = await self._visible_task(store, principal, task_id)
            instance = await store.instance(task["instance_id"])
            assert instance is not None  # a task row cannot outlive its instance (FK)
            return {
                **task_view(task),
                "instance_id": str(instance["id"]),
                "routing": instance["routing"],
                "current_stage": instance["current_stage"],
            }

    async def claim(self, principal: Principal, task_id: UUID, *, release: bool = False) -> dict[str, Any]:
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            found = await store.task_with_instance(task_id)
            task = await self._check_visible(store, principal, task_id, found[0] if found else None)
            assert found is not None
            if not release:
                _refuse_own(principal, found[1])
            now = self.now()
            if release:
                if task["assignee"] != principal.subject:
                    raise TaskConflictError("只能取消本人认领的任务")
                await store.set_assignee(task_id, None, None, only_if=principal.subject)
            elif task["assignee"] == principal.subject:
                pass  # claiming twice is a no-op
            elif not await store.set_assignee(task_id, principal.subject, now, only_if=None):
                raise TaskConflictError("该任务已被他人认领")
            updated = await store.task(task_id)
            assert updated is not None
            return task_view(updated)

    async def _check_people(self, task: Row, form: Mapping[str, Any]) -> None:
        """A form that names people (the experts of a panel) may name only holders of the role in the task's
        own scope: an expert of another committee, or someone who is no expert, is refused by name."""
        named = PEOPLE_FIELDS.get(task["form_key"] or "")
        if named is None or named[0] not in form:
            return
        field, role, label = named
        if not task["scope_type"] or not task["scope_id"]:
            raise FormError(f"该环节未限定范围，无法核实{label}", field=f"form.{field}")
        if self._people is None:
            raise DirectoryUnavailableError(f"暂时无法核实{label}，请稍后重试")
        users = [str(u) for u in form[field]]
        holding = await self._people.holding(role, task["scope_type"], task["scope_id"], users)
        outsiders = [u for u in users if u not in holding]
        if outsiders:
            raise FormError(f"以下人员不是本评委会的{label}：{'、'.join(outsiders)}", field=f"form.{field}")

    async def complete(
        self, principal: Principal, task_id: UUID, decision: Decision, *, idempotency_key: str | None
    ) -> dict[str, Any]:
        """Exactly one completion wins: the state update is version-checked, so of two concurrent writers
        the second finds a newer version (409); a task that is no longer READY is refused by the engine."""
        try:
            return await self._complete(principal, task_id, decision, idempotency_key)
        except TaskConflictError:
            if idempotency_key:  # a concurrent retry with the same key lost the race to its twin
                async with self._sessions() as s:
                    earlier = await self._store(s).command_result(principal.subject, idempotency_key)
                if earlier is not None:
                    return dict(earlier["response"])
            raise

    async def _complete(
        self, principal: Principal, task_id: UUID, decision: Decision, idempotency_key: str | None
    ) -> dict[str, Any]:
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            if idempotency_key:
                earlier = await store.command_result(principal.subject, idempotency_key)
                if earlier is not None:
                    return dict(earlier["response"])
            found = await store.task_with_instance(task_id)  # one round trip, no lock: the save is version-checked
            task = await self._check_visible(store, principal, task_id, found[0] if found else None)
            assert found is not None
            instance = found[1]
            _refuse_own(principal, instance)
            if instance["status"] != "running":
                raise InstanceStateError(f"流程当前状态为 {instance['status']}，不能办理")
            if task["assignee"] and task["assignee"] != principal.subject:
                raise TaskConflictError("该任务已被他人认领")
            self._check_decision(task, decision)
            form = validate_form(task["form_key"], decision.decision, dict(decision.form))
            await self._check_people(task, form)
            version, definition = await self._definition(store, instance["definition_id"])
            data = {
                "decision": decision.decision,
                "comment": decision.comment or "；".join(decision.reasons) or None,
                "reasons": list(decision.reasons),
                "return_target": decision.return_target or "applicant",
                "stage": task["stage"],
                "decided_by": principal.subject,
                **form,
            }
            try:
                result = self._engine.complete_task(definition, instance["state"], str(task_id), data, now=self.now())
            except NotWaitingError as exc:
                raise TaskConflictError("该任务已被处理，请刷新待办列表") from exc
            actor = Actor(principal.subject, task["role"], task["scope_type"], task["scope_id"])
            step = _Step(
                "task_completed",
                actor,
                task=task,
                decision=decision.decision,
                comment=data["comment"],
                details={"reasons": list(decision.reasons), "return_target": data["return_target"]},
            )
            try:
                saved = await self._transition(s, store, instance, version, result, step)
            except TaskConflictError as exc:
                raise TaskConflictError("该任务已被处理或流程已变化，请刷新待办列表") from exc
            response = {
                "task_id": str(task_id),
                "decision": decision.decision,
                "instance_id": str(instance["id"]),
                "status": saved["status"],
                "current_stage": saved["current_stage"],
            }
            if idempotency_key:
                await store.store_command_result(
                    {
                        "actor_id": principal.subject,
                        "idempotency_key": idempotency_key,
                        "command": "complete_task",
                        "status_code": 200,
                        "response": response,
                        "created_at": self.now(),
                    }
                )
            return response

    @staticmethod
    def _check_decision(task: Row, decision: Decision) -> None:
        allowed = task["decisions"] or []
        if decision.decision not in allowed:
            names = "、".join(DECISION_LABELS.get(d, d) for d in allowed)
            raise DecisionNotAllowedError(f"该环节只能选择：{names}", field="decision")
        if decision.decision == "return" and not (decision.comment or decision.reasons):
            raise DecisionNotAllowedError("退回时必须填写退回原因", field="reasons")

    async def _visible_task(self, store: InstanceStore, principal: Principal, task_id: UUID) -> Row:
        return await self._check_visible(store, principal, task_id, await store.task(task_id))

    async def _check_visible(self, store: InstanceStore, principal: Principal, task_id: UUID, task: Row | None) -> Row:
        if task is None:
            done = await store.completion_of(task_id)
            if done is not None and may_act(principal, {"role": done["actor_role"], **done}):
                raise TaskConflictError("该任务已被处理，请刷新待办列表")
            raise NotFoundError("任务不存在或已办结")
        if not may_act(principal, task):
            raise NotFoundError("任务不存在或已办结")  # 404, not 403: do not reveal other scopes' tasks
        return task

    async def trail(self, principal: Principal, business_key: str) -> dict[str, Any]:
        """The applicant's view: stages passed, the current stage and its due date, return reasons."""
        async with self._sessions() as s:
            store = self._store(s)
            instance = await store.instance_by_business_key(business_key)
            if instance is None or not self._may_follow(principal, instance):
                raise NotFoundError("没有该申报的审核记录")
            events = await store.history_of(instance["id"])
            tasks = await store.tasks_of(instance["id"])
        steps = []
        for h in events:
            if h["kind"] in ("task_completed", "message", "timer", "started", "cancelled"):
                steps.append(
                    {
                        "at": h["at"].isoformat(),
                        "kind": h["kind"],
                        "label": trail_label(h),
                        "stage": h["stage"],
                        "decision": h["decision"],
                        "reason": h["comment"] if h["decision"] in ("return", "reject") else None,
                    }
                )
        return {
            "business_key": business_key,
            "process_key": instance["process_key"],
            "status": instance["status"],
            "current_stage": instance["current_stage"],
            "current_tasks": [
                {"title": t["title"], "stage": t["stage"], "due_at": t["due_at"].isoformat() if t["due_at"] else None}
                for t in tasks
            ],
            "waiting": instance["waiting"],
            "steps": steps,
        }

    @staticmethod
    def _may_follow(principal: Principal, instance: Row) -> bool:
        if instance["routing"].get("applicant_id") == principal.subject:
            return True
        return principal.has_any_role(*OPERATOR_ROLES)

    # -- timers -------------------------------------------------------------------------------------------

    async def flag_stalled(self, *, limit: int = 100, changed_since: datetime | None = None) -> int:
        """One scheduler pass: a running instance with no open task, timer or awaited message can never move on
        by itself; it is marked `stalled` for operators (why and since when, in its error and history), counted
        in the `review.instances.stalled` metric, and `retry` runs its engine step again. `changed_since`: only
        instances changed since then (the scheduler searches everything once at start, then what changed)."""
        now = self.now()
        flagged = 0
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            for instance in await store.claim_stalled(limit, changed_since):
                since = instance["updated_at"].astimezone(BEIJING)
                reason = f"流程停滞：没有待办、定时器或等待的消息（自 {since:%Y-%m-%d %H:%M} 起），请重试或终止"
                values = {"status": "stalled", "error": reason, "updated_at": now}
                if not await store.save_instance(instance["id"], instance["version"], values):
                    continue  # it moved on meanwhile
                version, _ = await self._definition(store, instance["definition_id"])
                step = _Step("stalled", Actor("system:scheduler", "system"), comment=reason)
                await store.append_history([self._history(instance, step, now, version)])
                log.warning("process instance stalled", extra={"instance_id": str(instance["id"]), "since": str(since)})
                flagged += 1
        if flagged:
            STALLED_INSTANCES.add(flagged)
        return flagged

    async def fire_due(self, *, limit: int = 50) -> int:
        """One scheduler pass: claim due instances (SKIP LOCKED), fire their timers, save. Any replica may run it."""
        now = self.now()
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            batch: list[_Pending] = []
            for instance in await store.claim_due(now, limit):
                version, definition = await self._definition(store, instance["definition_id"])
                result = self._engine.fire_timers(definition, instance["state"], now=now)
                due = [w["name"] for w in instance["waiting"] if w["kind"] == "timer"]
                step = _Step("timer", Actor.system("scheduler"), details={"due": due})
                batch.append(_Pending(instance, version, result, step))
            # the claimed rows stay locked until commit: the whole pass is saved with one statement
            await self._transitions(s, store, batch)
        return len(batch)

    # -- operators ----------------------------------------------------------------------------------------

    async def search(
        self, *, status: str | None, process_key: str | None, business_key: str | None, page: int, size: int
    ) -> dict[str, Any]:
        async with self._sessions() as s:
            rows, total = await self._store(s).search_instances(
                status=status, process_key=process_key, business_key=business_key, limit=size, offset=(page - 1) * size
            )
        return {"items": [instance_view(r) for r in rows], "total": total, "page": page, "size": size}

    async def explain(self, instance_id: UUID) -> dict[str, Any]:
        """Why is this instance waiting? Its open tasks, the messages it waits for, its timers, its error."""
        async with self._sessions() as s:
            store = self._store(s)
            instance = await store.instance(instance_id)
            if instance is None:
                raise NotFoundError("流程实例不存在")
            tasks = await store.tasks_of(instance_id)
            events = await store.history_of(instance_id)
            version, _ = await self._definition(store, instance["definition_id"])
        return {
            **instance_view(instance),
            "definition_version": version,
            "open_tasks": [task_view(t) for t in tasks],
            "waiting_messages": [w["name"] for w in instance["waiting"] if w["kind"] == "message"],
            "timers": [w for w in instance["waiting"] if w["kind"] == "timer"],
            "history": [history_view(h) for h in events],
        }

    async def operate(self, principal: Principal, instance_id: UUID, action: str, reason: str) -> dict[str, Any]:
        """retry | suspend | resume | cancel — each audited in the history with who and why."""
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            instance = await store.instance(instance_id, lock=True)
            if instance is None:
                raise NotFoundError("流程实例不存在")
            actor = Actor(principal.subject, Role.OPERATOR.value)
            step = _Step(action, actor, comment=reason)
            status = instance["status"]
            now = self.now()
            if action == "retry":
                if status not in ("error", "stalled"):
                    raise InstanceStateError("只有出错或停滞的流程实例可以重试")
                version, definition = await self._definition(store, instance["definition_id"])
                result = self._engine.retry(definition, instance["state"], now=now)
                saved = await self._transition(s, store, instance, version, result, step)
                return instance_view(saved)
            transitions = {"suspend": ("running", "suspended"), "resume": ("suspended", "running")}
            if action == "cancel":
                if status in ("completed", "cancelled"):
                    raise InstanceStateError("流程实例已结束")
                new_status = "cancelled"
            elif action in transitions:
                before, new_status = transitions[action]
                if status != before:
                    raise InstanceStateError(f"流程实例当前状态为 {status}，不能执行该操作")
            else:
                raise NotFoundError("不支持的操作")
            values: dict[str, Any] = {"status": new_status, "updated_at": now}
            if not await store.save_instance(instance["id"], instance["version"], values):
                raise TaskConflictError("流程实例已被并发修改，请重试")
            if new_status == "cancelled":
                await store.sync_tasks(instance["id"], set(), [])
            version, _ = await self._definition(store, instance["definition_id"])
            await store.append_history([self._history(instance, step, now, version)])
            return instance_view({**instance, **values})

    # -- the one transition path --------------------------------------------------------------------------

    async def _transition(
        self,
        session: AsyncSession,
        store: InstanceStore,
        instance: Row,
        version: int,
        result: EngineState,
        step: _Step,
        *,
        definition_id: UUID | None = None,
    ) -> Row:
        pending = _Pending(instance, version, result, step, definition_id)
        return (await self._transitions(session, store, [pending]))[0]

    async def _transitions(self, session: AsyncSession, store: InstanceStore, batch: Sequence[_Pending]) -> list[Row]:
        """Save each engine outcome (all or none: any version that moved on raises), then stage its events."""
        writes = [self._write(p) for p in batch]
        # the version-checked saves, the open-task syncs and the history: one statement, one round trip
        created_per_write = await store.save_transitions(writes)
        if any(created is None for created in created_per_write):
            raise TaskConflictError("流程实例已被并发修改，请重试")
        envelopes: list[Envelope] = []
        saved = []
        for p, write, created in zip(batch, writes, created_per_write, strict=True):
            instance, result, values = p.instance, p.result, write.values
            if result.error:
                log.warning(
                    "process instance errored", extra={"instance_id": str(instance["id"]), "error": result.error}
                )
            new_tasks = [t for t in result.open_tasks if UUID(t.task_id) in (created or ())]
            envelopes += self._envelopes(instance, result, new_tasks, values["updated_at"])
            saved.append({**instance, **values, "version": instance["version"] + 1})
        await add_all_to_outbox(session, self._outbox, envelopes)  # one statement for all of them, in order
        return saved

    def _write(self, p: _Pending) -> TransitionWrite:
        now = self.now()
        instance, result, step, version = p.instance, p.result, p.step, p.version
        routing = instance["routing"]
        open_now = {UUID(t.task_id): t for t in result.open_tasks}
        stages = [t.stage for t in result.open_tasks if t.stage]
        current_stage = stages[0] if stages else (None if result.status != "running" else instance.get("current_stage"))
        values = {
            "state": result.state,
            "status": result.status,
            "next_due_at": result.next_due_at,
            "waiting": [
                {"kind": w.kind, "name": w.name, "due_at": w.due_at.isoformat() if w.due_at else None}
                for w in result.waiting
            ],
            "current_stage": current_stage,
            "error": result.error,
            "tree_size": result.tree_size,
            "updated_at": now,
        }
        if p.definition_id is not None:  # a migration moves the instance to another version
            values["definition_id"] = p.definition_id
        shown = {k: result.data[k] for k in SHOWN_TO_REVIEWERS if k in result.data}
        if any(routing.get(k) != v for k, v in shown.items()):
            routing = values["routing"] = {**routing, **shown}
        new_rows = []
        for task_id, task in open_now.items():
            group = f"{task.lane}@{task.scope_type}:{task.scope_id}" if task.scope_type else task.lane
            new_rows.append(
                {
                    "task_id": task_id,
                    "instance_id": instance["id"],
                    "process_key": instance["process_key"],
                    "business_key": instance["business_key"],
                    "task_name": task.name,
                    "title": task.title,
                    "role": task.lane,
                    "scope_type": task.scope_type,
                    "scope_id": task.scope_id,
                    "candidate_group": group,
                    "candidate_user": task.candidate_user,
                    "form_key": task.form_key,
                    "decisions": list(task.decisions),
                    "stage": task.stage,
                    "series_code": routing.get("series_code"),
                    "unit_id": routing.get("unit_id"),
                    "created_at": now,
                    "due_at": self._due(now, task.due_in_working_days),
                }
            )
        history = [self._history(instance, step, now, version)]
        if result.error:
            history.append(self._history(instance, _Step("error", step.actor, comment=result.error), now, version))
        return TransitionWrite(instance["id"], instance["version"], values, set(open_now), new_rows, history)

    def _due(self, now: datetime, working_days: int | None) -> datetime | None:
        if not working_days:
            return None
        try:
            return self._calendar.add_working_days(now, working_days)
        except DomainError:
            return None  # the calendar lacks next year: the task shows no due date rather than a wrong one

    def _envelopes(
        self, instance: Row, result: EngineState, new_tasks: list[OpenTask], now: datetime
    ) -> list[Envelope]:
        key = instance["business_key"]
        correlation = instance["routing"].get("correlation_id")
        payloads: list[EventPayload] = []
        if result.status == "running" and instance["routing"].get("application_id"):
            # a new stage; or a new department level (each level is its own stage for the applicant)
            for task in new_tasks:
                if task.stage and (task.stage != instance.get("current_stage") or task.stage == "department"):
                    scope = {"department_id": task.scope_id} if task.stage == "department" else {}
                    reached = stage_reached(key, task.stage, {**result.data, **scope}, now)
                    if reached is not None:
                        payloads.append(reached)
                    break
        for event in result.outbound:
            payloads.append(outbound_payload(event.name, key, {**result.data, **event.payload}, now))
        return [
            make_envelope(
                payload, source=SOURCE, subject_id=key, correlation_id=UUID(correlation) if correlation else None
            )
            for payload in payloads
        ]

    @staticmethod
    def _history(instance: Row, step: _Step, now: datetime, definition_version: int | None) -> Row:
        task = step.task or {}
        return {
            "instance_id": instance["id"],
            "at": now,
            "kind": step.kind,
            "actor_id": step.actor.id,
            "actor_role": step.actor.role,
            "scope_type": step.actor.scope_type,
            "scope_id": step.actor.scope_id,
            "task_id": task.get("task_id"),
            "task_name": task.get("task_name"),
            "stage": task.get("stage") or instance.get("current_stage"),
            "decision": step.decision,
            "comment": step.comment,
            "details": _jsonable(step.details),
            "definition_version": definition_version,
        }


ROUTING_KEYS = {
    "application_id",
    "record_id",
    "applicant_id",
    "unit_id",
    "department_ids",
    "department_id",
    "committee_id",
    "series_code",
    "level_code",
    "qualification_code",
    "method",
    "year",
    "evaluation_mode",
    "record_kind",
    "education_level",
    "work_years",
    "qualification_name",
    "specialty",
    "committee_name",
    "entrusting_unit_name",
}

# process variables copied to the instance's routing, which the task detail shows (e.g. 初定's recommendation)
SHOWN_TO_REVIEWERS = ("recommended_level", "recommended_level_name", "recommendation", "votes")

DECISION_LABELS = {"approve": "通过", "return": "退回修改", "reject": "不通过"}
KIND_LABELS = {
    "started": "提交审核",
    "message": "收到申报人操作",
    "timer": "公示期满",
    "cancelled": "流程终止",
}


def trail_label(h: Row) -> str:
    if h["kind"] == "task_completed":
        return f"{h['task_name']}：{DECISION_LABELS.get(h['decision'] or '', h['decision'] or '')}"
    if h["kind"] == "message" and h["details"].get("message") == "resubmitted":
        return "申报人修改后重新提交"
    if h["kind"] == "message" and h["details"].get("message") == "withdraw":
        return "申报人撤回"
    return KIND_LABELS.get(h["kind"], h["kind"])


def read_diagrams(root: Path) -> list[tuple[str, str, list[str]]]:
    """(key, BPMN text, DMN texts in the same folder) for every `bpmn/<key>/<key>.bpmn`."""
    return [
        (
            path.stem,
            path.read_text(encoding="utf-8"),
            [t.read_text(encoding="utf-8") for t in sorted(path.parent.glob("*.dmn"))],
        )
        for path in sorted(root.glob("*/*.bpmn"))
        if path.stem == path.parent.name
    ]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value


def task_view(t: Row) -> dict[str, Any]:
    return {
        "task_id": str(t["task_id"]),
        "process_key": t["process_key"],
        "business_key": t["business_key"],
        "name": t["task_name"],
        "title": t["title"],
        "role": t["role"],
        "scope_type": t["scope_type"],
        "scope_id": t["scope_id"],
        "form_key": t["form_key"],
        "decisions": [{"value": d, "label": DECISION_LABELS.get(d, d)} for d in t["decisions"]],
        "stage": t["stage"],
        "series_code": t["series_code"],
        "unit_id": t["unit_id"],
        "assignee": t["assignee"],
        "claimed_at": _iso(t["claimed_at"]),
        "created_at": _iso(t["created_at"]),
        "due_at": _iso(t["due_at"]),
    }


def instance_view(i: Row) -> dict[str, Any]:
    return {
        "instance_id": str(i["id"]),
        "process_key": i["process_key"],
        "business_key": i["business_key"],
        "status": i["status"],
        "current_stage": i["current_stage"],
        "next_due_at": _iso(i["next_due_at"]),
        "error": i["error"],
        "tree_size": i["tree_size"],
        "created_at": _iso(i["created_at"]),
        "updated_at": _iso(i["updated_at"]),
    }


def history_view(h: Row) -> dict[str, Any]:
    return {
        "at": h["at"].isoformat(),
        "kind": h["kind"],
        "actor_id": h["actor_id"],
        "actor_role": h["actor_role"],
        "task_name": h["task_name"],
        "stage": h["stage"],
        "decision": h["decision"],
        "comment": h["comment"],
        "details": h["details"],
        "definition_version": h["definition_version"],
    }
