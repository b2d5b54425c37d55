"""HTTP layer: every request body has a ceiling, enforced before and while it streams in, never after."""

from __future__ import annotations

import re
from collections.abc import Sequence

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
