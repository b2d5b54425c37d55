"""API: 外省职称确认 (§2.7) and 专技人才统计 (§2.6) — 填写信息, then 提交审核."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Body, Depends, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from applications.api.application_routes import ApplicantDep, applicant
from applications.api.record_schemas import RECORD_KINDS, RECORD_MODELS
from applications.api.responses import (
    FILE,
    Attachment,
    PersonalRecord,
    PersonalRecordDetail,
    PersonalRecordList,
    ReviewedRecord,
)
from applications.usecases.records import RecordService
from zc_auth import Principal, PrincipalDep, Role, ScopeType
from zc_http import (
    NotFoundProblem,
    PageNumber,
    PageSize,
    draft_of,
    file_download,
    received_file,
    required_version,
    upload_body,
)

router = APIRouter(tags=["records"])


class Container(Protocol):
    records: RecordService


def service(request: Request) -> RecordService:
    container: Container = request.app.state.container
    return container.records


ServiceDep = Annotated[RecordService, Depends(service)]


class RecordCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit_id: str = Field(min_length=1, max_length=64, description="现工作单位（已在系统中注册）")


def _kind(kind: str) -> str:
    if kind not in RECORD_KINDS:
        raise NotFoundProblem("请求的地址不存在", code="http_404")
    return kind


def _invalid(exc: ValidationError) -> RequestValidationError:
    return RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()])


# response_model_exclude_unset on the records: a draft's content holds only the fields filled in so far
@router.post(
    "/records/{kind}",
    status_code=201,
    summary="新增（外省职称确认 / 专技人才统计）",
    response_model=PersonalRecord,
    response_model_exclude_unset=True,
)
async def create(kind: str, body: RecordCreate, principal: ApplicantDep, svc: ServiceDep) -> dict[str, Any]:
    return await svc.create(applicant(principal), _kind(kind), body.unit_id)


@router.get("/records/{kind}", summary="我的记录", response_model=PersonalRecordList, response_model_exclude_unset=True)
async def mine(
    kind: str, principal: PrincipalDep, svc: ServiceDep, page: PageNumber = 1, size: PageSize = 10
) -> dict[str, Any]:
    return await svc.mine(principal.subject, _kind(kind), page=page, size=size)


@router.get(
    "/records/{kind}/{rec_id}",
    summary="记录详情",
    response_model=PersonalRecordDetail,
    response_model_exclude_unset=True,
)
async def get(kind: str, rec_id: str, principal: PrincipalDep, svc: ServiceDep) -> dict[str, Any]:
    return await svc.get(principal.subject, _kind(kind), rec_id)


def _save_route(kind: str, title: str, adapter: TypeAdapter[Any], model: type[BaseModel]) -> None:
    """One route per kind, its body the kind's fields, each optional (a draft may be partial)."""

    async def save(
        rec_id: str,
        principal: PrincipalDep,
        svc: ServiceDep,
        content: Any,
        if_match: Annotated[str | None, Header()] = None,
    ) -> dict[str, Any]:
        version = required_version(if_match, code="record.version_required")
        given = content.model_dump(mode="json", exclude_unset=True)
        # every field present must be valid as the full form has it (a null where a value belongs is not)
        try:
            adapter.validate_python(given)
        except ValidationError as exc:
            present = [e for e in exc.errors() if e["type"] != "missing"]
            if present:
                raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in present]) from None
        return await svc.save(principal.subject, kind, rec_id, given, expected_version=version)

    save.__annotations__["content"] = Annotated[draft_of(model), Body(title=title)]  # its own type, not a string
    router.put(
        f"/records/{kind}/{{rec_id}}",
        summary=f"{title}：填写信息（可暂存部分内容）",
        operation_id=f"save_record_{kind}",
        tags=["records"],
        response_model=PersonalRecord,
        response_model_exclude_unset=True,
    )(save)


for _kind_name, (_title, _adapter) in RECORD_KINDS.items():
    _save_route(_kind_name, _title, _adapter, RECORD_MODELS[_kind_name])


@router.post(
    "/records/{kind}/{rec_id}/submit",
    summary="提交审核",
    response_model=PersonalRecord,
    response_model_exclude_unset=True,
)
async def submit(kind: str, rec_id: str, principal: PrincipalDep, svc: ServiceDep) -> dict[str, Any]:
    _, adapter = RECORD_KINDS[_kind(kind)]

    def complete(content: dict[str, Any]) -> None:
        try:
            adapter.validate_python(content)
        except ValidationError as exc:
            raise _invalid(exc) from None

    return await svc.submit(principal.subject, kind, rec_id, complete)


@router.post(
    "/records/{kind}/{rec_id}/photo",
    status_code=201,
    summary="上传照片（1寸白底免冠，JPG/JPEG，≤500KB）",
    response_model=Attachment,
    openapi_extra=upload_body("照片（1寸白底免冠，JPG/JPEG，不超过 500KB）"),
)
async def upload_photo(
    kind: str, rec_id: str, request: Request, principal: PrincipalDep, svc: ServiceDep, filename: str | None = None
) -> dict[str, Any]:
    upload = await received_file(request, filename=filename, default_name="photo.jpg")
    return await svc.upload(
        principal.subject, _kind(kind), rec_id, file_kind="photo", filename=upload.filename, stream=upload.chunks
    )


@router.post(
    "/records/{kind}/{rec_id}/proofs",
    status_code=201,
    summary="上传证明材料（原职称证书等，≤10M）",
    response_model=Attachment,
    openapi_extra=upload_body("证明材料（图片或 PDF，不超过 10M）"),
)
async def upload_proof(
    kind: str, rec_id: str, request: Request, principal: PrincipalDep, svc: ServiceDep, filename: str | None = None
) -> dict[str, Any]:
    upload = await received_file(request, filename=filename)
    return await svc.upload(
        principal.subject, _kind(kind), rec_id, file_kind="proof", filename=upload.filename, stream=upload.chunks
    )


@router.get("/records/{kind}/{rec_id}/attachments/{att_id}", summary="下载附件", **FILE)
async def download(kind: str, rec_id: str, att_id: str, principal: PrincipalDep, svc: ServiceDep) -> StreamingResponse:
    meta, chunks = await svc.download(principal.subject, _kind(kind), rec_id, att_id)
    return file_download(chunks, filename=meta["filename"], content_type=meta["content_type"], size=meta["size"])


@router.delete("/records/{kind}/{rec_id}/attachments/{att_id}", status_code=204, summary="删除附件")
async def remove(kind: str, rec_id: str, att_id: str, principal: PrincipalDep, svc: ServiceDep) -> None:
    await svc.remove_file(principal.subject, _kind(kind), rec_id, att_id)


def _grants(principal: Principal) -> Callable[[str, str, str], bool]:
    """`may(role, scope_type, scope_id)`; an empty scope type means the role in any scope."""
    return lambda role, scope, scope_id: principal.has_role(
        Role(role), ScopeType(scope) if scope else None, scope_id if scope else None
    )


@router.get(
    "/review/records/{rec_id}",
    summary="审核人查看已提交的记录",
    tags=["review"],
    response_model=ReviewedRecord,
    response_model_exclude_unset=True,
)
async def reviewer_view(rec_id: str, principal: PrincipalDep, svc: ServiceDep, response: Response) -> dict[str, Any]:
    response.headers["Cache-Control"] = "no-store"
    return await svc.reviewer_view(reviewer=principal.subject, may=_grants(principal), rec_id=rec_id)


@router.get("/review/records/{rec_id}/attachments/{att_id}", summary="审核人下载记录附件", tags=["review"], **FILE)
async def reviewer_download(rec_id: str, att_id: str, principal: PrincipalDep, svc: ServiceDep) -> StreamingResponse:
    meta, chunks = await svc.reviewer_download(
        reviewer=principal.subject, may=_grants(principal), rec_id=rec_id, att_id=att_id
    )
    return file_download(chunks, filename=meta["filename"], content_type=meta["content_type"], size=meta["size"])
