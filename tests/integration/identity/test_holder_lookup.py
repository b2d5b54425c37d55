"""The bridge answers the certificates service's holder lookup over NATS: the name and the masked ID number
only, audited; an unknown user gets an error, not a guess."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import nats
from sqlalchemy import text

from integration.identity.test_sessions_roles_privacy import dev_browser, user_id
from zc_db import create_engine


async def ask(nats_url: str, who: str) -> dict[str, Any]:
    nc = await nats.connect(nats_url)
    try:
        request = json.dumps({"user_id": who, "requester": "certificates", "purpose": "certificate_issuance"})
        for _ in range(50):  # the bridge subscribes once its NATS connection is up
            try:
                reply = await nc.request("rpc.identity.holder.v1", request.encode(), timeout=0.5)
                return dict(json.loads(reply.data))
            except Exception:  # not subscribed yet: ask again
                continue
        raise AssertionError("no answer from the identity bridge")
    finally:
        await nc.close()


async def test_holder_lookup_answers_masked_and_audits(
    running_bridge: Callable[..., Any], identity_db: str, nats_url: str
) -> None:
    browser = await dev_browser(running_bridge, "applicant")
    who = await user_id(browser)
    answer = await ask(nats_url, who)
    engine = create_engine(identity_db)
    try:
        async with engine.connect() as conn:
            name, last4 = (
                await conn.execute(text("SELECT name, id_number_last4 FROM users WHERE id = :i"), {"i": who})
            ).one()
            audited = (
                await conn.execute(
                    text("SELECT actor, outcome, target FROM audit_log WHERE action = 'holder_lookup' ORDER BY seq")
                )
            ).all()
    finally:
        await engine.dispose()
    assert answer["name"] == name
    assert answer["id_number_masked"].endswith(last4) and set(answer["id_number_masked"][:-4]) == {"*"}
    assert [tuple(a) for a in audited] == [("service:certificates", "success", f"user:{who}")]
    assert await ask(nats_url, str(uuid.uuid4())) == {"error": "not_found"}
