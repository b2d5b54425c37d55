"""Test support: a small ticket-style provincial identity platform (login -> ticket -> token -> user info).

Follows the common shape of 统一身份认证平台 APIs: one-time tickets bound to the service URL they were issued
for, valid 5 minutes; server-to-server validation with a service code and password.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse, RedirectResponse

SERVICE_CODE = "zhicheng"
SERVICE_PASSWORD = "province-secret-0123456789"
TICKET_TTL = 300.0


@dataclass
class ProvinceState:
    users: dict[str, dict[str, Any]]
    clock_offset: float = 0.0
    tickets: dict[str, tuple[str, str, float]] = field(default_factory=dict)  # ticket -> (user, service, issued)
    used: set[str] = field(default_factory=set)
    tokens: dict[str, str] = field(default_factory=dict)

    def now(self) -> float:
        return time.time() + self.clock_offset


def create_fake_province(users: dict[str, dict[str, Any]]) -> FastAPI:
    app = FastAPI()
    state = ProvinceState(users=users)
    app.state.province = state

    @app.get("/sso/login")
    async def login(service: str, user: str | None = None) -> RedirectResponse:
        who = user or next(iter(state.users))
        ticket = "ST-" + secrets.token_urlsafe(16)
        state.tickets[ticket] = (who, service, state.now())
        sep = "&" if "?" in service else "?"
        return RedirectResponse(f"{service}{sep}{urlencode({'ticket': ticket})}", status_code=302)

    @app.post("/ticket/validate")
    async def validate(request: Request) -> JSONResponse:
        body = await request.json()
        if body.get("servicecode") != SERVICE_CODE or body.get("servicepwd") != SERVICE_PASSWORD:
            return JSONResponse({"code": "BAD_CREDENTIALS"}, status_code=401)
        ticket = body.get("ticket", "")
        if ticket not in state.tickets:
            return JSONResponse({"code": "INVALID_TICKET"}, status_code=400)
        if ticket in state.used:
            return JSONResponse({"code": "TICKET_USED"}, status_code=400)
        user, service, issued = state.tickets[ticket]
        state.used.add(ticket)  # single use, whatever the outcome
        if state.now() - issued > TICKET_TTL:
            return JSONResponse({"code": "TICKET_EXPIRED"}, status_code=400)
        if body.get("service") != service:
            return JSONResponse({"code": "SERVICE_MISMATCH"}, status_code=400)
        token = secrets.token_urlsafe(16)
        state.tokens[token] = user
        return JSONResponse({"token": token, "expires_in": 600})

    @app.get("/user/info")
    async def user_info(authorization: str = Header(default="")) -> JSONResponse:
        user = state.tokens.get(authorization.removeprefix("Bearer "))
        if user is None:
            return JSONResponse({"code": "INVALID_TOKEN"}, status_code=401)
        return JSONResponse(state.users[user])

    return app
