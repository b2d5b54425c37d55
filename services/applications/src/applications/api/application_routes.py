"""API: 我的申报 — an applicant's applications, their sections, 暂存 / 提交 / 废弃."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Protocol

from fastapi import APIRouter, Body, Depends, Header, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from applications.api.responses import (
    FILE,
    ApplicationDetail,
    ApplicationList,
    ApplicationSocialInsurance,
    Attachment,
    AttachmentList,
    ExternalRecords,
    Profile,
    SavedSection,
    Snapshot,
)
from applications.api.schemas import SettingsCheck
from applications.api.sections import SECTION_ADAPTERS, SECTION_TYPES
from applications.domain.application import PROFILE_SECTIONS, SECTION_NAMES
from applications.usecases.applications import ApplicationService
from applications.usecases.reference import SettingsChoice
from zc_auth import Principal, PrincipalDep, Role, ScopeType, require_role
from zc_http import (
    ForbiddenProblem,
    ProblemError,
    file_download,
    if_match_version,
    refuse_declared_oversize,
)

router = APIRouter(tags=["applications"])


class Container(Protocol):
    applications: ApplicationService


def service(request: Request) -> ApplicationService:
    container: Container = request.app.state.container
    return container.applications


ServiceDep = Annotated[ApplicationService, Depends(service)]


def applicant(principal: Principal) -> str:
    if not principal.has_role(Role.APPLICANT):
        raise ForbiddenProblem("当前账号不能申报", code="auth.forbidden")
    return principal.subject


# creating an application or a record needs the applicant role, checked before the body (a reviewer reviews)
ApplicantDep = Annotated[Principal, Depends(require_role(Role.APPLICANT))]


# response_model_exclude_unset on the application views: a step of the trail has only the keys it was written with,
# and a snapshot frozen before attachments were kept has none
@router.post(
    "/applications",
    status_code=201,
    summary="立即申报（新建申报）",
    response_model=ApplicationDetail,
    response_model_exclude_unset=True,
)
async def create(body: SettingsCheck, principal: ApplicantDep, svc: ServiceDep) -> dict[str, Any]:
    return await svc.create(applicant(principal), SettingsChoice(**body.model_dump()))


@router.get("/applications", summary="我的申报", response_model=ApplicationList, response_model_exclude_unset=True)
async def mine(principal: PrincipalDep, svc: ServiceDep) -> dict[str, Any]:
    return {"items": await svc.mine(applicant(principal))}


@router.get(
    "/applications/{app_id}",
    summary="继续申报（申报详情）",
    response_model=ApplicationDetail,
    response_model_exclude_unset=True,
)
async def get(
    app_id: str, principal: PrincipalDep, svc: ServiceDep, response: Response, reveal: bool = False
) -> dict[str, Any]:
    """Phone numbers are masked unless `reveal=true` (recorded as an access to personal data)."""
    response.headers["Cache-Control"] = "no-store"
    return await svc.get(applicant(principal), app_id, reveal=reveal)


def _expected_version(if_match: str | None) -> int:
    version = if_match_version(if_match)
    if version is None:
        raise ProblemError(
            "请求须带 If-Match（该信息项的当前版本号），以免覆盖他人的修改",
            status=428,
            code="application.version_required",
            field="If-Match",
        )
    return version


IfMatch = Annotated[str | None, Header(description="该信息项当前版本号（首次保存为 0）")]


def _section_routes(name: str, body: Any) -> None:
    """One route per section (暂存 in the application, 维护 in 个人信息), each with its own body schema; FastAPI
    validates the body (422 naming the field) before the version is looked at."""
    adapter, title = SECTION_ADAPTERS[name], SECTION_NAMES[name]

    async def save_section(
        app_id: str,
        principal: PrincipalDep,
        svc: ServiceDep,
        content: Any,
        if_match: IfMatch = None,
        update_profile: bool = False,
    ) -> dict[str, Any]:
        """`update_profile=true` also keeps the section in 个人信息 for the next application."""
        expected = _expected_version(if_match)
        data = adapter.dump_python(content, mode="json", exclude_none=True)
        version = await svc.save_section(applicant(principal), app_id, name, data, expected_version=expected)
        if update_profile and name != "achievements":
            await svc.save_profile_section(principal.subject, name, data, expected_version=None)
        return {"section": name, "version": version}

    async def save_profile_section(
        principal: PrincipalDep, svc: ServiceDep, content: Any, if_match: IfMatch = None
    ) -> dict[str, Any]:
        expected = _expected_version(if_match)
        data = adapter.dump_python(content, mode="json", exclude_none=True)
        version = await svc.save_profile_section(applicant(principal), name, data, expected_version=expected)
        return {"section": name, "version": version}

    for endpoint in (save_section, save_profile_section):
        endpoint.__annotations__["content"] = Annotated[body, Body(title=title)]  # its own type, not a string
    router.put(
        f"/applications/{{app_id}}/sections/{name}",
        summary=f"暂存信息项：{title}",
        operation_id=f"save_section_{name}",
        tags=["sections"],
        response_model=SavedSection,
    )(save_section)
    if name in PROFILE_SECTIONS:  # not 业绩成果: they belong to one application's committee
        router.put(
            f"/profile/sections/{name}",
            summary=f"维护个人信息：{title}",
            operation_id=f"save_profile_section_{name}",
            tags=["profile"],
            response_model=SavedSection,
        )(save_profile_section)


for _name, _body in SECTION_TYPES.items():
    _section_routes(_name, _body)


@router.get("/profile", summary="个人信息", response_model=Profile)
async def profile(principal: PrincipalDep, svc: ServiceDep, response: Response) -> dict[str, Any]:
    response.headers["Cache-Control"] = "no-store"
    return await svc.profile(applicant(principal))


@router.post(
    "/applications/{app_id}/submit", summary="提交", response_model=ApplicationDetail, response_model_exclude_unset=True
)
async def submit(app_id: str, principal: PrincipalDep, svc: ServiceDep) -> dict[str, Any]:
    return await svc.submit(applicant(principal), app_id)


@router.post(
    "/applications/{app_id}/withdraw",
    summary="撤回（单位尚未审核时）",
    response_model=ApplicationDetail,
    response_model_exclude_unset=True,
)
async def withdraw(app_id: str, principal: PrincipalDep, svc: ServiceDep) -> dict[str, Any]:
    return await svc.withdraw(applicant(principal), app_id)


@router.post("/applications/{app_id}/abandon", status_code=204, summary="废弃")
async def abandon(app_id: str, principal: PrincipalDep, svc: ServiceDep) -> None:
    await svc.abandon(applicant(principal), app_id)


@router.get(
    "/applications/{app_id}/snapshots/{version}",
    summary="已提交的申报材料（只读）",
    response_model=Snapshot,
    response_model_exclude_unset=True,
)
async def snapshot(app_id: str, version: int, principal: PrincipalDep, svc: ServiceDep) -> dict[str, Any]:
    return await svc.snapshot(applicant(principal), app_id, version)


# --- attachments --------------------------------------------------------------------------------------------
@router.post(
    "/applications/{app_id}/photo", status_code=201, summary="上传照片（JPG/JPEG，≤500KB）", response_model=Attachment
)
async def upload_photo(
    app_id: str, request: Request, principal: PrincipalDep, svc: ServiceDep, filename: str = "photo.jpg"
) -> dict[str, Any]:
    refuse_declared_oversize(request)
    return await svc.upload(
        applicant(principal), app_id, kind="photo", material=None, filename=filename, stream=request.stream()
    )


@router.post(
    "/applications/{app_id}/materials", status_code=201, summary="上传评委会需求材料", response_model=Attachment
)
async def upload_material(
    app_id: str, request: Request, principal: PrincipalDep, svc: ServiceDep, material: str, filename: str
) -> dict[str, Any]:
    refuse_declared_oversize(request)
    return await svc.upload(
        applicant(principal), app_id, kind="material", material=material, filename=filename, stream=request.stream()
    )


@router.post(
    "/applications/{app_id}/entrustment-letter",
    status_code=201,
    summary="上传委托评审函（委托评审时必传）",
    response_model=Attachment,
)
async def upload_entrustment_letter(
    app_id: str, request: Request, principal: PrincipalDep, svc: ServiceDep, filename: str = "委托评审函.pdf"
) -> dict[str, Any]:
    refuse_declared_oversize(request)
    return await svc.upload(
        applicant(principal),
        app_id,
        kind="entrustment_letter",
        material=None,
        filename=filename,
        stream=request.stream(),
    )


@router.get("/applications/{app_id}/attachments", summary="附件列表", response_model=AttachmentList)
async def list_files(app_id: str, principal: PrincipalDep, svc: ServiceDep) -> dict[str, Any]:
    return {"items": await svc.files(applicant(principal), app_id)}


@router.get("/applications/{app_id}/attachments/{att_id}", summary="下载附件", **FILE)
async def download(app_id: str, att_id: str, principal: PrincipalDep, svc: ServiceDep) -> StreamingResponse:
    meta, chunks = await svc.download(applicant(principal), app_id, att_id)
    return file_download(chunks, filename=meta["filename"], content_type=meta["content_type"], size=meta["size"])


@router.delete("/applications/{app_id}/attachments/{att_id}", status_code=204, summary="删除附件")
async def remove(app_id: str, att_id: str, principal: PrincipalDep, svc: ServiceDep) -> None:
    await svc.remove_file(applicant(principal), app_id, att_id)


@router.get(
    "/review/applications/{app_id}",
    summary="审核人查看申报材料（已提交版本）",
    tags=["review"],
    response_model=Snapshot,
    response_model_exclude_unset=True,
)
async def reviewer_view(
    app_id: str, principal: PrincipalDep, svc: ServiceDep, response: Response, version: int | None = None
) -> dict[str, Any]:
    response.headers["Cache-Control"] = "no-store"
    return await svc.reviewer_view(
        reviewer=principal.subject,
        may=lambda role, scope, scope_id: principal.has_role(Role(role), ScopeType(scope), scope_id),
        app_id=app_id,
        version=version,
    )


@router.get(
    "/review/applications/{app_id}/attachments/{att_id}",
    summary="审核人下载申报附件（已提交版本）",
    tags=["review"],
    **FILE,
)
async def reviewer_download(app_id: str, att_id: str, principal: PrincipalDep, svc: ServiceDep) -> StreamingResponse:
    meta, chunks = await svc.reviewer_download(
        reviewer=principal.subject,
        may=lambda role, scope, scope_id: principal.has_role(Role(role), ScopeType(scope), scope_id),
        app_id=app_id,
        att_id=att_id,
    )
    return file_download(chunks, filename=meta["filename"], content_type=meta["content_type"], size=meta["size"])


class SyncRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    record_ids: list[str] = Field(min_length=1, max_length=20, description="选择的记录")


@router.get(
    "/applications/{app_id}/social-insurance",
    summary="社保参保信息（自动获取，只读）",
    response_model=ApplicationSocialInsurance,
)
async def social_insurance(app_id: str, principal: PrincipalDep, svc: ServiceDep) -> dict[str, Any]:
    return await svc.social_insurance(applicant(principal), app_id)


@router.get(
    "/applications/{app_id}/external/{topic}",
    summary="可同步的学历 / 省职业资格证书记录",
    response_model=ExternalRecords,
)
async def external_records(
    app_id: str, topic: Literal["education", "vocational"], principal: PrincipalDep, svc: ServiceDep
) -> dict[str, Any]:
    return await svc.external_records(applicant(principal), app_id, topic)


@router.post(
    "/applications/{app_id}/external/{topic}/sync", summary="同步（选择部分或全部记录）", response_model=SavedSection
)
async def sync(
    app_id: str, topic: Literal["education", "vocational"], body: SyncRequest, principal: PrincipalDep, svc: ServiceDep
) -> dict[str, Any]:
    version = await svc.sync(applicant(principal), app_id, topic, body.record_ids)
    return {"section": "education" if topic == "education" else "provincial_certificates", "version": version}
