"""Adapters: 我的消息 storage and the status changes the review service reports (inside the caller's tx)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

from applications.adapters.db.tables import applications_table, messages
from applications.adapters.db.trail import append_trail


class SqlMessageStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, values: dict[str, Any]) -> None:
        """Idempotent per event id: a redelivered event does not send its notice twice."""
        await self._s.execute(insert(messages).values(id=uuid.uuid4(), **values).on_conflict_do_nothing())

    async def page(
        self, recipient: str, *, unread_only: bool, offset: int, limit: int
    ) -> tuple[list[dict[str, Any]], int, int]:
        where = [messages.c.recipient == recipient]
        if unread_only:
            where.append(messages.c.read_at.is_(None))
        rows = await self._s.execute(
            select(messages)
            .where(*where)
            .order_by(messages.c.created_at.desc(), messages.c.id)
            .offset(offset)
            .limit(limit)
        )
        total = (await self._s.execute(select(func.count()).select_from(messages).where(*where))).scalar_one()
        unread = (
            await self._s.execute(
                select(func.count())
                .select_from(messages)
                .where(messages.c.recipient == recipient, messages.c.read_at.is_(None))
            )
        ).scalar_one()
        return [dict(r) for r in rows.mappings()], int(total), int(unread)

    async def mark_read(self, recipient: str, message_id: str | None, *, now: datetime) -> int:
        where = [messages.c.recipient == recipient, messages.c.read_at.is_(None)]
        if message_id is not None:
            try:
                where.append(messages.c.id == uuid.UUID(message_id))
            except ValueError:
                return 0
        result = await self._s.execute(update(messages).where(*where).values(read_at=now).returning(messages.c.id))
        return len(result.all())

    async def holds(self, recipient: str, message_id: str) -> bool:
        try:
            wanted = uuid.UUID(message_id)
        except ValueError:
            return False
        found = await self._s.execute(
            select(messages.c.id).where(messages.c.recipient == recipient, messages.c.id == wanted)
        )
        return found.first() is not None

    async def set_status(
        self, app_id: str, *, expected: tuple[str, ...], status: str, reason: str | None, now: datetime
    ) -> dict[str, Any] | None:
        """Move an application on, if it is where the event expects it; the row as it was, else None."""
        row = (
            (
                await self._s.execute(
                    select(applications_table).where(applications_table.c.id == uuid.UUID(app_id)).with_for_update()
                )
            )
            .mappings()
            .first()
        )
        if row is None or row["status"] not in expected:
            return None
        await self._s.execute(
            update(applications_table)
            .where(applications_table.c.id == row["id"])
            .values(status=status, status_reason=reason, updated_at=now, withdraw_requested_at=None)
        )
        return dict(row)

    async def add_trail(self, app_id: str, entry: dict[str, Any]) -> None:
        await append_trail(self._s, app_id, entry)

    async def reach_stage(self, app_id: str, stage: dict[str, Any], *, now: datetime) -> None:
        A = applications_table
        await self._s.execute(
            update(A)
            .where(A.c.id == uuid.UUID(app_id), A.c.status == "submitted")
            .values(
                stages_reached=A.c.stages_reached.op("||")(bindparam("stage", value=[stage], type_=JSONB)),
                updated_at=now,
            )
        )
