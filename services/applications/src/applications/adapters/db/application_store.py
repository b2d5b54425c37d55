"""Adapters: reads and writes of applications and their frozen snapshots (inside the caller's transaction)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from applications.adapters.db.tables import (
    application_snapshots,
    applications_table,
    attachments,
    personal_data_access,
    personal_records,
    profiles,
)
from applications.adapters.db.trail import append_trail
from applications.domain.application import ABANDONED
from zc_db import fetch_page

A = applications_table


class SqlApplicationStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def insert(self, values: dict[str, Any]) -> str | None:
        """The new id, or None when the applicant already has a live application for the same title."""
        app_id = uuid.uuid4()
        try:
            async with self._s.begin_nested():
                await self._s.execute(insert(A).values(id=app_id, **values))
        except IntegrityError:
            return None
        return str(app_id)

    async def get(self, app_id: str, *, lock: bool = False) -> dict[str, Any] | None:
        try:
            key = uuid.UUID(app_id)
        except ValueError:
            return None
        query = select(A).where(A.c.id == key)
        if lock:
            query = query.with_for_update()  # one change of an application at a time
        row = (await self._s.execute(query)).mappings().first()
        return dict(row) if row else None

    async def page_for(self, applicant_id: str, *, page: int, size: int) -> tuple[list[dict[str, Any]], int]:
        """我的申报: the applicant's applications but the abandoned ones, newest year first."""
        query = (
            select(A)
            .where(A.c.applicant_id == applicant_id, A.c.status != ABANDONED)
            .order_by(A.c.year.desc(), A.c.created_at.desc(), A.c.id)
        )
        return await fetch_page(self._s, query, page=page, size=size)

    async def update(self, app_id: str, values: dict[str, Any], *, now: datetime) -> None:
        await self._s.execute(update(A).where(A.c.id == uuid.UUID(app_id)).values(updated_at=now, **values))

    async def add_snapshot(self, app_id: str, version: int, content: dict[str, Any]) -> None:
        await self._s.execute(
            insert(application_snapshots).values(application_id=uuid.UUID(app_id), version=version, content=content)
        )

    async def frozen_attachment_ids(self, app_id: str) -> set[str]:
        """Ids of the files some submitted snapshot shows: read from the snapshots' attachment lists only."""
        rows = await self._s.execute(
            text(
                "SELECT DISTINCT f->>'id' FROM application_snapshots,"
                " jsonb_array_elements(content->'attachments') AS f WHERE application_id = :app"
            ),
            {"app": uuid.UUID(app_id)},
        )
        return {str(r[0]) for r in rows}

    async def snapshot(self, app_id: str, version: int) -> dict[str, Any] | None:
        row = (
            await self._s.execute(
                select(application_snapshots.c.content).where(
                    application_snapshots.c.application_id == uuid.UUID(app_id),
                    application_snapshots.c.version == version,
                )
            )
        ).first()
        return dict(row.content) if row else None

    # --- attachments ---------------------------------------------------------------------------------
    async def add_attachment(self, values: dict[str, Any]) -> str:
        att_id = uuid.uuid4()
        await self._s.execute(insert(attachments).values(id=att_id, **values))
        return str(att_id)

    async def attachments_of(self, owner_id: str, *, owner: str = "application") -> list[dict[str, Any]]:
        """The live files of an application (owner="application") or of a personal record ("record")."""
        rows = await self._s.execute(
            select(attachments)
            .where(attachments.c[f"{owner}_id"] == uuid.UUID(owner_id), attachments.c.deleted_at.is_(None))
            .order_by(attachments.c.created_at)
        )
        return [dict(r) for r in rows.mappings()]

    async def attachment(
        self, owner_id: str, att_id: str, *, owner: str = "application", include_deleted: bool = False
    ) -> dict[str, Any] | None:
        """One file of its owner; a deleted one only when asked (its bytes stay for submitted snapshots)."""
        try:
            key = uuid.UUID(att_id)
        except ValueError:
            return None
        query = select(attachments).where(attachments.c.id == key, attachments.c[f"{owner}_id"] == uuid.UUID(owner_id))
        if not include_deleted:
            query = query.where(attachments.c.deleted_at.is_(None))
        row = (await self._s.execute(query)).mappings().first()
        return dict(row) if row else None

    async def delete_attachment(self, att_id: str, *, now: datetime) -> None:
        await self._s.execute(update(attachments).where(attachments.c.id == uuid.UUID(att_id)).values(deleted_at=now))

    async def log_access(self, *, actor: str, app_id: str | None, fields: list[str]) -> None:
        await self._s.execute(
            insert(personal_data_access).values(
                id=uuid.uuid4(), actor=actor, application_id=uuid.UUID(app_id) if app_id else None, fields=fields
            )
        )

    # --- 个人信息 (the profile kept between applications) ----------------------------------------------------
    async def profile(self, applicant_id: str, *, lock: bool = False) -> dict[str, Any]:
        query = select(profiles).where(profiles.c.applicant_id == applicant_id)
        if lock:
            await self._s.execute(pg_insert(profiles).values(applicant_id=applicant_id).on_conflict_do_nothing())
            query = query.with_for_update()
        row = (await self._s.execute(query)).mappings().first()
        return dict(row) if row else {"applicant_id": applicant_id, "sections": {}, "section_versions": {}}

    async def save_profile(
        self, applicant_id: str, sections: dict[str, Any], versions: dict[str, int], *, now: datetime
    ) -> None:
        await self._s.execute(
            update(profiles)
            .where(profiles.c.applicant_id == applicant_id)
            .values(sections=sections, section_versions=versions, updated_at=now)
        )

    async def passed_work_history(self, applicant_id: str) -> list[dict[str, Any]]:
        """Work-history entries of the applicant's last passed application (what it was judged on)."""
        row = (
            await self._s.execute(
                select(application_snapshots.c.content)
                .join(A, A.c.id == application_snapshots.c.application_id)
                .where(
                    A.c.applicant_id == applicant_id,
                    A.c.status.in_(("approved", "certified")),
                    application_snapshots.c.version == A.c.snapshot_version,
                )
                .order_by(A.c.submitted_at.desc())
                .limit(1)
            )
        ).first()
        return list((row.content.get("sections") or {}).get("work_history") or []) if row else []

    # --- 外省职称确认 / 专技人才统计 -------------------------------------------------------------------------------
    async def add_record(self, values: dict[str, Any]) -> str:
        rec_id = uuid.uuid4()
        await self._s.execute(insert(personal_records).values(id=rec_id, **values))
        return str(rec_id)

    async def record(self, rec_id: str, *, lock: bool = False) -> dict[str, Any] | None:
        try:
            key = uuid.UUID(rec_id)
        except ValueError:
            return None
        query = select(personal_records).where(personal_records.c.id == key)
        if lock:
            query = query.with_for_update()
        row = (await self._s.execute(query)).mappings().first()
        return dict(row) if row else None

    async def records_of(
        self, applicant_id: str, kind: str, *, page: int, size: int
    ) -> tuple[list[dict[str, Any]], int]:
        query = (
            select(personal_records)
            .where(personal_records.c.applicant_id == applicant_id, personal_records.c.kind == kind)
            .order_by(personal_records.c.created_at.desc(), personal_records.c.id)
        )
        return await fetch_page(self._s, query, page=page, size=size)

    async def update_record(self, rec_id: str, values: dict[str, Any]) -> None:
        await self._s.execute(
            update(personal_records).where(personal_records.c.id == uuid.UUID(rec_id)).values(**values)
        )

    async def add_trail(self, app_id: str, entry: dict[str, Any]) -> None:
        await append_trail(self._s, app_id, entry)
