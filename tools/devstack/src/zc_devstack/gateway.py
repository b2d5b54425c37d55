"""Dev stack: the one-port gateway. Same path layout as the Kubernetes Ingress: /api/<service>/... goes to
that service unchanged, everything else is the web client.

A small reverse proxy on httpx; in Kubernetes the Ingress controller does this job.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from zc_http import ControlCharacterMiddleware

SESSION_COOKIE = "zc_session"
# what the identity bridge needs to judge whether our own pages sent a state-changing request (CSRF)
_ORIGIN_EVIDENCE = {"origin", "sec-fetch-site", "x-requested-with"}

# Hop-by-hop headers (RFC 9110 §7.6.1) are not forwarded.
_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}


_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})


def _problem(request: Request, status: int, detail: str, code: str, field: str | None = None) -> JSONResponse:
    title = {404: "资源不存在", 422: "提交的内容不符合要求", 503: "服务暂不可用"}.get(status, "请求失败")
    body: dict[str, object] = {"type": "about:blank", "title": title, "status": status, "detail": detail, "code": code}
    if field is not None:
        body["field"] = field
    return JSONResponse(
        {**body, "instance": request.url.path}, status_code=status, media_type="application/problem+json"
    )


def _identity_unavailable(request: Request) -> JSONResponse:
    """The bridge down (restarting, its database unavailable) is not "signed out": the visitor is told to try
    again (503) rather than sent on without a token, which every service would answer 401."""
    response = _problem(request, 503, "登录服务暂不可用，请稍后再试", "gateway.identity_unavailable")
    response.headers["Retry-After"] = "2"
    return response


class WebClient(StaticFiles):
    """The built web client (web/dist): its files as they are; a deep link of the single-page app (a path whose
    last part has no file extension, e.g. /centre/applications) gets index.html, and the router shows the page."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            return await super().get_response(path, scope)
        except HTTPException as exc:
            if exc.status_code != 404 or "." in path.rsplit("/", 1)[-1]:
                raise
        return await super().get_response("index.html", scope)


def create_gateway(upstreams: Mapping[str, str], web_dir: Path | None) -> Starlette:
    """`upstreams`: path prefix (e.g. "applications") -> base URL of that service."""
    client_holder: dict[str, httpx.AsyncClient] = {}

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        # One client serves every visitor, so it must keep no cookies: a jar whose policy accepts none (an
        # httpx client stores every Set-Cookie it sees and sends it with later requests of anyone else). The jar
        # itself is passed: httpx copies an httpx.Cookies into a fresh default jar.
        # Only the browser's own Cookie header, forwarded per request, reaches the identity bridge.
        no_cookies = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
        client_holder["c"] = httpx.AsyncClient(
            timeout=httpx.Timeout(60.0, connect=5.0), follow_redirects=False, cookies=no_cookies
        )
        yield
        await client_holder["c"].aclose()

    async def proxy(request: Request) -> Response:
        prefix = request.path_params["service"]
        base = upstreams.get(prefix)
        if base is None:
            return _problem(request, 404, "请求的地址不存在", "http_404")
        # optional whitespace around a value is not part of it (RFC 9110 §5.5), and h11 refuses to send it
        headers = [(k, v.strip(" \t")) for k, v in request.headers.items() if k.lower() not in _HOP]
        if prefix != "identity":
            exchanged = await _session_to_token(request, headers)
            if isinstance(exchanged, Response):  # the bridge refused (a cross-site state change): pass it on
                return exchanged
            headers = exchanged
        client_host = request.client.host if request.client else ""
        headers.append(("x-forwarded-for", client_host))
        headers.append(("x-forwarded-proto", request.url.scheme))
        has_body = "content-length" in request.headers or "transfer-encoding" in request.headers
        try:
            upstream = client_holder["c"].build_request(
                request.method,
                base + request.url.path,
                params=request.query_params.multi_items(),
                # the bytes as they came (Starlette decoded them as Latin-1; httpx would encode str as ASCII)
                headers=[(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers],
                content=request.stream() if has_body else None,  # a stream would go out chunked, even empty
            )
        except (httpx.InvalidURL, UnicodeError, ValueError):
            # the same answer a service gives for a control character in its path
            return _problem(request, 422, "请求地址含有不允许的控制字符", "http.control_character", "path")
        # A request without a body is sent again once if the connection failed before any answer (a kept-alive
        # connection the service had just closed, e.g. after it answered a 500): it can be re-sent as it was.
        # A request with a body cannot (its stream is spent, and the service may have acted on it).
        attempts = 1 if has_body or request.method not in _IDEMPOTENT else 2
        for attempt in range(attempts):
            try:
                resp = await client_holder["c"].send(upstream, stream=True)
                break
            except httpx.LocalProtocolError:  # what h11 will not send (a header it finds malformed)
                return _problem(request, 422, "请求头含有不允许的字符", "http.control_character", "headers")
            except httpx.TransportError:
                if attempt + 1 == attempts:
                    return _problem(request, 503, "服务正在启动或暂不可用，请稍后再试", "gateway.upstream_unavailable")
        out_headers = {k: v for k, v in resp.headers.items() if k.lower() not in _HOP}
        return StreamingResponse(
            resp.aiter_raw(),
            status_code=resp.status_code,
            headers=out_headers,
            background=BackgroundTask(resp.aclose),
        )

    async def _session_to_token(request: Request, headers: list[tuple[str, str]]) -> list[tuple[str, str]] | Response:
        """What the Ingress does with `auth-url`: the session cookie becomes a short-lived bearer token for
        the service, and the cookie itself stays between the browser and the identity bridge. Like
        ingress-nginx, the subrequest carries the original method and URL and the headers that show where the
        request came from, so the bridge can refuse a cross-site state change (its 403 is returned as is)."""
        out = [(k, v) for k, v in headers if k.lower() != "cookie"]
        session = request.cookies.get(SESSION_COOKIE)
        if not session or any(k.lower() == "authorization" for k, _ in headers) or "identity" not in upstreams:
            return out
        subrequest = [
            ("cookie", f"{SESSION_COOKIE}={session}"),
            ("x-original-method", request.method),
            ("x-original-url", str(request.url)),
            *((k, v) for k, v in request.headers.items() if k.lower() in _ORIGIN_EVIDENCE),
        ]
        try:
            authz = upstreams["identity"] + "/api/identity/session/authz"
            as_sent = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in subrequest]  # the bytes as they came
            resp = await client_holder["c"].get(authz, headers=as_sent)
        except httpx.TransportError:
            return _identity_unavailable(request)
        except UnicodeError:
            return out
        if resp.status_code >= 500:
            return _identity_unavailable(request)
        if resp.status_code == 403:
            return Response(resp.content, status_code=403, media_type=resp.headers.get("content-type"))
        if resp.status_code == 200 and resp.headers.get("authorization"):
            out.append(("authorization", resp.headers["authorization"]))
        return out

    routes: list[Route | Mount] = [
        Route(
            "/api/{service}/{rest:path}",
            proxy,
            methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
        ),
    ]
    if web_dir is not None and web_dir.exists():
        routes.append(Mount("/", WebClient(directory=web_dir, html=True)))
    # a control character in the path or query is the same 422 a service gives (a line break would not even
    # match the route)
    return Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(ControlCharacterMiddleware)])
