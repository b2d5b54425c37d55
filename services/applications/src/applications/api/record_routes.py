"""API: 外省职称确认 (§2.7) and 专技人才统计 (§2.6) — 填写信息, then 提交审核."""

from __future__ import annotations

from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Body, Depends, Header, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from applications.api.record_schemas import RECORD_KINDS
from applications.usecases.records import RecordService
from zc_auth import PrincipalDep
from zc_http import NotFoundProblem, ProblemError

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


@router.post("/records/{kind}", status_code=201, summary="新增（外省职称确认 / 专技人才统计）")
async def create(kind: str, body: RecordCreate, principal: PrincipalDep, svc: ServiceDep) -> dict[str, Any]:
    return await svc.create(principal.subject, _kind(kind), body.unit_id)


@router.get("/records/{kind}", summary="我的记录")
async def mine(kind: str, principal: PrincipalDep, svc: ServiceDep) -> dict[str, Any]:
    return {"items": await svc.mine(principal.subject, _kind(kind))}


@router.get("/records/{kind}/{rec_id}", summary="记录详情")
async def get(kind: str, rec_id: str, principal: PrincipalDep, svc: ServiceDep) -> dict[str, Any]:
    return await svc.get(principal.subject, _kind(kind), rec_id)


@router.put("/records/{kind}/{rec_id}", summary="填写信息（可暂存部分内容）")
async def save(
    kind: str,
    rec_id: str,
    principal: PrincipalDep,
    svc: ServiceDep,
    content: Annotated[dict[str, Any], Body()],
    if_match: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    _, adapter = RECORD_KINDS[_kind(kind)]
    if if_match is None or not if_match.strip('"').isdigit():
        raise ProblemError(
            "请求须带 If-Match（当前版本号）", status=428, code="record.version_required", field="If-Match"
        )
    # a draft may be partial, but every field it has must be valid
    try:
        adapter.validate_python(content)
    except ValidationError as exc:
        present = [e for e in exc.errors() if e["type"] != "missing"]
        if present:
            raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in present]) from None
    return await svc.save(principal.subject, kind, rec_id, content, expected_version=int(if_match.strip('"')))


@router.post("/records/{kind}/{rec_id}/submit", summary="提交审核")
async def submit(kind: str, rec_id: str, principal: PrincipalDep, svc: ServiceDep) -> dict[str, Any]:
    _, adapter = RECORD_KINDS[_kind(kind)]

    def complete(content: dict[str, Any]) -> None:
        try:
            adapter.validate_python(content)
        except ValidationError as exc:
            raise _invalid(exc) from None

    return await svc.submit(principal.subject, kind, rec_id, complete)
