"""Use cases: the reviewers' work — the inbox and its counts, a task's detail, claim and release, and completing
a task (exactly once; a retried request with the same idempotency key gets the first answer)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from review.domain.calendar import CalendarGapError
from review.domain.errors import (
    DecisionNotAllowedError,
    DirectoryUnavailableError,
    ForbiddenError,
    InstanceStateError,
    NotFoundError,
    TaskConflictError,
)
from review.usecases.forms import PEOPLE_FIELDS, FormError, form_schema, validate_form
from review.usecases.host import WorkflowHost
from review.usecases.ports import (
    InstanceStore,
    NotWaitingError,
    PeopleDirectory,
    Row,
    TransitionWrite,
)
from review.usecases.trails import trail_steps
from review.usecases.transitions import Actor, Pending, Step, TransitionWriter
from review.usecases.views import DECISION_LABELS, decided_view, task_view
from zc_auth import Principal, Role, ScopeType
from zc_contracts import Envelope


@dataclass(frozen=True)
class CompletionRead:
    """What a completion reads in one statement: the answer stored for its Idempotency-Key (if any), the task
    and its instance (None when the task is not open), and the ids of the instance's open tasks."""

    task: Row | None
    instance: Row | None
    open_ids: set[UUID]
    earlier: Mapping[str, Any] | None


class CompletionStore(Protocol):
    async def read(self, task_id: UUID, actor_id: str, idempotency_key: str | None) -> CompletionRead: ...

    async def definition(self, definition_id: UUID) -> Row | None: ...

    async def save(
        self, write: TransitionWrite, envelopes: Sequence[Envelope], answer: Row | None
    ) -> set[UUID] | None: ...


# opens a CompletionStore on the host's database (review.adapters.db.instance_store.SqlCompletions.open)
OpenCompletions = Callable[[async_sessionmaker[AsyncSession]], AbstractAsyncContextManager[CompletionStore]]


@dataclass(frozen=True)
class Decision:
    decision: str
    comment: str | None = None
    reasons: tuple[str, ...] = ()
    return_target: str | None = None
    form: Mapping[str, Any] = field(default_factory=dict)


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


class Tasks:
    def __init__(
        self, host: WorkflowHost, transitions: TransitionWriter, people: PeopleDirectory | None = None
    ) -> None:
        self._host = host
        self._transitions = transitions
        # the store's completion path (SqlInstanceStore.completions): a completion's two statements
        self._completions: OpenCompletions = host.store.completions  # type: ignore[attr-defined]
        self.people = people  # the API's; a worker completes no tasks and needs none

    async def inbox(
        self, principal: Principal, filters: Mapping[str, Any], *, sort: str, descending: bool, page: int, size: int
    ) -> dict[str, Any]:
        async with self._host.sessions() as s:
            store = self._host.store(s)
            rows, total = await store.inbox(
                _groups(principal),
                {**filters, "user": principal.subject},
                sort=sort,
                descending=descending,
                limit=size,
                offset=(page - 1) * size,
            )
            items = [task_view(r, self._days_left(r["due_at"])) for r in rows]
            return {"items": items, "total": total, "page": page, "size": size}

    def _days_left(self, due: datetime | None) -> int | None:
        """Working days until the task's due date (negative once overdue); None without a due date or when the
        calendar does not cover the dates."""
        if due is None:
            return None
        try:
            return self._transitions.calendar.working_days_left(self._host.now(), due)
        except CalendarGapError:
            return None

    async def decided(self, principal: Principal, *, page: int, size: int) -> dict[str, Any]:
        """已办: what the caller decided, newest first (their own history rows only)."""
        async with self._host.sessions() as s:
            rows, total = await self._host.store(s).decisions_of(
                principal.subject, limit=size, offset=(page - 1) * size
            )
        return {"items": [decided_view(r) for r in rows], "total": total, "page": page, "size": size}

    async def stage_counts(self, principal: Principal) -> dict[str, int]:
        async with self._host.sessions() as s:
            return await self._host.store(s).stage_counts(_groups(principal), principal.subject)

    async def task_detail(self, principal: Principal, task_id: UUID) -> dict[str, Any]:
        async with self._host.sessions() as s:
            store = self._host.store(s)
            task = await self._visible_task(store, principal, task_id)
            instance = await store.instance(task["instance_id"])
            assert instance is not None  # a task row cannot outlive its instance (FK)
            events = await store.history_of(instance["id"])
            return {
                "trail": trail_steps(events),
                **task_view(task, self._days_left(task["due_at"])),
                "form_schema": form_schema(task["form_key"]),
                "instance_id": str(instance["id"]),
                "routing": instance["routing"],
                "current_stage": instance["current_stage"],
            }

    async def claim(self, principal: Principal, task_id: UUID, *, release: bool = False) -> dict[str, Any]:
        async with self._host.sessions() as s, s.begin():
            store = self._host.store(s)
            found = await store.task_with_instance(task_id)
            task = await self._check_visible(store, principal, task_id, found[0] if found else None)
            assert found is not None
            if not release:
                _refuse_own(principal, found[1])
            now = self._host.now()
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
            return task_view(updated, self._days_left(updated["due_at"]))

    async def _check_people(self, task: Row, form: Mapping[str, Any]) -> None:
        """A form that names people (the experts of a panel) may name only holders of the role in the task's
        own scope: an expert of another committee, or someone who is no expert, is refused by name."""
        named = PEOPLE_FIELDS.get(task["form_key"] or "")
        if named is None or named[0] not in form:
            return
        field, role, label = named
        if not task["scope_type"] or not task["scope_id"]:
            raise FormError(f"该环节未限定范围，无法核实{label}", field=f"form.{field}")
        if self.people is None:
            raise DirectoryUnavailableError(f"暂时无法核实{label}，请稍后重试")
        users = [str(u) for u in form[field]]
        holding = await self.people.holding(role, task["scope_type"], task["scope_id"], users)
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
                async with self._host.sessions() as s:
                    earlier = await self._host.store(s).command_result(principal.subject, idempotency_key)
                if earlier is not None:
                    return dict(earlier["response"])
            raise

    async def _complete(
        self, principal: Principal, task_id: UUID, decision: Decision, idempotency_key: str | None
    ) -> dict[str, Any]:
        # Two statements, each its own transaction: a read without lock (the answer already stored for this
        # key, the task, its instance and the instance's open task ids) and one write (version-checked state,
        # task rows, history, outbox and the command's answer, all or nothing).
        async with self._completions(self._host.sessions) as db:
            found = await db.read(task_id, principal.subject, idempotency_key)
            if found.earlier is not None:
                return dict(found.earlier)
            if found.task is not None and found.instance is not None:
                return await self._decide(db, principal, found, decision, idempotency_key)
        async with self._host.sessions() as s:  # not open: decided already (409) or never visible (404)
            await self._check_visible(self._host.store(s), principal, task_id, None)
        raise AssertionError("unreachable: _check_visible raises for a task that is not open")

    async def _decide(
        self,
        db: CompletionStore,
        principal: Principal,
        found: CompletionRead,
        decision: Decision,
        idempotency_key: str | None,
    ) -> dict[str, Any]:
        task, instance = found.task, found.instance
        assert task is not None and instance is not None
        task_id = task["task_id"]
        self._check_visible_row(principal, task)
        _refuse_own(principal, instance)
        if instance["status"] != "running":
            raise InstanceStateError(f"流程当前状态为 {instance['status']}，不能办理")
        if task["assignee"] and task["assignee"] != principal.subject:
            raise TaskConflictError("该任务已被他人认领")
        self._check_decision(task, decision)
        form = validate_form(task["form_key"], decision.decision, dict(decision.form))
        await self._check_people(task, form)
        # read through the completion's own connection: a second one taken while holding it could wait for the pool
        version, definition = await self._host.definition(db, instance["definition_id"])
        data = {
            "decision": decision.decision,
            "comment": decision.comment or "；".join(decision.reasons) or None,
            "reasons": list(decision.reasons),
            "return_target": decision.return_target or "applicant",
            "stage": task["stage"],
            "decided_by": principal.subject,
            **form,
        }
        now = self._host.now()
        try:
            result = self._host.engine.complete_task(definition, instance["state"], str(task_id), data, now=now)
        except NotWaitingError as exc:
            raise TaskConflictError("该任务已被处理，请刷新待办列表") from exc
        actor = Actor(principal.subject, task["role"], task["scope_type"], task["scope_id"])
        step = Step(
            "task_completed",
            actor,
            task=task,
            decision=decision.decision,
            comment=data["comment"],
            # the title too: 已办 lists a decision long after its task row is gone
            details={
                "reasons": list(decision.reasons),
                "return_target": data["return_target"],
                "title": task["title"],
            },
        )
        write, events, saved = self._transitions.prepare(Pending(instance, version, result, step), found.open_ids)
        response = {
            "task_id": str(task_id),
            "decision": decision.decision,
            "instance_id": str(instance["id"]),
            "status": saved["status"],
            "current_stage": saved["current_stage"],
        }
        answer = None
        if idempotency_key:
            answer = {
                "actor_id": principal.subject,
                "idempotency_key": idempotency_key,
                "response": response,
                "created_at": now,
            }
        if await db.save(write, events, answer) is None:
            raise TaskConflictError("该任务已被处理或流程已变化，请刷新待办列表")
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

    @staticmethod
    def _check_visible_row(principal: Principal, task: Row) -> None:
        if not may_act(principal, task):
            raise NotFoundError("任务不存在或已办结")  # 404, not 403: do not reveal other scopes' tasks

    async def _check_visible(self, store: InstanceStore, principal: Principal, task_id: UUID, task: Row | None) -> Row:
        if task is None:
            done = await store.completion_of(task_id)
            if done is not None and may_act(principal, {"role": done["actor_role"], **done}):
                raise TaskConflictError("该任务已被处理，请刷新待办列表")
            raise NotFoundError("任务不存在或已办结")
        if not may_act(principal, task):
            raise NotFoundError("任务不存在或已办结")  # 404, not 403: do not reveal other scopes' tasks
        return task
