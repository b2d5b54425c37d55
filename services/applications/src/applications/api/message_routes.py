"""API: 我的消息 (§2.5) — read, unread counts, mark read; units write to applicants."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Protocol

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from applications.api.responses import MarkedRead, MessagePage, MessageSent
from applications.usecases.messages import MessageService
from zc_auth import PrincipalDep, Role, ScopeType
from zc_http import PageNumber, PageSize

router = APIRouter(tags=["messages"])


class Container(Protocol):
    messages: MessageService


def service(request: Request) -> MessageService:
    container: Container = request.app.state.container
    return container.messages


ServiceDep = Annotated[MessageService, Depends(service)]


class UnitMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    application_id: str = Field(min_length=1, max_length=64)
    kind: Literal["unit", "defence", "complaint"] = "unit"
    title: str = Field(min_length=1, max_length=50, description="标题")
    body: str = Field(min_length=1, max_length=500, description="内容")
    sender_name: str = Field(min_length=1, max_length=100, description="发送单位")


@router.get("/messages", summary="我的消息", response_model=MessagePage)
async def inbox(
    principal: PrincipalDep,
    svc: ServiceDep,
    unread_only: bool = False,
    page: PageNumber = 1,
    size: PageSize = 10,
) -> dict[str, Any]:
    return await svc.inbox(principal.subject, unread_only=unread_only, page=page, size=size)


@router.post("/messages/{message_id}/read", summary="标记已读", response_model=MarkedRead)
async def mark_read(message_id: str, principal: PrincipalDep, svc: ServiceDep) -> dict[str, int]:
    return {"marked": await svc.mark_read(principal.subject, message_id)}


@router.post("/messages/read-all", summary="全部标记已读", response_model=MarkedRead)
async def mark_all_read(principal: PrincipalDep, svc: ServiceDep) -> dict[str, int]:
    return {"marked": await svc.mark_read(principal.subject, None)}


@router.post("/units/{unit_id}/messages", status_code=201, summary="单位向申报人发送消息", response_model=MessageSent)
async def send(unit_id: str, body: UnitMessage, principal: PrincipalDep, svc: ServiceDep) -> dict[str, str]:
    await svc.send_from_unit(
        sender_unit=unit_id,
        sender_name=body.sender_name,
        allowed=lambda unit: principal.has_role(Role.UNIT_REVIEWER, ScopeType.UNIT, unit),
        application_id=body.application_id,
        kind=body.kind,
        title=body.title,
        body=body.body,
    )
    return {"status": "sent"}
