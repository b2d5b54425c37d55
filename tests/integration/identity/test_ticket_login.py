"""The ticket-style adapter against a small fake provincial platform: a good login, and replayed, expired and
misdirected tickets refused without a session."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from integration.identity.conftest import Browser, count
from support.fake_province import SERVICE_CODE, SERVICE_PASSWORD, create_fake_province

PROVINCE = "http://province.test"
USERS = {
    "u1": {
        "userId": "u1",
        "name": "王五",
        "certificateType": "居民身份证",
        "certificateNum": "510107198802141224",
        "phone": "13700002222",
        "authLevel": 3,
    },
}


@pytest.fixture
def province() -> FastAPI:
    return create_fake_province(USERS)


@pytest.fixture
async def browser(province: FastAPI, running_bridge: Callable[..., Any]) -> Browser:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=province), base_url=PROVINCE)
    b: Browser = await running_bridge(
        http=http,
        provider="ticket",
        ticket_issuer="urn:province:sichuan",
        ticket_login_url=f"{PROVINCE}/sso/login",
        ticket_validate_url=f"{PROVINCE}/ticket/validate",
        ticket_userinfo_url=f"{PROVINCE}/user/info",
        ticket_service_code=SERVICE_CODE,
        ticket_service_password=SERVICE_PASSWORD,
    )
    b.outside = http
    return b


async def get_ticket_callback(browser: Browser) -> str:
    """Start a login at the bridge, 'log in' at the province, return where the province sends us back."""
    start = await browser.get("/api/identity/login?return_to=/mine")
    assert start.status_code == 302
    assert browser.outside is not None
    at_province = await browser.outside.get(start.headers["location"])
    assert at_province.status_code == 302
    return at_province.headers["location"]


async def assert_refused(response: httpx.Response, database_url: str, sessions: int = 0) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "identity.login_failed"
    assert await count(database_url, "SELECT count(*) FROM sessions") == sessions


async def test_ticket_login_creates_session_with_masked_profile(browser: Browser, identity_db: str) -> None:
    done = await browser.get(await get_ticket_callback(browser))
    assert done.status_code == 303 and done.headers["location"] == "/mine"
    profile = (await browser.get("/api/identity/session")).json()
    assert profile["name"] == "*五" and profile["id_number"] == "*****1224" and profile["phone"] == "137****2222"
    assert await count(identity_db, "SELECT count(*) FROM users WHERE issuer = 'urn:province:sichuan'") == 1


async def test_replayed_ticket_is_refused(browser: Browser, identity_db: str, caplog: pytest.LogCaptureFixture) -> None:
    callback = await get_ticket_callback(browser)
    assert (await browser.get(callback)).status_code == 303
    ticket = parse_qs(urlsplit(callback).query)["ticket"][0]
    # a new login's state with the old ticket: the platform says it is used (and bound to another service URL)
    fresh = await browser.get("/api/identity/login")
    service = parse_qs(urlsplit(fresh.headers["location"]).query)["service"][0]
    replay = f"{service}&ticket={ticket}"
    with caplog.at_level("INFO", logger="identity_bridge.ticket"):
        await assert_refused(await browser.get(replay), identity_db, sessions=1)
    assert "TICKET_USED" in caplog.text


async def test_expired_ticket_is_refused(
    browser: Browser, province: FastAPI, identity_db: str, caplog: pytest.LogCaptureFixture
) -> None:
    callback = await get_ticket_callback(browser)
    province.state.province.clock_offset = 301  # tickets live 5 minutes
    with caplog.at_level("INFO", logger="identity_bridge.ticket"):
        await assert_refused(await browser.get(callback), identity_db)
    assert "TICKET_EXPIRED" in caplog.text


async def test_ticket_for_another_service_is_refused(
    browser: Browser, identity_db: str, caplog: pytest.LogCaptureFixture
) -> None:
    first = await get_ticket_callback(browser)  # ticket issued for login A's service URL
    second = await get_ticket_callback(browser)  # login B
    ticket_a = parse_qs(urlsplit(first).query)["ticket"][0]
    state_b = parse_qs(urlsplit(second).query)["state"][0]
    with caplog.at_level("INFO", logger="identity_bridge.ticket"):
        await assert_refused(
            await browser.get(f"/api/identity/callback?state={state_b}&ticket={ticket_a}"), identity_db
        )
    assert "SERVICE_MISMATCH" in caplog.text


async def test_missing_ticket_is_refused(browser: Browser, identity_db: str) -> None:
    callback = await get_ticket_callback(browser)
    state = parse_qs(urlsplit(callback).query)["state"][0]
    await assert_refused(await browser.get(f"/api/identity/callback?state={state}"), identity_db)
