"""Adapters: SQL for definitions, instances, the open-task inbox, history and command results.

Every method runs in the caller's session (its transaction); the use cases decide where it begins and ends.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Select, and_, bindparam, exists, false, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from review.adapters.db.tables import command_results, history, open_tasks, process_definitions, process_instances
from review.usecases.ports import TransitionWrite
from zc_auth import region_prefix
from zc_db import json_dumps

Row = dict[str, Any]

# built once: constructing a select with 30 labelled columns costs more than running it
_TASK_WITH_INSTANCE = (
    select(open_tasks, *[c.label(f"i__{c.name}") for c in process_instances.c])
    .join(process_instances, process_instances.c.id == open_tasks.c.instance_id)
    .where(open_tasks.c.task_id == bindparam("task_id"))
)

_TASK_COLUMNS = ", ".join(c.name for c in open_tasks.c)
_HISTORY_COLUMNS = ", ".join(c.name for c in history.c if c.name != "id")  # id comes from its sequence
# what a transition may set on its instance row; routing and definition_id only when they change
_SET_ALWAYS = ("state", "status", "next_due_at", "waiting", "current_stage", "error", "tree_size", "updated_at")
_SET_IF_GIVEN = ("routing", "definition_id")

# One statement for any number of transitions (a scheduler pass saves its whole batch with it): the
# version-checked update of each instance and, only for the rows it matched, the open-task sync and the
# history. Data-modifying CTEs run as one statement in the caller's transaction, so this is what
# save_instance + sync_tasks + append_history did per instance, in one round trip.
_SAVE_TRANSITIONS = text(
    f"""
    WITH v AS (
        SELECT * FROM jsonb_to_recordset(CAST(:instances AS jsonb)) AS v(
            id uuid, expected_version integer, open_ids uuid[], state jsonb, status text,
            next_due_at timestamptz, waiting jsonb, current_stage text, error text, tree_size integer,
            updated_at timestamptz, routing jsonb, definition_id uuid)
    ), saved AS (
        UPDATE process_instances p SET
            {", ".join(f"{c} = v.{c}" for c in _SET_ALWAYS)},
            {", ".join(f"{c} = COALESCE(v.{c}, p.{c})" for c in _SET_IF_GIVEN)},
            version = v.expected_version + 1
        FROM v WHERE p.id = v.id AND p.version = v.expected_version
        RETURNING p.id
    ), dropped AS (
        DELETE FROM open_tasks t USING v
        WHERE t.instance_id = v.id AND v.id IN (SELECT id FROM saved) AND t.task_id <> ALL(v.open_ids)
    ), added AS (
        INSERT INTO open_tasks ({_TASK_COLUMNS})
        SELECT {_TASK_COLUMNS} FROM jsonb_populate_recordset(NULL::open_tasks, CAST(:tasks AS jsonb))
        WHERE instance_id IN (SELECT id FROM saved)
        ON CONFLICT (task_id) DO NOTHING
        RETURNING task_id
    ), logged AS (
        INSERT INTO history ({_HISTORY_COLUMNS})
        SELECT {_HISTORY_COLUMNS} FROM jsonb_populate_recordset(NULL::history, CAST(:history AS jsonb))
        WHERE instance_id IN (SELECT id FROM saved)
    )
    SELECT ARRAY(SELECT id FROM saved) AS saved, ARRAY(SELECT task_id FROM added) AS added
    """
)


def _json(rows: Sequence[Mapping[str, Any]]) -> str:
    """Rows as a JSON array for jsonb_to_recordset (datetimes as ISO text with their offset, UUIDs as text;
    the default is needed for asyncpg's own UUID type)."""
    return json_dumps(rows, default=_json_default)


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


class SqlInstanceStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    # definitions

    async def definition(self, definition_id: UUID) -> Row | None:
        row = (
            await self._s.execute(select(process_definitions).where(process_definitions.c.id == definition_id))
        ).first()
        return dict(row._mapping) if row else None

    async def latest_definition(self, process_key: str) -> Row | None:
        q = (
            select(process_definitions)
            .where(process_definitions.c.process_key == process_key)
            .order_by(process_definitions.c.version.desc())
            .limit(1)
        )
        row = (await self._s.execute(q)).first()
        return dict(row._mapping) if row else None

    async def definition_by_hash(self, process_key: str, content_hash: str) -> Row | None:
        q = select(process_definitions).where(
            process_definitions.c.process_key == process_key, process_definitions.c.content_hash == content_hash
        )
        row = (await self._s.execute(q)).first()
        return dict(row._mapping) if row else None

    async def definition_version(self, process_key: str, version: int) -> Row | None:
        q = select(process_definitions).where(
            process_definitions.c.process_key == process_key, process_definitions.c.version == version
        )
        row = (await self._s.execute(q)).first()
        return dict(row._mapping) if row else None

    async def instances_on(self, definition_id: UUID) -> list[Row]:
        """Unfinished instances of one definition version, locked for a migration."""
        q = (
            select(process_instances)
            .where(
                process_instances.c.definition_id == definition_id,
                process_instances.c.status.in_(("running", "suspended", "error")),
            )
            .order_by(process_instances.c.created_at)
            .with_for_update()
        )
        return [dict(r._mapping) for r in await self._s.execute(q)]

    async def insert_definition(self, row: Row) -> None:
        await self._s.execute(insert(process_definitions).values(**row))

    async def definitions(self) -> list[Row]:
        q = select(
            process_definitions.c.id,
            process_definitions.c.process_key,
            process_definitions.c.version,
            process_definitions.c.name,
            process_definitions.c.content_hash,
            process_definitions.c.deployed_by,
            process_definitions.c.deployed_at,
            process_definitions.c.trusted,
        ).order_by(process_definitions.c.process_key, process_definitions.c.version)
        return [dict(r._mapping) for r in await self._s.execute(q)]

    # instances

    async def insert_instance(self, row: Row) -> bool:
        """False when the (process, business key) already has an instance: starting twice starts one."""
        stmt = (
            insert(process_instances)
            .values(**row)
            .on_conflict_do_nothing(
                index_elements=["process_key", "business_key"],
                index_where=text("status IN ('running', 'error', 'suspended')"),
            )
        )
        return bool((await self._s.execute(stmt)).rowcount)

    async def instance(self, instance_id: UUID, *, lock: bool = False) -> Row | None:
        q = select(process_instances).where(process_instances.c.id == instance_id)
        if lock:
            q = q.with_for_update()
        row = (await self._s.execute(q)).first()
        return dict(row._mapping) if row else None

    async def instance_by_business_key(
        self, business_key: str, *, process_keys: Sequence[str] | None = None, lock: bool = False
    ) -> Row | None:
        q = select(process_instances).where(process_instances.c.business_key == business_key)
        if process_keys:
            q = q.where(process_instances.c.process_key.in_(process_keys))
        q = q.order_by(process_instances.c.created_at.desc()).limit(1)
        if lock:
            q = q.with_for_update()
        row = (await self._s.execute(q)).first()
        return dict(row._mapping) if row else None

    async def awaiting_message(
        self, message: str, unit_ids: Sequence[str], *, limit: int, offset: int
    ) -> tuple[list[Row], int]:
        """Running instances of these units that wait for `message` (公示中: the notice's objection), the notice
        ending soonest first."""
        i = process_instances.c
        where = and_(
            i.status == "running",
            i.waiting.contains([{"kind": "message", "name": message}]),
            i.routing["unit_id"].astext.in_(list(unit_ids)),
        )
        cols = [c for c in process_instances.c if c.name != "state"]
        q = select(*cols).where(where).order_by(i.next_due_at.asc().nulls_last(), i.id).limit(limit).offset(offset)
        total = (await self._s.execute(select(func.count()).select_from(process_instances).where(where))).scalar_one()
        return [dict(r._mapping) for r in await self._s.execute(q)], int(total)

    async def save_instance(self, instance_id: UUID, expected_version: int, values: Mapping[str, Any]) -> bool:
        stmt = (
            update(process_instances)
            .where(process_instances.c.id == instance_id, process_instances.c.version == expected_version)
            .values(**values, version=expected_version + 1)
        )
        return bool((await self._s.execute(stmt)).rowcount)

    async def save_transitions(self, writes: Sequence[TransitionWrite]) -> list[set[UUID] | None]:
        """save_instance + sync_tasks + append_history for each write, all in one statement. Per write:
        None when its version moved on (nothing of it was written), else the ids of its new open tasks."""
        if not writes:
            return []
        instances = []
        for w in writes:
            unknown = set(w.values) - {*_SET_ALWAYS, *_SET_IF_GIVEN}
            if unknown or not set(_SET_ALWAYS) <= set(w.values):
                raise ValueError(f"a transition sets {sorted(_SET_ALWAYS)} and may set {sorted(_SET_IF_GIVEN)}")
            instances.append(
                {**w.values, "id": w.instance_id, "expected_version": w.expected_version, "open_ids": list(w.open_ids)}
            )
        params = {
            "instances": _json(instances),
            "tasks": _json([r for w in writes for r in w.task_rows]),
            "history": _json([r for w in writes for r in w.history_rows]),
        }
        row = (await self._s.execute(_SAVE_TRANSITIONS, params)).one()
        saved, added = set(row.saved), set(row.added)
        return [{t for t in w.open_ids if t in added} if w.instance_id in saved else None for w in writes]

    async def claim_due(self, now: datetime, limit: int) -> list[Row]:
        """Due instances nobody else is firing right now (SKIP LOCKED: replicas share the work, none waits)."""
        q = (
            select(process_instances)
            .where(process_instances.c.status == "running", process_instances.c.next_due_at <= now)
            .order_by(process_instances.c.next_due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [dict(r._mapping) for r in await self._s.execute(q)]

    async def claim_stalled(self, limit: int, changed_since: datetime | None = None) -> list[Row]:
        """Running instances with nothing to wait for: no open task, no timer, no awaited message (SKIP LOCKED:
        replicas share the work). Nothing can move such an instance; an operator must. `changed_since` narrows
        the search to instances changed since then (the status + updated_at index), as a transition is what
        leaves an instance stalled."""
        conditions = [
            process_instances.c.status == "running",
            process_instances.c.waiting == text("'[]'::jsonb"),
            ~exists().where(open_tasks.c.instance_id == process_instances.c.id),
        ]
        if changed_since is not None:
            conditions.append(process_instances.c.updated_at >= changed_since)
        q = (
            select(process_instances)
            .where(*conditions)
            .limit(limit)
            .with_for_update(of=process_instances, skip_locked=True)
        )
        return [dict(r._mapping) for r in await self._s.execute(q)]

    async def search_instances(
        self,
        *,
        status: str | None,
        process_key: str | None,
        business_key: str | None,
        unchanged_since: datetime | None = None,
        limit: int,
        offset: int,
    ) -> tuple[list[Row], int]:
        cols = [c for c in process_instances.c if c.name != "state"]
        conds = []
        if status:
            conds.append(process_instances.c.status == status)
        if process_key:
            conds.append(process_instances.c.process_key == process_key)
        if business_key:
            conds.append(process_instances.c.business_key == business_key)
        if unchanged_since is not None:  # waiting since at least then: nothing moved it after that time
            conds.append(process_instances.c.updated_at <= unchanged_since)
        where = and_(*conds) if conds else None
        q = select(*cols).order_by(process_instances.c.updated_at.desc()).limit(limit).offset(offset)
        count = select(func.count()).select_from(process_instances)
        if where is not None:
            q, count = q.where(where), count.where(where)
        rows = [dict(r._mapping) for r in await self._s.execute(q)]
        return rows, int((await self._s.execute(count)).scalar_one())

    # open tasks

    async def tasks_of(self, instance_id: UUID) -> list[Row]:
        q = select(open_tasks).where(open_tasks.c.instance_id == instance_id).order_by(open_tasks.c.created_at)
        return [dict(r._mapping) for r in await self._s.execute(q)]

    async def task(self, task_id: UUID) -> Row | None:
        row = (await self._s.execute(select(open_tasks).where(open_tasks.c.task_id == task_id))).first()
        return dict(row._mapping) if row else None

    async def sync_tasks(self, instance_id: UUID, open_ids: set[UUID], rows: Sequence[Row]) -> set[UUID]:
        """Make the instance's rows the open tasks: drop the others, add the missing ones (kept rows keep
        their claim and dates). Two statements, no read. Returns the ids that were new."""
        drop = open_tasks.delete().where(open_tasks.c.instance_id == instance_id)
        if open_ids:
            drop = drop.where(open_tasks.c.task_id.not_in(open_ids))
        await self._s.execute(drop)
        if not rows:
            return set()
        stmt = (
            insert(open_tasks)
            .values(list(rows))
            .on_conflict_do_nothing(index_elements=["task_id"])
            .returning(open_tasks.c.task_id)
        )
        return set((await self._s.execute(stmt)).scalars())

    async def task_with_instance(self, task_id: UUID) -> tuple[Row, Row] | None:
        """The open task and its instance (state included) in one round trip, without locking."""
        row = (await self._s.execute(_TASK_WITH_INSTANCE, {"task_id": task_id})).first()
        if row is None:
            return None
        data = dict(row._mapping)
        instance = {k[3:]: data.pop(k) for k in list(data) if k.startswith("i__")}
        return data, instance

    async def set_assignee(
        self, task_id: UUID, assignee: str | None, at: datetime | None, *, only_if: str | None
    ) -> bool:
        cond = open_tasks.c.assignee.is_(None) if only_if is None else open_tasks.c.assignee == only_if
        stmt = update(open_tasks).where(open_tasks.c.task_id == task_id, cond).values(assignee=assignee, claimed_at=at)
        return bool((await self._s.execute(stmt)).rowcount)

    def _inbox_query(self, groups: Sequence[tuple[str, str, str | None]], filters: Mapping[str, Any]) -> Select[Any]:
        visible = []
        for role, scope_type, scope_id in groups:
            # a task without a scope is for every holder of the role; a scoped one for that scope only, and a
            # scoped task whose routing named no scope for nobody (as review.usecases.tasks.may_act)
            unscoped = open_tasks.c.scope_type.is_(None)
            if scope_type == "global":
                visible.append(and_(open_tasks.c.role == role, or_(unscoped, open_tasks.c.scope_id.is_not(None))))
                continue
            # a region grant reaches its region and those below it (zc_auth.region_covers)
            prefix = region_prefix(scope_id) if scope_type == "region" and scope_id else None
            same = (
                open_tasks.c.scope_id.startswith(prefix, autoescape=True)
                if prefix is not None
                else open_tasks.c.scope_id == scope_id
            )
            in_scope = and_(open_tasks.c.scope_type == scope_type, same)
            visible.append(and_(open_tasks.c.role == role, or_(unscoped, in_scope)))
        # a task the process made for one person is visible to them only
        user = filters.get("user")
        for_me = and_(open_tasks.c.candidate_user == user, or_(*visible)) if visible else false()
        grouped = and_(or_(*visible), open_tasks.c.candidate_user.is_(None)) if visible else false()
        q = select(open_tasks).where(or_(grouped, for_me))
        if filters.get("process"):
            q = q.where(open_tasks.c.process_key == filters["process"])
        if filters.get("stage"):
            q = q.where(open_tasks.c.stage == filters["stage"])
        if filters.get("series"):
            q = q.where(open_tasks.c.series_code == filters["series"])
        if filters.get("unit"):
            q = q.where(open_tasks.c.unit_id == filters["unit"])
        if filters.get("due_before"):
            q = q.where(open_tasks.c.due_at <= filters["due_before"])
        if filters.get("mine"):
            q = q.where(open_tasks.c.assignee == filters["mine"])
        return q

    async def inbox(
        self,
        groups: Sequence[tuple[str, str, str | None]],
        filters: Mapping[str, Any],
        *,
        sort: str,
        descending: bool,
        limit: int,
        offset: int,
    ) -> tuple[list[Row], int]:
        q = self._inbox_query(groups, filters)
        total = int((await self._s.execute(select(func.count()).select_from(q.subquery()))).scalar_one())
        column = open_tasks.c[sort]
        order = column.desc().nulls_last() if descending else column.asc().nulls_last()
        rows = await self._s.execute(q.order_by(order, open_tasks.c.task_id).limit(limit).offset(offset))
        return [dict(r._mapping) for r in rows], total

    async def stage_counts(self, groups: Sequence[tuple[str, str, str | None]], user: str) -> dict[str, int]:
        sub = self._inbox_query(groups, {"user": user}).subquery()
        q = select(sub.c.stage, func.count()).group_by(sub.c.stage)
        return {str(stage or "other"): int(n) for stage, n in await self._s.execute(q)}

    # history

    async def append_history(self, rows: Sequence[Row]) -> None:
        if rows:
            await self._s.execute(insert(history).values(list(rows)))

    async def completion_of(self, task_id: UUID) -> Row | None:
        q = select(history).where(history.c.task_id == task_id, history.c.kind == "task_completed").limit(1)
        row = (await self._s.execute(q)).first()
        return dict(row._mapping) if row else None

    async def decisions_of(self, actor_id: str, *, limit: int, offset: int) -> tuple[list[Row], int]:
        """已办: the tasks `actor_id` completed, newest first, with their instance's process and business key."""
        mine = [history.c.actor_id == actor_id, history.c.kind == "task_completed"]
        q = (
            select(history, process_instances.c.process_key, process_instances.c.business_key)
            .join(process_instances, process_instances.c.id == history.c.instance_id)
            .where(*mine)
            .order_by(history.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        total = (await self._s.execute(select(func.count()).select_from(history).where(*mine))).scalar_one()
        return [dict(r._mapping) for r in await self._s.execute(q)], int(total)

    async def history_of(self, instance_id: UUID) -> list[Row]:
        q = select(history).where(history.c.instance_id == instance_id).order_by(history.c.id)
        return [dict(r._mapping) for r in await self._s.execute(q)]

    # idempotent commands

    async def command_result(self, actor_id: str, key: str) -> Row | None:
        q = select(command_results).where(
            command_results.c.actor_id == actor_id, command_results.c.idempotency_key == key
        )
        row = (await self._s.execute(q)).first()
        return dict(row._mapping) if row else None

    async def store_command_result(self, row: Row) -> None:
        await self._s.execute(insert(command_results).values(**row))
