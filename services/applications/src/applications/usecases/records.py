"""Use cases: 外省职称确认 (§2.7) and 专技人才统计 (§2.6) — fill in (填写信息), submit to the unit (提交审核),
and the review's answer."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from applications.domain.application import (
    ApplicationError,
    ApplicationNotFoundError,
    ApplicationStateError,
    StaleSectionError,
    reviewer_may_read_record,
)
from applications.domain.files import (
    PHOTO_MAX_BYTES,
    FileRejectedError,
    FileTooLargeError,
    check_material,
    check_photo,
)
from applications.usecases.ports import (
    ApplicationStore,
    AttachmentStorage,
    MessageStore,
    PersonResolver,
    ReferenceStore,
)
from applications.usecases.registered import RegisteredIdentities
from applications.usecases.uploads import file_row, file_view
from zc_contracts import Envelope, applications_v1, make_envelope, parse_payload, review_v1
from zc_db import MessagingTables
from zc_messaging import add_to_outbox
from zc_storage import delete_after_commit, keep_upload

RECORD_STATUS = {
    "draft": "未提交",
    "submitted": "审核中",
    "approved": "审核通过",
    "returned": "已退回",
    "rejected": "未通过",
}
KIND_NAMES = {"out_of_province": "外省职称确认", "talent_stats": "专技人才统计"}


@dataclass(frozen=True)
class FileRule:
    name: str
    accepts: str  # image | pdf | any (domain.files.ACCEPTED); "photo" means JPG/JPEG only
    max_bytes: int
    max_count: int
    required: bool


# 外省职称确认 (Fig. 2.7.1): the 1-inch photo, and the proofs of the original title (certificate, approval
# document) — our reading: the unit cannot confirm a title it has not seen (docs/decisions/0015)
RECORD_FILES: dict[str, dict[str, FileRule]] = {
    "out_of_province": {
        "photo": FileRule("1寸白底免冠标准证件照", "photo", PHOTO_MAX_BYTES, 1, True),
        "proof": FileRule("原高级职称证书及评审批准文件", "any", 10 * 1024 * 1024, 10, True),
    },
    "talent_stats": {},
}


class RecordService:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        store: Callable[[AsyncSession], ApplicationStore],
        reference_store: Callable[[AsyncSession], ReferenceStore],
        outbox: MessagingTables,
        storage: AttachmentStorage,
        people: PersonResolver | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._identities = RegisteredIdentities(people)  # 证件类型, 证件号码 (masked), 姓名 as registered
        self._storage = storage
        self._sessions = sessions
        self._store = store
        self._refs = reference_store
        self._outbox = outbox
        self._clock = clock

    @staticmethod
    def _view(row: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": str(row["id"]),
            "kind": row["kind"],
            "kind_name": KIND_NAMES[row["kind"]],
            "unit_id": str(row["unit_id"]),
            "status": row["status"],
            "status_name": RECORD_STATUS.get(row["status"], row["status"]),
            "status_reason": row["status_reason"],
            "content": row["content"],
            "version": row["version"],
            "submitted_at": row["submitted_at"].isoformat() if row["submitted_at"] else None,
            "applicant_identity": row.get("applicant_identity"),
        }

    async def _own(
        self, store: ApplicationStore, applicant: str, kind: str, rec_id: str, *, lock: bool = False
    ) -> dict[str, Any]:
        row = await store.record(rec_id, lock=lock)
        if row is None or row["applicant_id"] != applicant or row["kind"] != kind:
            raise ApplicationNotFoundError("记录不存在")
        return row

    async def create(self, applicant: str, kind: str, unit_id: str) -> dict[str, Any]:
        identity = await self._identities.of(applicant, purpose=f"{KIND_NAMES[kind]}登记身份信息", required=False)
        async with self._sessions() as s, s.begin():
            if await self._refs(s).unit(unit_id) is None:
                raise ApplicationError("所选工作单位未在系统中注册，请联系本单位职称业务管理部门注册", field="unit_id")
            store = self._store(s)
            rec_id = await store.add_record(
                {
                    "applicant_id": applicant,
                    "kind": kind,
                    "unit_id": unit_id,
                    "status": "draft",
                    "content": {},
                    "version": 0,
                    "applicant_identity": identity,
                }
            )
            row = await store.record(rec_id)
        assert row is not None
        return self._view(row)

    async def mine(self, applicant: str, kind: str, *, page: int, size: int) -> dict[str, Any]:
        async with self._sessions() as s:
            rows, total = await self._store(s).records_of(applicant, kind, page=page, size=size)
        return {"items": [self._view(r) for r in rows], "total": total, "page": page, "size": size}

    async def get(self, applicant: str, kind: str, rec_id: str) -> dict[str, Any]:
        async with self._sessions() as s:
            store = self._store(s)
            row = await self._own(store, applicant, kind, rec_id)
            files = await store.attachments_of(rec_id, owner="record")
        return {**self._view(row), "attachments": [file_view(f) for f in files]}

    # --- reviewers ------------------------------------------------------------------------------------
    async def _readable(self, s: AsyncSession, rec_id: str, may: Callable[[str, str, str], bool]) -> dict[str, Any]:
        row = await self._store(s).record(rec_id)
        unit = await self._refs(s).unit(str(row["unit_id"])) if row else None
        if (
            row is None
            or row["submitted_at"] is None
            or not reviewer_may_read_record(
                row["kind"],
                unit_id=str(row["unit_id"]),
                department_ids=[str(d["id"]) for d in unit.department_chain] if unit else [],
                region_code=unit.region_code if unit else None,
                may=may,
            )
        ):
            raise ApplicationNotFoundError("记录不存在")
        return row

    async def reviewer_view(
        self, *, reviewer: str, may: Callable[[str, str, str], bool], rec_id: str
    ) -> dict[str, Any]:
        """What the unit (and, for 外省职称确认, the department and the authority) sees once it is submitted;
        anyone else gets 404. Every read is recorded."""
        async with self._sessions() as s, s.begin():
            row = await self._readable(s, rec_id, may)
            store = self._store(s)
            files = await store.attachments_of(rec_id, owner="record")
            await store.log_access(actor=reviewer, app_id=rec_id, fields=[f"record:{row['kind']}"])
        return {**self._view(row), "applicant_id": row["applicant_id"], "attachments": [file_view(f) for f in files]}

    async def reviewer_download(
        self, *, reviewer: str, may: Callable[[str, str, str], bool], rec_id: str, att_id: str
    ) -> tuple[dict[str, Any], Any]:
        async with self._sessions() as s, s.begin():
            await self._readable(s, rec_id, may)
            store = self._store(s)
            att = await store.attachment(rec_id, att_id, owner="record")
            if att is None:
                raise ApplicationNotFoundError("附件不存在")
            await store.log_access(actor=reviewer, app_id=rec_id, fields=[f"attachment:{att_id}"])
        return file_view(att), self._storage.read(att["storage_key"])

    # --- the photo and the proofs ------------------------------------------------------------------------
    async def upload(
        self, applicant: str, kind: str, rec_id: str, *, file_kind: str, filename: str, stream: AsyncIterator[bytes]
    ) -> dict[str, Any]:
        rule = RECORD_FILES[kind].get(file_kind)
        if rule is None:
            raise FileRejectedError("该类记录不需要此附件", field="kind")
        async with self._sessions() as s:
            store = self._store(s)
            row = await self._own(store, applicant, kind, rec_id)
            _check_editable(row)
            existing = [f for f in await store.attachments_of(rec_id, owner="record") if f["kind"] == file_kind]
        if rule.max_count > 1 and len(existing) >= rule.max_count:
            raise FileRejectedError(f"“{rule.name}”最多上传{rule.max_count}个文件", field="file")
        size_name = f"{rule.max_bytes // 1024}KB" if rule.max_bytes < 1024 * 1024 else f"{rule.max_bytes >> 20}M"

        def check(content_type: str | None) -> None:
            if rule.accepts == "photo":
                check_photo(content_type)
            else:
                check_material(content_type, rule.accepts, rule.name)

        async def record(stored: Any) -> dict[str, Any]:
            replaced: list[str] = []
            async with self._sessions() as s, s.begin():
                store = self._store(s)
                row = await self._own(store, applicant, kind, rec_id, lock=True)
                _check_editable(row)
                if rule.max_count == 1:  # a single file (the photo): a new one replaces the old
                    for old in existing:
                        await store.delete_attachment(str(old["id"]), now=self._clock())
                        replaced.append(old["storage_key"])
                att_id = await store.add_attachment(
                    {"record_id": row["id"], **file_row(stored, kind=file_kind, filename=filename)}
                )
                saved = await store.attachment(rec_id, att_id, owner="record")
            await delete_after_commit(self._storage, replaced)
            assert saved is not None
            return file_view(saved)

        return await keep_upload(
            self._storage,
            stream,
            max_bytes=rule.max_bytes,
            too_large=lambda: FileTooLargeError(f"“{rule.name}”不能超过 {size_name}", field="file"),
            check=check,
            record=record,
        )

    async def download(self, applicant: str, kind: str, rec_id: str, att_id: str) -> tuple[dict[str, Any], Any]:
        async with self._sessions() as s:
            store = self._store(s)
            await self._own(store, applicant, kind, rec_id)
            att = await store.attachment(rec_id, att_id, owner="record")
        if att is None:
            raise ApplicationNotFoundError("附件不存在")
        return file_view(att), self._storage.read(att["storage_key"])

    async def remove_file(self, applicant: str, kind: str, rec_id: str, att_id: str) -> None:
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            row = await self._own(store, applicant, kind, rec_id, lock=True)
            _check_editable(row)
            att = await store.attachment(rec_id, att_id, owner="record")
            if att is None:
                raise ApplicationNotFoundError("附件不存在")
            await store.delete_attachment(att_id, now=self._clock())
        await delete_after_commit(self._storage, [att["storage_key"]])  # a draft's file: nobody else saw it

    async def save(
        self, applicant: str, kind: str, rec_id: str, content: dict[str, Any], *, expected_version: int
    ) -> dict[str, Any]:
        """填写信息: may be partial; a save based on an older version is refused (409)."""
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            row = await self._own(store, applicant, kind, rec_id, lock=True)
            if row["status"] not in ("draft", "returned"):
                raise ApplicationStateError("已提交审核，不能修改")
            if row["version"] != expected_version:
                raise StaleSectionError("该信息已被修改（可能在其他窗口），请刷新后再保存")
            await store.update_record(rec_id, {"content": content, "version": row["version"] + 1})
            row = await store.record(rec_id)
        assert row is not None
        return self._view(row)

    async def submit(
        self, applicant: str, kind: str, rec_id: str, complete: Callable[[dict[str, Any]], None]
    ) -> dict[str, Any]:
        """提交审核: `complete` raises when a required field is missing; the unit reviews it via the review."""
        now = self._clock()
        async with self._sessions() as s:  # the reviewer must see whom the record is about
            known = (await self._own(self._store(s), applicant, kind, rec_id))["applicant_identity"]
        identity = known or await self._identities.of(
            applicant, purpose=f"{KIND_NAMES[kind]}登记身份信息", required=True
        )
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            row = await self._own(store, applicant, kind, rec_id, lock=True)
            if row["status"] not in ("draft", "returned"):
                raise ApplicationStateError("已提交审核，请等待审核结果")
            complete(row["content"])
            files = await store.attachments_of(rec_id, owner="record")
            for file_kind, rule in RECORD_FILES[kind].items():
                if rule.required and not any(f["kind"] == file_kind for f in files):
                    raise ApplicationError(f"请上传“{rule.name}”", field=file_kind)
            unit = await self._refs(s).unit(str(row["unit_id"]))
            await store.update_record(
                rec_id,
                {"status": "submitted", "status_reason": None, "submitted_at": now, "applicant_identity": identity},
            )
            await add_to_outbox(
                s,
                self._outbox,
                make_envelope(
                    applications_v1.RecordSubmitted(
                        record_id=row["id"],
                        kind=kind,
                        applicant_id=applicant,
                        unit_id=row["unit_id"],
                        department_ids=[d["id"] for d in unit.department_chain] if unit else [],
                        submitted_at=now,
                        confirmed_title=confirmed_title(kind, row["content"]),
                        region_code=unit.region_code if unit else None,
                    ),
                    source="applications",
                    subject_id=rec_id,
                ),
            )
            row = await store.record(rec_id)
        assert row is not None
        return self._view(row)


def _check_editable(row: dict[str, Any]) -> None:
    if row["status"] not in ("draft", "returned"):
        raise ApplicationStateError("已提交审核，不能修改附件")


async def apply_record_outcome(envelope: Envelope, *, records: ApplicationStore, messages: MessageStore) -> None:
    """Consumer: the review's answer on a record (runs in the inbox transaction)."""
    payload = parse_payload(envelope)
    if not isinstance(payload, review_v1.RecordDecided):
        return
    row = await records.record(str(payload.record_id), lock=True)
    if row is None or row["status"] != "submitted":
        return
    await records.update_record(str(payload.record_id), {"status": payload.outcome, "status_reason": payload.reason})
    verdict = RECORD_STATUS[payload.outcome]
    await messages.add(
        {
            "recipient": row["applicant_id"],
            "kind": "system",
            "sender_name": "职称评审系统",
            "title": f"{KIND_NAMES[row['kind']]}{verdict}",
            "body": f"您提交的{KIND_NAMES[row['kind']]}{verdict}。"
            + (f"原因：{payload.reason}" if payload.reason else ""),
            "event_id": envelope.id,
        }
    )


def confirmed_title(kind: str, content: dict[str, Any]) -> applications_v1.OutOfProvinceTitle | None:
    """The title a 外省职称确认 asks to confirm, for the certificate recorded when it passes."""
    if kind != "out_of_province":
        return None
    fields = applications_v1.OutOfProvinceTitle.model_fields
    return applications_v1.OutOfProvinceTitle.model_validate({k: content[k] for k in fields})
