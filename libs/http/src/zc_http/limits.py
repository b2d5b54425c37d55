"""HTTP layer, what a request may carry: every body has a ceiling, enforced before and while it streams in,
never after; no control characters in the path or a query value."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zc_http.problems import problem_response

JSON_BODY_LIMIT = 1024 * 1024  # a JSON body (sections, records, decisions) is small; routes may declare more


class BodyLimitMiddleware:
    """Refuses a body over its route's limit: at once when Content-Length says so, else as soon as the bytes
    received pass it (a chunked body is never buffered past the limit). `limits` are (path regex, bytes);
    the first that matches the whole path applies, else `default`. Upload routes declare their ceiling here;
    each kind's own, smaller limit is still counted by the storage while streaming."""

    def __init__(self, app: ASGIApp, *, limits: Sequence[tuple[str, int]] = (), default: int = JSON_BODY_LIMIT):
        self.app = app
        self._limits = [(re.compile(pattern), limit) for pattern, limit in limits]
        self._default = default

    def limit_for(self, path: str) -> int:
        return next((limit for pattern, limit in self._limits if pattern.fullmatch(path)), self._default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(limit)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:  # FastAPI passes an HTTPException raised while reading through unchanged
                    raise HTTPException(413, detail=_detail(limit))
            return message

        await self.app(scope, counted, send)


def _detail(limit: int) -> str:
    return f"请求内容过大（上限 {limit / 1024 / 1024:g} MB）"


def _too_large(limit: int) -> ASGIApp:
    async def respond(scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(Request(scope), status=413, code="http_413", detail=_detail(limit))
        await response(scope, receive, send)

    return respond


# C0 controls and DEL; a query value may still carry a tab or a line break (pasted text), never a NUL
_PATH_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")
_QUERY_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ControlCharacterMiddleware:
    """Refuses control characters in the path and the query string before a route sees them, naming where
    (a NUL would otherwise reach PostgreSQL, which refuses it in text). JSON bodies are checked by their
    models; the database's own refusal stays the safety net (zc_http.problems)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            field = _control_character_at(scope)
            if field is not None:
                response = problem_response(
                    Request(scope),
                    status=422,
                    code="http.control_character",
                    detail="请求含有不允许的控制字符",
                    extra={"field": field},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _control_character_at(scope: Scope) -> str | None:
    if _PATH_CONTROLS.search(str(scope["path"])):
        return "path"
    query = bytes(scope.get("query_string", b"")).decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True, encoding="utf-8", errors="replace"):
        if _PATH_CONTROLS.search(name):
            return "query"
        if _QUERY_CONTROLS.search(value):
            return name[:100]
    return None
