"""Use cases: an applicant's applications — create from checked settings, fill sections, submit (frozen
snapshot + event), abandon, 我的申报."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from applications.domain.achievements import check_form
from applications.domain.application import (
    ABANDONED,
    DRAFT,
    EDITABLE,
    PROFILE_SECTIONS,
    RETURNED,
    SECTION_NAMES,
    STAGE_NAMES,
    STATUS_NAMES,
    SUBMITTED,
    ApplicationError,
    ApplicationNotFoundError,
    ApplicationStateError,
    ExternalSourceError,
    Requirements,
    StaleSectionError,
    allowed_sections,
    check_editable,
    check_locked_work_history,
    education_and_years,
    missing_for_submission,
    reviewer_may_read,
)
from applications.domain.committees import local_today
from applications.domain.entry_files import (
    ENTRY_FILE_MAX_COUNT,
    ENTRY_FILE_MAX_MB,
    check_target,
    entry_label,
    file_targets,
    may_carry_files,
    with_entry_ids,
)
from applications.domain.errors import DomainError
from applications.domain.files import (
    PHOTO_MAX_BYTES,
    FileRejectedError,
    FileTooLargeError,
    check_material,
    check_photo,
)
from applications.domain.identity import lock_basic_info, reviewed_identity
from applications.domain.settings import INITIAL
from applications.usecases.personal_data import PhoneFields
from applications.usecases.ports import (
    ApplicationStore,
    AttachmentStorage,
    ExternalRegistry,
    PersonResolver,
    PiiProtector,
    ReferenceStore,
    SourceUnavailableError,
)
from applications.usecases.reference import ReferenceService, SettingsChoice
from applications.usecases.registered import RegisteredIdentities
from applications.usecases.uploads import file_row, file_view
from zc_contracts import applications_v1, make_envelope
from zc_db import MessagingTables
from zc_messaging import add_to_outbox
from zc_storage import StoredFile, delete_after_commit, keep_upload

NOT_FOUND = "申报不存在"


# 委托评审 (and 中央在川单位委托评审): the letter the competent department issued (manual §2.2.1.1.1)
ENTRUSTMENT_LETTER = {"name": "委托评审函", "type": "any", "max_size_mb": 10, "max_count": 1}
SINGLE_FILE_KINDS = ("photo", "entrustment_letter")
ENTRY_FILE = "entry"
# the methods whose certificate the department that wrote the 委托评审函 issues (manual §2.2.1 overview)
ENTRUSTED_METHODS = ("WEITUO", "ZHONGYANG_ZAICHUAN")  # a file of one entry of a section (学历证, 论文, …)


class ApplicationService:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        store: Callable[[AsyncSession], ApplicationStore],
        reference_store: Callable[[AsyncSession], ReferenceStore],
        reference: ReferenceService,
        outbox: MessagingTables,
        storage: AttachmentStorage,
        cipher: PiiProtector,
        registry: ExternalRegistry,
        people: PersonResolver | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = sessions
        self._store = store
        self._reference_store = reference_store
        self._reference = reference
        self._outbox = outbox
        self._storage = storage
        self._pii = PhoneFields(cipher)
        self._registry = registry
        self._identities = RegisteredIdentities(people)  # who the applicant is, from the identity bridge
        self._clock = clock

    async def create(self, applicant: str, choice: SettingsChoice) -> dict[str, Any]:
        checked = await self._reference.check_settings(choice)
        settings = {
            "unit_id": choice.unit_id,
            "unit_name": checked["unit"]["name"],
            "method": choice.method,
            "method_name": checked["method_name"],
            "series": choice.series,
            "level": choice.level,
            "specialty": choice.specialty,
            "qualification": choice.qualification,
            "qualification_name": checked["qualification"]["name"],
            "series_name": checked["series_name"],
            "level_name": checked["level_name"],
            "specialty_name": checked["specialty_name"],
            "category": choice.category,
            "catalog_version": checked["catalog_version"],
            "exam_record_required": checked["exam_record_required"],
            "special_section": checked["special_section"],
            "committee_id": choice.committee_id,
            "committee_name": (checked.get("committee") or {}).get("name"),
            "entrustment_letter_required": checked["entrustment_letter_required"],
        }
        initial = choice.method == INITIAL
        identity = await self._registered(applicant, required=False)  # asked again at submit if unavailable now
        async with self._sessions() as s, s.begin():
            profile = await self._store(s).profile(applicant)  # 个人信息 is copied in
            copied = {
                k: with_entry_ids(k, v)
                for k, v in profile["sections"].items()
                if k in allowed_sections(initial, checked["special_section"])
            }
            app_id = await self._store(s).insert(
                {
                    "applicant_id": applicant,
                    "year": choice.year,
                    "method": choice.method,
                    "unit_id": choice.unit_id,
                    "committee_id": choice.committee_id,
                    "activity_id": checked.get("activity_id"),
                    "settings": settings,
                    "status": DRAFT,
                    "sections": copied,
                    "section_versions": dict.fromkeys(copied, 1),
                    "applicant_identity": identity,
                }
            )
        if app_id is None:
            raise ApplicationStateError(
                f"您已有{choice.year}年度“{settings['qualification_name']}”的申报，请在我的申报中继续申报"
            )
        return await self.get(applicant, app_id)

    async def _registered(self, applicant: str, *, required: bool) -> dict[str, Any] | None:
        return await self._identities.of(applicant, purpose="申报表登记身份信息", required=required)

    async def _own(self, store: ApplicationStore, applicant: str, app_id: str, *, lock: bool = False) -> dict[str, Any]:
        row = await store.get(app_id, lock=lock)
        if row is None or row["applicant_id"] != applicant:  # someone else's application does not exist for you
            raise ApplicationNotFoundError(NOT_FOUND)
        return row

    async def get(self, applicant: str, app_id: str, *, reveal: bool = False) -> dict[str, Any]:
        """Phone numbers come masked; `reveal` shows them in clear and is recorded."""
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            row = await self._own(store, applicant, app_id)
            if reveal:
                await store.log_access(actor=applicant, app_id=app_id, fields=list(self._pii.FIELDS))
        if row["applicant_identity"] is None and row["status"] in EDITABLE:  # not known at creation: ask again
            identity = await self._registered(applicant, required=False)
            if identity is not None:
                async with self._sessions() as s, s.begin():
                    await self._store(s).update(app_id, {"applicant_identity": identity}, now=self._clock())
                row = {**row, "applicant_identity": identity}
        view = self._view(row, full=True)
        view["sections"] = self._pii.show(view["sections"], reveal=reveal)
        return view

    async def mine(self, applicant: str, *, page: int, size: int) -> dict[str, Any]:
        async with self._sessions() as s:
            rows, total = await self._store(s).page_for(applicant, page=page, size=size)
        return {"items": [self._view(r, full=False) for r in rows], "total": total, "page": page, "size": size}

    @staticmethod
    def _view(row: dict[str, Any], *, full: bool) -> dict[str, Any]:
        settings = row["settings"]
        view: dict[str, Any] = {
            "id": str(row["id"]),
            "year": row["year"],
            "status": row["status"],
            "status_name": _status_name(row),
            "status_reason": row["status_reason"],
            "settings": settings,
            # the card of 我的申报 (Fig. 2.2.55): "2023年度 - 农业技术人员", the series' name
            "title": f"{row['year']}年度 - {settings.get('series_name') or settings['qualification_name']}",
            "snapshot_version": row["snapshot_version"],
            "submitted_at": row["submitted_at"].isoformat() if row["submitted_at"] else None,
            "withdraw_requested": row["withdraw_requested_at"] is not None,
            "trail": row.get("trail") or [],
            "stage": (row.get("stages_reached") or [{}])[-1].get("stage") if row["status"] == SUBMITTED else None,
            "applicant_identity": row.get("applicant_identity"),
        }
        if full:
            view["sections"] = row["sections"]
            view["section_versions"] = row["section_versions"]
            view["section_list"] = [
                {"name": n, "title": SECTION_NAMES[n]}
                for n in allowed_sections(row["method"] == INITIAL, row["settings"].get("special_section"))
            ]
        return view

    async def save_section(
        self, applicant: str, app_id: str, name: str, content: Any, *, expected_version: int
    ) -> tuple[int, Any]:
        """暂存 one section: (its new version, the content as saved — entries that carry files have ids). A save
        based on an older version of the section is refused (409), not merged. The files of entries the save
        removed go with them (the bytes stay while a submitted snapshot shows them)."""
        saved = await self.save_sections(applicant, app_id, {name: (expected_version, content)}, prefix_fields=False)
        return saved[name]

    async def save_sections(
        self, applicant: str, app_id: str, changes: dict[str, tuple[int, Any]], *, prefix_fields: bool = True
    ) -> dict[str, tuple[int, Any]]:
        """暂存 of the whole form: every changed section with the version it was based on, checked and saved in one
        transaction — all or nothing, so a stale or invalid section leaves every other one as it was."""
        prepared = {name: (expected, with_entry_ids(name, content)) for name, (expected, content) in changes.items()}
        gone: list[str] = []
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            row = await self._own(store, applicant, app_id, lock=True)
            check_editable(row["status"])
            sections, versions = dict(row["sections"]), dict(row["section_versions"])
            for name, (expected, content) in prepared.items():
                try:
                    sections[name] = await self._checked_section(s, store, row, applicant, name, content, expected)
                except DomainError as exc:
                    if prefix_fields:  # the batch names the section the error is in
                        exc.field = f"{name}.{exc.field}" if exc.field and exc.field != "section" else name
                    raise
                versions[name] = int(versions.get(name, 0)) + 1
            await store.update(app_id, {"sections": sections, "section_versions": versions}, now=self._clock())
            for name, (_, content) in prepared.items():
                gone += await self._drop_files_of_gone_entries(store, app_id, name, content)
        await delete_after_commit(self._storage, gone)
        # what was stored (a 破格 claim with its condition); 个人基本信息 as sent, not sealed
        return {
            name: (versions[name], content if name == "basic_info" else sections[name])
            for name, (_, content) in prepared.items()
        }

    async def _checked_section(
        self,
        s: AsyncSession,
        store: ApplicationStore,
        row: dict[str, Any],
        applicant: str,
        name: str,
        content: Any,
        expected_version: int,
    ) -> Any:
        """The section's content as stored, once its rules hold."""
        if name not in allowed_sections(row["method"] == INITIAL, row["settings"].get("special_section")):
            raise ApplicationError("该申报方式不包含此信息项", field="section")
        if int(row["section_versions"].get(name, 0)) != expected_version:
            raise StaleSectionError("该信息已被修改（可能在其他窗口），请刷新后再保存")
        if name == "achievements":
            await self._check_templates(s, row, content)
        if name == "waiver":
            return await self._checked_waiver(s, row, content)
        if name == "work_history":
            check_locked_work_history(content, await store.passed_work_history(applicant))
        if name == "basic_info":
            content = lock_basic_info(content, row.get("applicant_identity"))
            return self._pii.seal(content)  # phone numbers never reach the database in clear
        return content

    async def _drop_files_of_gone_entries(
        self, store: ApplicationStore, app_id: str, section: str, content: Any
    ) -> list[str]:
        """Delete the rows of files whose entry is no longer in the section; the storage keys to drop after the
        commit (not those a submitted snapshot shows)."""
        if not may_carry_files(section):
            return []
        live = file_targets(section, content)
        files = [
            f
            for f in await store.attachments_of(app_id)
            if f["kind"] == ENTRY_FILE and f["section"] == section and f["entry_id"] not in live
        ]
        if not files:
            return []
        frozen = await store.frozen_attachment_ids(app_id)
        for f in files:
            await store.delete_attachment(str(f["id"]), now=self._clock())
        return [f["storage_key"] for f in files if str(f["id"]) not in frozen]

    async def _check_templates(self, s: AsyncSession, row: dict[str, Any], content: list[dict[str, Any]]) -> None:
        committee_id = row["settings"].get("committee_id")
        activities = await self._reference_store(s).activities([committee_id], row["year"]) if committee_id else {}
        activity = activities.get(committee_id) if committee_id else None
        forms = {t["code"]: t.get("form", "generic") for t in activity.achievement_templates} if activity else {}
        for i, item in enumerate(content):
            if item.get("template_code") not in forms:
                raise ApplicationError("请选择评委会设置的业绩成果类型", field=f"{i}.template_code")
            check_form(i, item, forms[item["template_code"]])  # the clause's form: 论文著作, 项目, 获奖, …

    async def _checked_waiver(self, s: AsyncSession, row: dict[str, Any], claim: dict[str, Any]) -> dict[str, Any]:
        """A 破格 claim names one of the activity's waivers; the condition's text is kept with it for the reviewers."""
        committee_id = row["settings"].get("committee_id")
        activity = (
            (await self._reference_store(s).activities([committee_id], row["year"])).get(committee_id)
            if committee_id
            else None
        )
        waivers = {w["code"]: w for w in (activity.waivers if activity else [])}
        if not waivers:
            raise ApplicationError("该评审活动未设置破格条件", field="waiver_code")
        chosen = waivers.get(claim.get("waiver_code"))
        if chosen is None:
            raise ApplicationError("请选择评审活动设置的破格条件", field="waiver_code")
        return {**claim, "condition": chosen["condition"]}

    # --- external sources: 社保 (fetched, read-only), 学历 and 省职业资格证书 (同步: choose some or all) ---------
    async def _fetch(self, topic: str, subject: str) -> list[dict[str, Any]]:
        calls = {
            "social_insurance": self._registry.social_insurance,
            "education": self._registry.education,
            "vocational": self._registry.vocational_certificates,
        }
        names = {"social_insurance": "社保参保信息", "education": "学历信息", "vocational": "省职业资格证书信息"}
        try:
            return await calls[topic](subject)
        except SourceUnavailableError:
            raise ExternalSourceError(f"{names[topic]}暂时无法获取，请稍后再试；已填写的申报信息不受影响") from None

    async def social_insurance(self, applicant: str, app_id: str) -> dict[str, Any]:
        """Fetched from the source each time the applicant opens it, and kept with the application."""
        async with self._sessions() as s:
            row = await self._own(self._store(s), applicant, app_id)
        records = await self._fetch("social_insurance", applicant)
        section = {"source": self._registry.name, "fetched_at": self._clock().isoformat(), "records": records}
        if row["status"] in EDITABLE:
            await self._store_sourced(applicant, app_id, "social_insurance", section)
        return section

    async def external_records(self, applicant: str, app_id: str, topic: str) -> dict[str, Any]:
        async with self._sessions() as s:
            await self._own(self._store(s), applicant, app_id)
        return {"source": self._registry.name, "records": await self._fetch(topic, applicant)}

    async def sync(self, applicant: str, app_id: str, topic: str, record_ids: list[str]) -> int:
        """同步: the chosen records are added (once each) to the 学历 or 省职业资格证书 section."""
        found = {r["record_id"]: r for r in await self._fetch(topic, applicant)}
        unknown = [i for i in record_ids if i not in found]
        if unknown:
            raise ApplicationError("所选记录不在数据源中，请刷新后重试", field="record_ids")
        section = "education" if topic == "education" else "provincial_certificates"
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            row = await self._own(store, applicant, app_id, lock=True)
            check_editable(row["status"])
            current = list(row["sections"].get(section) or [])
            have = {e.get("source_record") for e in current}
            for rid in record_ids:
                if rid in have:
                    continue
                rec = found[rid]
                if topic == "education":
                    entry = {
                        k: rec[k]
                        for k in ("enrolled", "graduated", "school", "major", "degree_level", "degree", "years")
                    }
                    entry.update(before_work=False, remark=f"{self._registry.name}同步")
                else:
                    entry = {k: rec[k] for k in ("name", "level", "certificate_no", "issued", "issuer")}
                current.append({**entry, "source_record": rid})
            current = with_entry_ids(section, current)
            version = int(row["section_versions"].get(section, 0)) + 1
            await store.update(
                app_id,
                {
                    "sections": {**row["sections"], section: current},
                    "section_versions": {**row["section_versions"], section: version},
                },
                now=self._clock(),
            )
        return version

    async def _store_sourced(self, applicant: str, app_id: str, name: str, content: Any) -> None:
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            row = await self._own(store, applicant, app_id, lock=True)
            version = int(row["section_versions"].get(name, 0)) + 1
            await store.update(
                app_id,
                {
                    "sections": {**row["sections"], name: content},
                    "section_versions": {**row["section_versions"], name: version},
                },
                now=self._clock(),
            )

    # --- 个人信息 --------------------------------------------------------------------------------------------
    async def profile(self, applicant: str, *, reveal: bool = False) -> dict[str, Any]:
        """Phone numbers come masked; `reveal` (the applicant's own form) shows them in clear and is recorded."""
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            row = await store.profile(applicant)
            if reveal:
                await store.log_access(actor=applicant, app_id=None, fields=[f"profile.{f}" for f in self._pii.FIELDS])
        return {"sections": self._pii.show(row["sections"], reveal=reveal), "section_versions": row["section_versions"]}

    async def save_profile_section(
        self, applicant: str, name: str, content: Any, *, expected_version: int | None
    ) -> int:
        """`expected_version` None: the save comes from an application section and simply wins."""
        if name not in PROFILE_SECTIONS:
            raise ApplicationError("个人信息不包含此信息项", field="section")
        if name == "basic_info":
            content = self._pii.seal(content)
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            row = await store.profile(applicant, lock=True)
            current = int(row["section_versions"].get(name, 0))
            if expected_version is not None and current != expected_version:
                raise StaleSectionError("该信息已被修改（可能在其他窗口），请刷新后再保存")
            await store.save_profile(
                applicant,
                {**row["sections"], name: content},
                {**row["section_versions"], name: current + 1},
                now=self._clock(),
            )
        return current + 1

    async def submit(self, applicant: str, app_id: str) -> dict[str, Any]:
        """提交: complete, in time, then frozen as a new snapshot version and announced to the review."""
        now = self._clock()
        async with self._sessions() as s:  # reviewers must see whom they review: the registered identity first
            known = (await self._own(self._store(s), applicant, app_id))["applicant_identity"]
        identity = known or await self._registered(applicant, required=True)
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            row = await self._own(store, applicant, app_id, lock=True)
            check_editable(row["status"])
            settings = row["settings"]
            refs = self._reference_store(s)
            activity = None
            if row["committee_id"]:
                activity = (await refs.activities([str(row["committee_id"])], row["year"])).get(
                    str(row["committee_id"])
                )
                if activity is None:
                    raise ApplicationError("评委会的评审活动已取消，无法提交", field="committee_id")
                deadline = (
                    activity.dates.modify_deadline
                    if row["status"] == RETURNED
                    else activity.dates.first_submit_deadline
                )
                if local_today(now) > deadline:
                    kind = "个人修改提交截止时间" if row["status"] == RETURNED else "个人初次提交截止时间"
                    raise ApplicationError(f"已过{kind}（{deadline.isoformat()}），不能提交", field="deadline")
            counting = (
                frozenset(t["code"] for t in activity.achievement_templates if t.get("counts", True))
                if activity
                else frozenset()
            )
            req = Requirements(
                allowed_sections(row["method"] == INITIAL, row["settings"].get("special_section")),
                bool(settings["exam_record_required"]),
                counting,
            )
            missing = missing_for_submission(row["sections"], req)
            if missing:
                section, reason = missing[0]
                raise ApplicationError(reason, field=section)
            files = await store.attachments_of(app_id)
            if row["sections"].get("waiver") and not any(f["section"] == "waiver" for f in files):
                raise ApplicationError("破格申报须上传破格证明材料", field="waiver")
            for material in activity.required_materials if activity else []:
                if material.get("required") and not any(f["material_name"] == material["name"] for f in files):
                    raise ApplicationError(f"请上传评委会要求的材料“{material['name']}”", field="materials")
            if settings.get("entrustment_letter_required") and not any(
                f["kind"] == "entrustment_letter" for f in files
            ):
                raise ApplicationError("委托评审须上传主管部门出具的委托评审函", field="entrustment_letter")
            unit = await refs.unit(str(row["unit_id"]))
            committee = await refs.committee(str(row["committee_id"])) if row["committee_id"] else None
            version = int(row["snapshot_version"]) + 1
            sections = dict(row["sections"])
            if "basic_info" in sections:  # copied from 个人信息 before the identity was known, perhaps
                sections["basic_info"] = lock_basic_info(sections["basic_info"], identity)
            content = {
                "settings": settings,
                "applicant": reviewed_identity(identity),
                "sections": sections,
                "submitted_at": now.isoformat(),
                "applicant_id": applicant,
                "year": row["year"],
                "version": version,
                "attachments": [file_view(f) for f in files],
            }
            await store.add_snapshot(app_id, version, content)
            await store.update(
                app_id,
                {
                    "status": SUBMITTED,
                    "status_reason": None,
                    "submitted_at": now,
                    "snapshot_version": version,
                    "sections": sections,
                    "applicant_identity": identity,
                },
                now=now,
            )
            education, years = education_and_years(row["sections"], now.date())
            payload = applications_v1.ApplicationSubmitted(
                application_id=row["id"],
                applicant_id=applicant,
                unit_id=row["unit_id"],
                evaluation_mode="initial_determination" if row["method"] == INITIAL else "review",
                year=row["year"],
                series_code=settings["series"],
                level_code=settings["level"],
                committee_id=row["committee_id"],
                resubmission=row["status"] == RETURNED,
                submitted_at=now,
                method=row["method"],
                qualification_code=settings["qualification"],
                department_ids=[d["id"] for d in unit.department_chain] if unit else [],
                snapshot_version=version,
                highest_education=education,
                professional_years=years,
                qualification_name=settings.get("qualification_name"),
                category=settings.get("category"),
                specialty=settings.get("specialty"),
                committee_name=settings.get("committee_name"),
                entrusting_unit_name=(
                    unit.department_chain[0]["name"]
                    if unit and unit.department_chain and row["method"] in ENTRUSTED_METHODS
                    else None
                ),
                authority_region=committee.region_scope if committee else unit.region_code if unit else None,
            )
            await store.add_trail(
                app_id,
                {
                    "at": now.isoformat(),
                    "action": "重新提交" if row["status"] == RETURNED else "提交",
                    "version": version,
                },
            )
            await add_to_outbox(s, self._outbox, make_envelope(payload, source="applications", subject_id=app_id))
        return await self.get(applicant, app_id)

    async def withdraw(self, applicant: str, app_id: str) -> dict[str, Any]:
        """撤回: asked of the review service, which grants it only while the unit has not acted."""
        now = self._clock()
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            row = await self._own(store, applicant, app_id, lock=True)
            if row["status"] != SUBMITTED:
                raise ApplicationStateError("只有审核中的申报可以撤回")
            if row["withdraw_requested_at"] is not None:
                raise ApplicationStateError("已申请撤回，请等待处理结果")
            await store.update(app_id, {"withdraw_requested_at": now}, now=now)
            await store.add_trail(app_id, {"at": now.isoformat(), "action": "申请撤回"})
            await add_to_outbox(
                s,
                self._outbox,
                make_envelope(
                    applications_v1.ApplicationWithdrawRequested(application_id=row["id"], requested_at=now),
                    source="applications",
                    subject_id=app_id,
                ),
            )
        return await self.get(applicant, app_id)

    async def reviewer_view(
        self, *, reviewer: str, may: Callable[[str, str, str], bool], app_id: str, version: int | None = None
    ) -> dict[str, Any]:
        """What a reviewer sees: the submitted snapshot, once it reached their stage, within their scope.
        Anyone else gets 404, not 403, so ids cannot be probed. Every read is recorded."""
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            row = await self._readable(store, app_id, may, reviewer)
            snap = await store.snapshot(app_id, version or int(row["snapshot_version"]))
            if snap is None:
                raise ApplicationNotFoundError("该版本的申报材料不存在")
            await store.log_access(actor=reviewer, app_id=app_id, fields=["snapshot"])
        return self._snapshot_view(snap)

    @staticmethod
    async def _readable(
        store: ApplicationStore, app_id: str, may: Callable[[str, str, str], bool], reviewer: str
    ) -> dict[str, Any]:
        row = await store.get(app_id)
        if (
            row is None
            or row["snapshot_version"] == 0
            or not reviewer_may_read(
                row["stages_reached"],
                unit_id=str(row["unit_id"]),
                committee_id=str(row["committee_id"]) if row["committee_id"] else None,
                reviewer=reviewer,
                may=may,
            )
        ):
            raise ApplicationNotFoundError(NOT_FOUND)
        return row

    async def reviewer_download(
        self, *, reviewer: str, may: Callable[[str, str, str], bool], app_id: str, att_id: str
    ) -> tuple[dict[str, Any], Any]:
        """A file of the submitted application, for the reviewers who may read it (the same rule as the
        snapshot); only files frozen into a submitted snapshot, and every download is recorded."""
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            await self._readable(store, app_id, may, reviewer)
            frozen = await store.frozen_attachment_ids(app_id)
            att = await store.attachment(app_id, att_id, include_deleted=True) if att_id in frozen else None
            if att is None:
                raise ApplicationNotFoundError("附件不存在")
            await store.log_access(actor=reviewer, app_id=app_id, fields=[f"attachment:{att_id}"])
        return file_view(att), self._storage.read(att["storage_key"])

    async def abandon(self, applicant: str, app_id: str) -> None:
        """废弃: "个人所填的本次申报信息将被删除" — every section and every file of this application (业绩成果, 评委会
        需求材料, 委托评审函, entries' files, the photo) with their bytes; 个人信息 stays. The row remains as 已作废
        with the fact in its trail; files a submitted snapshot shows keep their bytes (what was reviewed)."""
        now = self._clock()
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            row = await self._own(store, applicant, app_id, lock=True)
            if row["status"] not in EDITABLE:
                raise ApplicationStateError("只有未提交、已撤回或已退回的申报可以废弃")
            files = await store.attachments_of(app_id)
            frozen = await store.frozen_attachment_ids(app_id)
            for f in files:
                await store.delete_attachment(str(f["id"]), now=now)
            await store.update(app_id, {"status": ABANDONED, "sections": {}, "section_versions": {}}, now=now)
            await store.add_trail(app_id, {"at": now.isoformat(), "action": "废弃", "note": f"删除附件{len(files)}个"})
        await delete_after_commit(self._storage, [f["storage_key"] for f in files if str(f["id"]) not in frozen])

    async def snapshot(self, applicant: str, app_id: str, version: int) -> dict[str, Any]:
        async with self._sessions() as s:
            store = self._store(s)
            await self._own(store, applicant, app_id)
            snap = await store.snapshot(app_id, version)
        if snap is None:
            raise ApplicationNotFoundError("该版本的申报材料不存在")
        return self._snapshot_view(snap)

    def _snapshot_view(self, snap: dict[str, Any]) -> dict[str, Any]:
        """A frozen snapshot as both the applicant and the reviewers read it: phone numbers masked, each section
        with its title."""
        titles = {name: SECTION_NAMES.get(name, name) for name in snap["sections"]}
        return {**snap, "sections": self._pii.show(snap["sections"], reveal=False), "section_titles": titles}

    # --- attachments: the photo and the committee's required materials ---------------------------------
    async def upload(
        self,
        applicant: str,
        app_id: str,
        *,
        kind: str,
        material: str | None,
        filename: str,
        stream: Any,
        section: str | None = None,
        entry_id: str | None = None,
    ) -> dict[str, Any]:
        """The photo, a committee-required material, the 委托评审函, or a file of a section's entry (`section` and
        `entry_id`: an entry saved before, or a named slot such as 卫生技术信息's 专业技术工作报告)."""
        async with self._sessions() as s:
            store = self._store(s)
            row = await self._own(store, applicant, app_id)
            check_editable(row["status"])
            if kind == ENTRY_FILE:
                assert section is not None and entry_id is not None
                check_target(section, entry_id, row["sections"].get(section))
                rule: dict[str, Any] | None = {
                    "name": entry_label(section, entry_id) or "附件",
                    "type": "any",
                    "max_size_mb": ENTRY_FILE_MAX_MB,
                    "max_count": ENTRY_FILE_MAX_COUNT,
                }
            else:
                rule = await self._material_rule(s, row, kind, material)
            existing = [
                f
                for f in await store.attachments_of(app_id)
                if f["kind"] == kind
                and f["material_name"] == (material if kind == "material" else f["material_name"])
                and (f["section"], f["entry_id"]) == (section, entry_id)
            ]
        single = kind in SINGLE_FILE_KINDS  # a new one replaces the old
        if kind == "photo":
            limit, too_large = PHOTO_MAX_BYTES, "照片大小不能超过 500KB"
        else:
            assert rule is not None
            material = material if kind == "material" else str(rule["name"])
            if not single and len(existing) >= int(rule["max_count"]):
                raise FileRejectedError(f"“{material}”最多上传{rule['max_count']}个文件", field="file")
            limit = int(float(rule["max_size_mb"]) * 1024 * 1024)
            too_large = f"“{material}”单个文件不能超过 {rule['max_size_mb']}M"

        def check(content_type: str | None) -> None:
            if kind == "photo":
                check_photo(content_type)
            else:
                assert rule is not None and material is not None
                check_material(content_type, str(rule.get("type", "any")), material)

        async def record(stored: StoredFile) -> dict[str, Any]:
            replaced: list[str] = []
            async with self._sessions() as s, s.begin():
                store = self._store(s)
                row = await self._own(store, applicant, app_id, lock=True)
                check_editable(row["status"])
                if single:
                    frozen = await store.frozen_attachment_ids(app_id)
                    for old in existing:
                        await store.delete_attachment(str(old["id"]), now=self._clock())
                        if str(old["id"]) not in frozen:
                            replaced.append(old["storage_key"])
                if kind == ENTRY_FILE:  # the entry may have gone while the bytes were arriving
                    assert section is not None and entry_id is not None
                    check_target(section, entry_id, row["sections"].get(section))
                named = material if kind == "material" else entry_label(section or "", entry_id or "")
                values = file_row(
                    stored, kind=kind, filename=filename, material=named, section=section, entry_id=entry_id
                )
                att_id = await store.add_attachment({"application_id": row["id"], **values})
                saved = await store.attachment(app_id, att_id)
            await delete_after_commit(self._storage, replaced)
            assert saved is not None
            return file_view(saved)

        return await keep_upload(
            self._storage,
            stream,
            max_bytes=limit,
            too_large=lambda: FileTooLargeError(too_large, field="file"),
            check=check,
            record=record,
        )

    async def _material_rule(
        self, s: AsyncSession, row: dict[str, Any], kind: str, material: str | None
    ) -> dict[str, Any] | None:
        if kind == "photo":
            return None
        if kind == "entrustment_letter":
            if not row["settings"].get("entrustment_letter_required"):
                raise FileRejectedError("本次申报的评价方式无需委托评审函", field="kind")
            return dict(ENTRUSTMENT_LETTER)
        if kind != "material" or not material:
            raise FileRejectedError("附件类型不正确", field="kind")
        committee_id = row["settings"].get("committee_id")
        activity = (
            (await self._reference_store(s).activities([committee_id], row["year"])).get(committee_id)
            if committee_id
            else None
        )
        rule = next((m for m in (activity.required_materials if activity else []) if m["name"] == material), None)
        if rule is None:
            raise FileRejectedError("评委会未要求该材料", field="material")
        return dict(rule)

    async def files(self, applicant: str, app_id: str) -> list[dict[str, Any]]:
        async with self._sessions() as s:
            store = self._store(s)
            await self._own(store, applicant, app_id)
            return [file_view(f) for f in await store.attachments_of(app_id)]

    async def download(self, applicant: str, app_id: str, att_id: str) -> tuple[dict[str, Any], Any]:
        async with self._sessions() as s:
            store = self._store(s)
            await self._own(store, applicant, app_id)
            att = await store.attachment(app_id, att_id)
        if att is None:
            raise ApplicationNotFoundError("附件不存在")
        return file_view(att), self._storage.read(att["storage_key"])

    async def remove_file(self, applicant: str, app_id: str, att_id: str) -> None:
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            row = await self._own(store, applicant, app_id, lock=True)
            check_editable(row["status"])
            att = await store.attachment(app_id, att_id)
            if att is None:
                raise ApplicationNotFoundError("附件不存在")
            await store.delete_attachment(att_id, now=self._clock())
            frozen = await store.frozen_attachment_ids(app_id)
        # the bytes go once the row is gone, unless a submitted snapshot still shows the file
        await delete_after_commit(self._storage, [] if att_id in frozen else [att["storage_key"]])


def _status_name(row: dict[str, Any]) -> str:
    """我的申报 shows where a submitted application is: 审核中（主管部门审核）."""
    name = STATUS_NAMES.get(row["status"], row["status"])
    stages = row.get("stages_reached") or []
    if row["status"] == SUBMITTED and stages:
        return f"{name}（{STAGE_NAMES.get(stages[-1].get('stage'), '')}）"
    return name
