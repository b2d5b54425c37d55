"""One page of a query's rows with the total the pager shows ("共 N 条")."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession


async def fetch_page(
    session: AsyncSession, query: Select[Any], *, page: int, size: int
) -> tuple[list[dict[str, Any]], int]:
    """Rows `(page - 1) * size` onwards, at most `size`; the query must order its rows (a page needs a stable order)."""
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = await session.execute(query.offset((page - 1) * size).limit(size))
    return [dict(r) for r in rows.mappings()], int(total or 0)
