"""Use cases: 证书核验 — an applicant declares a historical certificate; the organising unit of the review
body named on it reviews it (the review service's certificate_verification); when it passes, the certificate
is listed under 我的证书 as verified, signed like the ones this system issues."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from typing import Any, Protocol
from uuid import UUID

from pydantic import BaseModel, Field, ValidationError, model_validator
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from certificates.domain.errors import (
    DirectoryUnavailableError,
    DomainError,
    FileRejectedError,
    FileTooLargeError,
    NotFoundError,
    SourceUnavailableError,
    StateError,
)
from certificates.usecases.certificates import SOURCE, CertificateStore, HolderDirectory, Signer, new_certificate
from zc_contracts import Envelope, certificates_v1, make_envelope, review_v1
from zc_db import MessagingTables
from zc_http import FORM
from zc_messaging import add_to_outbox
from zc_registries import ExternalRegistry
from zc_registries import SourceUnavailableError as RegistryDown
from zc_storage import AttachmentStorage, StoredFile, delete_after_commit, keep_upload

Row = dict[str, Any]
EDITABLE = ("draft", "returned")
# 上传相关附件材料: scans of the certificate and of its approval document (our limits; the manual gives none)
FILE_TYPES = {"image/jpeg", "image/png", "application/pdf"}
FILE_MAX_BYTES = 10 * 1024 * 1024
FILE_MAX_COUNT = 10
OTHER = "其他"
# 其他: a review body the directory does not list is verified by the provincial authority (decision 0021)
PROVINCE_AUTHORITY_REGION = "510000"


class CommitteeDirectory(Protocol):
    async def committee(self, committee_id: str) -> dict[str, Any] | None: ...


STATUS_NAMES = {
    "draft": "未提交",
    "submitted": "审核中",
    "approved": "核验通过",
    "returned": "已退回",
    "rejected": "未通过",
}


class HistoricalCertificate(BaseModel):
    """The certificate as the applicant declares it (manual §2.4: 其他 needs the real specialty)."""

    model_config = FORM

    certificate_no: str = Field(min_length=4, max_length=40, description="证书编号")
    qualification_name: str = Field(min_length=1, max_length=60, description="资格名称")
    series: str = Field(min_length=1, max_length=40, description="职称系列")
    level: str = Field(min_length=1, max_length=20, description="职称层级")
    specialty: str = Field(min_length=1, max_length=50, description="专业")
    specialty_other: str | None = Field(default=None, max_length=50, description="其他专业名称")
    committee_name: str = Field(min_length=1, max_length=100, description="评审组织")
    document_number: str = Field(min_length=1, max_length=50, description="批准文号")
    issue_date: date = Field(description="取得时间")
    issuing_authority: str = Field(min_length=1, max_length=100, description="发证单位")

    @model_validator(mode="after")
    def _other(self) -> HistoricalCertificate:
        if self.specialty == "其他" and not self.specialty_other:
            raise ValueError("专业选择“其他”时，请填写实际的专业名称")
        return self


class VerificationError(DomainError):
    code = "certificates.invalid_verification"
    status_hint = 422


def _with_committee(content: dict[str, Any], committee: dict[str, Any] | None) -> dict[str, Any]:
    """评审组织 is the committee chosen (not retyped); 专业 is one it reviews, or 其他 with the real name."""
    if not committee:
        return content
    content = {**content, "committee_name": committee["name"]}
    specialties = committee.get("specialties") or []
    specialty = content.get("specialty")
    if specialties and specialty not in (None, OTHER, *specialties):
        raise VerificationError("请选择该评委会评审的专业；没有的请选择“其他”并填写实际的专业名称", field="specialty")
    return content


def _check(content: dict[str, Any], *, partial: bool) -> None:
    try:
        HistoricalCertificate.model_validate(content)
    except ValidationError as exc:
        errors = [e for e in exc.errors() if not (partial and e["type"] == "missing")]
        if errors:
            first = errors[0]
            field = ".".join(str(p) for p in first["loc"]) or "content"
            reason = str(first.get("ctx", {}).get("error") or first["msg"]).removeprefix("Value error, ")
            raise VerificationError(f"{field}：{reason}", field=field) from exc


class VerificationService:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        store: Callable[[AsyncSession], CertificateStore],
        signer: Signer,
        holders: HolderDirectory,
        outbox: MessagingTables,
        registry: ExternalRegistry,
        storage: AttachmentStorage,
        committees: CommitteeDirectory | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._committees = committees
        self._registry = registry
        self._storage = storage
        self._sessions = sessions
        self._store = store
        self._signer = signer
        self._holders = holders
        self._outbox = outbox
        self._clock = clock or (lambda: datetime.now(UTC))

    async def create(self, applicant: str, committee_id: UUID | None, other_committee: str | None) -> dict[str, Any]:
        """The committee comes from the directory (its organising unit verifies); 其他 names a review body the
        directory lacks, verified by the provincial authority. An id the directory does not know is refused:
        such a request would reach nobody."""
        now = self._clock()
        if committee_id is not None:
            if self._committees is None:
                raise DirectoryUnavailableError("评委会名录暂时无法查询，请稍后再试")
            found = await self._committees.committee(str(committee_id))
            if found is None:
                raise VerificationError(
                    "评委会名录中没有该评委会，请从名录中选择，或选择“其他”并填写评审组织名称", field="committee_id"
                )
            committee: dict[str, Any] = {
                "name": found["name"],
                "series_name": found.get("series_name"),
                "specialties": list(found.get("specialties") or []),
            }
            authority_region = None
        else:
            committee = {"name": other_committee, "other": True, "specialties": []}
            authority_region = PROVINCE_AUTHORITY_REGION
        row = {
            "id": uuid.uuid4(),
            "applicant_id": applicant,
            "committee_id": committee_id,
            "committee": committee,
            "authority_region": authority_region,
            "status": "draft",
            "content": {},
            "version": 0,
            "created_at": now,
            "updated_at": now,
        }
        async with self._sessions() as s, s.begin():
            await self._store(s).insert_verification(row)
        return view(row)

    async def mine(self, applicant: str, *, page: int, size: int) -> dict[str, Any]:
        async with self._sessions() as s:
            rows, total = await self._store(s).verifications_of(applicant, page=page, size=size)
        return {"items": [view(r) for r in rows], "total": total, "page": page, "size": size}

    async def save(
        self, applicant: str, verification_id: UUID, content: dict[str, Any], expected: int
    ) -> dict[str, Any]:
        """暂存: partial content is fine, but what is there must be valid; the version guards lost updates. The
        评审组织 is the one chosen at 新增; the 专业 one the committee reviews (from the catalog) or 其他."""
        _check(content, partial=True)
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            row = await self._own(store, applicant, verification_id)
            content = _with_committee(content, row.get("committee"))
            if row["status"] not in EDITABLE:
                raise StateError("审核中或已办结的核验不能修改")
            if row["version"] != expected:
                raise StateError("内容已在别处修改，请刷新后再保存", field="If-Match")
            values = {"content": content, "version": expected + 1, "updated_at": self._clock()}
            await store.update_verification(verification_id, values)
            row.update(values)
        return view(row)

    async def get(self, applicant: str, verification_id: UUID) -> dict[str, Any]:
        async with self._sessions() as s:
            store = self._store(s)
            row = await self._own(store, applicant, verification_id, lock=False)
            files = await store.verification_files_of(verification_id)
        return detail(row, files)

    async def sync_social_insurance(self, applicant: str, verification_id: UUID) -> dict[str, Any]:
        """同步社保数据: fetched from the source for this person and kept with its source and time; a source
        that is down is a 503 and the record stays as it was."""
        async with self._sessions() as s:
            row = await self._own(self._store(s), applicant, verification_id, lock=False)
        if row["status"] not in EDITABLE:
            raise StateError("审核中或已办结的核验不能修改")
        try:
            records = await self._registry.social_insurance(applicant)
        except RegistryDown:
            raise SourceUnavailableError("社保参保信息暂时无法获取，请稍后再试（已填写的内容不受影响）") from None
        synced = {"records": records, "source": self._registry.name, "fetched_at": self._clock().isoformat()}
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            row = await self._own(store, applicant, verification_id, lock=True)
            if row["status"] not in EDITABLE:
                raise StateError("审核中或已办结的核验不能修改")
            await store.update_verification(verification_id, {"social_insurance": synced, "updated_at": self._clock()})
        return synced

    async def upload(
        self, applicant: str, verification_id: UUID, *, filename: str, stream: AsyncIterator[bytes]
    ) -> dict[str, Any]:
        async with self._sessions() as s:
            store = self._store(s)
            row = await self._own(store, applicant, verification_id, lock=False)
            if row["status"] not in EDITABLE:
                raise StateError("审核中或已办结的核验不能修改")
            if len(await store.verification_files_of(verification_id)) >= FILE_MAX_COUNT:
                raise FileRejectedError(f"附件最多上传{FILE_MAX_COUNT}个", field="file")

        def check(content_type: str | None) -> None:
            if content_type not in FILE_TYPES:
                raise FileRejectedError("附件须为图片（JPG、PNG）或 PDF 文件（按文件内容判断）", field="file")

        async def record(stored: StoredFile) -> dict[str, Any]:
            file = {
                "id": uuid.uuid4(),
                "verification_id": verification_id,
                "filename": filename[:200] or "未命名",
                "content_type": stored.content_type,
                "size": stored.size,
                "sha256": stored.sha256,
                "storage_key": stored.key,
                "created_at": self._clock(),
            }
            async with self._sessions() as s, s.begin():
                store = self._store(s)
                row = await self._own(store, applicant, verification_id, lock=True)
                if row["status"] not in EDITABLE:
                    raise StateError("审核中或已办结的核验不能修改")
                await store.add_verification_file(file)
            return file_view(file)

        return await keep_upload(
            self._storage,
            stream,
            max_bytes=FILE_MAX_BYTES,
            too_large=lambda: FileTooLargeError("单个附件不能超过 10M", field="file"),
            check=check,
            record=record,
        )

    async def download(self, applicant: str, verification_id: UUID, file_id: UUID) -> tuple[dict[str, Any], Any]:
        async with self._sessions() as s:
            store = self._store(s)
            await self._own(store, applicant, verification_id, lock=False)
            file = _find(await store.verification_files_of(verification_id), file_id)
        return file_view(file), self._storage.read(file["storage_key"])

    async def remove_file(self, applicant: str, verification_id: UUID, file_id: UUID) -> None:
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            row = await self._own(store, applicant, verification_id, lock=True)
            if row["status"] not in EDITABLE:
                raise StateError("审核中或已办结的核验不能修改")
            file = _find(await store.verification_files_of(verification_id), file_id)
            await store.delete_verification_file(file_id, now=self._clock())
        await delete_after_commit(self._storage, [file["storage_key"]])

    # the organising unit of the named committee reviews it (certificate_verification's lane)

    async def reviewer_view(
        self, *, reviewer: str, may: Callable[[Row], bool], verification_id: UUID
    ) -> dict[str, Any]:
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            row = await self._readable(store, may, verification_id)
            files = await store.verification_files_of(verification_id)
            await store.audit(f"user:{reviewer}", "verification_read", None, {"verification_id": str(verification_id)})
        return {**detail(row, files), "applicant_id": row["applicant_id"]}

    async def reviewer_download(
        self, *, reviewer: str, may: Callable[[Row], bool], verification_id: UUID, file_id: UUID
    ) -> tuple[dict[str, Any], Any]:
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            await self._readable(store, may, verification_id)
            file = _find(await store.verification_files_of(verification_id), file_id)
            details = {"verification_id": str(verification_id), "file_id": str(file_id)}
            await store.audit(f"user:{reviewer}", "verification_file_read", None, details)
        return file_view(file), self._storage.read(file["storage_key"])

    async def _readable(self, store: CertificateStore, may: Callable[[Row], bool], verification_id: UUID) -> Row:
        row = await store.verification(verification_id)
        if row is None or row["submitted_at"] is None or not may(dict(row)):
            raise NotFoundError("核验记录不存在")
        return dict(row)

    async def submit(self, applicant: str, verification_id: UUID) -> dict[str, Any]:
        now = self._clock()
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            row = await self._own(store, applicant, verification_id)
            if row["status"] not in EDITABLE:
                raise StateError("该核验已提交")
            _check(row["content"], partial=False)
            if not row.get("social_insurance"):
                raise VerificationError("请先同步社保数据", field="social_insurance")
            if not await store.verification_files_of(verification_id):
                raise VerificationError("请上传相关附件材料（证书及批准文件的扫描件）", field="attachments")
            values = {"status": "submitted", "status_reason": None, "submitted_at": now, "updated_at": now}
            await store.update_verification(verification_id, values)
            row.update(values)
            asked = certificates_v1.VerificationRequested(
                record_id=verification_id,
                applicant_id=applicant,
                committee_id=row["committee_id"],
                authority_region=row.get("authority_region"),
                submitted_at=now,
            )
            await add_to_outbox(s, self._outbox, make_envelope(asked, source=SOURCE, subject_id=str(verification_id)))
        return view(row)

    async def _own(self, store: CertificateStore, applicant: str, verification_id: UUID, *, lock: bool = True) -> Row:
        row = await store.verification(verification_id, lock=lock)
        if row is None or row["applicant_id"] != applicant:
            raise NotFoundError("核验记录不存在")
        return dict(row)

    # consumer: the review's answer (inside the inbox transaction)

    async def apply_decision(self, session: AsyncSession, envelope: Envelope) -> None:
        event = review_v1.RecordDecided.model_validate(envelope.data)
        if event.kind != "certificate_verification":
            return
        store: CertificateStore = self._store(session)
        row = await store.verification(event.record_id, lock=True)
        if row is None or row["status"] != "submitted":
            return  # not ours, or already applied
        now = self._clock()
        await store.update_verification(
            event.record_id, {"status": event.outcome, "status_reason": event.reason, "updated_at": now}
        )
        if event.outcome != "approved" or await store.by_verification(event.record_id) is not None:
            return
        content = HistoricalCertificate.model_validate(row["content"])
        holder = await self._holders.holder(row["applicant_id"], purpose="certificate_verification")
        cert = new_certificate(
            self._signer,
            now=now,
            holder_id=row["applicant_id"],
            holder=holder,
            source="verified",
            certificate_no=content.certificate_no,  # the historical number, as printed on it
            verification_id=event.record_id,
            series_code=content.series,
            level_code=content.level,
            qualification_code=content.qualification_name,
            qualification_name=content.qualification_name,
            specialty=content.specialty_other if content.specialty == "其他" else content.specialty,
            committee_id=row["committee_id"],
            committee_name=content.committee_name,
            document_number=content.document_number,
            issue_date=content.issue_date,
            issuing_authority=content.issuing_authority,
        )
        await store.insert(cert)
        verified = certificates_v1.CertificateVerified(
            certificate_id=cert["id"],
            certificate_no=cert["certificate_no"],
            holder_id=cert["holder_id"],
            verification_id=event.record_id,
            verified_at=now,
        )
        await add_to_outbox(
            session,
            self._outbox,
            make_envelope(verified, source=SOURCE, subject_id=str(cert["id"]), causation=envelope),
        )


def view(row: Row) -> dict[str, Any]:
    committee = row.get("committee") or {}
    return {
        "id": str(row["id"]),
        "committee_id": str(row["committee_id"]) if row["committee_id"] else None,
        "committee_name": committee.get("name"),
        "committee_specialties": committee.get("specialties") or [],
        "status": row["status"],
        "status_name": STATUS_NAMES[row["status"]],
        "status_reason": row.get("status_reason"),
        "content": row["content"],
        "version": row["version"],
        "submitted_at": row["submitted_at"].isoformat() if row.get("submitted_at") else None,
    }


def detail(row: Row, files: list[Row]) -> dict[str, Any]:
    return {**view(row), "social_insurance": row.get("social_insurance"), "attachments": [file_view(f) for f in files]}


def file_view(f: Row) -> dict[str, Any]:
    return {
        "id": str(f["id"]),
        "filename": f["filename"],
        "content_type": f["content_type"],
        "size": f["size"],
        "sha256": f["sha256"],
    }


def _find(files: list[Row], file_id: UUID) -> Row:
    found = next((f for f in files if f["id"] == file_id), None)
    if found is None:
        raise NotFoundError("附件不存在")
    return found
