"""The bridge answers the certificates service's holder lookup over NATS: the name and the masked ID number
only, audited; an unknown user gets an error, not a guess."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import nats
import pytest
from sqlalchemy import text

from identity_bridge.demo_users import DEMO_COMMITTEE
from integration.identity.test_sessions_roles_privacy import dev_browser, user_id
from review.adapters.people import NatsPeopleDirectory
from review.domain.errors import DirectoryUnavailableError
from zc_db import create_engine
from zc_messaging.connection import NatsConnection
from zc_registries import HttpRegistry, NatsPersonResolver, SourceUnavailableError


async def ask(
    nats_url: str,
    who: str,
    subject: str = "rpc.identity.holder.v1",
    requester: str = "certificates",
    purpose: str = "certificate_issuance",
) -> dict[str, Any]:
    nc = await nats.connect(nats_url)
    try:
        request = json.dumps({"user_id": who, "requester": requester, "purpose": purpose})
        for _ in range(50):  # the bridge subscribes once its NATS connection is up
            try:
                reply = await nc.request(subject, request.encode(), timeout=0.5)
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


async def test_person_lookup_gives_the_id_number_to_allowed_services_only_and_audits(
    running_bridge: Callable[..., Any], identity_db: str, nats_url: str
) -> None:
    browser = await dev_browser(running_bridge, "applicant")
    who = await user_id(browser)
    person = "rpc.identity.person.v1"
    answer = await ask(nats_url, who, person, requester="applications", purpose="社保参保信息查询")
    refused = await ask(nats_url, who, person, requester="review", purpose="社保参保信息查询")
    no_purpose = await ask(nats_url, who, person, requester="applications", purpose="")
    engine = create_engine(identity_db)
    try:
        async with engine.connect() as conn:
            last4 = (await conn.execute(text("SELECT id_number_last4 FROM users WHERE id = :i"), {"i": who})).scalar()
            audited = (
                await conn.execute(
                    text(
                        "SELECT actor, outcome, details->>'purpose' FROM audit_log"
                        " WHERE action = 'person_lookup' ORDER BY seq"
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    assert len(answer["id_number"]) == 18 and answer["id_number"].endswith(str(last4)) and answer["name"]
    assert refused == {"error": "forbidden"} and no_purpose == {"error": "forbidden"}
    assert [tuple(a) for a in audited] == [
        ("service:applications", "success", "社保参保信息查询"),
        ("service:review", "refused", "社保参保信息查询"),
        ("service:applications", "refused", ""),
    ]


async def test_the_http_registry_asks_the_source_with_the_id_number_the_bridge_resolved(
    running_bridge: Callable[..., Any], nats_url: str
) -> None:
    browser = await dev_browser(running_bridge, "applicant")
    who = await user_id(browser)
    await ask(nats_url, who)  # the bridge is subscribed
    seen: list[dict[str, Any]] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(200, json={"records": [{"insurance": "企业职工基本养老保险"}]})

    connection = NatsConnection(nats_url, name="applications-test")
    await connection.start()
    try:
        await connection.wait_connected()
        registry = HttpRegistry(
            "http://gateway.test",
            http=httpx.AsyncClient(transport=httpx.MockTransport(gateway)),
            resolver=NatsPersonResolver(connection, requester="applications"),
        )
        records = await registry.social_insurance(who)
        with pytest.raises(SourceUnavailableError):
            await registry.social_insurance(str(uuid.uuid4()))  # nobody: no query goes out
    finally:
        await connection.close()
    assert records == [{"insurance": "企业职工基本养老保险"}]
    assert len(seen) == 1 and len(seen[0]["id_number"]) == 18


async def test_the_bridge_says_which_users_are_experts_of_a_committee(
    running_bridge: Callable[..., Any], nats_url: str
) -> None:
    """What the review asks before a panel is named (issue 17 item 6), through the review's own adapter."""
    expert = await user_id(await dev_browser(running_bridge, "expert"))
    applicant = await user_id(await dev_browser(running_bridge, "applicant"))
    connection = NatsConnection(nats_url, name="review-test")
    await connection.start()
    await connection.wait_connected()
    try:
        directory = NatsPeopleDirectory(connection, timeout=0.5)
        users = [expert, applicant, str(uuid.uuid4()), "not-a-user"]
        for _ in range(50):  # the bridge subscribes once its NATS connection is up
            try:
                held = await directory.holding("expert", "committee", DEMO_COMMITTEE, users)
                break
            except DirectoryUnavailableError:
                continue
        else:
            raise AssertionError("no answer from the identity bridge")
        assert held == {expert}
        assert await directory.holding("expert", "committee", str(uuid.uuid4()), users) == set()
        assert await directory.holding("expert", "global", None, users) == set()  # type: ignore[arg-type]
    finally:
        await connection.close()
