"""Adapters: SQL for definitions, instances, the open-task inbox, history and command results.

Every method runs in the caller's session (its transaction); the use cases decide where it begins and ends. The
one exception is a task completion's hot path (SqlCompletions): two autocommit statements on the pool's asyncpg
connection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    text,
    union,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from review.adapters.db.tables import (
    command_results,
    history,
    messaging,
    open_tasks,
    process_definitions,
    process_instances,
)
from review.usecases.ports import TransitionWrite
from review.usecases.tasks import CompletionRead
from zc_auth import region_prefix
from zc_contracts import Envelope
from zc_db import json_dumps
from zc_telemetry import inject_context

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
# save_instance + sync_tasks + append_history did per instance, in one round trip. The instance ids also come as
# a plain array (:ids) so that both tables are reached by index: see _COMPLETION_SAVE.
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
        FROM v WHERE p.id = ANY(CAST(:ids AS uuid[])) AND p.id = v.id AND p.version = v.expected_version
        RETURNING p.id
    ), dropped AS (
        DELETE FROM open_tasks t USING v
        WHERE t.instance_id = ANY(CAST(:ids AS uuid[])) AND t.instance_id = v.id AND v.id IN (SELECT id FROM saved)
          AND t.task_id <> ALL(v.open_ids)
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

    @staticmethod
    def completions(sessions: async_sessionmaker[AsyncSession]) -> AbstractAsyncContextManager[SqlCompletions]:
        """A task completion's path: its read and its write as two autocommit statements (SqlCompletions)."""
        return SqlCompletions.open(sessions)

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
            "ids": [w.instance_id for w in writes],  # index lookups, whatever the plan thinks of the JSON (below)
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

    def _visible(
        self, groups: Sequence[tuple[str, str, str | None]], filters: Mapping[str, Any], *columns: Any
    ) -> Select[Any] | CompoundSelect | None:
        """`columns` of the open tasks these grants see, as one SELECT per index range of ix_open_tasks_inbox joined
        by UNION ALL (UNION where two ranges may overlap): each is an index-only scan, where one OR over all of
        them made a bitmap scan that visited every visible task's table page (migration r10000000005). None for
        a caller without grants."""
        t = open_tasks.c
        scopes_by_role: dict[str, list[tuple[str, str | None]]] = {}
        for role, scope_type, scope_id in groups:
            scopes_by_role.setdefault(role, []).append((scope_type, scope_id))
        ranges: list[ColumnElement[bool]] = []
        overlap = False
        for role, scopes in scopes_by_role.items():
            if any(scope_type == "global" for scope_type, _ in scopes):  # covers the role's other grants
                ranges.append(and_(t.role == role, or_(t.scope_type.is_(None), t.scope_id.is_not(None))))
                continue
            # a task without a scope is for every holder of the role; a scoped one for that scope only, and a
            # scoped task whose routing named no scope for nobody (as review.usecases.tasks.may_act)
            ranges.append(and_(t.role == role, t.scope_type.is_(None)))
            regions = 0
            for scope_type, scope_id in dict.fromkeys(scopes):
                # a region grant reaches its region and those below it (zc_auth.region_covers)
                prefix = region_prefix(scope_id) if scope_type == "region" and scope_id else None
                same = t.scope_id.startswith(prefix, autoescape=True) if prefix is not None else t.scope_id == scope_id
                ranges.append(and_(t.role == role, t.scope_type == scope_type, same))
                regions += scope_type == "region"
            overlap = overlap or regions > 1  # e.g. a province's grant and a city's in it
        if not ranges:
            return None
        # a task the process made for one person is visible to them only
        user = filters.get("user")
        conditions = [
            t.candidate_user.is_(None) if user is None else or_(t.candidate_user.is_(None), t.candidate_user == user)
        ]
        for key, column in (
            ("process", t.process_key),
            ("stage", t.stage),
            ("series", t.series_code),
            ("unit", t.unit_id),
        ):
            if filters.get(key):
                conditions.append(column == filters[key])
        if filters.get("due_before"):
            conditions.append(t.due_at <= filters["due_before"])
        if filters.get("mine"):
            conditions.append(t.assignee == filters["mine"])
        selects = [select(*columns).where(visible, *conditions) for visible in ranges]
        if len(selects) == 1:
            return selects[0]
        return union(*selects) if overlap else union_all(*selects)

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
        visible = self._visible(groups, filters, open_tasks.c.task_id, open_tasks.c[sort])
        if visible is None:
            return [], 0
        v = visible.cte("visible")  # read once (the index alone), counted and sorted

        def order(column: Any, task_id: Any) -> tuple[Any, Any]:
            return (column.desc() if descending else column.asc()).nulls_last(), task_id

        # the page's ids from the visible set, then only their rows; the total rides along in one round trip
        page = select(v.c.task_id).order_by(*order(v.c[sort], v.c.task_id)).limit(limit).offset(offset).subquery()
        total = select(func.count()).select_from(v).scalar_subquery().label("total_")
        q = (
            select(open_tasks, total)
            .join(page, page.c.task_id == open_tasks.c.task_id)
            .order_by(*order(open_tasks.c[sort], open_tasks.c.task_id))
        )
        rows = [dict(r._mapping) for r in await self._s.execute(q)]
        if not rows:  # a page past the end (or an empty inbox) has no row to carry the total
            return [], int((await self._s.execute(select(func.count()).select_from(v))).scalar_one())
        count = rows[0]["total_"]
        for row in rows:
            del row["total_"]
        return rows, int(count)

    async def stage_counts(self, groups: Sequence[tuple[str, str, str | None]], user: str) -> dict[str, int]:
        visible = self._visible(groups, {"user": user}, open_tasks.c.task_id, open_tasks.c.stage)
        if visible is None:
            return {}
        v = visible.subquery()
        q = select(v.c.stage, func.count()).group_by(v.c.stage)
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


# -- a task completion: one read and one write, each a single autocommit statement --------------------------

_I_COLUMNS = ", ".join(f"i.{c.name} AS i__{c.name}" for c in process_instances.c)

# The command's stored answer (a retry with its Idempotency-Key), the task with its instance, and the ids of the
# instance's open tasks, all from one snapshot: the ids tell which of the engine's open tasks are new, and the
# version-checked save guarantees they are still the instance's (every change of the set bumps the version).
_DEFINITION = "SELECT version, process_key, source, decisions FROM process_definitions WHERE id = $1::uuid"
_COMPLETION_READ = f"""
SELECT
    (SELECT c.response FROM command_results c WHERE c.actor_id = $2::text AND c.idempotency_key = $3::text)
        AS earlier,
    ARRAY(SELECT o.task_id FROM open_tasks o WHERE o.instance_id = t.instance_id) AS open_ids,
    t.*, {_I_COLUMNS}
FROM (SELECT $1::uuid AS wanted) w
LEFT JOIN open_tasks t ON t.task_id = w.wanted
LEFT JOIN process_instances i ON i.id = t.instance_id
"""

# The completion's write: what _SAVE_TRANSITIONS writes for one instance, plus its outbox rows and the command's
# answer (when it carries an Idempotency-Key), each only when the version-checked update matched. One statement
# is one transaction, without BEGIN and COMMIT round trips: all of it or, on a version that moved on, none of it.
# The instance id also comes as a plain parameter ($12): the planner estimates jsonb_to_recordset at 100 rows and
# the prepared statement's generic plan, made while the tables were small, joined them by scanning
# process_instances and open_tasks whole — a cost that grew with every task stored (the completions bench: the
# database's CPU per completion rose 0.55 ms with every 1,200 completions).
_COMPLETION_SAVE = f"""
WITH v AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS v(
        id uuid, expected_version integer, open_ids uuid[], state jsonb, status text,
        next_due_at timestamptz, waiting jsonb, current_stage text, error text, tree_size integer,
        updated_at timestamptz, routing jsonb, definition_id uuid)
), saved AS (
    UPDATE process_instances p SET
        {", ".join(f"{c} = v.{c}" for c in _SET_ALWAYS)},
        {", ".join(f"{c} = COALESCE(v.{c}, p.{c})" for c in _SET_IF_GIVEN)},
        version = v.expected_version + 1
    FROM v WHERE p.id = $12::uuid AND p.id = v.id AND p.version = v.expected_version
    RETURNING p.id
), dropped AS (
    DELETE FROM open_tasks t USING v
    WHERE t.instance_id = $12::uuid AND t.instance_id = v.id AND v.id IN (SELECT id FROM saved)
      AND t.task_id <> ALL(v.open_ids)
), added AS (
    INSERT INTO open_tasks ({_TASK_COLUMNS})
    SELECT {_TASK_COLUMNS} FROM jsonb_populate_recordset(NULL::open_tasks, $2::jsonb)
    WHERE instance_id IN (SELECT id FROM saved)
    ON CONFLICT (task_id) DO NOTHING
    RETURNING task_id
), logged AS (
    INSERT INTO history ({_HISTORY_COLUMNS})
    SELECT {_HISTORY_COLUMNS} FROM jsonb_populate_recordset(NULL::history, $3::jsonb)
    WHERE instance_id IN (SELECT id FROM saved)
), sent AS (
    INSERT INTO {messaging.outbox.name} (id, subject, payload, headers)
    SELECT o.id, o.subject, o.payload, $7::jsonb
    FROM unnest($4::uuid[], $5::text[], $6::bytea[]) WITH ORDINALITY AS o(id, subject, payload, n)
    WHERE EXISTS (SELECT FROM saved)
    ORDER BY o.n
), answered AS (
    INSERT INTO command_results (actor_id, idempotency_key, command, status_code, response, created_at)
    SELECT $8::text, $9::text, 'complete_task', 200, $10::jsonb, $11::timestamptz
    WHERE $9::text IS NOT NULL AND EXISTS (SELECT FROM saved)
)
SELECT EXISTS (SELECT FROM saved) AS saved, ARRAY(SELECT task_id FROM added) AS added
"""


class SqlCompletions:
    """A task completion's reads and writes straight on the pool's asyncpg connection: no session, no
    transaction block (each statement commits by itself), no ORM result processing. The connection is one of
    the engine's pool (its JSON codecs, its checks on checkout), so the service keeps one pool."""

    def __init__(self, connection: Any) -> None:
        self._c = connection  # asyncpg.Connection, with SQLAlchemy's JSON codecs (orjson on read, text on write)

    @classmethod
    @asynccontextmanager
    async def open(cls, sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[SqlCompletions]:
        engine: AsyncEngine = sessions.kw["bind"]
        async with engine.connect() as conn:  # checked in without a round trip: no transaction was begun
            raw = await conn.get_raw_connection()
            yield cls(raw.driver_connection)

    async def read(self, task_id: UUID, actor_id: str, idempotency_key: str | None) -> CompletionRead:
        row = await self._c.fetchrow(_COMPLETION_READ, task_id, actor_id, idempotency_key)
        earlier = row["earlier"]
        if row["task_id"] is None:
            return CompletionRead(None, None, set(), earlier)
        data = dict(row.items())
        del data["earlier"], data["open_ids"]
        instance = {k[3:]: data.pop(k) for k in list(data) if k.startswith("i__")}
        return CompletionRead(data, instance, set(row["open_ids"]), earlier)

    async def definition(self, definition_id: UUID) -> Row | None:
        row = await self._c.fetchrow(_DEFINITION, definition_id)
        return dict(row.items()) if row else None

    async def save(self, write: TransitionWrite, envelopes: Sequence[Envelope], answer: Row | None) -> set[UUID] | None:
        """None when the instance's version moved on (nothing was written), else the ids of its new open tasks."""
        unknown = set(write.values) - {*_SET_ALWAYS, *_SET_IF_GIVEN}
        if unknown or not set(_SET_ALWAYS) <= set(write.values):
            raise ValueError(f"a transition sets {sorted(_SET_ALWAYS)} and may set {sorted(_SET_IF_GIVEN)}")
        instance = {
            **write.values,
            "id": write.instance_id,
            "expected_version": write.expected_version,
            "open_ids": list(write.open_ids),
        }
        headers: dict[str, str] = {}
        if envelopes:
            inject_context(headers)  # the relay continues the trace of the request that made the change
        row = await self._c.fetchrow(
            _COMPLETION_SAVE,
            _json([instance]),
            _json(write.task_rows),
            _json(write.history_rows),
            [e.id for e in envelopes],
            [e.subject for e in envelopes],
            [e.to_bytes() for e in envelopes],
            json_dumps(headers),
            answer["actor_id"] if answer else None,
            answer["idempotency_key"] if answer else None,
            _json(answer["response"]) if answer else None,
            answer["created_at"] if answer else None,
            write.instance_id,
        )
        return set(row["added"]) if row["saved"] else None
