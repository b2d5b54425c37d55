"""Adapters: the EC P-256 key that signs access tokens, and its public JWKS (kid = RFC 7638 thumbprint)."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm


def _thumbprint(jwk: dict[str, Any]) -> str:
    members = {k: jwk[k] for k in ("crv", "kty", "x", "y")}
    digest = hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass(frozen=True)
class SigningKeys:
    private_key: ec.EllipticCurvePrivateKey
    kid: str
    jwks: dict[str, Any]

    @classmethod
    def from_pem(cls, pem: bytes) -> SigningKeys:
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ValueError("the token-signing key must be an EC P-256 private key")
        public: dict[str, Any] = json.loads(ECAlgorithm.to_jwk(key.public_key()))
        kid = _thumbprint(public)
        public.update({"kid": kid, "alg": "ES256", "use": "sig"})
        return cls(private_key=key, kid=kid, jwks={"keys": [public]})

    @classmethod
    def from_pem_file(cls, path: Path) -> SigningKeys:
        return cls.from_pem(path.read_bytes())


def generate_pem() -> bytes:
    """A new P-256 key in PKCS#8 PEM (the dev stack makes one on first run)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@dataclass(frozen=True)
class SigningKeyRing:
    """The active key signs; previous keys stay published until every token they signed has expired."""

    active: SigningKeys
    previous: tuple[SigningKeys, ...] = ()

    @property
    def jwks(self) -> dict[str, Any]:
        keys = [self.active.jwks["keys"][0], *(k.jwks["keys"][0] for k in self.previous)]
        return {"keys": keys}

    @classmethod
    def from_files(cls, active: Path, previous: tuple[Path, ...] = ()) -> SigningKeyRing:
        return cls(SigningKeys.from_pem_file(active), tuple(SigningKeys.from_pem_file(p) for p in previous))
