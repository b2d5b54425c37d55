"""Auth library, test support: a real ES256 key pair minting access tokens like the identity bridge does."""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from zc_auth.principal import Role, RoleGrant, ScopeType

DEFAULT_ISSUER = "https://identity.zhicheng.test"
DEFAULT_AUDIENCE = "zhicheng-api"


class TokenFactory:
    """Signs access tokens with a freshly generated P-256 key; `.jwks` is the matching public key set.

    Pair it with `StaticJwks(factory.jwks)` and a TokenVerifier using `factory.issuer` and `factory.audience`.
    """

    def __init__(
        self, *, issuer: str = DEFAULT_ISSUER, audience: str = DEFAULT_AUDIENCE, kid: str | None = None
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.kid = kid or f"test-{secrets.token_hex(4)}"
        self._private_key = ec.generate_private_key(ec.SECP256R1())

    @property
    def public_jwk(self) -> dict[str, Any]:
        """The public key as a JWK with kid, alg and use."""
        jwk = ECAlgorithm.to_jwk(self._private_key.public_key(), as_dict=True)
        return {**jwk, "kid": self.kid, "alg": "ES256", "use": "sig"}

    @property
    def jwks(self) -> dict[str, Any]:
        """The public JWKS document, as the identity bridge would serve it."""
        return {"keys": [self.public_jwk]}

    @property
    def public_key_pem(self) -> bytes:
        """The public key in PEM form, e.g. to forge an HS256 token with it as the HMAC secret."""
        return self._private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def mint(
        self,
        subject: str,
        roles: Iterable[RoleGrant | Role] = (),
        issuer: str | None = None,
        audience: str | list[str] | None = None,
        ttl: timedelta | float = timedelta(minutes=5),
        *,
        headers: Mapping[str, Any] | None = None,
        **extra_claims: Any,
    ) -> str:
        """A signed access token for `subject`.

        A bare Role in `roles` becomes a global grant. `extra_claims` are added to or override the
        defaults (e.g. `sid=...`, `exp=...`); a claim set to None is left out. `headers` likewise adjusts
        the JOSE header, so tests can produce tokens without `typ` or `kid`.
        """
        now = int(time.time())
        seconds = ttl.total_seconds() if isinstance(ttl, timedelta) else ttl
        claims: dict[str, Any] = {
            "iss": issuer or self.issuer,
            "sub": subject,
            "aud": audience or self.audience,
            "iat": now,
            "exp": now + int(seconds),
            "jti": str(uuid.uuid4()),
            "roles": [_grant_claim(grant) for grant in roles],
            **extra_claims,
        }
        return self.sign({k: v for k, v in claims.items() if v is not None}, headers=headers)

    def sign(self, claims: Mapping[str, Any], *, headers: Mapping[str, Any] | None = None) -> str:
        """Sign `claims` exactly as given, for tests that need a malformed or unusual payload.

        The header is typ "at+jwt" plus this key's kid, adjusted by `headers` (a value of None removes it).
        """
        header: dict[str, Any] = {"typ": "at+jwt", "kid": self.kid, **(headers or {})}
        return jwt.encode(
            dict(claims),
            self._private_key,
            algorithm="ES256",
            # PyJWT drops a falsy typ itself (and would otherwise add "JWT"), so pass typ=None through.
            headers={k: v for k, v in header.items() if v is not None or k == "typ"},
        )


def _grant_claim(grant: RoleGrant | Role) -> dict[str, str | None]:
    if isinstance(grant, Role):
        grant = RoleGrant(grant, ScopeType.GLOBAL, None)
    return {"role": grant.role.value, "scope_type": grant.scope_type.value, "scope_id": grant.scope_id}
