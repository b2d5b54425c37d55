"""Use cases: the one path every engine outcome takes to the database.

In the caller's transaction: save the instance's state (version-checked), rewrite its open-task rows, append
history and put the outbound events in the outbox. A state change is committed before anyone is told about it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from review.domain.calendar import BusinessCalendar
from review.domain.errors import DomainError, TaskConflictError
from review.usecases.outbound import outbound_payload, stage_reached
from review.usecases.ports import EngineState, InstanceStore, OpenTask, Row, TransitionWrite
from zc_contracts import Envelope, EventPayload, make_envelope
from zc_db import MessagingTables
from zc_messaging import add_all_to_outbox

log = logging.getLogger(__name__)

SOURCE = "review"

# process variables copied to the instance's routing, which the task detail shows (e.g. 初定's recommendation)
SHOWN_TO_REVIEWERS = ("recommended_level", "recommended_level_name", "recommendation", "votes")


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


@dataclass
class Step:
    """What one transition records besides the new state."""

    kind: str
    actor: Actor
    task: Row | None = None
    decision: str | None = None
    comment: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Pending:
    """An engine outcome waiting to be saved."""

    instance: Row
    version: int  # of the definition, for the history
    result: EngineState
    step: Step
    definition_id: UUID | None = None  # a migration moves the instance to another version


class TransitionWriter:
    def __init__(self, *, calendar: BusinessCalendar, outbox: MessagingTables, clock: Callable[[], datetime]) -> None:
        self.calendar = calendar  # the due dates it sets, and the working days left the inbox shows
        self._outbox = outbox
        self._clock = clock

    async def save(
        self,
        session: AsyncSession,
        store: InstanceStore,
        instance: Row,
        version: int,
        result: EngineState,
        step: Step,
        *,
        definition_id: UUID | None = None,
    ) -> Row:
        pending = Pending(instance, version, result, step, definition_id)
        return (await self.save_all(session, store, [pending]))[0]

    async def save_all(self, session: AsyncSession, store: InstanceStore, batch: Sequence[Pending]) -> list[Row]:
        """Save each engine outcome (all or none: any version that moved on raises), then stage its events."""
        writes = [self._write(p) for p in batch]
        # the version-checked saves, the open-task syncs and the history: one statement, one round trip
        created_per_write = await store.save_transitions(writes)
        if any(created is None for created in created_per_write):
            raise TaskConflictError("流程实例已被并发修改，请重试")
        envelopes: list[Envelope] = []
        for p, write, created in zip(batch, writes, created_per_write, strict=True):
            envelopes += self._events(p, write, created or set())
        await add_all_to_outbox(session, self._outbox, envelopes)  # one statement for all of them, in order
        return [self._saved(p, write) for p, write in zip(batch, writes, strict=True)]

    def prepare(self, p: Pending, open_before: set[UUID]) -> tuple[TransitionWrite, list[Envelope], Row]:
        """One transition to be saved in one statement together with its events (a task completion): the write,
        the events and the instance as it will be. Which open tasks are new is known before the save from the
        ids open when the instance was read (`open_before`, read with it): the version-checked save writes
        nothing unless the instance is still as read, and every change of its open tasks bumps the version."""
        write = self._write(p)
        return write, self._events(p, write, set(write.open_ids) - open_before), self._saved(p, write)

    def _events(self, p: Pending, write: TransitionWrite, created: set[UUID]) -> list[Envelope]:
        instance, result = p.instance, p.result
        if result.error:
            log.warning("process instance errored", extra={"instance_id": str(instance["id"]), "error": result.error})
        new_tasks = [t for t in result.open_tasks if UUID(t.task_id) in created]
        return self._envelopes(instance, result, new_tasks, write.values["updated_at"])

    @staticmethod
    def _saved(p: Pending, write: TransitionWrite) -> Row:
        return {**p.instance, **write.values, "version": p.instance["version"] + 1}

    def _write(self, p: Pending) -> TransitionWrite:
        now = self._clock()
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
                {
                    "kind": w.kind,
                    "name": w.name,
                    "due_at": w.due_at.isoformat() if w.due_at else None,
                    "element_id": w.element_id,
                    "token_at": w.token_at,
                }
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
        if result.passed:  # the path taken, for the operator console's diagram (compaction drops it from the state)
            step = replace(step, details={**step.details, "passed": list(result.passed)})
        history = [history_row(instance, step, now, version)]
        if result.error:
            history.append(history_row(instance, Step("error", step.actor, comment=result.error), now, version))
        return TransitionWrite(instance["id"], instance["version"], values, set(open_now), new_rows, history)

    def _due(self, now: datetime, working_days: int | None) -> datetime | None:
        if not working_days:
            return None
        try:
            return self.calendar.add_working_days(now, working_days)
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


def history_row(instance: Row, step: Step, now: datetime, definition_version: int | None) -> Row:
    """The audit row of one step (a transition, or an action that left the engine state alone)."""
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
