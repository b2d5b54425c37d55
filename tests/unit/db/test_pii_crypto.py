"""Unit tests, identity-bridge adapters: PII encryption at rest, key rotation, blind index and key-ring parsing."""

from __future__ import annotations

import base64
import os

import pytest

from zc_db.pii import (
    BlindIndex,
    PiiAlgorithmUnavailableError,
    PiiCipher,
    PiiDecryptError,
    PiiKeyError,
    generate_key_spec,
    parse_key_ring,
)

ID = "510104198506035532"
CTX = "user.id_number"
OLD_KEY = bytes(range(32))
NEW_KEY = bytes(range(32, 64))


def _b64(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).rstrip(b"=").decode()


def _cipher(**keys: bytes) -> PiiCipher:
    return PiiCipher(keys or {"k2025b": OLD_KEY}, active_key_id=list(keys or {"k2025b": 0})[-1])


def test_cipher_round_trips_when_plaintext_is_id_number_or_chinese_text() -> None:
    cipher = _cipher()
    assert cipher.algorithm == "AES-256-GCM"
    assert cipher.decrypt(cipher.encrypt(ID, context=CTX), context=CTX) == ID
    assert cipher.decrypt(cipher.encrypt("张三丰", context="user.name"), context="user.name") == "张三丰"
    assert cipher.decrypt(cipher.encrypt("", context=CTX), context=CTX) == ""


def test_encrypt_output_has_documented_layout_when_sealed() -> None:
    blob = _cipher().encrypt(ID, context=CTX)
    assert blob[0] == 0x01
    assert blob[1] == len(b"k2025b")
    assert blob[2:8] == b"k2025b"
    assert len(blob) == 2 + 6 + 12 + len(ID) + 16
    assert ID.encode() not in blob


def test_encrypt_uses_fresh_nonce_when_called_twice_with_same_plaintext() -> None:
    cipher = _cipher()
    first, second = cipher.encrypt(ID, context=CTX), cipher.encrypt(ID, context=CTX)
    assert first != second
    assert first[8:20] != second[8:20]


def test_decrypt_raises_decrypt_error_when_context_differs() -> None:
    cipher = _cipher()
    blob = cipher.encrypt(ID, context=CTX)
    with pytest.raises(PiiDecryptError) as caught:
        cipher.decrypt(blob, context="user.phone")
    assert ID not in str(caught.value)


@pytest.mark.parametrize("position", [0, 1, 7, 8, 19, 20, -1])
def test_decrypt_raises_decrypt_error_when_a_byte_is_tampered(position: int) -> None:
    cipher = PiiCipher({"k2025b": OLD_KEY, "k2025c": NEW_KEY}, active_key_id="k2025b")
    blob = bytearray(cipher.encrypt(ID, context=CTX))
    blob[position] ^= 0x01  # format byte, key-id length, key id, nonce, ciphertext, tag
    with pytest.raises((PiiDecryptError, PiiKeyError)):
        cipher.decrypt(bytes(blob), context=CTX)


def test_decrypt_raises_decrypt_error_when_key_id_swapped_to_another_ring_key() -> None:
    cipher = PiiCipher({"k2025b": OLD_KEY, "k2025c": OLD_KEY}, active_key_id="k2025b")
    blob = cipher.encrypt(ID, context=CTX)
    swapped = blob.replace(b"k2025b", b"k2025c", 1)
    with pytest.raises(PiiDecryptError):
        cipher.decrypt(swapped, context=CTX)


def test_decrypt_raises_decrypt_error_when_blob_truncated_or_not_bytes() -> None:
    cipher = _cipher()
    blob = cipher.encrypt(ID, context=CTX)
    for broken in (b"", b"\x01", blob[:20], blob[:-1]):
        with pytest.raises(PiiDecryptError):
            cipher.decrypt(broken, context=CTX)
    with pytest.raises(PiiDecryptError):
        cipher.decrypt(ID, context=CTX)  # type: ignore[arg-type]


def test_rotation_reencrypts_under_new_key_when_new_active_key_added() -> None:
    old_blob = _cipher(k2025b=OLD_KEY).encrypt(ID, context=CTX)
    rotated_cipher = PiiCipher({"k2025b": OLD_KEY, "k2026a": NEW_KEY}, active_key_id="k2026a")

    assert rotated_cipher.decrypt(old_blob, context=CTX) == ID
    assert rotated_cipher.needs_rotation(old_blob) is True
    assert rotated_cipher.key_id_of(old_blob) == "k2025b"

    new_blob = rotated_cipher.rotate(old_blob, context=CTX)
    assert rotated_cipher.key_id_of(new_blob) == "k2026a"
    assert rotated_cipher.needs_rotation(new_blob) is False
    assert rotated_cipher.rotate(new_blob, context=CTX) == new_blob
    assert PiiCipher({"k2026a": NEW_KEY}, active_key_id="k2026a").decrypt(new_blob, context=CTX) == ID


def test_decrypt_raises_key_error_when_blob_key_removed_from_ring() -> None:
    old_blob = _cipher(k2025b=OLD_KEY).encrypt(ID, context=CTX)
    without_old = PiiCipher({"k2026a": NEW_KEY}, active_key_id="k2026a")
    with pytest.raises(PiiKeyError, match="k2025b"):
        without_old.decrypt(old_blob, context=CTX)
    with pytest.raises(PiiKeyError):
        without_old.rotate(old_blob, context=CTX)


def test_cipher_construction_fails_when_key_ring_invalid() -> None:
    with pytest.raises(PiiKeyError):
        PiiCipher({}, active_key_id="k1")
    with pytest.raises(PiiKeyError, match="'k2'"):
        PiiCipher({"k1": OLD_KEY}, active_key_id="k2")
    with pytest.raises(PiiKeyError) as caught:
        PiiCipher({"k1": OLD_KEY[:16]}, active_key_id="k1")
    assert OLD_KEY[:16].hex() not in str(caught.value)
    with pytest.raises(ValueError):
        PiiCipher({"k1": OLD_KEY}, active_key_id="k1", algorithm="DES")  # type: ignore[arg-type]


def test_cipher_repr_hides_keys_when_printed() -> None:
    text = repr(PiiCipher({"k1": OLD_KEY}, active_key_id="k1"))
    assert "k1" in text
    assert OLD_KEY.hex() not in text
    assert str(OLD_KEY) not in text


def test_sm4_gcm_round_trips_when_supported_by_this_build() -> None:
    # SM4-GCM works in the pinned cryptography/OpenSSL build; if a build lacks it, construction must fail clearly.
    keys = {"sm4a": os.urandom(16)}
    try:
        cipher = PiiCipher(keys, active_key_id="sm4a", algorithm="SM4-GCM")
    except PiiAlgorithmUnavailableError as exc:
        assert "SM4-GCM" in str(exc)
        return
    blob = cipher.encrypt(ID, context=CTX)
    assert blob[0] == 0x02
    assert cipher.decrypt(blob, context=CTX) == ID
    with pytest.raises(PiiDecryptError):
        cipher.decrypt(blob, context="user.phone")
    tampered = bytearray(blob)
    tampered[-1] ^= 0x01
    with pytest.raises(PiiDecryptError):
        cipher.decrypt(bytes(tampered), context=CTX)
    with pytest.raises(PiiDecryptError):
        PiiCipher({"sm4a": OLD_KEY}, active_key_id="sm4a").decrypt(blob, context=CTX)


def test_sm4_gcm_rejects_key_when_not_16_bytes() -> None:
    with pytest.raises(PiiKeyError, match="16 bytes"):
        PiiCipher({"sm4a": OLD_KEY}, active_key_id="sm4a", algorithm="SM4-GCM")


def test_blind_index_is_deterministic_when_same_key_value_and_context() -> None:
    index = BlindIndex(bytes(32))
    first = index.digest(ID, context="id_number")
    assert first == BlindIndex(bytes(32)).digest(ID, context="id_number")
    assert len(first) == 32
    assert index.matches(ID, first, context="id_number")


def test_blind_index_differs_when_context_or_value_differs() -> None:
    index = BlindIndex(bytes(32))
    assert index.digest("13800138000", context="id_number") != index.digest("13800138000", context="phone")
    assert index.digest(ID, context="id_number") != index.digest("11010519491231002X", context="id_number")
    # the context is length-prefixed, so shifting characters between context and value changes the digest
    assert index.digest("bc", context="a") != index.digest("c", context="ab")


def test_blind_index_differs_when_key_differs() -> None:
    assert BlindIndex(bytes(32)).digest(ID, context="id_number") != BlindIndex(b"\x01" * 32).digest(
        ID, context="id_number"
    )


def test_blind_index_supports_sm3_when_requested() -> None:
    sha = BlindIndex(bytes(32)).digest(ID, context="id_number")
    sm3 = BlindIndex(bytes(32), algorithm="HMAC-SM3")
    assert sm3.digest(ID, context="id_number") == sm3.digest(ID, context="id_number")
    assert sm3.digest(ID, context="id_number") != sha


def test_blind_index_rejects_key_when_not_32_bytes() -> None:
    with pytest.raises(PiiKeyError):
        BlindIndex(bytes(16))
    assert "00" not in repr(BlindIndex(bytes(32)))


def test_parse_key_ring_reads_entries_when_spec_well_formed() -> None:
    spec = f"k2026a:{_b64(NEW_KEY)}, k2025b:{base64.urlsafe_b64encode(OLD_KEY).decode()}"
    assert parse_key_ring(spec) == {"k2026a": NEW_KEY, "k2025b": OLD_KEY}
    assert parse_key_ring(f"sm4a:{_b64(OLD_KEY[:16])}", key_size=16) == {"sm4a": OLD_KEY[:16]}


def test_generate_key_spec_round_trips_when_parsed() -> None:
    spec = generate_key_spec("dev1")
    ring = parse_key_ring(spec)
    assert list(ring) == ["dev1"]
    assert len(ring["dev1"]) == 32
    assert generate_key_spec("dev1") != spec
    assert len(parse_key_ring(generate_key_spec("sm4", 16), key_size=16)["sm4"]) == 16


@pytest.mark.parametrize(
    ("spec", "expected_fragment"),
    [
        (f"k2026a:{_b64(NEW_KEY[:16])}", "'k2026a'"),  # wrong length
        (f"k2026a:{_b64(NEW_KEY)},k2025b:{_b64(OLD_KEY + b'xx')}", "'k2025b'"),  # wrong length
        (f"k2026a:{_b64(NEW_KEY)[:-3]}!!!", "'k2026a'"),  # not base64url
        (f"k2026a:{_b64(NEW_KEY)},k2026a:{_b64(OLD_KEY)}", "'k2026a'"),  # duplicate id
        (_b64(NEW_KEY), "#1"),  # no key id at all
        (f"{base64.urlsafe_b64encode(NEW_KEY).decode()}:{_b64(OLD_KEY)}", "#1"),  # a padded key as the id
        (f"k2026a:{_b64(NEW_KEY)},,", "#2"),
        ("", "empty"),
    ],
    ids=["short-key", "long-key", "not-base64url", "duplicate-id", "no-id", "key-as-id", "empty-entry", "empty-spec"],
)
def test_parse_key_ring_error_names_key_id_without_key_material_when_spec_bad(
    spec: str, expected_fragment: str
) -> None:
    with pytest.raises(ValueError) as caught:
        parse_key_ring(spec)
    message = str(caught.value)
    assert expected_fragment in message
    assert caught.value.__cause__ is None
    for key in (NEW_KEY, OLD_KEY):
        encoded = _b64(key)
        assert encoded[:12] not in message
        assert encoded[-12:] not in message
        assert key.hex()[:16] not in message
