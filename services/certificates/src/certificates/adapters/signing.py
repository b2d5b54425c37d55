"""Adapters: Ed25519 signatures over a certificate's canonical data (cryptography's implementation)."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def generate_key_spec(key_id: str) -> str:
    """`<key id>:<base64 of a new 32-byte private key>` for settings (dev stack, tests)."""
    raw = Ed25519PrivateKey.generate().private_bytes_raw()
    return f"{key_id}:{base64.b64encode(raw).decode()}"


@dataclass
class Signer:
    """Signs with the active key; verifies with any key it knows (older keys stay for old certificates)."""

    key_id: str
    private_key: Ed25519PrivateKey
    public_keys: dict[str, Ed25519PublicKey] = field(default_factory=dict)

    @classmethod
    def from_spec(cls, spec: str, older_public: str = "") -> Signer:
        key_id, _, raw = spec.partition(":")
        if not key_id or not raw:
            raise ValueError("signing key must look like <key id>:<base64 private key>")
        private = Ed25519PrivateKey.from_private_bytes(base64.b64decode(raw))
        keys = {key_id: private.public_key()}
        for item in filter(None, (p.strip() for p in older_public.split(","))):
            kid, _, pub = item.partition(":")
            keys[kid] = Ed25519PublicKey.from_public_bytes(base64.b64decode(pub))
        return cls(key_id, private, keys)

    def sign(self, data: bytes) -> str:
        return base64.b64encode(self.private_key.sign(data)).decode()

    def verify(self, key_id: str, data: bytes, signature: str) -> bool:
        key = self.public_keys.get(key_id)
        if key is None:
            return False
        try:
            key.verify(base64.b64decode(signature), data)
            return True
        except (InvalidSignature, ValueError):
            return False

    def public_key_b64(self) -> str:
        return base64.b64encode(self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
