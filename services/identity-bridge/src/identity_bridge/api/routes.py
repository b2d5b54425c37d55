"""API: login through the provincial platform, the session cookie (BFF), access tokens, roles, dev login."""

from __future__ import annotations

import html
from typing import Annotated, Any, Protocol
from urllib.parse import urlencode, urlsplit
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.security import APIKeyCookie

from identity_bridge.api.schemas import (
    AccessToken,
    ExpertList,
    GrantChange,
    Jwks,
    LogoutResult,
    SessionProfile,
    TokenRequest,
    UserRoles,
)
from identity_bridge.demo_users import DEMO_USERS, demo_user
from identity_bridge.domain.identity import Grant
from identity_bridge.settings import Settings
from identity_bridge.usecases.handlers import IdentityService, SessionView, safe_return_to
from zc_http import ForbiddenProblem, NotFoundProblem, ProblemError, UnauthorizedProblem, problem

SESSION_COOKIE = "zc_session"
PRELOGIN_COOKIE = "zc_prelogin"
PREFIX = "/api/identity"
DEV_WARNING = "以下为演示账号，一键登录，不经过统一身份认证平台。生产环境不可用。"

router = APIRouter()


class Container(Protocol):
    """What the routes need of the composition root (bootstrap.Container satisfies it)."""

    settings: Settings
    identity: IdentityService

    @property
    def jwks(self) -> dict[str, Any]: ...


def container(request: Request) -> Container:
    c: Container = request.app.state.container
    return c


ContainerDep = Annotated[Container, Depends(container)]


def _cookie(response: Response, c: Container, name: str, value: str, *, max_age: int, path: str = "/") -> None:
    response.set_cookie(
        name, value, max_age=max_age, path=path, httponly=True, secure=c.settings.cookie_secure, samesite="lax"
    )


def _no_store(response: Response) -> None:
    response.headers["Cache-Control"] = "no-store"


def require_csrf_header(x_requested_with: Annotated[str | None, Header()] = None) -> None:
    """State changes need a custom header: a cross-site form cannot send one without a CORS preflight."""
    if x_requested_with != "zhicheng":
        raise ForbiddenProblem("请求缺少必要的安全标头", code="identity.csrf_header_missing")


# declares the session cookie in OpenAPI (the documented 401/403); the cookie itself is read below
_SESSION_SCHEME = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="登录后的会话 Cookie")


async def current_session(
    request: Request, c: ContainerDep, _documented: Annotated[str | None, Depends(_SESSION_SCHEME)] = None
) -> SessionView:
    view = await c.identity.resolve_session(request.cookies.get(SESSION_COOKIE))
    if view is None:
        raise UnauthorizedProblem("请先登录", code="identity.no_session")
    return view


SessionDep = Annotated[SessionView, Depends(current_session)]


@router.get("/.well-known/jwks.json", summary="令牌签名公钥", response_model=Jwks)
async def jwks(c: ContainerDep, response: Response) -> dict[str, Any]:
    """Public keys every service uses to verify the access tokens this bridge mints."""
    response.headers["Cache-Control"] = "public, max-age=300"
    return c.jwks


async def _start(c: Container, return_to: str | None, register: bool) -> Response:
    if c.identity.provider is None and c.settings.dev_login:  # `make run`: 登录 leads to the demo users
        query = urlencode({"return_to": safe_return_to(return_to)})
        return RedirectResponse(f"{PREFIX}/dev/login?{query}", status_code=302)
    url, prelogin = await c.identity.start_login(return_to=return_to, register=register)
    response = RedirectResponse(url, status_code=302)
    _cookie(
        response, c, PRELOGIN_COOKIE, prelogin, max_age=c.settings.login_state_minutes * 60, path=f"{PREFIX}/callback"
    )
    _no_store(response)
    return response


_REDIRECTS = {"response_class": RedirectResponse, "status_code": 302}


@router.get("/login", summary="个人登录（跳转统一身份认证平台）", **_REDIRECTS)
async def login(c: ContainerDep, return_to: str | None = None) -> Response:
    return await _start(c, return_to, register=False)


@router.get("/register", summary="注册（跳转统一身份认证平台注册）", **_REDIRECTS)
async def register(c: ContainerDep, return_to: str | None = None) -> Response:
    return await _start(c, return_to, register=True)


@router.get(
    "/callback",
    summary="统一身份认证平台回调",
    response_class=RedirectResponse,
    status_code=303,
    responses={401: problem(401, "登录失败（状态不符、已过期或平台拒绝）")},
)
async def callback(request: Request, c: ContainerDep) -> Response:
    token, return_to = await c.identity.finish_login(
        dict(request.query_params),
        prelogin=request.cookies.get(PRELOGIN_COOKIE),
        previous_session=request.cookies.get(SESSION_COOKIE),
    )
    response = RedirectResponse(return_to, status_code=303)
    response.delete_cookie(PRELOGIN_COOKIE, path=f"{PREFIX}/callback")
    _cookie(response, c, SESSION_COOKIE, token, max_age=c.settings.session_absolute_hours * 3600)
    _no_store(response)
    return response


@router.post(
    "/logout",
    summary="退出登录",
    dependencies=[Depends(require_csrf_header)],
    responses={403: problem(403, "缺少安全标头")},
    response_model=LogoutResult,
)
async def logout(request: Request, c: ContainerDep, response: Response) -> dict[str, object]:
    url = await c.identity.logout(
        request.cookies.get(SESSION_COOKIE), post_logout_redirect_uri=f"{c.settings.public_base_url}/"
    )
    response.delete_cookie(SESSION_COOKIE, path="/")
    _no_store(response)
    return {"logout_url": url}


@router.get("/session", summary="当前登录信息（脱敏）", response_model=SessionProfile)
async def session(view: SessionDep, c: ContainerDep, response: Response) -> dict[str, object]:
    _no_store(response)
    return c.identity.profile(view)


@router.post(
    "/session/token",
    summary="换取访问令牌",
    dependencies=[Depends(require_csrf_header)],
    response_model=AccessToken,
)
async def session_token(
    view: SessionDep, c: ContainerDep, response: Response, body: TokenRequest | None = None
) -> dict[str, object]:
    audiences = list(c.settings.audiences)
    if body and body.audiences:
        unknown = set(body.audiences) - set(audiences)
        if unknown:
            raise ProblemError(
                f"未知的服务：{', '.join(sorted(unknown))}",
                code="identity.unknown_audience",
                field="audiences",
                status=422,
            )
        audiences = body.audiences
    _no_store(response)
    return {
        "access_token": c.identity.access_token(view, audiences),
        "token_type": "Bearer",
        "expires_in": c.settings.access_token_ttl_seconds,
    }


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _same_origin_or_safe(request: Request) -> bool:
    """CSRF: the cookie becomes a token for a state-changing request only with evidence that our own pages sent
    it. The gateway and ingress-nginx pass the original method (`X-Original-Method`) and URL (`X-Original-URL`)
    with the browser's headers. Evidence, any of: the web client's header `X-Requested-With: zhicheng` (a form
    cannot send it, and no CORS preflight is allowed), `Sec-Fetch-Site: same-origin` (set by the browser), or an
    `Origin` equal to the original URL's origin."""
    method = request.headers.get("x-original-method", request.method).upper()
    if method in SAFE_METHODS:
        return True
    if request.headers.get("x-requested-with") == "zhicheng":
        return True
    if request.headers.get("sec-fetch-site") == "same-origin":
        return True
    origin = request.headers.get("origin")
    original = urlsplit(request.headers.get("x-original-url", ""))
    return bool(origin and original.scheme and origin == f"{original.scheme}://{original.netloc}")


@router.get("/session/authz", summary="网关鉴权子请求", include_in_schema=False)
async def session_authz(
    request: Request, c: ContainerDep, authorization: Annotated[str | None, Header()] = None
) -> Response:
    """For the gateway / Ingress `auth-url`: 200, so public routes stay reachable. A valid session cookie
    becomes `Authorization: Bearer …` on the forwarded request (the browser never holds a token), except for a
    state-changing request without same-origin evidence (403: CSRF); a bearer token the caller sent itself is
    echoed back; otherwise no Authorization and the service decides."""
    headers = {"Cache-Control": "no-store"}
    view = await c.identity.resolve_session(request.cookies.get(SESSION_COOKIE))
    if view is not None:
        if not _same_origin_or_safe(request):
            # the cookie would act for a page of another site (a cross-site form, or a script without our header)
            raise ForbiddenProblem("请求来源不明，已拒绝（跨站请求）", code="identity.cross_site_request")
        headers["Authorization"] = f"Bearer {c.identity.access_token(view, list(c.settings.audiences))}"
    elif authorization and authorization.startswith("Bearer "):
        headers["Authorization"] = authorization
    return Response(status_code=200, headers=headers)


# --- the experts a committee may name ------------------------------------------------------------------
@router.get(
    "/committees/{committee_id}/experts", summary="评审专家库（评委会组织专家评审时选择）", response_model=ExpertList
)
async def committee_experts(committee_id: UUID, view: SessionDep, c: ContainerDep) -> dict[str, object]:
    found = await c.identity.committee_experts(view, str(committee_id))
    if found is None:
        raise ForbiddenProblem("只有该评委会的工作人员可以查看其评审专家", code="auth.forbidden")
    return {"items": [{"user_id": str(user_id), "name": name} for user_id, name in found]}


# --- role administration (admins only) ---------------------------------------------------------------
def _require_admin(view: SessionView) -> None:
    if not any(g.role == "admin" for g in view.grants):
        raise ForbiddenProblem("当前账号无权执行此操作", code="auth.forbidden")


@router.get("/admin/users/{user_id}/roles", summary="查询用户角色", response_model=UserRoles)
async def list_roles(user_id: UUID, view: SessionDep, c: ContainerDep) -> dict[str, object]:
    _require_admin(view)
    grants = await c.identity.grants_of(user_id)
    if grants is None:
        raise NotFoundProblem("用户不存在", code="identity.user_not_found")
    return {"user_id": str(user_id), "roles": [g.__dict__ for g in grants]}


@router.post(
    "/admin/users/{user_id}/roles",
    summary="授予角色",
    dependencies=[Depends(require_csrf_header)],
    response_model=UserRoles,
)
async def grant_role(user_id: UUID, body: GrantChange, view: SessionDep, c: ContainerDep) -> dict[str, object]:
    _require_admin(view)
    grant = Grant(body.role, body.scope_type, body.scope_id)
    if not await c.identity.change_grant(actor=view.user.id, user_id=user_id, grant=grant, revoke=False):
        raise NotFoundProblem("用户不存在", code="identity.user_not_found")
    return await list_roles(user_id, view, c)


@router.delete(
    "/admin/users/{user_id}/roles",
    summary="撤销角色",
    dependencies=[Depends(require_csrf_header)],
    response_model=UserRoles,
)
async def revoke_role(user_id: UUID, body: GrantChange, view: SessionDep, c: ContainerDep) -> dict[str, object]:
    _require_admin(view)
    grant = Grant(body.role, body.scope_type, body.scope_id)
    if not await c.identity.change_grant(actor=view.user.id, user_id=user_id, grant=grant, revoke=True):
        raise NotFoundProblem("用户不存在", code="identity.user_not_found")
    return await list_roles(user_id, view, c)


# --- development login ---------------------------------------------------------------------------------
def _dev_enabled(c: Container) -> IdentityService:
    if not c.settings.dev_login:
        raise NotFoundProblem("请求的地址不存在", code="http_404")
    return c.identity


@router.get("/dev/login", summary="开发环境登录", include_in_schema=False)
async def dev_login_page(c: ContainerDep, return_to: str | None = None) -> HTMLResponse:
    _dev_enabled(c)
    back = html.escape(safe_return_to(return_to), quote=True)
    rows = "\n".join(
        f'<li><form method="post" action="{PREFIX}/dev/login/{u.key}?return_to={back}">'
        f"<button>{html.escape(u.label)}</button> <span>{html.escape(u.name[-1:].rjust(len(u.name), '*'))}"
        f"</span></form></li>"
        for u in DEMO_USERS
    )
    page = f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>开发环境登录</title>
<style>body{{font-family:system-ui,"Microsoft YaHei",sans-serif;max-width:40rem;margin:2rem auto}}
.warn{{background:#fde7e9;color:#a4262c;padding:.75rem;border-radius:4px}} li{{margin:.4rem 0;list-style:none}}
button{{min-width:12rem;padding:.4rem}}</style></head><body>
<p class="warn"><strong>仅限开发环境使用</strong>：{DEV_WARNING}</p>
<h1>选择演示账号登录</h1><ul>{rows}</ul></body></html>"""
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


@router.post("/dev/login/{key}", summary="开发环境一键登录", include_in_schema=False)
async def dev_login(key: str, c: ContainerDep, return_to: str | None = None) -> Response:
    identity = _dev_enabled(c)
    user = demo_user(key)
    if user is None:
        raise NotFoundProblem("演示账号不存在", code="identity.demo_user_not_found")
    token = await identity.dev_login(user.identity(), user.grants)
    response = RedirectResponse(safe_return_to(return_to), status_code=303)
    _cookie(response, c, SESSION_COOKIE, token, max_age=c.settings.session_absolute_hours * 3600)
    return response
