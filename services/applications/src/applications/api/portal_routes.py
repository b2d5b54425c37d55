"""API: the portal (首页) — 通知公告, 政策文件, 评审公示 and the 个人操作说明 for everyone; publishing by
administrators and, for their own committee, by those who maintain it (docs/decisions/0020)."""

from __future__ import annotations

from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response

from applications.api.permissions import may_maintain
from applications.api.portal_schemas import (
    GUIDE,
    Article,
    ArticleCreate,
    ArticleEdit,
    ArticlePage,
    Kind,
    ManagedArticle,
)
from applications.domain.committees import Committee
from applications.reference_data import load_personal_guide
from applications.usecases.portal import MayPublish, PortalService
from zc_auth import Principal, PrincipalDep, Role
from zc_http import ForbiddenProblem, PageNumber, PageSize, content_disposition, required_version

router = APIRouter(tags=["portal"])

GUIDE_FILENAME = "个人操作说明.md"


class Container(Protocol):
    portal: PortalService


def service(request: Request) -> PortalService:
    container: Container = request.app.state.container
    return container.portal


ServiceDep = Annotated[PortalService, Depends(service)]


def _publisher(principal: Principal) -> MayPublish:
    """Only administrators and committee staff publish at all; articles of no committee only administrators."""
    if not principal.has_any_role(Role.ADMIN, Role.COMMITTEE_STAFF, Role.COMMITTEE_ORGANISER):
        raise ForbiddenProblem("当前账号无权发布门户内容", code="auth.forbidden")

    def may_publish(committee: Committee | None) -> bool:
        if committee is None:
            return principal.has_role(Role.ADMIN)
        return may_maintain(principal, committee, committee.organiser_id)

    return may_publish


def _actor(principal: Principal) -> str:
    return f"user:{principal.subject}"


# --- for everyone -----------------------------------------------------------------------------------------
@router.get("/portal/articles", summary="通知公告 / 政策文件 / 评审公示（列表）", response_model=ArticlePage)
async def articles(
    svc: ServiceDep,
    kind: Annotated[
        Kind | None, Query(description="类型：notice 通知公告，policy 政策文件，publicity 评审公示")
    ] = None,
    committee_id: Annotated[str | None, Query(min_length=1, max_length=64, description="评委会")] = None,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="评审年度")] = None,
    keyword: Annotated[str | None, Query(min_length=1, max_length=50, description="标题关键字")] = None,
    page: PageNumber = 1,
    size: PageSize = 10,
) -> dict[str, Any]:
    """Published and not withdrawn, newest first. Public."""
    return await svc.articles(kind=kind, committee_id=committee_id, year=year, keyword=keyword, page=page, size=size)


@router.get("/portal/articles/{article_id}", summary="通知公告 / 政策文件 / 评审公示（详情）", response_model=Article)
async def article(article_id: str, svc: ServiceDep) -> dict[str, Any]:
    """Public; a withdrawn article is not found. A 评审公示 shows names masked (张*)."""
    return await svc.article(article_id)


@router.get(
    "/portal/personal-guide",
    summary="下载个人操作说明",
    response_class=Response,
    **GUIDE,
)
async def personal_guide() -> Response:
    """The applicant's guide (填报说明 2: “点击下载个人操作说明”), as a Markdown file. Public."""
    return Response(
        load_personal_guide(),
        media_type="text/markdown; charset=utf-8",
        headers={
            "Content-Disposition": content_disposition(GUIDE_FILENAME),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "public, max-age=3600",
        },
    )


# --- publishing -------------------------------------------------------------------------------------------
@router.post(
    "/portal/articles",
    status_code=201,
    summary="发布通知公告 / 政策文件 / 评审公示（管理员、评委会）",
    response_model=ManagedArticle,
)
async def publish(body: ArticleCreate, principal: PrincipalDep, svc: ServiceDep) -> dict[str, Any]:
    may_publish = _publisher(principal)
    return await svc.publish(
        kind=body.kind,
        title=body.title,
        body=body.body,
        publisher=body.publisher,
        committee_id=body.committee_id,
        year=body.year,
        entries=[e.model_dump() for e in body.entries],
        may_publish=may_publish,
        by=_actor(principal),
    )


@router.put(
    "/portal/articles/{article_id}",
    summary="修改已发布的内容（管理员、评委会）",
    response_model=ManagedArticle,
)
async def revise(
    article_id: str,
    body: ArticleEdit,
    principal: PrincipalDep,
    svc: ServiceDep,
    if_match: Annotated[str | None, Header(description="当前版本号")] = None,
) -> dict[str, Any]:
    may_publish = _publisher(principal)
    version = required_version(if_match, code="portal.version_required")
    return await svc.revise(
        article_id,
        expected_version=version,
        title=body.title,
        body=body.body,
        publisher=body.publisher,
        entries=[e.model_dump() for e in body.entries],
        may_publish=may_publish,
        by=_actor(principal),
    )


@router.post(
    "/portal/articles/{article_id}/withdraw",
    summary="撤回已发布的内容（管理员、评委会）",
    response_model=ManagedArticle,
)
async def withdraw(article_id: str, principal: PrincipalDep, svc: ServiceDep) -> dict[str, Any]:
    """The article leaves the public lists at once; withdrawing it again changes nothing."""
    may_publish = _publisher(principal)
    return await svc.withdraw(article_id, may_publish=may_publish, by=_actor(principal))
