"""Key rotation: personal data re-encrypted under a new PII key; token-signing keys rotated without breaking
tokens already handed out."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text

from identity_bridge.adapters.db.pii_rotation import rotate_pii
from identity_bridge.adapters.signing_keys import generate_pem
from integration.identity.conftest import CSRF, Browser
from zc_auth import StaticJwks, TokenVerifier
from zc_db import create_engine, create_session_factory
from zc_db.pii import PiiCipher, generate_key_spec, parse_key_ring


async def test_pii_rotation_moves_every_value_to_the_new_key(
    running_bridge: Callable[..., Any], identity_db: str
) -> None:
    old, new = generate_key_spec("k1"), generate_key_spec("k2")
    index = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    first: Browser = await running_bridge(dev_login=True, pii_keys=old, pii_active_key="k1", pii_index_key=index)
    assert (await first.post("/api/identity/dev/login/applicant")).status_code == 303
    before = (await first.get("/api/identity/session")).json()

    both = PiiCipher(parse_key_ring(f"{old},{new}"), "k2")
    engine = create_engine(identity_db)
    try:
        assert await rotate_pii(create_session_factory(engine), both) == 2  # ID number and phone
        assert await rotate_pii(create_session_factory(engine), both) == 0  # nothing left: k1 can go
        async with engine.connect() as conn:
            blobs = (await conn.execute(text("SELECT id_number_enc, phone_enc FROM users"))).one()
        assert all(both.key_id_of(b) == "k2" for b in blobs)
    finally:
        await engine.dispose()

    # the same person, served by a bridge that no longer knows k1
    only_new: Browser = await running_bridge(dev_login=True, pii_keys=new, pii_active_key="k2", pii_index_key=index)
    only_new.client.cookies.update(first.client.cookies)
    after = (await only_new.get("/api/identity/session")).json()
    assert after["phone"] == before["phone"] and after["id_number"] == before["id_number"]


async def test_tokens_signed_before_a_signing_key_rotation_still_verify(
    running_bridge: Callable[..., Any], tmp_path: Path
) -> None:
    old_key, new_key = tmp_path / "old.pem", tmp_path / "new.pem"
    old_key.write_bytes(generate_pem())
    new_key.write_bytes(generate_pem())
    before: Browser = await running_bridge(dev_login=True, signing_key_file=old_key)
    await before.post("/api/identity/dev/login/applicant")
    old_token = (await before.post("/api/identity/session/token", headers=CSRF)).json()["access_token"]

    after: Browser = await running_bridge(
        dev_login=True, signing_key_file=new_key, previous_signing_key_files=(old_key,)
    )
    jwks = (await after.get("/api/identity/.well-known/jwks.json")).json()
    assert len(jwks["keys"]) == 2
    verifier = TokenVerifier(issuer="http://127.0.0.1:8000/api/identity", audience="review", jwks=StaticJwks(jwks))
    await verifier.verify(old_token)
    await after.post("/api/identity/dev/login/applicant")
    new_token = (await after.post("/api/identity/session/token", headers=CSRF)).json()["access_token"]
    assert (await verifier.verify(new_token)).subject
