"""Use cases: the portal (首页) — 通知公告, 政策文件 and 评审公示 for everyone; published, revised and withdrawn
by administrators and, for their own committee, by those who maintain it (docs/decisions/0020)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from applications.domain.committees import Committee
from applications.domain.portal import (
    KIND_NAMES,
    PUBLICITY,
    ArticleConflictError,
    ArticleForbiddenError,
    ArticleNotFoundError,
    ArticleRejectedError,
    check_article,
    mask_name,
)
from applications.usecases.ports import PortalStore, ReferenceStore

# who may publish for a committee (None: an article of no committee); the API layer knows the caller
MayPublish = Callable[[Committee | None], bool]


def _summary(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "kind": row["kind"],
        "kind_name": KIND_NAMES[row["kind"]],
        "title": row["title"],
        "publisher": row["publisher"],
        "committee_id": str(row["committee_id"]) if row["committee_id"] else None,
        "committee_name": row["committee_name"],
        "year": row["year"],
        "published_at": row["published_at"].isoformat(),
    }


def _detail(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **_summary(row),
        "body": row["body"],
        "entries": [{"no": i + 1, **e} for i, e in enumerate(row["entries"])],
        "updated_at": row["updated_at"].isoformat(),
        "version": row["version"],
    }


def _managed(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **_detail(row),
        "withdrawn_at": row["withdrawn_at"].isoformat() if row["withdrawn_at"] else None,
        "author": row["author"],
    }


def _masked(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a 评审公示 keeps of each person: the name masked before it is stored (the clear name never is)."""
    return [
        {
            "name": mask_name(e["name"]),
            "unit": e["unit"].strip(),
            "specialty": (e.get("specialty") or "").strip() or None,
            "qualification": e["qualification"].strip(),
        }
        for e in entries
    ]


class PortalService:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        store: Callable[[AsyncSession], PortalStore],
        reference_store: Callable[[AsyncSession], ReferenceStore],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = sessions
        self._store = store
        self._reference = reference_store
        self._clock = clock

    # --- public ------------------------------------------------------------------------------------------
    async def articles(
        self,
        *,
        kind: str | None,
        committee_id: str | None,
        year: int | None,
        keyword: str | None,
        page: int,
        size: int,
    ) -> dict[str, Any]:
        async with self._sessions() as s:
            rows, total = await self._store(s).page(
                kind=kind,
                committee_id=committee_id,
                year=year,
                keyword=(keyword or "").strip() or None,
                offset=(page - 1) * size,
                limit=size,
            )
        return {"items": [_summary(r) for r in rows], "total": total, "page": page, "size": size}

    async def article(self, article_id: str) -> dict[str, Any]:
        """A withdrawn article is gone for the public, as one that never was."""
        async with self._sessions() as s:
            row = await self._store(s).get(article_id)
        if row is None or row["withdrawn_at"] is not None:
            raise ArticleNotFoundError("内容不存在或已撤回")
        return _detail(row)

    # --- publishing --------------------------------------------------------------------------------------
    async def publish(
        self,
        *,
        kind: str,
        title: str,
        body: str,
        publisher: str,
        committee_id: str | None,
        year: int | None,
        entries: list[dict[str, Any]],
        may_publish: MayPublish,
        by: str,
    ) -> dict[str, Any]:
        check_article(kind=kind, committee_id=committee_id, year=year, entries=len(entries))
        now = self._clock()
        async with self._sessions() as s, s.begin():
            committee = await self._committee(s, committee_id, year=year if kind == PUBLICITY else None)
            if not may_publish(committee):
                raise ArticleForbiddenError(
                    "当前账号无权发布该评委会的内容" if committee else "当前账号无权发布全省的通知公告和政策文件"
                )
            store = self._store(s)
            article_id = await store.add(
                {
                    "kind": kind,
                    "title": title.strip(),
                    "body": body,
                    "publisher": publisher.strip(),
                    "committee_id": committee.id if committee else None,
                    "year": year,
                    "entries": _masked(entries),
                    "published_at": now,
                    "author": by,
                    "updated_at": now,
                    "updated_by": by,
                    "version": 1,
                }
            )
            row = await store.get(article_id)
        assert row is not None
        return _managed(row)

    async def revise(
        self,
        article_id: str,
        *,
        expected_version: int,
        title: str,
        body: str,
        publisher: str,
        entries: list[dict[str, Any]],
        may_publish: MayPublish,
        by: str,
    ) -> dict[str, Any]:
        """Its kind, committee and year stay: a different one is a new article."""
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            row = await self._owned(s, article_id, may_publish)
            if row["withdrawn_at"] is not None:
                raise ArticleConflictError("已撤回的内容不能修改")
            if row["version"] != expected_version:
                raise ArticleConflictError("内容已被他人修改，请刷新后再保存", field="If-Match")
            check_article(
                kind=row["kind"],
                committee_id=str(row["committee_id"]) if row["committee_id"] else None,
                year=row["year"],
                entries=len(entries),
            )
            await store.update(
                article_id,
                {
                    "title": title.strip(),
                    "body": body,
                    "publisher": publisher.strip(),
                    "entries": _masked(entries),
                    "updated_at": self._clock(),
                    "updated_by": by,
                    "version": row["version"] + 1,
                },
            )
            revised = await store.get(article_id)
        assert revised is not None
        return _managed(revised)

    async def withdraw(self, article_id: str, *, may_publish: MayPublish, by: str) -> dict[str, Any]:
        """Withdrawing twice changes nothing more."""
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            row = await self._owned(s, article_id, may_publish)
            if row["withdrawn_at"] is None:
                now = self._clock()
                await store.update(
                    article_id,
                    {"withdrawn_at": now, "updated_at": now, "updated_by": by, "version": row["version"] + 1},
                )
                row = await store.get(article_id) or row
        return _managed(row)

    async def _owned(self, s: AsyncSession, article_id: str, may_publish: MayPublish) -> dict[str, Any]:
        row = await self._store(s).get(article_id, lock=True)
        if row is None:
            raise ArticleNotFoundError("内容不存在")
        committee = await self._reference(s).committee(str(row["committee_id"])) if row["committee_id"] else None
        if not may_publish(committee):
            raise ArticleForbiddenError("当前账号无权修改或撤回该内容")
        return row

    async def _committee(self, s: AsyncSession, committee_id: str | None, *, year: int | None) -> Committee | None:
        """The article's committee; for a 评审公示 it must have held a review activity that year."""
        if committee_id is None:
            return None
        reference = self._reference(s)
        committee = await reference.committee(committee_id)
        if committee is None:
            raise ArticleRejectedError("评委会不存在", field="committee_id")
        if year is not None and not await reference.activities([committee.id], year):
            raise ArticleRejectedError(f"该评委会未设置{year}年度的评审活动", field="year")
        return committee
