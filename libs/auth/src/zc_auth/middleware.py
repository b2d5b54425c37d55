"""Auth library: a request that may carry a body is authenticated before anything reads the body.

FastAPI reads a route's body before it resolves the route's dependencies (the token check among them), so an
anonymous caller could make a service read and parse a large body only to be told 401. This middleware checks
the bearer token first for every method that may carry a body, answers 401 without touching the body, and
leaves the verified principal where `current_principal` finds it (one verification per request).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from zc_auth.deps import VERIFIED_PRINCIPAL, current_principal
from zc_http.problems import ProblemError, render_problem

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class AuthenticateBeforeBody:
    """`public`: path regexes of routes that take a body without a login (none in our services today)."""

    def __init__(self, app: ASGIApp, *, public: Sequence[str] = ()) -> None:
        self.app = app
        self._public = [re.compile(pattern) for pattern in public]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in BODY_METHODS
            or any(p.fullmatch(scope["path"]) for p in self._public)
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope)  # no receive: nothing here can read the body
        try:
            principal = await current_principal(request)
        except ProblemError as exc:
            await render_problem(request, exc)(scope, receive, send)
            return
        scope.setdefault("state", {})[VERIFIED_PRINCIPAL] = principal
        await self.app(scope, receive, send)
