"""Adapters: append one entry to an application's review trail (审核流程), inside the caller's transaction."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from applications.adapters.db.tables import applications_table as A


async def append_trail(session: AsyncSession, app_id: str, entry: dict[str, Any]) -> None:
    await session.execute(
        update(A)
        .where(A.c.id == uuid.UUID(app_id))
        .values(trail=A.c.trail.op("||")(bindparam("trail_entry", value=[entry], type_=JSONB)))
    )
