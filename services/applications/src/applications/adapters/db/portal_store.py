"""Adapters: the portal's articles (通知公告, 政策文件, 评审公示), inside the caller's transaction."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from applications.adapters.db.reference_store import contains_pattern
from applications.adapters.db.tables import committees, portal_articles

_COLUMNS = (*portal_articles.c, committees.c.name.label("committee_name"))
_JOINED = portal_articles.outerjoin(committees, committees.c.id == portal_articles.c.committee_id)


def _key(article_id: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(article_id)
    except ValueError:
        return None


class SqlPortalStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, values: dict[str, Any]) -> str:
        article_id = uuid.uuid4()
        await self._s.execute(insert(portal_articles).values(id=article_id, **values))
        return str(article_id)

    async def get(self, article_id: str, *, lock: bool = False) -> dict[str, Any] | None:
        key = _key(article_id)
        if key is None:
            return None
        query = select(*_COLUMNS).select_from(_JOINED).where(portal_articles.c.id == key)
        if lock:
            query = query.with_for_update(of=portal_articles)
        row = (await self._s.execute(query)).mappings().first()
        return dict(row) if row else None

    async def page(
        self,
        *,
        kind: str | None,
        committee_id: str | None,
        year: int | None,
        keyword: str | None,
        offset: int,
        limit: int,
    ) -> tuple[list[dict[str, Any]], int]:
        """Published and not withdrawn, newest first."""
        where: list[Any] = [portal_articles.c.withdrawn_at.is_(None)]
        if kind is not None:
            where.append(portal_articles.c.kind == kind)
        if committee_id is not None:
            key = _key(committee_id)
            if key is None:
                return [], 0
            where.append(portal_articles.c.committee_id == key)
        if year is not None:
            where.append(portal_articles.c.year == year)
        if keyword:
            where.append(portal_articles.c.title.ilike(contains_pattern(keyword), escape="\\"))
        total = (await self._s.execute(select(func.count()).select_from(portal_articles).where(*where))).scalar_one()
        rows = await self._s.execute(
            select(*_COLUMNS)
            .select_from(_JOINED)
            .where(*where)
            .order_by(portal_articles.c.published_at.desc(), portal_articles.c.id)
            .offset(offset)
            .limit(limit)
        )
        return [dict(r) for r in rows.mappings()], int(total)

    async def update(self, article_id: str, values: dict[str, Any]) -> None:
        await self._s.execute(
            update(portal_articles).where(portal_articles.c.id == uuid.UUID(article_id)).values(**values)
        )
