"""Use cases: 个人申报设置 — the catalog cascade, units, the committee query and the settings check;
plus maintenance of the catalog, committees and review activities by those entitled to it."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from applications.domain.achievements import required_fields
from applications.domain.catalog import Catalog, InvalidChoiceError
from applications.domain.committees import (
    DEFAULT_CATEGORIES,
    INITIAL_CATEGORIES,
    NO_ACTIVITY,
    RECEIVING,
    STATUS_ORDER,
    ActivityDates,
    Committee,
    local_today,
    work_status,
)
from applications.domain.errors import DomainError
from applications.domain.regions import RegionTree
from applications.domain.settings import (
    INITIAL,
    METHOD_NAMES,
    NO_COMMITTEE_NEEDED,
    SettingsRejectedError,
    method_rule,
)
from applications.usecases.ports import Activity, ReferenceStore, Unit

UNIT_NOT_REGISTERED = (
    "所选工作单位未在系统中注册。申报人所在工作单位在系统中建立单位账户后才能选择，请联系本单位职称业务管理部门注册"
)


class NotFoundError(DomainError):
    code = "not_found"
    status_hint = 404


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))


@dataclass(frozen=True)
class SettingsChoice:
    unit_id: str
    year: int
    method: str
    series: str
    level: str
    specialty: str
    qualification: str
    committee_id: str | None = None
    category: str = "正常申报"


def activity_categories(activity: Activity) -> list[str]:
    return list(activity.notice.get("categories") or DEFAULT_CATEGORIES)


def special_section(activity: Activity, by_series: str | None) -> str | None:
    """The activity's setting wins ("none": no special section); unset, the series decides."""
    chosen = activity.notice.get("special_section")
    if chosen is None:
        return by_series
    return None if chosen == "none" else str(chosen)


def _check_category(category: str, allowed: list[str] | tuple[str, ...]) -> None:
    if category not in allowed:
        raise SettingsRejectedError(f"申报类别只能为：{'、'.join(allowed)}", field="category")


def _named(committee: Committee, keyword: str | None) -> bool:
    wanted = (keyword or "").strip().casefold()
    return not wanted or wanted in committee.name.casefold()


def _activity_summary(activity: Activity | None, committee: Committee) -> dict[str, Any] | None:
    """The year's review activity as a list shows it: its key dates (the whole 评审通知 is its own route)."""
    if activity is None:
        return None
    d = activity.dates
    return {
        "id": activity.id,
        "year": activity.year,
        "start": d.start.isoformat(),
        "first_submit_deadline": d.first_submit_deadline.isoformat(),
        "modify_deadline": d.modify_deadline.isoformat(),
        "unit_deadline": d.unit_deadline.isoformat(),
        "review_method": activity.notice.get("review_method", ""),
        "phone": activity.notice.get("phone", committee.contact_phone),
    }


class ReferenceService:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        store: Callable[[AsyncSession], ReferenceStore],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = sessions
        self._store = store
        self._clock = clock
        # Parsed once per version: every cascade, query and check reads the catalog.
        self._catalog: Catalog | None = None
        # Regions change only with a migration, so one load per process.
        self._regions: RegionTree | None = None

    def current_year(self) -> int:
        return local_today(self._clock()).year

    async def catalog(self) -> Catalog:
        async with self._sessions() as s:
            store = self._store(s)
            version = await store.latest_catalog_version()
            if version is None:
                raise NotFoundError("职称目录尚未加载")
            if self._catalog is None or self._catalog.version != version:
                self._catalog = await store.latest_catalog()
        assert self._catalog is not None
        return self._catalog

    async def regions(self) -> RegionTree:
        if self._regions is None:
            async with self._sessions() as s:
                self._regions = await self._store(s).region_tree()
        return self._regions

    async def search_units(self, keyword: str, *, page: int, size: int) -> tuple[list[Unit], int]:
        async with self._sessions() as s:
            return await self._store(s).search_units(keyword.strip(), offset=(page - 1) * size, limit=size)

    async def unit(self, unit_id: str, *, field: str = "unit_id") -> Unit:
        async with self._sessions() as s:
            unit = await self._store(s).unit(unit_id)
        if unit is None:
            raise SettingsRejectedError(UNIT_NOT_REGISTERED, field=field)
        return unit

    # --- the committee query (Fig. 2.2.3) ---------------------------------------------------------------
    async def query_committees(
        self,
        *,
        unit_id: str,
        year: int | None,
        method: str,
        series: str,
        level: str | None,
        specialty: str | None,
        qualification: str | None,
        page: int,
        entrusted_page: int,
        size: int,
        keyword: str | None = None,
    ) -> dict[str, Any]:
        """`keyword` (评委会名称, the dialog's 查询): a part of the name, any case; both lists and their counts
        are of the committees that match."""
        unit = await self.unit(unit_id)
        rule = method_rule(method, central_unit=unit.central_in_sichuan)
        catalog = await self.catalog()
        self._check_partial_choice(
            catalog, series=series, level=level, specialty=specialty, qualification=qualification
        )
        if not rule.needs_committee:
            return {"no_committee_needed": True, "message": NO_COMMITTEE_NEEDED, "method": METHOD_NAMES[method]}
        year = year or self.current_year()
        async with self._sessions() as s:
            store = self._store(s)
            tree = await self.regions()
            candidates = [
                c
                for c in await store.committees_of_series(series)
                if c.covers(series=series, level=level, specialty=specialty) and _named(c, keyword)
            ]
            activities = await store.activities([c.id for c in candidates], year)
        direct_codes = [r.code for r in tree.direct_scopes(unit.region_code)]
        now = self._clock()
        direct, entrusted = [], []
        for c in candidates:
            (direct if c.region_scope in direct_codes else entrusted).append(c)
        unit_region = tree.get(unit.region_code)
        header = [
            "1.您的工作单位职称业务归属地为【{}】，可直接申报开设范围为【{}】区域的评委会，申报其它区域评委会需主管部门出具委托评审函".format(
                unit_region.display_path if unit_region else unit.region_code,
                "、".join(r.display_path for r in tree.direct_scopes(unit.region_code)),
            ),
            f"2.当前可直接申报评委会数为：【{len(direct)}】，可委托申报评委会数为：【{len(entrusted)}】",
        ]
        return {
            "no_committee_needed": False,
            "header": header,
            "year": year,
            "unit": {"id": unit.id, "name": unit.name, "region_path": unit_region.display_path if unit_region else ""},
            "direct": self._page(direct, activities, tree, catalog, now, page, size, direct_scope=True),
            "entrusted": self._page(
                entrusted, activities, tree, catalog, now, entrusted_page, size, direct_scope=False
            ),
        }

    def _page(
        self,
        committees: list[Committee],
        activities: dict[str, Activity],
        tree: RegionTree,
        catalog: Catalog,
        now: datetime,
        page: int,
        size: int,
        *,
        direct_scope: bool,
    ) -> dict[str, Any]:
        rows = []
        for c in committees:
            activity = activities.get(c.id)
            status = work_status(activity.dates if activity else None, now)
            scope = tree.get(c.region_scope)
            series = catalog.get_series(c.series)
            rows.append(
                {
                    "id": c.id,
                    "name": c.name,
                    "series_name": series.name if series else c.series,
                    "region_path": scope.display_path if scope else c.region_scope,
                    "contact_phone": c.contact_phone,
                    "contact_person": c.contact_person,
                    "status": status,
                    "selectable": status == RECEIVING,
                    "direct": direct_scope,
                    "activity_id": activity.id if activity else None,
                }
            )
        # receiving first (as the manual's list), the nearer scope first, then by name
        rows.sort(key=lambda r: (STATUS_ORDER[r["status"]], -r["region_path"].count("/"), r["name"], r["id"]))
        start = (page - 1) * size
        items = [{"no": start + i + 1, **row} for i, row in enumerate(rows[start : start + size])]
        result = Page(items=items, total=len(rows), page=page, size=size)
        return {
            "items": result.items,
            "total": result.total,
            "page": result.page,
            "size": result.size,
            "pages": result.pages,
        }

    # --- the committee directory (填报说明 1; the portal's 评审委员会) ---------------------------------------
    async def committee_directory(
        self,
        *,
        region: str | None,
        series: str | None,
        level: str | None,
        keyword: str | None,
        year: int | None,
        page: int,
        size: int,
    ) -> dict[str, Any]:
        """Committees before applying, for anyone: with `region` (所在地区) those an applicant there may apply to
        directly (the territorial principle, docs/decisions/0009); each with its work status and, when it has
        one, the year's review activity."""
        catalog = await self.catalog()
        tree = await self.regions()
        if region is not None and region not in tree:
            raise SettingsRejectedError("所在地区不存在，请从地区列表中选择", field="region")
        if series is not None and catalog.get_series(series) is None:
            raise SettingsRejectedError("申报系列不存在，请从列表中选择", field="series")
        if level is not None and catalog.get_level(level) is None:
            raise SettingsRejectedError("申报层级不存在，请从列表中选择", field="level")
        year = year or self.current_year()
        scopes = tree.direct_scopes(region) if region is not None else None
        async with self._sessions() as s:
            store = self._store(s)
            found = await store.find_committees(
                series=series,
                level=level,
                scopes=[r.code for r in scopes] if scopes is not None else None,
                keyword=(keyword or "").strip() or None,
            )
            activities = await store.activities([c.id for c in found], year)
        now = self._clock()
        rank = {lv.code: lv.rank for lv in catalog.levels}
        rows: list[dict[str, Any]] = []
        for c in found:
            activity = activities.get(c.id)
            status = work_status(activity.dates if activity else None, now)
            scope = tree.get(c.region_scope)
            series_of = catalog.get_series(c.series)
            rows.append(
                {
                    "id": c.id,
                    "name": c.name,
                    "series": c.series,
                    "series_name": series_of.name if series_of else c.series,
                    "levels": [
                        {"code": lv.code, "name": lv.name}
                        for lv in sorted(
                            (lv for lv in catalog.levels if lv.code in c.levels), key=lambda lv: -rank[lv.code]
                        )
                    ],
                    "region_code": c.region_scope,
                    "region_path": scope.display_path if scope else c.region_scope,
                    "organiser_name": c.organiser_name,
                    "contact_person": c.contact_person,
                    "contact_phone": c.contact_phone,
                    "status": status,
                    "open": status == RECEIVING,
                    "activity": _activity_summary(activity, c),
                }
            )
        # as the 选择评委会 dialog: receiving first, the nearer scope first, then by name
        rows.sort(key=lambda r: (STATUS_ORDER[r["status"]], -r["region_path"].count("/"), r["name"], r["id"]))
        start = (page - 1) * size
        result = Page(
            items=[{"no": start + i + 1, **row} for i, row in enumerate(rows[start : start + size])],
            total=len(rows),
            page=page,
            size=size,
        )
        chosen = tree.get(region) if region is not None else None
        return {
            "year": year,
            "region_path": chosen.display_path if chosen else None,
            "direct_scopes": [r.display_path for r in scopes or []],
            "items": result.items,
            "total": result.total,
            "page": result.page,
            "size": result.size,
            "pages": result.pages,
        }

    @staticmethod
    def _check_partial_choice(
        catalog: Catalog, *, series: str, level: str | None, specialty: str | None, qualification: str | None
    ) -> None:
        """Each given choice must be reachable from the others (the cascade, enforced on the server)."""
        chosen = {"series": series, "level": level, "specialty": specialty, "qualification": qualification}
        options = catalog.options(series=series, level=level, specialty=specialty, qualification=qualification)
        allowed = {
            "series": {s.code for s in options.series},
            "level": {lv.code for lv in options.levels},
            "specialty": {sp.code for sp in options.specialties},
            "qualification": {q.code for q in options.qualifications},
        }
        names = {
            "series": "申报系列",
            "level": "申报层级",
            "specialty": "申报职称专业",
            "qualification": "申报资格名称",
        }
        for field_name, value in chosen.items():
            if value and value not in allowed[field_name]:
                raise InvalidChoiceError(f"{names[field_name]}与其他已选项不匹配，请重新选择", field=field_name)

    # --- the activity notice (Fig. 2.2.4) ----------------------------------------------------------------
    async def activity_notice(self, committee_id: str, year: int | None) -> dict[str, Any]:
        year = year or self.current_year()
        async with self._sessions() as s:
            store = self._store(s)
            committee = await store.committee(committee_id)
            if committee is None:
                raise NotFoundError("评委会不存在")
            activity = (await store.activities([committee.id], year)).get(committee.id)
        status = work_status(activity.dates if activity else None, self._clock())
        if activity is None:
            return {"committee": committee.name, "year": year, "status": NO_ACTIVITY}
        d = activity.dates
        return {
            "title": f"{committee.name}评审通知",
            "committee_id": committee.id,
            "year": year,
            "status": status,
            "申报范围": activity.notice.get("scope", ""),
            "申报开始时间": d.start.isoformat(),
            "个人初次提交截止时间": d.first_submit_deadline.isoformat(),
            "个人修改提交截止时间": d.modify_deadline.isoformat(),
            "各单位提交截止时间": d.unit_deadline.isoformat(),
            "咨询电话": activity.notice.get("phone", committee.contact_phone),
            "评审方式": activity.notice.get("review_method", ""),
            "评委会组织考试": activity.notice.get("exam", "不组织"),
            "是否组织面试答辩": {"all": "全部面试答辩", "partial": "部分面试答辩", "none": "不组织面试答辩"}.get(
                activity.notice.get("interview", "none"), "不组织面试答辩"
            ),
            "是否设专业组投票": "是" if activity.notice.get("specialty_group_vote") else "否",
            "政策文件": activity.notice.get("policy_documents", []),
            "评审活动安排": activity.notice.get("schedule", []),
            "achievement_templates": [  # each with the fields its form requires, so the form can star them
                {**t, "required_fields": list(required_fields(t.get("form", "generic")))}
                for t in activity.achievement_templates
            ],
            "waivers": activity.waivers,
            "required_materials": activity.required_materials,
            "申报类别": activity_categories(activity),
            "special_section": activity.notice.get("special_section"),
        }

    # --- 立即申报: the full settings check ------------------------------------------------------------------
    async def check_settings(self, choice: SettingsChoice) -> dict[str, Any]:
        unit = await self.unit(choice.unit_id)
        this_year = self.current_year()
        if choice.year not in (this_year, this_year + 1):
            raise SettingsRejectedError(f"申报年度只能为{this_year}年或{this_year + 1}年", field="year")
        rule = method_rule(choice.method, central_unit=unit.central_in_sichuan)
        catalog = await self.catalog()
        qualification = catalog.check_choice(
            series=choice.series, level=choice.level, specialty=choice.specialty, qualification=choice.qualification
        )
        series = catalog.get_series(choice.series)
        assert series is not None
        level_rule = series.level_rule(choice.level)
        assert level_rule is not None
        if level_rule.exam_mode == "exam_only":
            raise SettingsRejectedError(f"“{qualification.name}”实行以考代评，通过考试取得，无需申报", field="level")
        result: dict[str, Any] = {
            "valid": True,
            "catalog_version": catalog.version,
            "unit": {"id": unit.id, "name": unit.name},
            "method": choice.method,
            "method_name": METHOD_NAMES[choice.method],
            "year": choice.year,
            "category": choice.category,
            "qualification": {"code": qualification.code, "name": qualification.name},
            # the names 我的申报's card shows (Fig. 2.2.55: 2023年度 - 农业技术人员, 申报等级 / 申报专业 / 申报职称)
            "series_name": series.name,
            "level_name": level.name if (level := catalog.get_level(choice.level)) else choice.level,
            "specialty_name": next((sp.name for sp in series.specialties if sp.code == choice.specialty), None),
            "exam_mode": level_rule.exam_mode,
            "exam_record_required": level_rule.exam_record_required,
            "special_section": series.special_section,
            "entrustment_letter_required": rule.needs_entrustment_letter,
        }
        if choice.method == INITIAL:
            if choice.level not in catalog.initial_determination_levels:
                raise SettingsRejectedError("职称初定只适用于员级、助理级和中级", field="level")
            if choice.committee_id:
                raise SettingsRejectedError(NO_COMMITTEE_NEEDED, field="committee_id")
            _check_category(choice.category, INITIAL_CATEGORIES)
            return {**result, "committee": None, "message": NO_COMMITTEE_NEEDED}
        if not choice.committee_id:
            raise SettingsRejectedError("请选择申报评委会", field="committee_id")
        async with self._sessions() as s:
            store = self._store(s)
            committee = await store.committee(choice.committee_id)
            if committee is None:
                raise SettingsRejectedError("所选评委会不存在", field="committee_id")
            tree = await self.regions()
            activity = (await store.activities([committee.id], choice.year)).get(committee.id)
        if not committee.covers(series=choice.series, level=choice.level, specialty=choice.specialty):
            raise SettingsRejectedError("所选评委会的评审范围不包括所选系列、层级或专业", field="committee_id")
        is_direct = committee.region_scope in {r.code for r in tree.direct_scopes(unit.region_code)}
        if rule.direct is True and not is_direct:
            raise SettingsRejectedError(
                "所选评委会的评审区域不包括您工作单位的职称业务归属地，请选择“委托评审”并由主管部门出具委托评审函",
                field="committee_id",
            )
        if rule.direct is False and is_direct:
            raise SettingsRejectedError("所选评委会可直接申报，请选择“社会化评审”", field="committee_id")
        status = work_status(activity.dates if activity else None, self._clock())
        if activity is None:
            raise SettingsRejectedError("所选评委会未设置评审活动，暂不能申报", field="committee_id")
        if status != RECEIVING:
            raise SettingsRejectedError(f"所选评委会{status}，不能申报", field="committee_id")
        _check_category(choice.category, activity_categories(activity))
        return {
            **result,
            # 中小学教师 / 卫生技术信息 appear as the committee set them (由评委会预先设置), else by the series
            "special_section": special_section(activity, result["special_section"]),
            "committee": {"id": committee.id, "name": committee.name, "direct": is_direct},
            "activity_id": activity.id,
        }

    # --- maintenance -------------------------------------------------------------------------------------
    async def add_catalog_version(self, document: dict[str, Any], *, by: str) -> int:
        Catalog.from_document(0, document)  # refuse a malformed catalog before it becomes current
        async with self._sessions() as s, s.begin():
            return await self._store(s).add_catalog_version(document, by=by)

    async def catalog_document(self, version: int) -> dict[str, Any]:
        async with self._sessions() as s:
            doc = await self._store(s).catalog_version(version)
        if doc is None:
            raise NotFoundError("该版本的职称目录不存在")
        return doc

    async def register_unit(
        self, *, name: str, credit_code: str, region_code: str, department_ids: list[str], central_in_sichuan: bool
    ) -> Unit:
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            tree = await self.regions()
            if region_code not in tree:
                raise SettingsRejectedError("职称业务归属地不存在", field="region_code")
            unit = Unit(
                str(uuid.uuid4()),
                name,
                credit_code,
                region_code,
                tuple({"id": d, "name": "", "region": ""} for d in department_ids),
                central_in_sichuan,
            )
            await store.add_unit(unit)
        return unit

    async def committee(self, committee_id: str) -> Committee:
        async with self._sessions() as s:
            committee = await self._store(s).committee(committee_id)
        if committee is None:
            raise NotFoundError("评委会不存在")
        return committee

    async def save_committee(self, committee: Committee) -> None:
        catalog = await self.catalog()
        series = catalog.get_series(committee.series)
        if series is None:
            raise SettingsRejectedError("评审系列不存在", field="series")
        if not committee.levels or not committee.levels <= {r.level for r in series.levels}:
            raise SettingsRejectedError(f"评审层级不属于“{series.name}”系列", field="levels")
        if not committee.specialties <= {sp.code for sp in series.specialties}:
            raise SettingsRejectedError(f"评审专业不属于“{series.name}”系列", field="specialties")
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            if committee.region_scope not in await self.regions():
                raise SettingsRejectedError("评审区域范围不存在", field="region_scope")
            await store.save_committee(committee)

    async def save_activity(
        self,
        committee_id: str,
        year: int,
        *,
        dates: ActivityDates,
        notice: dict[str, Any],
        templates: list[dict[str, Any]],
        waivers: list[dict[str, Any]],
        materials: list[dict[str, Any]],
        by: str,
    ) -> str:
        if not any(t.get("counts") is False for t in templates):
            templates = [
                *templates,
                {
                    "code": "OTHER",
                    "form": "generic",
                    "counts": False,
                    "clause": "其他业绩成果：不满足政策要求的材料可以在此处添加。（不计入满足政策条数）",
                },
            ]
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            if await store.committee(committee_id) is None:
                raise NotFoundError("评委会不存在")
            existing = (await store.activities([committee_id], year)).get(committee_id)
            activity = Activity(
                existing.id if existing else str(uuid.uuid4()),
                committee_id,
                year,
                dates,
                notice,
                templates,
                waivers,
                materials,
            )
            await store.save_activity(activity, by=by)
        return activity.id
