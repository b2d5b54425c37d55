"""DB layer: personal data at rest — AES-256-GCM (or SM4-GCM) column encryption with key rotation and an
HMAC blind index; shared by every service that stores ID or phone numbers."""

from __future__ import annotations

import base64
import binascii
import hmac as std_hmac
import os
import re
import secrets
from collections.abc import Mapping
from typing import Literal

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# Nothing here logs: plaintext, keys and blobs must never reach a log line or an exception message.

CipherAlgorithm = Literal["AES-256-GCM", "SM4-GCM"]
IndexAlgorithm = Literal["HMAC-SHA256", "HMAC-SM3"]

NONCE_SIZE = 12
TAG_SIZE = 16
BLIND_INDEX_KEY_SIZE = 32

# The first byte of a blob: format version 1, one value per algorithm so a blob says how it was sealed.
_FORMAT_BY_ALGORITHM: dict[str, int] = {"AES-256-GCM": 0x01, "SM4-GCM": 0x02}
_KEY_SIZE_BY_ALGORITHM: dict[str, int] = {"AES-256-GCM": 32, "SM4-GCM": 16}
_KEY_ID = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


class PiiCryptoError(Exception):
    """Base of the errors below; messages never contain plaintext or key material."""


class PiiKeyError(PiiCryptoError):
    """A blob names a key id the key ring does not hold (or the key ring is unusable)."""


class PiiDecryptError(PiiCryptoError):
    """A blob is malformed, was tampered with, or is opened under the wrong context."""


class PiiAlgorithmUnavailableError(PiiCryptoError):
    """The requested algorithm is not available in this build of `cryptography` / OpenSSL."""


def _check_key_id(key_id: str) -> None:
    if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
        raise ValueError("PII key id must be 1-64 characters of A-Z a-z 0-9 _ . -")


class PiiCipher:
    """Seals short strings (ID numbers, phone numbers) under the active key; opens blobs under any ring key.

    Blob layout: format byte | key-id length byte | key id (UTF-8) | 12-byte nonce | ciphertext + 16-byte tag.
    The associated data is the header (format byte, key id) followed by the caller's context, so a blob can
    neither be moved to another column/purpose nor have its key id swapped without failing authentication.
    """

    __slots__ = ("_active_key_id", "_algorithm", "_format", "_keys")

    def __init__(
        self, keys: Mapping[str, bytes], active_key_id: str, *, algorithm: CipherAlgorithm = "AES-256-GCM"
    ) -> None:
        if algorithm not in _FORMAT_BY_ALGORITHM:
            raise ValueError(f"unsupported PII cipher algorithm {algorithm!r}; use AES-256-GCM or SM4-GCM")
        if not keys:
            raise PiiKeyError("the PII key ring is empty")
        size = _KEY_SIZE_BY_ALGORITHM[algorithm]
        for key_id, key in keys.items():
            _check_key_id(key_id)
            if not isinstance(key, bytes | bytearray) or len(key) != size:
                raise PiiKeyError(f"PII key {key_id!r} must be {size} bytes for {algorithm}")
        if active_key_id not in keys:
            raise PiiKeyError(f"the active PII key id {active_key_id!r} is not in the key ring")
        if algorithm == "SM4-GCM":
            _ensure_sm4_gcm()
        self._keys = {key_id: bytes(key) for key_id, key in keys.items()}
        self._active_key_id = active_key_id
        self._algorithm: CipherAlgorithm = algorithm
        self._format = _FORMAT_BY_ALGORITHM[algorithm]

    def __repr__(self) -> str:
        return (
            f"PiiCipher(algorithm={self._algorithm!r}, active_key_id={self._active_key_id!r}, keys={len(self._keys)})"
        )

    @property
    def algorithm(self) -> CipherAlgorithm:
        return self._algorithm

    @property
    def active_key_id(self) -> str:
        return self._active_key_id

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(self._keys)

    def encrypt(self, plaintext: str, *, context: str) -> bytes:
        if not context:
            raise ValueError("a PII encryption context is required, e.g. 'user.id_number'")
        header = self._header(self._active_key_id)
        nonce = os.urandom(NONCE_SIZE)
        sealed = self._seal(
            self._keys[self._active_key_id], nonce, plaintext.encode("utf-8"), header + context.encode("utf-8")
        )
        return header + nonce + sealed

    def decrypt(self, blob: bytes, *, context: str) -> str:
        header, key_id, nonce, sealed = self._parse(blob)
        key = self._keys.get(key_id)
        if key is None:
            raise PiiKeyError(f"PII key {key_id!r} is not in the key ring")
        try:
            data = self._open(key, nonce, sealed, header + context.encode("utf-8"))
        except InvalidTag:
            raise PiiDecryptError("PII blob failed authentication (tampered, wrong key or wrong context)") from None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise PiiDecryptError("PII blob does not hold UTF-8 text") from None

    def key_id_of(self, blob: bytes) -> str:
        return self._parse(blob)[1]

    def needs_rotation(self, blob: bytes) -> bool:
        return self.key_id_of(blob) != self._active_key_id

    def rotate(self, blob: bytes, *, context: str) -> bytes:
        """Re-encrypt under the active key; a blob already under it is returned unchanged."""
        if not self.needs_rotation(blob):
            return blob
        return self.encrypt(self.decrypt(blob, context=context), context=context)

    def _header(self, key_id: str) -> bytes:
        raw_id = key_id.encode("utf-8")
        return bytes((self._format, len(raw_id))) + raw_id

    def _parse(self, blob: bytes) -> tuple[bytes, str, bytes, bytes]:
        if not isinstance(blob, bytes | bytearray | memoryview):
            raise PiiDecryptError("a PII blob must be bytes")
        blob = bytes(blob)
        if len(blob) < 2:
            raise PiiDecryptError("PII blob is truncated")
        fmt, id_length = blob[0], blob[1]
        if fmt not in _FORMAT_BY_ALGORITHM.values():
            raise PiiDecryptError("PII blob has an unknown format version")
        if fmt != self._format:
            raise PiiDecryptError(f"PII blob was not sealed with {self._algorithm}")
        header_end = 2 + id_length
        if id_length == 0 or len(blob) < header_end + NONCE_SIZE + TAG_SIZE:
            raise PiiDecryptError("PII blob is truncated")
        try:
            key_id = blob[2:header_end].decode("utf-8")
        except UnicodeDecodeError:
            raise PiiDecryptError("PII blob has a malformed key id") from None
        nonce = blob[header_end : header_end + NONCE_SIZE]
        return blob[:header_end], key_id, nonce, blob[header_end + NONCE_SIZE :]

    def _seal(self, key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
        if self._algorithm == "AES-256-GCM":
            return AESGCM(key).encrypt(nonce, data, aad)
        encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
        encryptor.authenticate_additional_data(aad)
        body = encryptor.update(data) + encryptor.finalize()
        return body + encryptor.tag

    def _open(self, key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
        if self._algorithm == "AES-256-GCM":
            return AESGCM(key).decrypt(nonce, sealed, aad)
        body, tag = sealed[:-TAG_SIZE], sealed[-TAG_SIZE:]
        decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
        decryptor.authenticate_additional_data(aad)
        return decryptor.update(body) + decryptor.finalize()


def _ensure_sm4_gcm() -> None:
    """Run one SM4-GCM round trip so a build without it fails at construction, not on the first write."""
    key, nonce = bytes(16), bytes(NONCE_SIZE)
    try:
        encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
        body = encryptor.update(b"probe") + encryptor.finalize()
        decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, encryptor.tag)).decryptor()
        ok = decryptor.update(body) + decryptor.finalize() == b"probe"
    except (UnsupportedAlgorithm, AttributeError, ValueError, InvalidTag) as exc:
        raise PiiAlgorithmUnavailableError(
            f"SM4-GCM is not available in this cryptography/OpenSSL build ({type(exc).__name__}); use AES-256-GCM"
        ) from None
    if not ok:
        raise PiiAlgorithmUnavailableError("SM4-GCM self-test failed in this cryptography/OpenSSL build")


class BlindIndex:
    """Deterministic keyed digest of a normalised value, for equality lookup and a unique constraint.

    Its key is separate from the encryption keys. The context (e.g. "id_number", "phone") is length-prefixed
    into the MAC input so equal strings in different roles never share a digest.
    """

    __slots__ = ("_algorithm", "_hash", "_key")

    def __init__(self, key: bytes, *, algorithm: IndexAlgorithm = "HMAC-SHA256") -> None:
        if not isinstance(key, bytes | bytearray) or len(key) != BLIND_INDEX_KEY_SIZE:
            raise PiiKeyError(f"the blind-index key must be {BLIND_INDEX_KEY_SIZE} bytes")
        if algorithm == "HMAC-SHA256":
            self._hash: hashes.HashAlgorithm = hashes.SHA256()
        elif algorithm == "HMAC-SM3":
            self._hash = hashes.SM3()
            try:
                crypto_hmac.HMAC(bytes(BLIND_INDEX_KEY_SIZE), self._hash).finalize()
            except UnsupportedAlgorithm:
                raise PiiAlgorithmUnavailableError(
                    "HMAC-SM3 is not available in this cryptography/OpenSSL build; use HMAC-SHA256"
                ) from None
        else:
            raise ValueError(f"unsupported blind-index algorithm {algorithm!r}; use HMAC-SHA256 or HMAC-SM3")
        self._key = bytes(key)
        self._algorithm: IndexAlgorithm = algorithm

    def __repr__(self) -> str:
        return f"BlindIndex(algorithm={self._algorithm!r})"

    @property
    def algorithm(self) -> IndexAlgorithm:
        return self._algorithm

    def digest(self, normalized_value: str, *, context: str) -> bytes:
        if not context:
            raise ValueError("a blind-index context is required, e.g. 'id_number'")
        raw_context = context.encode("utf-8")
        if len(raw_context) > 255:
            raise ValueError("the blind-index context is too long")
        mac = crypto_hmac.HMAC(self._key, self._hash)
        mac.update(bytes((len(raw_context),)) + raw_context + normalized_value.encode("utf-8"))
        return mac.finalize()

    def matches(self, normalized_value: str, digest: bytes, *, context: str) -> bool:
        return std_hmac.compare_digest(self.digest(normalized_value, context=context), digest)


def parse_key_ring(spec: str, *, key_size: int = 32) -> dict[str, bytes]:
    """Parse "kid:<base64url key>,kid2:<base64url key>" (padding optional); errors name the key id, never the key."""
    ring: dict[str, bytes] = {}
    entries = [entry.strip() for entry in spec.split(",")] if spec else []
    if not any(entries):
        raise ValueError("the PII key ring is empty; expected 'key_id:<base64url key>[,...]'")
    for position, entry in enumerate(entries, start=1):
        if not entry:
            raise ValueError(f"PII key ring entry #{position} is empty")
        key_id, sep, encoded = (part.strip() for part in entry.partition(":"))
        if not sep:
            raise ValueError(f"PII key ring entry #{position} is not 'key_id:<base64url key>'")
        if not _KEY_ID.fullmatch(key_id):
            # Do not echo it: a mangled entry may have key material where the id should be.
            raise ValueError(f"PII key ring entry #{position} has an invalid key id (1-64 of A-Z a-z 0-9 _ . -)")
        if key_id in ring:
            raise ValueError(f"PII key id {key_id!r} appears more than once in the key ring")
        key = _decode_base64url(encoded)
        if key is None:
            raise ValueError(f"PII key {key_id!r} is not valid base64url")
        if len(key) != key_size:
            raise ValueError(f"PII key {key_id!r} must decode to {key_size} bytes, got {len(key)}")
        ring[key_id] = key
    return ring


def generate_key_spec(key_id: str, size: int = 32) -> str:
    """A fresh random key as one key-ring entry, "key_id:<base64url without padding>" (for the dev stack)."""
    _check_key_id(key_id)
    if size <= 0:
        raise ValueError("the key size must be positive")
    encoded = base64.urlsafe_b64encode(secrets.token_bytes(size)).rstrip(b"=").decode("ascii")
    return f"{key_id}:{encoded}"


def _decode_base64url(encoded: str) -> bytes | None:
    if not encoded or not re.fullmatch(r"[A-Za-z0-9_\-]+={0,2}", encoded):
        return None
    stripped = encoded.rstrip("=")
    if len(stripped) % 4 == 1:
        return None
    try:
        return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except (binascii.Error, ValueError):
        return None
