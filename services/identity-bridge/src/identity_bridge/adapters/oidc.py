"""Adapters: the provincial platform as an OpenID Connect provider (code flow, PKCE S256, state, nonce)."""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from identity_bridge.domain.identity import ExternalIdentity, LoginFailedError
from identity_bridge.usecases.ports import LoginResult, LoginStart

log = logging.getLogger("identity_bridge.oidc")

# Asymmetric only: "none" and HS* (where a public key could be abused as the HMAC secret) never pass.
ALLOWED_ALGORITHMS = ("RS256", "PS256", "ES256", "EdDSA")
FAILED = "登录失败，请重新登录"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def pkce_challenge(verifier: str) -> str:
    return _b64url(hashlib.sha256(verifier.encode()).digest())


class OidcProvider:
    kind = "oidc"

    def __init__(
        self,
        *,
        discovery_url: str,
        client_id: str,
        client_secret: str,
        http: httpx.AsyncClient,
        scopes: tuple[str, ...] = ("openid", "profile", "phone", "idcard"),
        register_url: str | None = None,
        leeway_seconds: int = 60,
        metadata_ttl_seconds: int = 3600,
    ) -> None:
        self._discovery_url = discovery_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._http = http
        self._scopes = scopes
        self._register_url = register_url
        self._leeway = leeway_seconds
        self._metadata_ttl = metadata_ttl_seconds
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: dict[str, jwt.PyJWK] = {}

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is None or time.monotonic() - self._metadata_at > self._metadata_ttl:
            resp = await self._http.get(self._discovery_url, timeout=10)
            resp.raise_for_status()
            meta: dict[str, Any] = resp.json()
            expected = self._discovery_url.removesuffix("/.well-known/openid-configuration")
            if meta.get("issuer") != expected:  # exact match (mix-up defence)
                raise LoginFailedError(FAILED)
            if "S256" not in meta.get("code_challenge_methods_supported", ["S256"]):
                raise RuntimeError("the identity provider does not support PKCE S256")
            self._metadata, self._metadata_at = meta, time.monotonic()
        return self._metadata

    async def begin(self, redirect_uri: str, *, register: bool = False) -> LoginStart:
        meta = await self.metadata()
        state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(64)
        query = {
            "response_type": "code",
            "client_id": self._client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(self._scopes),
            "state": state,
            "nonce": nonce,
            "code_challenge": pkce_challenge(verifier),
            "code_challenge_method": "S256",
        }
        if register:  # the manual's 注册: the provider's sign-up page, then back here logged in
            if self._register_url:
                return LoginStart(authorize_url=self._register_url, state=state, nonce=nonce, code_verifier=verifier)
            query["prompt"] = "create"  # OpenID Connect Prompt Create 1.0
        url = f"{meta['authorization_endpoint']}?{urlencode(query)}"
        return LoginStart(authorize_url=url, state=state, nonce=nonce, code_verifier=verifier)

    async def complete(
        self, params: Mapping[str, str], *, redirect_uri: str, state: str, nonce: str, code_verifier: str
    ) -> LoginResult:
        meta = await self.metadata()
        if "error" in params:
            log.info("provider returned an error: %s", params.get("error"))
            raise LoginFailedError(FAILED)
        if "iss" in params and params["iss"] != meta["issuer"]:  # RFC 9207
            raise LoginFailedError(FAILED)
        code = params.get("code")
        if not code:
            raise LoginFailedError(FAILED)
        resp = await self._http.post(
            meta["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
            },
            auth=(self._client_id, self._client_secret),
            timeout=10,
        )
        if resp.status_code != 200:
            log.info("token endpoint refused the code: %s", resp.text[:200])
            raise LoginFailedError(FAILED)
        tokens = resp.json()
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise LoginFailedError(FAILED)
        claims = await self.verify_id_token(id_token, nonce=nonce)
        if not {"name", "id_number"} <= claims.keys() and tokens.get("access_token"):
            claims = {**claims, **await self._userinfo(meta, str(tokens["access_token"]), str(claims["sub"]))}
        return LoginResult(identity=self._identity(meta["issuer"], claims), id_token=id_token)

    async def verify_id_token(self, id_token: str, *, nonce: str) -> dict[str, Any]:
        """OIDC Core 3.1.3.7: signature (allow-listed alg, key from the provider's JWKS), iss, aud, azp,
        exp/iat, nonce."""
        meta = await self.metadata()
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError:
            raise LoginFailedError(FAILED) from None
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ALLOWED_ALGORITHMS:
            log.info("ID token with disallowed alg %r", alg)
            raise LoginFailedError(FAILED)
        key = await self._key(meta, kid)
        if key is None:
            log.info("ID token signed with unknown kid")
            raise LoginFailedError(FAILED)
        try:
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key=key,
                algorithms=[alg],
                audience=self._client_id,
                issuer=meta["issuer"],
                leeway=self._leeway,
                options={"require": ["iss", "aud", "exp", "iat", "sub", "nonce"]},
            )
        except jwt.PyJWTError as exc:
            log.info("ID token rejected: %s", type(exc).__name__)
            raise LoginFailedError(FAILED) from None
        if not secrets.compare_digest(str(claims.get("nonce")), nonce):
            log.info("ID token nonce mismatch")
            raise LoginFailedError(FAILED)
        if "azp" in claims and claims["azp"] != self._client_id:
            raise LoginFailedError(FAILED)
        return claims

    async def _key(self, meta: Mapping[str, Any], kid: str | None) -> jwt.PyJWK | None:
        if kid is None:
            return None
        if kid not in self._keys:  # first use or the provider rotated its keys
            resp = await self._http.get(meta["jwks_uri"], timeout=10)
            resp.raise_for_status()
            keys = {}
            for jwk in resp.json().get("keys", []):
                if jwk.get("kid") and jwk.get("use", "sig") == "sig" and jwk.get("kty") in {"RSA", "EC", "OKP"}:
                    try:
                        keys[jwk["kid"]] = jwt.PyJWK(jwk)
                    except jwt.PyJWTError:
                        continue
            self._keys = keys
        return self._keys.get(kid)

    async def _userinfo(self, meta: Mapping[str, Any], access_token: str, sub: str) -> dict[str, Any]:
        resp = await self._http.get(
            meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {access_token}"}, timeout=10
        )
        if resp.status_code != 200:
            raise LoginFailedError(FAILED)
        info: dict[str, Any] = resp.json()
        if info.get("sub") != sub:  # OIDC Core 5.3.2: userinfo must be about the same subject
            raise LoginFailedError(FAILED)
        return info

    @staticmethod
    def _identity(issuer: str, claims: Mapping[str, Any]) -> ExternalIdentity:
        try:
            return ExternalIdentity(
                issuer=issuer,
                subject=str(claims["sub"]),
                name=str(claims["name"]),
                id_type=str(claims.get("id_type") or "居民身份证"),
                id_number=str(claims["id_number"]),
                phone=str(claims["phone_number"]) if claims.get("phone_number") else None,
                auth_level=int(claims["auth_level"]) if claims.get("auth_level") is not None else None,
            )
        except (KeyError, ValueError):
            raise LoginFailedError("身份认证平台未提供实名信息，请先在认证平台完成实名认证") from None

    async def logout_url(self, *, id_token_hint: str | None, post_logout_redirect_uri: str) -> str | None:
        meta = await self.metadata()
        endpoint = meta.get("end_session_endpoint")
        if not endpoint:
            return None
        query = {"client_id": self._client_id, "post_logout_redirect_uri": post_logout_redirect_uri}
        if id_token_hint:
            query["id_token_hint"] = id_token_hint
        return f"{endpoint}?{urlencode(query)}"
