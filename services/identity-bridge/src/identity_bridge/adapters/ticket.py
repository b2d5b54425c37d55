"""Adapters: a ticket-style provincial platform (login -> ticket -> token -> user info), as many provinces use.

The exchange follows the common pattern of 统一身份认证平台 APIs: the browser is sent to the platform's
login page with our service URL; it comes back with a one-time ticket; server-to-server we trade the
ticket (with our service code and password) for an access token, and the token for the user's real-name
information. The service URL carries our `state`, so a ticket is bound to one started login.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import httpx

from identity_bridge.domain.identity import ExternalIdentity, LoginFailedError
from identity_bridge.usecases.ports import LoginResult, LoginStart

log = logging.getLogger("identity_bridge.ticket")
FAILED = "登录失败，请重新登录"


def service_url(redirect_uri: str, state: str) -> str:
    return f"{redirect_uri}?{urlencode({'state': state})}"


class TicketProvider:
    kind = "ticket"

    def __init__(
        self,
        *,
        issuer: str,
        login_url: str,
        register_url: str,
        validate_url: str,
        userinfo_url: str,
        service_code: str,
        service_password: str,
        http: httpx.AsyncClient,
        logout_url: str | None = None,
    ) -> None:
        self.issuer = issuer
        self._login_url = login_url
        self._register_url = register_url
        self._validate_url = validate_url
        self._userinfo_url = userinfo_url
        self._service_code = service_code
        self._service_password = service_password
        self._http = http
        self._logout_url = logout_url

    async def begin(self, redirect_uri: str, *, register: bool = False) -> LoginStart:
        state = secrets.token_urlsafe(32)
        base = self._register_url if register else self._login_url
        url = f"{base}?{urlencode({'service': service_url(redirect_uri, state)})}"
        # no nonce or PKCE in this protocol; the one-time ticket is bound to the service URL instead
        return LoginStart(authorize_url=url, state=state, nonce="-", code_verifier="-")

    async def complete(
        self, params: Mapping[str, str], *, redirect_uri: str, state: str, nonce: str, code_verifier: str
    ) -> LoginResult:
        ticket = params.get("ticket")
        if not ticket:
            raise LoginFailedError(FAILED)
        resp = await self._http.post(
            self._validate_url,
            json={
                "ticket": ticket,
                "service": service_url(redirect_uri, state),
                "servicecode": self._service_code,
                "servicepwd": self._service_password,
            },
            timeout=10,
        )
        body = self._json(resp)
        if resp.status_code != 200 or not body.get("token"):
            log.info("ticket rejected by the platform: %s", body.get("code") or resp.status_code)
            raise LoginFailedError(FAILED)
        info_resp = await self._http.get(
            self._userinfo_url, headers={"Authorization": f"Bearer {body['token']}"}, timeout=10
        )
        info = self._json(info_resp)
        if info_resp.status_code != 200:
            raise LoginFailedError(FAILED)
        try:
            identity = ExternalIdentity(
                issuer=self.issuer,
                subject=str(info["userId"]),
                name=str(info["name"]),
                id_type=str(info.get("certificateType") or "居民身份证"),
                id_number=str(info["certificateNum"]),
                phone=str(info["phone"]) if info.get("phone") else None,
                auth_level=int(info["authLevel"]) if info.get("authLevel") is not None else None,
            )
        except (KeyError, ValueError):
            raise LoginFailedError("身份认证平台未提供实名信息，请先在认证平台完成实名认证") from None
        return LoginResult(identity=identity, id_token=None)

    @staticmethod
    def _json(resp: httpx.Response) -> dict[str, Any]:
        try:
            data = resp.json()
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    async def logout_url(self, *, id_token_hint: str | None, post_logout_redirect_uri: str) -> str | None:
        if not self._logout_url:
            return None
        return f"{self._logout_url}?{urlencode({'service': post_logout_redirect_uri})}"
