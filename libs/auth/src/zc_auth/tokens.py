"""Auth library, adapter: verify identity-bridge access tokens (RFC 9068 JWTs) against a JWKS."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final, Protocol

import httpx
import jwt

from zc_auth.principal import Principal, Role, RoleGrant, ScopeType
from zc_auth.revocation import RevokedSessions
from zc_http.problems import ServiceUnavailableProblem, UnauthorizedProblem

log = logging.getLogger("zc_auth.tokens")

DEFAULT_ALGORITHMS: Final = ("ES256", "EdDSA", "RS256")
ACCESS_TOKEN_TYPES: Final = frozenset({"at+jwt", "application/at+jwt"})  # RFC 9068 §4 allows both spellings
# Real access tokens are a few hundred bytes; refuse huge inputs before doing any parsing work.
MAX_TOKEN_LENGTH: Final = 16 * 1024
# A verified token is remembered this long at most (and never past its expiry): repeat requests skip the
# signature check (a few hundred microseconds each), while a key withdrawn from the JWKS stops working
# within this time. Revocation is still checked on every request.
VERIFIED_TOKEN_SECONDS: Final = 60.0
VERIFIED_TOKEN_ENTRIES: Final = 4096


class InvalidTokenError(UnauthorizedProblem):
    """The access token is missing a required property, badly signed, expired or otherwise unacceptable."""

    code = "auth.invalid_token"

    def __init__(self, detail: str = "登录凭证无效或已过期，请重新登录") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


class JwksUnavailableError(ServiceUnavailableProblem):
    """The signing keys could not be fetched and none are cached, so no token can be checked."""

    code = "auth.jwks_unavailable"

    def __init__(self, detail: str = "身份认证服务暂时不可用，请稍后再试") -> None:
        super().__init__(detail)


class _Rejected(Exception):
    """Internal: a token failed one of our own checks; the message is logged, never shown."""


class JwksSource(Protocol):
    """Where the verifier finds public signing keys by key id."""

    async def get_key(self, kid: str) -> jwt.PyJWK | None:
        """The key with this `kid`, or None if there is none; may raise JwksUnavailableError."""
        ...


def parse_jwks(document: Mapping[str, Any]) -> dict[str, jwt.PyJWK]:
    """Turn a JWKS document into kid -> key, skipping keys that cannot verify our tokens.

    A bad key is skipped rather than failing the whole set so one odd entry cannot lock everybody out.
    """
    raw_keys = document.get("keys")
    if not isinstance(raw_keys, list):
        raise ValueError("JWKS document has no 'keys' list")
    keys: dict[str, jwt.PyJWK] = {}
    for raw in raw_keys:
        if not isinstance(raw, dict):
            log.warning("skipping JWKS entry that is not an object")
            continue
        kid = raw.get("kid")
        if not isinstance(kid, str) or not kid:
            log.warning("skipping JWKS key without a kid")
            continue
        if raw.get("use", "sig") != "sig":
            continue
        # Symmetric keys never belong in a public JWKS; accepting one would invite HMAC forgeries.
        if raw.get("kty") == "oct":
            log.warning("skipping symmetric JWKS key", extra={"kid": kid})
            continue
        try:
            keys[kid] = jwt.PyJWK(raw)
        except (jwt.PyJWTError, KeyError, TypeError, ValueError) as exc:
            log.warning("skipping unusable JWKS key: %s", exc, extra={"kid": kid})
    return keys


class StaticJwks:
    """A fixed key set, for tests and for services configured with their keys inline."""

    def __init__(self, jwks: Mapping[str, Any]) -> None:
        self._keys = parse_jwks(jwks)

    async def get_key(self, kid: str) -> jwt.PyJWK | None:
        return self._keys.get(kid)


class HttpJwks:
    """Keys fetched from the identity bridge's JWKS endpoint and cached.

    Refetches when the cache is older than `ttl_seconds` or an unknown kid appears (key rotation), but at
    most once per `min_refresh_interval` seconds so forged kids cannot trigger a refetch storm. When a
    fetch fails the previously fetched keys stay in use.
    """

    def __init__(
        self,
        url: str,
        http_client: httpx.AsyncClient | None = None,
        ttl_seconds: float = 300,
        min_refresh_interval: float = 10,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._client = http_client
        self._owns_client = http_client is None
        self._ttl = ttl_seconds
        self._min_interval = min_refresh_interval
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] | None = None  # None until the first successful fetch
        self._fetched_at = 0.0
        self._last_attempt: float | None = None
        self._lock = asyncio.Lock()

    async def get_key(self, kid: str) -> jwt.PyJWK | None:
        if self._keys is not None and kid in self._keys and not self._expired():
            return self._keys[kid]
        # Serialise refreshes so a burst of requests causes one fetch, not one each.
        async with self._lock:
            if self._keys is None or kid not in self._keys or self._expired():
                await self._refresh()
            if self._keys is None:
                raise JwksUnavailableError()
            return self._keys.get(kid)

    async def aclose(self) -> None:
        """Close the HTTP client if this source created it."""
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    def _expired(self) -> bool:
        return self._clock() - self._fetched_at >= self._ttl

    async def _refresh(self) -> None:
        now = self._clock()
        if self._last_attempt is not None and now - self._last_attempt < self._min_interval:
            return
        self._last_attempt = now
        try:
            keys = await self._fetch()
        except (httpx.HTTPError, ValueError) as exc:
            if self._keys is None:
                log.warning("JWKS fetch failed and no keys are cached: %s", exc, extra={"url": self._url})
            else:
                log.warning("JWKS fetch failed, keeping cached keys: %s", exc, extra={"url": self._url})
            return
        self._keys = keys
        self._fetched_at = now
        log.info("JWKS refreshed", extra={"url": self._url, "kids": sorted(keys)})

    async def _fetch(self) -> dict[str, jwt.PyJWK]:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(5.0))
        response = await self._client.get(self._url, headers={"Accept": "application/json"})
        response.raise_for_status()
        document = response.json()  # a body that is not JSON raises ValueError
        if not isinstance(document, dict):
            raise ValueError("JWKS document is not a JSON object")
        return parse_jwks(document)


class TokenVerifier:
    """Checks an access token's signature and claims and returns the caller as a Principal."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        jwks: JwksSource,
        algorithms: Sequence[str] = DEFAULT_ALGORITHMS,
        leeway_seconds: float = 30,
        revoked: RevokedSessions | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not issuer or not audience:
            raise ValueError("issuer and audience must be set")
        algs = tuple(algorithms)
        if not algs:
            raise ValueError("at least one signing algorithm must be allowed")
        for alg in algs:
            # Unsigned tokens and shared-secret algorithms are never acceptable for tokens verified by a JWKS.
            if alg.lower() == "none" or alg.upper().startswith("HS"):
                raise ValueError(f"algorithm {alg!r} must not be allowed for access tokens")
        self._issuer = issuer
        self._audience = audience
        self._jwks = jwks
        self._algorithms = algs
        self._leeway = leeway_seconds
        self._revoked = revoked
        self._clock = clock
        # sha256(token) -> (principal, remembered until); oldest first
        self._verified: OrderedDict[bytes, tuple[Principal, float]] = OrderedDict()

    async def verify(self, token: str) -> Principal:
        """The Principal the token describes; raises InvalidTokenError (or JwksUnavailableError)."""
        kid: str | None = None
        try:
            if len(token) > MAX_TOKEN_LENGTH:
                raise _Rejected("token too long")
            digest = hashlib.sha256(token.encode()).digest()
            known = self._verified.get(digest)
            if known is not None:
                principal, until = known
                if self._clock() < until:
                    self._check_session(principal.session_id)
                    return principal
                del self._verified[digest]
            kid, alg = self._check_header(jwt.get_unverified_header(token))
            key = await self._jwks.get_key(kid)
            if key is None:
                raise _Rejected("no key with this kid")
            # PyJWT also binds the key to its algorithm; checking here gives a clearer log line.
            if key.algorithm_name not in self._algorithms or alg != key.algorithm_name:
                raise _Rejected(f"token alg {alg} does not match key alg {key.algorithm_name}")
            claims = jwt.decode(
                token,
                key,
                algorithms=list(self._algorithms),
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "iss", "aud", "sub"], "strict_aud": False},
            )
            principal = self._principal(claims)
            self._remember(digest, principal)
            return principal
        except (jwt.PyJWTError, _Rejected, ValueError) as exc:
            log.info("access token rejected: %s: %s", type(exc).__name__, exc, extra={"kid": kid})
            raise InvalidTokenError() from exc

    def _remember(self, digest: bytes, principal: Principal) -> None:
        until = min(self._clock() + VERIFIED_TOKEN_SECONDS, principal.expires_at.timestamp() + self._leeway)
        self._verified[digest] = (principal, until)
        if len(self._verified) > VERIFIED_TOKEN_ENTRIES:
            self._verified.popitem(last=False)

    def _check_session(self, session_id: str | None) -> None:
        if session_id is not None and self._revoked is not None and self._revoked.is_revoked(session_id):
            raise _Rejected("the session of this token has ended")

    def _check_header(self, header: Mapping[str, Any]) -> tuple[str, str]:
        """The (kid, alg) of an acceptable header; rejects anything else before a key is looked up."""
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() not in ACCESS_TOKEN_TYPES:
            raise _Rejected(f"header typ {typ!r} is not at+jwt")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise _Rejected("header has no kid")
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self._algorithms:
            raise _Rejected(f"header alg {alg!r} is not allowed")
        return kid, alg

    def _principal(self, claims: Mapping[str, Any]) -> Principal:
        subject = claims["sub"]
        if not subject:
            raise _Rejected("empty sub")
        session_id = claims.get("sid")
        if session_id is not None and not isinstance(session_id, str):
            raise _Rejected("sid is not a string")
        self._check_session(session_id)
        exp = claims["exp"]
        # PyJWT coerces with int(); insist on a real number so "exp": "9999999999" is not accepted.
        if isinstance(exp, bool) or not isinstance(exp, int | float):
            raise _Rejected("exp is not a number")
        try:
            expires_at = datetime.fromtimestamp(exp, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise _Rejected("exp is out of range") from None
        return Principal(
            subject=subject,
            session_id=session_id,
            roles=_role_grants(claims.get("roles", [])),
            issuer=claims["iss"],
            expires_at=expires_at,
        )


def _role_grants(raw_roles: object) -> frozenset[RoleGrant]:
    # A missing `roles` claim grants nothing, which is safe; a malformed one means the contract drifted.
    if not isinstance(raw_roles, list):
        raise _Rejected("roles is not a list")
    return frozenset(_role_grant(raw) for raw in raw_roles)


def _role_grant(raw: object) -> RoleGrant:
    if not isinstance(raw, dict):
        raise _Rejected("role grant is not an object")
    scope_id = raw.get("scope_id")
    if scope_id is not None and not isinstance(scope_id, str):
        raise _Rejected("scope_id is not a string")
    # Role(...) / ScopeType(...) raise ValueError for unknown names; the caller turns that into a rejection.
    return RoleGrant(
        role=Role(_str_field(raw, "role")),
        scope_type=ScopeType(_str_field(raw, "scope_type")),
        scope_id=scope_id,
    )


def _str_field(raw: Mapping[str, Any], name: str) -> str:
    value = raw.get(name)
    if not isinstance(value, str):
        raise _Rejected(f"role grant {name} is missing or not a string")
    return value
