"""Adapters: minting the short-lived access tokens other services verify with zc_auth (RFC 9068 at+jwt)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from uuid import UUID

import jwt

from identity_bridge.adapters.signing_keys import SigningKeyRing
from identity_bridge.domain.identity import Grant


class TokenMinter:
    def __init__(self, keys: SigningKeyRing, *, issuer: str, ttl: timedelta) -> None:
        self._keys = keys
        self.issuer = issuer
        self.ttl = ttl

    def mint(
        self, *, user_id: UUID, session_id: UUID | None, grants: Iterable[Grant], audiences: list[str], now: datetime
    ) -> str:
        """The subject is the internal user id: pseudonymous, never the ID number or the provider's id."""
        claims = {
            "iss": self.issuer,
            "sub": str(user_id),
            "aud": audiences,
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int((now + self.ttl).timestamp()),
            "jti": secrets.token_urlsafe(16),
            "roles": [{"role": g.role, "scope_type": g.scope_type, "scope_id": g.scope_id} for g in grants],
        }
        if session_id is not None:
            claims["sid"] = str(session_id)
        active = self._keys.active
        return jwt.encode(claims, active.private_key, algorithm="ES256", headers={"kid": active.kid, "typ": "at+jwt"})
