"""Adapters: SQL for certificates, their numbering, the public-check rate limit and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import false, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from certificates.adapters.db.tables import (
    audit,
    certificate_counters,
    certificates,
    check_requests,
    confirmations,
    verification_files,
    verifications,
)
from zc_auth import region_prefix
from zc_db import fetch_page

Row = dict[str, Any]


class SqlCertificateStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def lock_approval(self, application_id: UUID) -> None:
        """Serialise issuers of the same approval (concurrent consumers of a redelivered event)."""
        await self._s.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": str(application_id)})

    async def by_application(self, application_id: UUID) -> Row | None:
        q = select(certificates).where(certificates.c.application_id == application_id)
        row = (await self._s.execute(q)).first()
        return dict(row._mapping) if row else None

    async def next_sequence(self, year: int, series_code: str) -> int:
        """The next number of the year and series; the row stays locked until commit, so no gaps, no twins."""
        await self._s.execute(
            insert(certificate_counters)
            .values(year=year, series_code=series_code, last_sequence=0)
            .on_conflict_do_nothing(index_elements=["year", "series_code"])
        )
        stmt = (
            update(certificate_counters)
            .where(certificate_counters.c.year == year, certificate_counters.c.series_code == series_code)
            .values(last_sequence=certificate_counters.c.last_sequence + 1)
            .returning(certificate_counters.c.last_sequence)
        )
        return int((await self._s.execute(stmt)).scalar_one())

    async def insert(self, row: Row) -> None:
        await self._s.execute(insert(certificates).values(**row))

    async def get(self, certificate_id: UUID, *, lock: bool = False) -> Row | None:
        q = select(certificates).where(certificates.c.id == certificate_id)
        if lock:
            q = q.with_for_update()
        row = (await self._s.execute(q)).first()
        return dict(row._mapping) if row else None

    async def by_number(self, number: str) -> Row | None:
        row = (await self._s.execute(select(certificates).where(certificates.c.certificate_no == number))).first()
        return dict(row._mapping) if row else None

    async def by_token(self, token: str) -> Row | None:
        row = (await self._s.execute(select(certificates).where(certificates.c.qr_token == token))).first()
        return dict(row._mapping) if row else None

    async def in_regions(
        self, regions: list[str], *, province: str, number: str | None, holder_name: str | None, page: int, size: int
    ) -> tuple[list[Row], int]:
        """证书管理: the certificates of the given region grants (each covering its own code and those below it,
        by GB/T 2260 prefix); those without a region belong to the province's authority."""
        c = certificates.c
        covered = []
        for region in regions:
            prefix = region_prefix(region)
            covered.append(c.region_code.startswith(prefix) if prefix else c.region_code == region)
            if region == f"{province}0000":
                covered.append(c.region_code.is_(None))
        q = select(certificates).where(or_(*covered) if covered else false())
        if number:
            q = q.where(c.certificate_no == number)
        if holder_name:
            q = q.where(c.holder_name == holder_name)
        return await fetch_page(self._s, q.order_by(c.created_at.desc(), c.id), page=page, size=size)

    async def of_holder(self, holder_id: str, *, page: int, size: int) -> tuple[list[Row], int]:
        q = (
            select(certificates)
            .where(certificates.c.holder_id == holder_id)
            .order_by(certificates.c.issue_date.desc(), certificates.c.id)
        )
        return await fetch_page(self._s, q, page=page, size=size)

    async def revoke(self, certificate_id: UUID, *, by: str, reason: str, now: datetime) -> None:
        await self._s.execute(
            update(certificates)
            .where(certificates.c.id == certificate_id)
            .values(status="revoked", revoked_at=now, revoked_by=by, revoke_reason=reason)
        )

    async def count_request(self, client: str, window_start: datetime) -> int:
        stmt = (
            insert(check_requests)
            .values(client=client, window_start=window_start, count=1)
            .on_conflict_do_update(
                index_elements=["client", "window_start"], set_={"count": check_requests.c.count + 1}
            )
            .returning(check_requests.c.count)
        )
        return int((await self._s.execute(stmt)).scalar_one())

    async def forget_requests_before(self, before: datetime) -> None:
        await self._s.execute(check_requests.delete().where(check_requests.c.window_start < before))

    async def audit(self, actor: str, action: str, certificate_id: UUID | None, details: dict[str, Any]) -> None:
        await self._s.execute(
            insert(audit).values(actor=actor, action=action, certificate_id=certificate_id, details=details)
        )

    # 证书核验

    async def insert_verification(self, row: Row) -> None:
        await self._s.execute(insert(verifications).values(**row))

    async def verification(self, verification_id: UUID, *, lock: bool = False) -> Row | None:
        q = select(verifications).where(verifications.c.id == verification_id)
        if lock:
            q = q.with_for_update()
        row = (await self._s.execute(q)).first()
        return dict(row._mapping) if row else None

    async def update_verification(self, verification_id: UUID, values: dict[str, Any]) -> None:
        await self._s.execute(update(verifications).where(verifications.c.id == verification_id).values(**values))

    async def verifications_of(self, applicant_id: str, *, page: int, size: int) -> tuple[list[Row], int]:
        q = (
            select(verifications)
            .where(verifications.c.applicant_id == applicant_id)
            .order_by(verifications.c.created_at.desc(), verifications.c.id)
        )
        return await fetch_page(self._s, q, page=page, size=size)

    async def add_verification_file(self, row: Row) -> None:
        await self._s.execute(insert(verification_files).values(**row))

    async def verification_files_of(self, verification_id: UUID) -> list[Row]:
        q = (
            select(verification_files)
            .where(verification_files.c.verification_id == verification_id, verification_files.c.deleted_at.is_(None))
            .order_by(verification_files.c.created_at)
        )
        return [dict(r._mapping) for r in await self._s.execute(q)]

    async def delete_verification_file(self, file_id: UUID, *, now: datetime) -> None:
        await self._s.execute(
            update(verification_files).where(verification_files.c.id == file_id).values(deleted_at=now)
        )

    async def by_verification(self, verification_id: UUID) -> Row | None:
        q = select(certificates).where(certificates.c.verification_id == verification_id)
        row = (await self._s.execute(q)).first()
        return dict(row._mapping) if row else None

    # 外省职称确认

    async def keep_confirmation(self, row: Row) -> None:
        """The latest submission wins (a returned record is resubmitted with corrections)."""
        stmt = insert(confirmations).values(**row)
        await self._s.execute(
            stmt.on_conflict_do_update(
                index_elements=["record_id"],
                set_={
                    "title": stmt.excluded.title,
                    "region_code": stmt.excluded.region_code,
                    "received_at": stmt.excluded.received_at,
                },
            )
        )

    async def confirmation(self, record_id: UUID) -> Row | None:
        row = (await self._s.execute(select(confirmations).where(confirmations.c.record_id == record_id))).first()
        return dict(row._mapping) if row else None

    async def by_confirmation(self, record_id: UUID) -> Row | None:
        """A confirmed title is keyed by its record: it reuses the approval column (one certificate each)."""
        q = select(certificates).where(
            certificates.c.application_id == record_id, certificates.c.source == "out_of_province"
        )
        row = (await self._s.execute(q)).first()
        return dict(row._mapping) if row else None

    async def count(self) -> int:
        return int((await self._s.execute(select(func.count()).select_from(certificates))).scalar_one())
