"""API: 个人申报设置 — catalog cascade, regions, units, committees and review activities."""

from __future__ import annotations

from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Body, Depends, Query, Request

from applications.api.application_routes import router as application_router
from applications.api.message_routes import router as message_router
from applications.api.permissions import may_maintain
from applications.api.portal_routes import router as portal_router
from applications.api.record_routes import router as record_router
from applications.api.responses import (
    ActivityNotice,
    Cascade,
    CatalogVersion,
    CatalogView,
    CommitteeDirectory,
    CommitteeQuery,
    NoActivity,
    NoCommitteeNeeded,
    RegionNode,
    Saved,
    SettingsChecked,
    UnitPage,
    UnitView,
)
from applications.api.schemas import ActivityWrite, CatalogDocument, CommitteeWrite, SettingsCheck, UnitCreate
from applications.domain.committees import ActivityDates, Committee
from applications.domain.regions import RegionTree
from applications.domain.settings import GUIDANCE, METHOD_NAMES, SettingsRejectedError
from applications.usecases.reference import NotFoundError, ReferenceService, SettingsChoice
from zc_auth import Principal, PrincipalDep, Role
from zc_auth.routes import whoami_router
from zc_http import ForbiddenProblem, PageNumber, PageSize

router = APIRouter()
router.include_router(whoami_router())
router.include_router(application_router)
router.include_router(message_router)
router.include_router(record_router)
router.include_router(portal_router)


class Container(Protocol):
    reference: ReferenceService


def reference(request: Request) -> ReferenceService:
    container: Container = request.app.state.container
    return container.reference


ReferenceDep = Annotated[ReferenceService, Depends(reference)]


def _actor(principal: Principal) -> str:
    return f"user:{principal.subject}"


# --- catalog --------------------------------------------------------------------------------------------
@router.get("/catalog", summary="职称目录（当前版本）", tags=["catalog"], response_model=CatalogView)
async def catalog(ref: ReferenceDep) -> dict[str, Any]:
    cat = await ref.catalog()
    return {
        "version": cat.version,
        "levels": [{"code": lv.code, "name": lv.name} for lv in sorted(cat.levels, key=lambda lv: -lv.rank)],
        "series": [
            {
                "code": s.code,
                "name": s.name,
                "special_section": s.special_section,
                "levels": [
                    {"level": r.level, "exam_mode": r.exam_mode, "exam_record_required": r.exam_record_required}
                    for r in s.levels
                ],
            }
            for s in cat.series
        ],
        "evaluation_methods": [{"code": k, "name": v} for k, v in METHOD_NAMES.items()],
        "guidance": GUIDANCE,
    }


@router.get("/catalog/cascade", summary="申报系列/层级/专业/资格名称联动", tags=["catalog"], response_model=Cascade)
async def cascade(
    ref: ReferenceDep,
    series: str | None = None,
    level: str | None = None,
    specialty: str | None = None,
    qualification: str | None = None,
) -> dict[str, Any]:
    """Each list is what may still be chosen given the other choices, whichever was chosen first. To start
    over, the client clears the series and with it every other choice (the manual's advice)."""
    cat = await ref.catalog()
    opts = cat.options(series=series, level=level, specialty=specialty, qualification=qualification)
    return {
        "catalog_version": cat.version,
        "series": [{"code": s.code, "name": s.name} for s in opts.series],
        "levels": [{"code": lv.code, "name": lv.name} for lv in opts.levels],
        "specialties": [{"code": sp.code, "name": sp.name} for sp in opts.specialties],
        "qualifications": [{"code": q.code, "name": q.name, "level": q.level} for q in opts.qualifications],
    }


# response_model_exclude_unset: a version is the document as it was published (what it left out stays out)
@router.get(
    "/catalog/versions/{version}",
    summary="某一版本的职称目录",
    tags=["catalog"],
    response_model=CatalogDocument,
    response_model_exclude_unset=True,
)
async def catalog_version(version: int, ref: ReferenceDep) -> dict[str, Any]:
    return await ref.catalog_document(version)


@router.put(
    "/catalog",
    status_code=201,
    summary="发布新版本职称目录（管理员）",
    tags=["catalog"],
    response_model=CatalogVersion,
)
async def publish_catalog(
    principal: PrincipalDep, ref: ReferenceDep, document: Annotated[CatalogDocument, Body()]
) -> dict[str, int]:
    if not principal.has_role(Role.ADMIN):
        raise ForbiddenProblem("当前账号无权执行此操作", code="auth.forbidden")
    content = document.model_dump(mode="json", exclude_none=True)
    return {"version": await ref.add_catalog_version(content, by=_actor(principal))}


# --- regions and units ----------------------------------------------------------------------------------
def _tree(tree: RegionTree, parent: str | None) -> list[dict[str, Any]]:
    return [
        {"code": r.code, "name": r.name, "kind": r.kind, "path": r.display_path, "children": _tree(tree, r.code)}
        for r in sorted(
            tree.children(parent), key=lambda r: (r.kind != "province_own", r.kind != "prefecture_own", r.code)
        )
    ]


@router.get("/regions", summary="职称业务归属地（地区树）", tags=["regions"], response_model=list[RegionNode])
async def regions(ref: ReferenceDep) -> list[dict[str, Any]]:
    return _tree(await ref.regions(), None)


def _unit(u: Any) -> dict[str, Any]:
    return {
        "id": u.id,
        "name": u.name,
        "credit_code": u.credit_code,
        "region_code": u.region_code,
        "department_chain": list(u.department_chain),
        "central_in_sichuan": u.central_in_sichuan,
    }


@router.get("/units", summary="工作单位查询", tags=["units"], response_model=UnitPage)
async def search_units(
    ref: ReferenceDep,
    keyword: Annotated[str, Query(min_length=1, max_length=50, description="单位名称关键字")],
    page: PageNumber = 1,
    size: PageSize = 10,
) -> dict[str, Any]:
    found, total = await ref.search_units(keyword, page=page, size=size)
    return {"items": [_unit(u) for u in found], "total": total, "page": page, "size": size}


@router.get("/units/{unit_id}", summary="工作单位", tags=["units"], response_model=UnitView)
async def unit(unit_id: str, ref: ReferenceDep) -> dict[str, Any]:
    return _unit(await ref.unit(unit_id))


@router.post("/units", status_code=201, summary="注册工作单位（管理员）", tags=["units"], response_model=UnitView)
async def register_unit(body: UnitCreate, principal: PrincipalDep, ref: ReferenceDep) -> dict[str, Any]:
    if not principal.has_role(Role.ADMIN) and not principal.has_role(Role.OPERATOR):
        raise ForbiddenProblem("当前账号无权执行此操作", code="auth.forbidden")
    u = await ref.register_unit(
        name=body.name,
        credit_code=body.credit_code,
        region_code=body.region_code,
        department_ids=body.department_ids,
        central_in_sichuan=body.central_in_sichuan,
    )
    return _unit(u)


# --- committees -----------------------------------------------------------------------------------------
@router.get(
    "/committees",
    summary="评审委员会（按地区、系列查询可申报的评委会）",
    tags=["committees"],
    response_model=CommitteeDirectory,
)
async def committee_directory(
    ref: ReferenceDep,
    region: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=20,
            description="所在地区（行政区划代码，如 510100-BJ）：只列出该地区可直接申报的评委会",
        ),
    ] = None,
    series: Annotated[str | None, Query(min_length=1, max_length=40, description="申报系列（编码）")] = None,
    level: Annotated[str | None, Query(min_length=1, max_length=20, description="申报层级（编码）")] = None,
    keyword: Annotated[str | None, Query(min_length=1, max_length=50, description="评委会名称（部分即可）")] = None,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="评审活动年度（默认今年）")] = None,
    page: PageNumber = 1,
    size: PageSize = 10,
) -> dict[str, Any]:
    """Public: anyone may look before logging in (填报说明 1, “点击查看评审委员会”)."""
    return await ref.committee_directory(
        region=region, series=series, level=level, keyword=keyword, year=year, page=page, size=size
    )


@router.get(
    "/committees/query",
    summary="选择评委会（可直接申报 / 需委托评审）",
    tags=["committees"],
    response_model=CommitteeQuery | NoCommitteeNeeded,
)
async def query_committees(
    ref: ReferenceDep,
    unit_id: Annotated[str, Query(description="工作单位")],
    method: Annotated[str, Query(description="评价方式")],
    series: Annotated[str, Query(description="申报系列")],
    level: str | None = None,
    specialty: str | None = None,
    qualification: str | None = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    page: PageNumber = 1,
    entrusted_page: PageNumber = 1,
    size: PageSize = 10,
    keyword: Annotated[str | None, Query(max_length=50, description="评委会名称（部分即可）")] = None,
) -> dict[str, Any]:
    return await ref.query_committees(
        unit_id=unit_id,
        year=year,
        method=method,
        series=series,
        level=level,
        specialty=specialty,
        qualification=qualification,
        page=page,
        entrusted_page=entrusted_page,
        size=size,
        keyword=keyword,
    )


# response_model_exclude_unset: a 业绩成果 type, 破格 condition or 需求材料 keeps only the keys it was saved with
@router.get(
    "/committees/{committee_id}/activities/{year}",
    summary="评审通知",
    tags=["committees"],
    response_model=ActivityNotice | NoActivity,
    response_model_exclude_unset=True,
)
async def activity_notice(committee_id: str, year: int, ref: ReferenceDep) -> dict[str, Any]:
    return await ref.activity_notice(committee_id, year)


@router.put("/committees/{committee_id}", summary="新增或修改评委会", tags=["committees"], response_model=Saved)
async def save_committee(
    committee_id: str, body: CommitteeWrite, principal: PrincipalDep, ref: ReferenceDep
) -> dict[str, str]:
    try:
        existing: Committee | None = await ref.committee(committee_id)
    except NotFoundError:
        existing = None  # a new committee
    if not may_maintain(principal, existing, body.organiser_id) or (
        existing is not None and not may_maintain(principal, existing, existing.organiser_id)
    ):
        raise ForbiddenProblem("当前账号无权维护该评委会", code="auth.forbidden")
    await ref.save_committee(
        Committee(
            id=committee_id,
            name=body.name,
            series=body.series,
            levels=frozenset(body.levels),
            region_scope=body.region_scope,
            organiser_id=body.organiser_id,
            organiser_name=body.organiser_name,
            contact_person=body.contact_person,
            contact_phone=body.contact_phone,
            specialties=frozenset(body.specialties),
        )
    )
    return {"id": committee_id}


@router.put(
    "/committees/{committee_id}/activities/{year}", summary="设置评审活动", tags=["committees"], response_model=Saved
)
async def save_activity(
    committee_id: str, year: int, body: ActivityWrite, principal: PrincipalDep, ref: ReferenceDep
) -> dict[str, str]:
    committee = await ref.committee(committee_id)
    if not may_maintain(principal, committee, committee.organiser_id):
        raise ForbiddenProblem("当前账号无权维护该评委会的评审活动", code="auth.forbidden")
    if body.start.year != year:
        raise SettingsRejectedError(f"申报开始时间应在{year}年内", field="start")
    activity_id = await ref.save_activity(
        committee_id,
        year,
        dates=ActivityDates(body.start, body.first_submit_deadline, body.modify_deadline, body.unit_deadline),
        notice={
            "scope": body.scope,
            "phone": body.phone,
            "review_method": body.review_method,
            "exam": body.exam,
            "interview": body.interview,
            "specialty_group_vote": body.specialty_group_vote,
            "policy_documents": body.policy_documents,
            "schedule": body.schedule,
            "categories": body.categories,
            "special_section": body.special_section,
        },
        templates=[t.model_dump() for t in body.achievement_templates],
        waivers=[w.model_dump() for w in body.waivers],
        materials=[m.model_dump() for m in body.required_materials],
        by=_actor(principal),
    )
    return {"id": activity_id}


# --- 立即申报 ------------------------------------------------------------------------------------------------
# response_model_exclude_unset: 职称初定 answers a message and no activity, the others an activity and no message
@router.post(
    "/application-settings/check",
    summary="校验个人申报设置（立即申报）",
    tags=["settings"],
    response_model=SettingsChecked,
    response_model_exclude_unset=True,
)
async def check_settings(body: SettingsCheck, principal: PrincipalDep, ref: ReferenceDep) -> dict[str, Any]:
    return await ref.check_settings(SettingsChoice(**body.model_dump()))
