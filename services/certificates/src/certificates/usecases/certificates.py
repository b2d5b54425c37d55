"""Use cases: issue a certificate exactly once per approval, show and download it, check it publicly,
revoke it. A certificate's data are signed; the public check proves they were not altered."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from certificates.domain.certificate import METHODS, SOURCES, canonical, certificate_number, mask_name
from certificates.domain.errors import NotFoundError, StateError, TooManyRequestsError
from zc_auth import Principal, Role, ScopeType
from zc_contracts import Envelope, applications_v1, certificates_v1, make_envelope, review_v1
from zc_db import MessagingTables
from zc_messaging import PoisonMessageError, TransientError, add_to_outbox

Row = dict[str, Any]
SOURCE = "certificates"


class HolderInfo(Protocol):
    name: str
    id_masked: str


class HolderDirectory(Protocol):
    async def holder(self, user_id: str, *, purpose: str) -> HolderInfo: ...


class Signer(Protocol):
    key_id: str

    def sign(self, data: bytes) -> str: ...
    def verify(self, key_id: str, data: bytes, signature: str) -> bool: ...


class Renderer(Protocol):
    def __call__(self, certificate: Row, check_url: str) -> bytes: ...


class CertificateStore(Protocol):
    async def lock_approval(self, application_id: UUID) -> None: ...
    async def by_application(self, application_id: UUID) -> Row | None: ...
    async def next_sequence(self, year: int, series_code: str) -> int: ...
    async def insert(self, row: Row) -> None: ...
    async def get(self, certificate_id: UUID, *, lock: bool = False) -> Row | None: ...
    async def by_number(self, number: str) -> Row | None: ...
    async def by_token(self, token: str) -> Row | None: ...
    async def of_holder(self, holder_id: str, *, page: int, size: int) -> tuple[list[Row], int]: ...
    async def in_regions(
        self, regions: list[str], *, province: str, number: str | None, holder_name: str | None, page: int, size: int
    ) -> tuple[list[Row], int]: ...
    async def revoke(self, certificate_id: UUID, *, by: str, reason: str, now: datetime) -> None: ...
    async def count_request(self, client: str, window_start: datetime) -> int: ...
    async def forget_requests_before(self, before: datetime) -> None: ...
    async def audit(self, actor: str, action: str, certificate_id: UUID | None, details: dict[str, Any]) -> None: ...
    async def insert_verification(self, row: Row) -> None: ...
    async def verification(self, verification_id: UUID, *, lock: bool = False) -> Row | None: ...
    async def update_verification(self, verification_id: UUID, values: dict[str, Any]) -> None: ...
    async def verifications_of(self, applicant_id: str, *, page: int, size: int) -> tuple[list[Row], int]: ...
    async def add_verification_file(self, row: Row) -> None: ...
    async def verification_files_of(self, verification_id: UUID) -> list[Row]: ...
    async def delete_verification_file(self, file_id: UUID, *, now: datetime) -> None: ...
    async def by_verification(self, verification_id: UUID) -> Row | None: ...
    async def keep_confirmation(self, row: Row) -> None: ...
    async def confirmation(self, record_id: UUID) -> Row | None: ...
    async def by_confirmation(self, record_id: UUID) -> Row | None: ...


@dataclass(frozen=True)
class IssuingPolicy:
    province_code: str  # 51 = 四川
    issuing_authority: str  # printed when the approval does not name the entrusting unit
    check_base_url: str  # where the QR code points (the public check page)
    checks_per_minute: int


class CertificateService:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        store: Callable[[AsyncSession], CertificateStore],
        signer: Signer,
        holders: HolderDirectory,
        outbox: MessagingTables,
        policy: IssuingPolicy,
        render: Renderer,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._render = render
        self._sessions = sessions
        self._store = store
        self._signer = signer
        self._holders = holders
        self._outbox = outbox
        self._policy = policy
        self._clock = clock or (lambda: datetime.now(UTC))

    # -- issuance (consumer, inside the inbox transaction) -----------------------------------------------

    async def issue_for_approval(self, session: AsyncSession, envelope: Envelope) -> Row | None:
        """Exactly one certificate per approval: an advisory lock on the approval serialises concurrent
        consumers, the unique application id backs it, and the number is taken in the same transaction
        (a rollback gives it back, so numbers have no gaps). None when it was issued already."""
        event = review_v1.ApplicationApproved.model_validate(envelope.data)
        if not event.series_code or not event.level_code:
            raise PoisonMessageError("approval without series or level: cannot number a certificate")
        store = self._store(session)
        await store.lock_approval(event.application_id)
        if await store.by_application(event.application_id) is not None:
            return None
        holder = await self._holders.holder(event.applicant_id, purpose="certificate_issuance")
        now = self._clock()
        issue_date = event.issue_date or now.date()
        sequence = await store.next_sequence(issue_date.year, event.series_code)
        # 委托评审: the unit that issued the 委托评审函 issues the certificate, under its own name
        entrusted = event.issued_by == "entrusting_unit"
        authority = (event.issuer_name or "委托单位") if entrusted else self._policy.issuing_authority
        row = new_certificate(
            self._signer,
            now=now,
            holder_id=event.applicant_id,
            holder=holder,
            source="issued",
            certificate_no=certificate_number(self._policy.province_code, issue_date.year, event.series_code, sequence),
            application_id=event.application_id,
            series_code=event.series_code,
            level_code=event.level_code,
            qualification_code=event.qualification_code,
            qualification_name=event.qualification_name,
            specialty=event.specialty,
            committee_id=event.committee_id,
            committee_name=event.committee_name,
            evaluation_method=event.method,
            document_number=event.document_number,
            issue_date=issue_date,
            issuing_authority=authority,
            region_code=event.authority_region,
        )
        await store.insert(row)
        issued = certificates_v1.CertificateIssued(
            certificate_id=row["id"],
            certificate_no=row["certificate_no"],
            holder_id=row["holder_id"],
            application_id=event.application_id,
            issued_at=now,
        )
        await add_to_outbox(
            session,
            self._outbox,
            make_envelope(issued, source=SOURCE, subject_id=str(row["id"]), causation=envelope),
        )
        return row

    # -- 外省职称确认 (consumers) -------------------------------------------------------------------------------

    async def keep_confirmation_request(self, session: AsyncSession, envelope: Envelope) -> None:
        event = applications_v1.RecordSubmitted.model_validate(envelope.data)
        if event.kind != "out_of_province" or event.confirmed_title is None:
            return
        await self._store(session).keep_confirmation(
            {
                "record_id": event.record_id,
                "applicant_id": event.applicant_id,
                "title": event.confirmed_title.model_dump(mode="json"),
                "region_code": event.region_code,
                "received_at": self._clock(),
            }
        )

    async def record_confirmed_title(self, session: AsyncSession, envelope: Envelope) -> Row | None:
        """A passed 外省职称确认 is recorded under 我的证书 (source out_of_province), numbered in our scheme
        with the series code WS (外省), once per record."""
        event = review_v1.RecordDecided.model_validate(envelope.data)
        if event.kind != "out_of_province" or event.outcome != "approved":
            return None
        store = self._store(session)
        await store.lock_approval(event.record_id)
        if await store.by_confirmation(event.record_id) is not None:
            return None
        request = await store.confirmation(event.record_id)
        if request is None:  # the submission event has not arrived yet (another stream): try again later
            raise TransientError("外省职称确认的申请信息尚未到达")
        title = applications_v1.OutOfProvinceTitle.model_validate(request["title"])
        holder = await self._holders.holder(request["applicant_id"], purpose="out_of_province_confirmation")
        now = self._clock()
        sequence = await store.next_sequence(now.year, "WS")
        row = new_certificate(
            self._signer,
            now=now,
            holder_id=request["applicant_id"],
            holder=holder,
            source="out_of_province",
            certificate_no=certificate_number(self._policy.province_code, now.year, "WS", sequence),
            application_id=event.record_id,
            series_code="WS",
            level_code="GAOJI",
            qualification_code=title.proposed_title,
            qualification_name=title.proposed_title,
            specialty=title.proposed_specialty,
            committee_name=title.original_committee,
            issue_date=now.date(),
            issuing_authority=self._policy.issuing_authority,
            region_code=request.get("region_code"),
        )
        await store.insert(row)
        issued = certificates_v1.CertificateIssued(
            certificate_id=row["id"], certificate_no=row["certificate_no"], holder_id=row["holder_id"], issued_at=now
        )
        await add_to_outbox(
            session, self._outbox, make_envelope(issued, source=SOURCE, subject_id=str(row["id"]), causation=envelope)
        )
        return row

    # -- the holder ----------------------------------------------------------------------------------------

    async def mine(self, principal: Principal, *, page: int, size: int) -> dict[str, Any]:
        async with self._sessions() as s:
            rows, total = await self._store(s).of_holder(principal.subject, page=page, size=size)
        return {"items": [self.view(r) for r in rows], "total": total, "page": page, "size": size}

    async def get(self, principal: Principal, certificate_id: UUID) -> Row:
        """The holder's own certificate, or anyone's for the authority (audited); 404 for everyone else."""
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            row = await store.get(certificate_id)
            if row is None:
                raise NotFoundError("证书不存在")
            if row["holder_id"] != principal.subject:
                if not self.authority_over(principal, row):
                    raise NotFoundError("证书不存在")  # not 403: do not reveal that it exists
                await store.audit(f"user:{principal.subject}", "view", row["id"], {})
            return row

    def authority_over(self, principal: Principal, row: Row) -> bool:
        """An authority acts on the certificates of its region and the regions below it. Certificates without
        a region (verified historical ones, whose issuer may be anywhere, and rows from before regions were
        kept) belong to the province's authority."""
        region = row.get("region_code") or f"{self._policy.province_code}0000"
        return principal.has_role(Role.AUTHORITY, ScopeType.REGION, region)

    async def pdf(self, principal: Principal, certificate_id: UUID) -> tuple[str, bytes]:
        """电子职称证书: rendered on request from the stored (signed) data, so it always shows the status."""
        row = await self.get(principal, certificate_id)
        return f"certificate-{row['certificate_no']}.pdf", self._render(row, self.check_url(row))

    def check_url(self, row: Row) -> str:
        """The QR code's target: the portal's 证书查询 landing page (a page a phone shows), which reads the public
        check by the token."""
        return f"{self._policy.check_base_url.rstrip('/')}/certificate-check/{row['qr_token']}"

    def view(self, row: Row) -> dict[str, Any]:
        return {
            "id": str(row["id"]),
            "certificate_no": row["certificate_no"],
            "holder_name": row["holder_name"],
            "holder_id_masked": row["holder_id_masked"],
            "qualification_code": row["qualification_code"],
            "qualification_name": row["qualification_name"],
            "series_code": row["series_code"],
            "level_code": row["level_code"],
            "specialty": row["specialty"],
            "committee_name": row["committee_name"],
            "evaluation_method": METHODS.get(str(row["evaluation_method"]), row["evaluation_method"]),
            "document_number": row["document_number"],
            "issue_date": row["issue_date"].isoformat(),
            "issuing_authority": row["issuing_authority"],
            "source": row["source"],
            "source_name": SOURCES.get(row["source"], row["source"]),
            "status": row["status"],
            "status_name": "已撤销" if row["status"] == "revoked" else "有效",
            "revoke_reason": row["revoke_reason"],
            "check_url": self.check_url(row),
        }

    # -- revocation ----------------------------------------------------------------------------------------

    async def managed(
        self, principal: Principal, *, number: str | None, holder_name: str | None, page: int, size: int
    ) -> dict[str, Any]:
        """证书管理: the certificates the authority acts on (its regions'), newest first; the listing is audited."""
        regions = sorted(
            str(scope) for kind, scope in principal.scopes_for(Role.AUTHORITY) if kind == ScopeType.REGION and scope
        )
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            rows, total = await store.in_regions(
                regions,
                province=self._policy.province_code,
                number=number,
                holder_name=holder_name,
                page=page,
                size=size,
            )
            await store.audit(f"user:{principal.subject}", "list", None, {"regions": regions, "shown": len(rows)})
        return {"items": [self.view(r) for r in rows], "total": total, "page": page, "size": size}

    async def revoke(self, principal: Principal, certificate_id: UUID, reason: str) -> dict[str, Any]:
        now = self._clock()
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            row = await store.get(certificate_id, lock=True)
            if row is None or not self.authority_over(principal, row):
                raise NotFoundError("证书不存在")  # another region's: as if it did not exist
            if row["status"] == "revoked":
                raise StateError("证书已撤销")
            await store.revoke(certificate_id, by=principal.subject, reason=reason, now=now)
            await store.audit(f"user:{principal.subject}", "revoke", certificate_id, {"reason": reason})
            revoked = certificates_v1.CertificateRevoked(
                certificate_id=certificate_id,
                certificate_no=row["certificate_no"],
                holder_id=row["holder_id"],
                reason=reason,
                revoked_at=now,
            )
            await add_to_outbox(s, self._outbox, make_envelope(revoked, source=SOURCE, subject_id=str(certificate_id)))
            row.update(status="revoked", revoke_reason=reason, revoked_at=now)
        return self.view(row)

    # -- public check (证书查询) ----------------------------------------------------------------------------

    async def check_by_number(self, number: str, name: str, *, client: str) -> dict[str, Any]:
        """Valid / revoked / not found, masked. A wrong name answers exactly like an unknown number."""
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            await self._count(store, client)
            row = await store.by_number(number.strip().upper())
        if row is None or row["holder_name"] != name.strip():
            return {"result": "not_found", "result_name": "未查询到该证书"}
        return self._public(row)

    async def check_by_token(self, token: str, *, client: str) -> dict[str, Any]:
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            await self._count(store, client)
            row = await store.by_token(token)
        if row is None:
            return {"result": "not_found", "result_name": "未查询到该证书"}
        return self._public(row)

    async def _count(self, store: CertificateStore, client: str) -> None:
        now = self._clock()
        window = now.replace(second=0, microsecond=0)
        if await store.count_request(client, window) > self._policy.checks_per_minute:
            raise TooManyRequestsError("查询过于频繁，请一分钟后再试")
        if now.second == 0:  # once a minute, somebody sweeps the old windows
            await store.forget_requests_before(window - timedelta(minutes=5))

    def _public(self, row: Row) -> dict[str, Any]:
        intact = self.verify(row)
        revoked = row["status"] == "revoked"
        result = "tampered" if not intact else ("revoked" if revoked else "valid")
        names = {"valid": "证书有效", "revoked": "证书已撤销", "tampered": "证书数据校验失败，请联系发证单位"}
        return {
            "result": result,
            "result_name": names[result],
            "signature_valid": intact,
            "certificate_no": row["certificate_no"],
            "holder_name": mask_name(row["holder_name"]),
            "holder_id_masked": row["holder_id_masked"],
            "qualification_name": row["qualification_name"] or row["qualification_code"],
            "issue_date": row["issue_date"].isoformat(),
            "issuing_authority": row["issuing_authority"],
            "revoke_reason": row["revoke_reason"] if revoked else None,
        }

    def verify(self, row: Row) -> bool:
        return self._signer.verify(row["key_id"], canonical(signable(row)), row["signature"])


def new_certificate(
    signer: Signer, *, now: datetime, holder_id: str, holder: HolderInfo, source: str, **fields: Any
) -> Row:
    """A certificate row as every source makes it: the given fields, the holder as the identity bridge
    named them, a fresh QR token, valid, and signed over the printed fields (domain.certificate)."""
    row: Row = {
        "id": uuid.uuid4(),
        "holder_id": holder_id,
        "holder_name": holder.name,
        "holder_id_masked": holder.id_masked,
        **dict.fromkeys(("committee_id", "evaluation_method", "document_number"), None),
        **fields,
        "source": source,
        "status": "valid",
        "qr_token": secrets.token_urlsafe(32),
        "key_id": signer.key_id,
        "created_at": now,
    }
    row["signature"] = signer.sign(canonical(signable(row)))
    return row


def signable(row: Row) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items()}
