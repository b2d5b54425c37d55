"""Ports: what the use cases need from the workflow engine and the store, engine-neutral.

Only `review.adapters.workflow` imports SpiffWorkflow; everything else sees these types.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol
from uuid import UUID

InstanceStatus = Literal["running", "completed", "error"]
Row = dict[str, Any]


@dataclass(frozen=True)
class ProcessDefinition:
    """A parsed, deployable process: what the engine needs to run it and what the host stores."""

    process_key: str
    content_hash: str
    source: str  # the BPMN text as deployed
    decisions: tuple[str, ...]  # the DMN texts deployed with it
    spec: Any  # the engine's parsed spec, opaque to the host
    name: str
    user_tasks: tuple[str, ...]
    messages: tuple[str, ...]

    @property
    def text_size(self) -> int:
        """Characters of BPMN and DMN text: what caches of parsed definitions are bounded by."""
        return len(self.source) + sum(len(table) for table in self.decisions)


@dataclass(frozen=True)
class OpenTask:
    """A user task waiting for a person, with what the inbox and the decision check need."""

    task_id: str
    name: str  # the BPMN id, e.g. unit_review
    title: str  # the BPMN name, e.g. 单位审核
    lane: str | None  # = the role that may act
    form_key: str | None
    decisions: tuple[str, ...]
    stage: str | None
    scope_type: str | None  # e.g. unit
    scope_id: str | None  # resolved from the instance data, e.g. the unit's id
    due_in_working_days: int | None
    candidate_user: str | None = None  # the one person the process made it for (property `assignee`)


@dataclass(frozen=True)
class WaitingEvent:
    kind: Literal["timer", "message"]
    name: str
    due_at: datetime | None = None
    element_id: str | None = None  # the BPMN event that waits (where the operator console draws its due time)
    token_at: str | None = None  # the element holding the token: the event, or the event-based gateway before it


@dataclass(frozen=True)
class OutboundEvent:
    """A message the process threw that nobody inside it caught: the host turns it into an event."""

    name: str
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class EngineState:
    """The outcome of one engine call: the opaque state to store plus what the host derives from it."""

    state: dict[str, Any]
    status: InstanceStatus
    open_tasks: tuple[OpenTask, ...]
    waiting: tuple[WaitingEvent, ...]
    outbound: tuple[OutboundEvent, ...]
    data: Mapping[str, Any]  # the process variables as of the latest task (routing, decisions)
    error: str | None = None
    tree_size: int = 0  # tasks kept in the engine state (flat however many loops ran)
    # BPMN element ids finished during this call, in order: the path taken, which compaction cuts out of the
    # state (the history keeps it)
    passed: tuple[str, ...] = ()

    @property
    def next_due_at(self) -> datetime | None:
        due = [w.due_at for w in self.waiting if w.due_at is not None]
        return min(due) if due else None


@dataclass(frozen=True)
class DiagramProblem:
    """One finding in an uploaded diagram: where (element id, line) and why, in Chinese."""

    element_id: str | None
    line: int | None
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"element_id": self.element_id, "line": self.line, "reason": self.message}


@dataclass(frozen=True)
class MigrationPlan:
    """What moving one instance to a newer version would do."""

    safe: bool
    reasons: tuple[str, ...]  # why not, when unsafe
    reset_tasks: tuple[str, ...]  # open tasks recomputed under the new version (same task, same id)
    kept_timers: tuple[str, ...]  # waiting timers keep their due time


class EngineError(Exception):
    """The process itself failed (a script, a condition, a timer expression); the instance is marked errored."""


class NotWaitingError(Exception):
    """The instance is not waiting for that message or task (a duplicate or late delivery)."""


class WorkflowEngine(Protocol):
    def parse(self, process_key: str, source: str, decisions: Sequence[str] = ()) -> ProcessDefinition: ...

    def start(self, definition: ProcessDefinition, data: Mapping[str, Any], *, now: datetime) -> EngineState: ...

    def complete_task(
        self,
        definition: ProcessDefinition,
        state: dict[str, Any],
        task_id: str,
        data: Mapping[str, Any],
        *,
        now: datetime,
    ) -> EngineState: ...

    def deliver_message(
        self,
        definition: ProcessDefinition,
        state: dict[str, Any],
        name: str,
        payload: Mapping[str, Any],
        *,
        now: datetime,
    ) -> EngineState: ...

    def fire_timers(self, definition: ProcessDefinition, state: dict[str, Any], *, now: datetime) -> EngineState: ...

    def retry(self, definition: ProcessDefinition, state: dict[str, Any], *, now: datetime) -> EngineState: ...

    def validate(
        self, process_key: str, source: str, decisions: Sequence[str], *, trusted: bool
    ) -> list[DiagramProblem]: ...

    def diff(self, old: ProcessDefinition, new: ProcessDefinition) -> dict[str, Any]: ...

    def plan_migration(
        self, old: ProcessDefinition, state: dict[str, Any], new: ProcessDefinition
    ) -> MigrationPlan: ...

    def migrate(
        self, old: ProcessDefinition, state: dict[str, Any], new: ProcessDefinition, *, now: datetime
    ) -> EngineState: ...


class PeopleDirectory(Protocol):
    """Who holds which role where, as the identity bridge keeps it (a form may name only such people)."""

    async def holding(self, role: str, scope_type: str, scope_id: str, user_ids: Sequence[str]) -> set[str]:
        """The ids among `user_ids` that hold `role` in that scope; raises DirectoryUnavailableError."""
        ...


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
        self,
        *,
        status: str | None,
        process_key: str | None,
        business_key: str | None,
        unchanged_since: datetime | None = None,
        limit: int,
        offset: int,
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
    async def awaiting_message(
        self, message: str, unit_ids: Sequence[str], *, limit: int, offset: int
    ) -> tuple[list[Row], int]: ...
    async def decisions_of(self, actor_id: str, *, limit: int, offset: int) -> tuple[list[Row], int]: ...
    async def command_result(self, actor_id: str, key: str) -> Row | None: ...
    async def store_command_result(self, row: Row) -> None: ...
