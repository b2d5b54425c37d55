"""HTTP layer, what a request may carry: every body has a ceiling, enforced before and while it streams in,
never after; no control characters in the path or a query value, no NUL in a JSON body."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
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
    (a NUL would otherwise reach PostgreSQL, which refuses it in text). A NUL in a JSON body is refused by
    `JsonNulMiddleware`; other bodies (multipart, form fields) still meet the database's own refusal, the
    safety net (zc_http.problems)."""

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


class JsonNulMiddleware:
    """Refuses a JSON body holding a NUL (\\u0000) in any string, value or object key, before a route sees it,
    naming the first one found by its dotted path (`entries.0.title`, as validation errors name fields):
    PostgreSQL cannot hold a NUL in text or jsonb and would refuse it only at the end, without a field.

    Only bodies FastAPI would read as JSON (`application/json`, `application/*+json`); uploads and every other
    content type pass through unread. The body is buffered to be parsed: this sits inside BodyLimitMiddleware,
    so what is buffered is already bounded by the route's limit (a JSON body is small). A body that does not
    parse is passed on unchanged, for the route's own validation to answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        buffered, complete = 0, False
        try:
            # a JSON body is small; one bigger than that (a route taking an upload labelled as JSON) is not held
            # in memory: it streams on unchecked, its route's own limit and validation apply
            while buffered <= JSON_BODY_LIMIT:
                message = await receive()
                if message["type"] != "http.request":  # the client went away mid-body: no one to answer
                    return
                chunks.append(message.get("body", b""))
                buffered += len(chunks[-1])
                if not message.get("more_body", False):
                    complete = True
                    break
        except HTTPException as exc:  # BodyLimitMiddleware's 413 while streaming, rendered as a route would
            response = problem_response(
                Request(scope),
                status=exc.status_code,
                code=f"http_{exc.status_code}",
                detail=str(exc.detail),
                headers=exc.headers,
            )
            await response(scope, receive, send)
            return
        body = b"".join(chunks)
        field = _nul_in_json(body) if complete else None
        if field is not None:
            response = problem_response(
                Request(scope),
                status=422,
                code="http.control_character",
                detail="提交的内容含有不允许的空字符（\\u0000）",
                extra={"field": field, "errors": [{"field": field, "reason": "含有不允许的空字符"}]},
            )
            await response(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:  # e.g. waiting for http.disconnect
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": not complete}

        await self.app(scope, replay, send)


def _is_json(scope: Scope) -> bool:
    """The content types FastAPI parses as JSON (its default, strict: a body without one is not JSON)."""
    content_type = Headers(scope=scope).get("content-type", "")
    maintype, _, subtype = content_type.split(";", 1)[0].strip().lower().partition("/")
    return maintype == "application" and (subtype == "json" or subtype.endswith("+json"))


def _nul_in_json(body: bytes) -> str | None:
    """The dotted path of the first string (value or key) holding a NUL, "body" for the body itself."""
    # in UTF-8 a NUL can only be written `\u0000` (a raw one does not parse); JSON in UTF-16 or UTF-32 holds NUL
    # bytes anyway. Neither present: no NUL, and no second parse of the body.
    if b"\\u0000" not in body and b"\x00" not in body:
        return None
    try:
        value = json.loads(body)  # as Starlette's Request.json() reads it
    except (ValueError, RecursionError):  # not JSON (or not in a JSON encoding), too deep: the route answers
        return None
    stack: list[tuple[Any, tuple[str, ...]]] = [(value, ())]
    while stack:  # depth first, in document order; a key is looked at before its value
        item, path = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return ".".join(part[:100] for part in path) or "body"
        elif isinstance(item, dict):
            for key, child in reversed(item.items()):
                stack.append((child, (*path, key)))
                stack.append((key, (*path, key)))
        elif isinstance(item, list):
            stack.extend((child, (*path, str(index))) for index, child in reversed(list(enumerate(item))))
    return None
