"""API: 我的申报 — an applicant's applications, their sections, 暂存 / 提交 / 废弃."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Protocol

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

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
from applications.api.sections import SECTION_ADAPTERS, SECTION_TYPES, STORED_TYPES
from applications.domain.application import PROFILE_SECTIONS, SECTION_NAMES
from applications.domain.entry_files import may_carry_files
from applications.usecases.applications import ENTRY_FILE, ApplicationService
from applications.usecases.ports import DocumentTemplates
from applications.usecases.reference import SettingsChoice
from zc_auth import Principal, PrincipalDep, Role, ScopeType, require_role
from zc_http import (
    ForbiddenProblem,
    PageNumber,
    PageSize,
    content_disposition,
    file_download,
    received_file,
    required_version,
    upload_body,
)

router = APIRouter(tags=["applications"])
WORD = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# the sections whose entries (or named slots) take files
EntrySection = Literal[
    "education", "qualifications", "achievements", "waiver", "continuing_education", "teacher_info", "health_info"
]


class Container(Protocol):
    applications: ApplicationService
    templates: DocumentTemplates


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
async def mine(principal: PrincipalDep, svc: ServiceDep, page: PageNumber = 1, size: PageSize = 10) -> dict[str, Any]:
    return await svc.mine(applicant(principal), page=page, size=size)


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
    return required_version(
        if_match,
        code="application.version_required",
        detail="请求须带 If-Match（该信息项的当前版本号），以免覆盖他人的修改",
    )


IfMatch = Annotated[str | None, Header(description="该信息项当前版本号（首次保存为 0）")]


def _saved_model(name: str, body: Any) -> type[SavedSection]:
    """What a section's save answers: sections whose entries take files echo the entries with their ids."""
    if not may_carry_files(name):
        return SavedSection
    return create_model(
        f"Saved_{name}",
        __base__=SavedSection,
        __doc__=f"暂存“{SECTION_NAMES[name]}”：新版本号，以及保存后的内容（条目已分配编号）",
        content=(STORED_TYPES.get(name, body) | None, Field(default=None, title=SECTION_NAMES[name])),
    )


SAVED_MODELS = {name: _saved_model(name, body) for name, body in SECTION_TYPES.items()}


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
        version, saved = await svc.save_section(applicant(principal), app_id, name, data, expected_version=expected)
        if update_profile and name != "achievements":
            await svc.save_profile_section(principal.subject, name, saved, expected_version=None)
        # the entries' ids come back (uploads name them; the next save sends them again); other sections need
        # nothing back, and 个人基本信息 must not echo its phone numbers
        return {"section": name, "version": version, **({"content": saved} if may_carry_files(name) else {})}

    async def save_profile_section(
        principal: PrincipalDep, svc: ServiceDep, content: Any, if_match: IfMatch = None
    ) -> dict[str, Any]:
        expected = _expected_version(if_match)
        data = adapter.dump_python(content, mode="json", exclude_none=True)
        version = await svc.save_profile_section(applicant(principal), name, data, expected_version=expected)
        return {"section": name, "version": version}

    for endpoint in (save_section, save_profile_section):
        endpoint.__annotations__["content"] = Annotated[body, Body(title=title)]  # its own type, not a string
    saved_model = SAVED_MODELS[name]
    router.put(
        f"/applications/{{app_id}}/sections/{name}",
        summary=f"暂存信息项：{title}",
        operation_id=f"save_section_{name}",
        tags=["sections"],
        response_model=saved_model,
        response_model_exclude_unset=True,
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


def _change_model(name: str, body: Any) -> Any:
    return create_model(
        f"Change_{name}",
        __config__=ConfigDict(extra="forbid"),
        __doc__=f"“{SECTION_NAMES[name]}”的修改：所依据的版本号和新内容",
        version=(int, Field(ge=0, description="所依据的版本号（首次保存为 0）")),
        content=(body, Field(title=SECTION_NAMES[name])),
    )


class _AtLeastOne(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _some(self) -> _AtLeastOne:
        if not self.model_fields_set:
            raise ValueError("请至少提交一个信息项")
        return self


SectionsChange = create_model(
    "SectionsChange",
    __base__=_AtLeastOne,
    __doc__="暂存整个申报表：修改过的信息项，各带所依据的版本号",
    **{n: (_change_model(n, b) | None, Field(default=None, title=SECTION_NAMES[n])) for n, b in SECTION_TYPES.items()},
)
SectionsSaved = create_model(
    "SectionsSaved",
    __config__=ConfigDict(extra="forbid"),
    __doc__="暂存整个申报表：每个保存的信息项的新版本号",
    **{n: (SAVED_MODELS[n] | None, Field(default=None, title=SECTION_NAMES[n])) for n in SECTION_TYPES},
)


@router.put(
    "/applications/{app_id}/sections",
    summary="暂存（整个申报表：一次保存所有修改过的信息项）",
    tags=["sections"],
    response_model=SectionsSaved,
    response_model_exclude_unset=True,
)
async def save_sections(
    app_id: str,
    body: Annotated[SectionsChange, Body()],
    principal: PrincipalDep,
    svc: ServiceDep,  # type: ignore[valid-type]
) -> dict[str, Any]:
    """All or nothing: every section is checked against its version in one transaction; a stale one is a 409
    naming it, an invalid one a 422 naming `section.field`, and then nothing is saved."""
    changes = {
        name: (change.version, SECTION_ADAPTERS[name].dump_python(change.content, mode="json", exclude_none=True))
        for name in body.model_fields_set
        if (change := getattr(body, name)) is not None
    }
    saved = await svc.save_sections(applicant(principal), app_id, changes)
    return {
        name: {"section": name, "version": version, **({"content": content} if may_carry_files(name) else {})}
        for name, (version, content) in saved.items()
    }


@router.get("/profile", summary="个人信息", response_model=Profile)
async def profile(principal: PrincipalDep, svc: ServiceDep, response: Response, reveal: bool = False) -> dict[str, Any]:
    """Phone numbers are masked unless `reveal=true` (the applicant's own form; recorded)."""
    response.headers["Cache-Control"] = "no-store"
    return await svc.profile(applicant(principal), reveal=reveal)


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


# --- attachments: multipart/form-data with one part `file` (or the raw bytes), streamed ------------------------
@router.post(
    "/applications/{app_id}/photo",
    status_code=201,
    summary="上传照片（JPG/JPEG，≤500KB）",
    response_model=Attachment,
    openapi_extra=upload_body("照片（JPG/JPEG，不超过 500KB）"),
)
async def upload_photo(
    app_id: str, request: Request, principal: PrincipalDep, svc: ServiceDep, filename: str | None = None
) -> dict[str, Any]:
    upload = await received_file(request, filename=filename, default_name="photo.jpg")
    return await svc.upload(
        applicant(principal), app_id, kind="photo", material=None, filename=upload.filename, stream=upload.chunks
    )


@router.post(
    "/applications/{app_id}/materials",
    status_code=201,
    summary="上传评委会需求材料",
    response_model=Attachment,
    openapi_extra=upload_body("评委会需求材料（类型、大小和数量按评委会设置）"),
)
async def upload_material(
    app_id: str,
    request: Request,
    principal: PrincipalDep,
    svc: ServiceDep,
    material: Annotated[str, Query(max_length=50, description="材料名称")],
    filename: str | None = None,
) -> dict[str, Any]:
    upload = await received_file(request, filename=filename)
    return await svc.upload(
        applicant(principal), app_id, kind="material", material=material, filename=upload.filename, stream=upload.chunks
    )


@router.post(
    "/applications/{app_id}/entrustment-letter",
    status_code=201,
    summary="上传委托评审函（委托评审时必传）",
    response_model=Attachment,
    openapi_extra=upload_body("委托评审函（图片或 PDF，不超过 10M）"),
)
async def upload_entrustment_letter(
    app_id: str, request: Request, principal: PrincipalDep, svc: ServiceDep, filename: str | None = None
) -> dict[str, Any]:
    upload = await received_file(request, filename=filename, default_name="委托评审函.pdf")
    return await svc.upload(
        applicant(principal),
        app_id,
        kind="entrustment_letter",
        material=None,
        filename=upload.filename,
        stream=upload.chunks,
    )


EntryId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,40}$", description="条目编号（保存后分配）或附件材料位置")]


@router.post(
    "/applications/{app_id}/sections/{section}/entries/{entry_id}/attachments",
    status_code=201,
    summary="上传条目附件（学历证、学位证、论文等；图片或 PDF，≤10M，每条最多10个）",
    response_model=Attachment,
    openapi_extra=upload_body("条目的附件（图片或 PDF，不超过 10M）"),
)
async def upload_entry_file(
    app_id: str,
    section: EntrySection,
    entry_id: EntryId,
    request: Request,
    principal: PrincipalDep,
    svc: ServiceDep,
    filename: str | None = None,
) -> dict[str, Any]:
    """An entry saved before (its `id`), or a named slot: 破格条件 `proof`; 中小学教师信息 `teacher_certificate`;
    卫生技术信息 `work_report`, `exceptional`, `paired_support`, `recommendation_letter`."""
    upload = await received_file(request, filename=filename)
    return await svc.upload(
        applicant(principal),
        app_id,
        kind=ENTRY_FILE,
        material=None,
        filename=upload.filename,
        stream=upload.chunks,
        section=section,
        entry_id=entry_id,
    )


@router.get(
    "/templates/recommendation-letter",
    summary="模板下载：一线医务人员职称申报推荐函（Word）",
    tags=["templates"],
    response_class=Response,
    responses={200: {"content": {WORD: {}}, "description": "Word 模板（.docx）"}},
)
async def recommendation_letter_template(request: Request) -> Response:
    """Public: a blank template, no personal data (卫生技术信息 → 抗疫一线医务人员情况 → 模板下载)."""
    container: Container = request.app.state.container
    return Response(
        container.templates.recommendation_letter(),
        media_type=container.templates.media_type,
        headers={"Content-Disposition": content_disposition("一线医务人员职称申报推荐函.docx")},
    )


@router.get("/applications/{app_id}/attachments", summary="附件列表", response_model=AttachmentList)
async def list_files(
    app_id: str,
    principal: PrincipalDep,
    svc: ServiceDep,
    section: Annotated[EntrySection | None, Query(description="只列出该信息项的条目附件")] = None,
    entry_id: Annotated[str | None, Query(max_length=40, description="只列出该条目（或附件材料位置）的附件")] = None,
) -> dict[str, Any]:
    """All the application's files in upload order; with `section` (and `entry_id`) one entry's 附件信息 table."""
    files = await svc.files(applicant(principal), app_id)
    return {
        "items": [
            f
            for f in files
            if (section is None or f["section"] == section) and (entry_id is None or f["entry_id"] == entry_id)
        ]
    }


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
