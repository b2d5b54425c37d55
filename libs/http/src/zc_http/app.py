"""HTTP layer: the FastAPI app every service starts from (prefix, problems, health, request ids, tracing)."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from zc_http.limits import BodyLimitMiddleware, ControlCharacterMiddleware, JsonNulMiddleware
from zc_http.openapi import document_problems
from zc_http.problems import ProblemMapper, install_problem_handlers
from zc_telemetry import request_id_var

# A readiness check answers "can I serve now?" for one dependency (database, NATS, ...).
ReadinessCheck = Callable[[FastAPI], Awaitable[Mapping[str, bool]]]


class ServiceContainer(Protocol):
    """What the app needs of a service's composition root (its `bootstrap.Container`)."""

    token_verifier: Any

    async def readiness(self) -> Mapping[str, bool]: ...

    async def aclose(self) -> None: ...


def container_lifespan(
    build: Callable[[], Awaitable[ServiceContainer]],
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Build the container at start-up, put it on app.state, close it at shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        container = await build()
        app.state.container = container
        app.state.token_verifier = container.token_verifier
        try:
            yield
        finally:
            await container.aclose()

    return lifespan


async def container_readiness(app: FastAPI) -> Mapping[str, bool]:
    container: ServiceContainer = app_state(app, "container")
    return await container.readiness()


_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Keeps a caller's X-Request-ID when it is well formed, else makes one; echoes it and logs it.

    Plain ASGI (not BaseHTTPMiddleware, which costs a task group and a body stream per request).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get("x-request-id", "")
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        token = request_id_var.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)


def health_router(prefix: str, readiness: ReadinessCheck) -> APIRouter:
    router = APIRouter(prefix=prefix, tags=["health"])

    @router.get("/healthz", summary="存活检查")
    async def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @router.get("/readyz", summary="就绪检查", responses={503: {"description": "依赖不可用"}})
    async def readyz(request: Request) -> JSONResponse:
        checks = dict(await readiness(request.app))
        ready = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not_ready", "checks": checks}, status_code=200 if ready else 503
        )

    return router


def create_service_app(
    *,
    title: str,
    prefix: str,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
    readiness: ReadinessCheck = container_readiness,
    routers: Iterable[APIRouter] = (),
    problem_mappers: Mapping[type[Exception], ProblemMapper] | None = None,
    version: str = "0.1.0",
    body_limits: Sequence[tuple[str, int]] = (),
) -> FastAPI:
    """Everything under `prefix` (the gateway and the Ingress pass paths through unchanged).

    `body_limits`: (path regex, bytes) for routes whose bodies may exceed the JSON limit (uploads, diagrams)."""
    app = FastAPI(
        title=title,
        version=version,
        lifespan=lifespan,
        docs_url=f"{prefix}/docs",
        redoc_url=None,
        openapi_url=f"{prefix}/openapi.json",
    )
    # the last added runs first: the body limit counts while the body streams in, before JSON is buffered
    app.add_middleware(JsonNulMiddleware)
    app.add_middleware(BodyLimitMiddleware, limits=body_limits)
    app.add_middleware(ControlCharacterMiddleware)
    app.add_middleware(RequestIdMiddleware)
    # The client address is the peer's, unless the peer is a proxy we trust (uvicorn's own middleware and its
    # FORWARDED_ALLOW_IPS setting: addresses or networks; the dev gateway is 127.0.0.1, in Kubernetes the
    # ingress controller's pods). A spoofed X-Forwarded-For from anyone else changes nothing.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"))
    install_problem_handlers(app, problem_mappers)
    document_problems(app)
    app.include_router(health_router(prefix, readiness))
    for router in routers:
        app.include_router(router, prefix=prefix)
    instrument_app(app)
    return app


def instrument_app(app: FastAPI) -> None:
    """One server span per request (OpenTelemetry's FastAPI instrumentation), named after the route template
    the router matched instead of a second match of every route before the request is routed."""
    try:
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    except ImportError:  # pragma: no cover
        return
    # the per-message "http receive"/"http send" child spans say nothing a reader needs and cost a span each
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz", exclude_spans=["receive", "send"])
    instrumented = app.build_middleware_stack

    def build_middleware_stack() -> ASGIApp:
        stack = instrumented()
        otel = getattr(stack, "app", None)
        if isinstance(otel, OpenTelemetryMiddleware):  # else a new layout: keep the library's own naming
            otel.default_span_details = _span_details_before_routing
            otel.app = RouteSpanName(otel.app)
        return stack

    app.build_middleware_stack = build_middleware_stack  # type: ignore[method-assign]


def _span_details_before_routing(scope: Scope) -> tuple[str, dict[str, str]]:
    """The span's name until the router has matched: the method alone (the library matched every route here,
    ~4 % of a completion's time in a replica's profile)."""
    from opentelemetry.util.http import sanitize_method

    method = sanitize_method(str(scope.get("method", "")).strip())
    return ("HTTP" if method == "_OTHER" else method), {}


class RouteSpanName:
    """Names the request's server span `METHOD /route/{template}` and sets `http.route` once the router has
    matched (FastAPI leaves the matched route in the scope), as the library's instrumentation does by matching
    every route a second time. Runs inside OpenTelemetry's middleware, when the response starts (the span
    ends with the response's last message).

    The scope holds the route as declared in its router; the template with the prefixes it was included under
    comes from the app's route table, looked up by the route object (a route included twice, or added after
    the lookup was built and still unknown after a rebuild, is matched as the library does)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._templates: dict[int, str | None] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        named = False

        async def send_naming(message: Message) -> None:
            # before the response's first message: the library ends the span with its last one
            nonlocal named
            if not named:
                named = True
                self._name_span(scope, scope.get("route"))
            await send(message)

        try:
            await self.app(scope, receive, send_naming)
        finally:
            if not named:  # nothing sent (an error the outer error middleware answers): the span is still open
                self._name_span(scope, scope.get("route"))

    def _name_span(self, scope: Scope, route: Any) -> None:
        from opentelemetry.trace import get_current_span

        span = get_current_span()
        if not span.is_recording():
            return
        # not routed (a middleware answered first: 401, 413; or no route matched): match as the library does
        template = self._template(scope, route) if route is not None else _matched_route(scope)
        if not template:
            return
        span.set_attribute("http.route", template)
        method = _span_details_before_routing(scope)[0]
        span.update_name(f"{method} {template}" if scope["type"] == "http" else template)

    def _template(self, scope: Scope, route: Any) -> str | None:
        key = id(route)
        if key not in self._templates:
            self._templates = _route_templates(scope["app"].routes)
            self._templates.setdefault(key, None)  # still unknown (mounted elsewhere): match from now on
        template = self._templates[key]
        # included under two prefixes, or not in the table: match as the library does
        return template if template is not None else _matched_route(scope)


def _matched_route(scope: Scope) -> str | None:
    from opentelemetry.instrumentation.fastapi import _get_route_details

    return _get_route_details(scope)


def _route_templates(routes: Sequence[Any]) -> dict[int, str | None]:
    """id(route as declared) -> its full path template; None for a route reachable under several templates."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover - FastAPI < 0.137.2: routes are matchable as they are
        return {id(r): getattr(r, "path", None) for r in routes}
    out: dict[int, str | None] = {}
    for context in iter_route_contexts(routes):
        key = id(context.original_route)
        out[key] = context.path if key not in out else None
    return out


def app_state(app: FastAPI, name: str) -> Any:
    """A value the lifespan put on app.state; a clear error when it is not there yet."""
    try:
        return getattr(app.state, name)
    except AttributeError:
        raise RuntimeError(f"app.state.{name} is not set: the lifespan has not run") from None


def serve_api(service: str, create_app: Callable[[], FastAPI], *, host: str = "0.0.0.0", port: int = 8000) -> None:
    """Process entry point of a service API: settings checked first, then telemetry, JSON logs, uvicorn."""
    import uvicorn

    from zc_telemetry import configure_logging, setup_telemetry

    app = create_app()  # exits with one line if a setting is missing or invalid
    setup_telemetry(service)
    configure_logging(service)
    # proxy headers are read by the app itself (create_service_app), from trusted proxies only
    uvicorn.run(app, host=host, port=port, log_config=None, proxy_headers=False)
