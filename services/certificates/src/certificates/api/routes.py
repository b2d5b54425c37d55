"""API: 我的证书 (list, PDF), revocation by the authority, and the public check (证书查询, no login)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Protocol
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from certificates.api.schemas import (
    Certificate,
    CertificateList,
    HistoricalCertificateDraft,
    ManagedCertificates,
    PublicCheck,
    ReviewedVerification,
    SocialInsurance,
    Verification,
    VerificationAttachment,
    VerificationDetail,
    VerificationList,
)
from certificates.usecases.certificates import CertificateService
from certificates.usecases.verifications import FILE_TYPES, VerificationService
from zc_auth import Principal, PrincipalDep, Role, ScopeType, require_role
from zc_auth.routes import whoami_router
from zc_http import (
    PageNumber,
    PageSize,
    content_disposition,
    file_download,
    problem,
    received_file,
    required_version,
    upload_body,
)

router = APIRouter()
router.include_router(whoami_router())


class Container(Protocol):
    certificates: CertificateService


def service(request: Request) -> CertificateService:
    container: Container = request.app.state.container
    return container.certificates


ServiceDep = Annotated[CertificateService, Depends(service)]
AuthorityDep = Annotated[Principal, Depends(require_role(Role.AUTHORITY))]


def client_of(request: Request) -> str:
    """The caller's address: the peer's, or the one a trusted proxy forwarded (zc_http reads X-Forwarded-For
    only from FORWARDED_ALLOW_IPS)."""
    return (request.client.host if request.client else "unknown")[:64]


@router.get("/certificates/mine", tags=["certificates"], summary="我的证书", response_model=CertificateList)
async def mine(principal: PrincipalDep, svc: ServiceDep, page: PageNumber = 1, size: PageSize = 10) -> dict[str, Any]:
    return await svc.mine(principal, page=page, size=size)


@router.get(
    "/certificates",
    tags=["certificates"],
    summary="证书管理（授权管理单位：所辖地区的证书）",
    response_model=ManagedCertificates,
)
async def managed(
    principal: AuthorityDep,
    svc: ServiceDep,
    number: Annotated[str | None, Query(min_length=6, max_length=40, description="证书编号")] = None,
    holder_name: Annotated[str | None, Query(min_length=1, max_length=50, description="持证人姓名")] = None,
    page: PageNumber = 1,
    size: PageSize = 10,
) -> dict[str, Any]:
    return await svc.managed(principal, number=number, holder_name=holder_name, page=page, size=size)


@router.get("/certificates/{certificate_id}", tags=["certificates"], summary="证书详情", response_model=Certificate)
async def detail(certificate_id: UUID, principal: PrincipalDep, svc: ServiceDep) -> dict[str, Any]:
    return svc.view(await svc.get(principal, certificate_id))


@router.get(
    "/certificates/{certificate_id}/pdf",
    tags=["certificates"],
    summary="下载电子职称证书",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "电子职称证书（PDF）"}},
)
async def pdf(certificate_id: UUID, principal: PrincipalDep, svc: ServiceDep) -> Response:
    filename, body = await svc.pdf(principal, certificate_id)
    return Response(
        body,
        media_type="application/pdf",
        headers={
            # the number of a verified historical certificate is in Chinese (川农中2015-0042)
            "Content-Disposition": content_disposition(filename),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


class Revocation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=2, max_length=500, description="撤销原因")


@router.post(
    "/certificates/{certificate_id}/revoke",
    tags=["certificates"],
    summary="撤销证书（授权管理单位）",
    response_model=Certificate,
)
async def revoke(certificate_id: UUID, body: Revocation, principal: AuthorityDep, svc: ServiceDep) -> dict[str, Any]:
    return await svc.revoke(principal, certificate_id, body.reason)


# the public check is limited per client address (usecases.certificates); a burst is answered 429
_RATE_LIMITED: dict[int | str, dict[str, Any]] = {429: problem(429, "查询过于频繁，请稍后再试")}


@router.get(
    "/public/check",
    tags=["public"],
    summary="证书查询：证书编号 + 持证人姓名",
    response_model=PublicCheck,
    responses=_RATE_LIMITED,
)
async def check(
    request: Request,
    svc: ServiceDep,
    number: Annotated[str, Query(min_length=6, max_length=40, description="证书编号")],
    name: Annotated[str, Query(min_length=1, max_length=50, description="持证人姓名")],
) -> dict[str, Any]:
    return await svc.check_by_number(number, name, client=client_of(request))


@router.get(
    "/public/check/{token}",
    tags=["public"],
    summary="证书查询：扫码核验",
    response_model=PublicCheck,
    responses=_RATE_LIMITED,
)
async def check_token(
    request: Request, token: Annotated[str, Field(min_length=20, max_length=64)], svc: ServiceDep
) -> dict[str, Any]:
    return await svc.check_by_token(token, client=client_of(request))


# -- 证书核验 -------------------------------------------------------------------------------------------------


class VerificationsContainer(Protocol):
    verifications: VerificationService


def verification_service(request: Request) -> VerificationService:
    container: VerificationsContainer = request.app.state.container
    return container.verifications


VerificationsDep = Annotated[VerificationService, Depends(verification_service)]

# response_model_exclude_unset below: a draft's content and the social-insurance source's records are answered
# as kept, what they leave out (optional fields of their models) staying out of the JSON rather than showing as
# null. Every other field of the response models is required, so it changes nothing else.

# downloads of 相关附件材料: the bytes as uploaded (their type judged by content), not JSON
FILE: dict[str, Any] = {
    "response_class": StreamingResponse,
    "responses": {200: {"content": {t: {} for t in sorted(FILE_TYPES)}, "description": "附件（JPG、PNG 或 PDF）"}},
}


class NewVerification(BaseModel):
    """证书上的评审组织: a committee of the directory (its organising unit verifies), or 其他 with its name (the
    provincial authority verifies)."""

    model_config = ConfigDict(extra="forbid")

    committee_id: UUID | None = Field(default=None, description="评委会（从评委会名录中选择）；由其组建单位审核")
    other_committee: str | None = Field(
        default=None, min_length=2, max_length=100, description="其他：评审组织全称（名录中没有时填写）"
    )

    @model_validator(mode="after")
    def _one(self) -> NewVerification:
        if (self.committee_id is None) == (self.other_committee is None):
            raise ValueError("请从评委会名录中选择评审组织，或选择“其他”并填写评审组织全称（二者选一）")
        return self


@router.post(
    "/verifications",
    tags=["verifications"],
    status_code=201,
    summary="证书核验：新增",
    response_model=Verification,
    response_model_exclude_unset=True,
)
async def new_verification(body: NewVerification, principal: PrincipalDep, svc: VerificationsDep) -> dict[str, Any]:
    return await svc.create(principal.subject, body.committee_id, body.other_committee)


@router.get(
    "/verifications",
    tags=["verifications"],
    summary="证书核验：我的记录",
    response_model=VerificationList,
    response_model_exclude_unset=True,
)
async def my_verifications(
    principal: PrincipalDep, svc: VerificationsDep, page: PageNumber = 1, size: PageSize = 10
) -> dict[str, Any]:
    return await svc.mine(principal.subject, page=page, size=size)


@router.put(
    "/verifications/{verification_id}",
    tags=["verifications"],
    summary="证书核验：填写证书信息（可暂存）",
    response_model=Verification,
    response_model_exclude_unset=True,
)
async def save_verification(
    verification_id: UUID,
    principal: PrincipalDep,
    svc: VerificationsDep,
    content: Annotated[HistoricalCertificateDraft, Body(title="证书信息")],
    if_match: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    version = required_version(if_match, code="verification.version_required")
    return await svc.save(
        principal.subject, verification_id, content.model_dump(mode="json", exclude_unset=True), version
    )


@router.post(
    "/verifications/{verification_id}/submit",
    tags=["verifications"],
    summary="证书核验：提交审核",
    response_model=Verification,
    response_model_exclude_unset=True,
)
async def submit_verification(verification_id: UUID, principal: PrincipalDep, svc: VerificationsDep) -> dict[str, Any]:
    return await svc.submit(principal.subject, verification_id)


@router.get(
    "/verifications/{verification_id}",
    tags=["verifications"],
    summary="证书核验：详情",
    response_model=VerificationDetail,
    response_model_exclude_unset=True,
)
async def verification_detail(verification_id: UUID, principal: PrincipalDep, svc: VerificationsDep) -> dict[str, Any]:
    return await svc.get(principal.subject, verification_id)


@router.post(
    "/verifications/{verification_id}/social-insurance/sync",
    tags=["verifications"],
    summary="证书核验：同步社保数据",
    response_model=SocialInsurance,
    response_model_exclude_unset=True,
)
async def sync_social_insurance(
    verification_id: UUID, principal: PrincipalDep, svc: VerificationsDep
) -> dict[str, Any]:
    return await svc.sync_social_insurance(principal.subject, verification_id)


@router.post(
    "/verifications/{verification_id}/attachments",
    tags=["verifications"],
    status_code=201,
    summary="证书核验：上传相关附件材料（JPG、PNG、PDF，≤10M，最多10个）",
    response_model=VerificationAttachment,
    openapi_extra=upload_body("相关附件材料（JPG、PNG 或 PDF，不超过 10M）"),
)
async def upload_verification_file(
    verification_id: UUID, request: Request, principal: PrincipalDep, svc: VerificationsDep, filename: str | None = None
) -> dict[str, Any]:
    upload = await received_file(request, filename=filename)
    return await svc.upload(principal.subject, verification_id, filename=upload.filename, stream=upload.chunks)


@router.get(
    "/verifications/{verification_id}/attachments/{file_id}", tags=["verifications"], summary="下载附件", **FILE
)
async def download_verification_file(
    verification_id: UUID, file_id: UUID, principal: PrincipalDep, svc: VerificationsDep
) -> StreamingResponse:
    meta, chunks = await svc.download(principal.subject, verification_id, file_id)
    return file_download(chunks, filename=meta["filename"], content_type=meta["content_type"], size=meta["size"])


@router.delete(
    "/verifications/{verification_id}/attachments/{file_id}",
    tags=["verifications"],
    status_code=204,
    summary="删除附件",
)
async def remove_verification_file(
    verification_id: UUID, file_id: UUID, principal: PrincipalDep, svc: VerificationsDep
) -> None:
    await svc.remove_file(principal.subject, verification_id, file_id)


def _organiser_of(principal: Principal) -> Callable[[dict[str, Any]], bool]:
    """Who reviews a 证书核验: the named committee's organising unit; for 其他, the authority of its region."""

    def may(row: dict[str, Any]) -> bool:
        if row["committee_id"] is not None:
            return principal.has_role(Role.COMMITTEE_ORGANISER, ScopeType.COMMITTEE, str(row["committee_id"]))
        region = row.get("authority_region")
        return region is not None and principal.has_role(Role.AUTHORITY, ScopeType.REGION, region)

    return may


@router.get(
    "/review/verifications/{verification_id}",
    tags=["review"],
    summary="审核人查看证书核验",
    response_model=ReviewedVerification,
    response_model_exclude_unset=True,
)
async def review_verification(
    verification_id: UUID, principal: PrincipalDep, svc: VerificationsDep, response: Response
) -> dict[str, Any]:
    response.headers["Cache-Control"] = "no-store"
    return await svc.reviewer_view(
        reviewer=principal.subject, may=_organiser_of(principal), verification_id=verification_id
    )


@router.get(
    "/review/verifications/{verification_id}/attachments/{file_id}",
    tags=["review"],
    summary="审核人下载核验附件",
    **FILE,
)
async def review_verification_file(
    verification_id: UUID, file_id: UUID, principal: PrincipalDep, svc: VerificationsDep
) -> StreamingResponse:
    meta, chunks = await svc.reviewer_download(
        reviewer=principal.subject, may=_organiser_of(principal), verification_id=verification_id, file_id=file_id
    )
    return file_download(chunks, filename=meta["filename"], content_type=meta["content_type"], size=meta["size"])
