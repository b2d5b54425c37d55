"""Session timeouts, role administration with audit, the development login's guard, and no plaintext ID
numbers anywhere the bridge writes."""

from __future__ import annotations

import base64
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from identity_bridge.demo_users import DEMO_COMMITTEE, DEMO_USERS
from identity_bridge.domain.id_number import find_id_numbers
from integration.identity.conftest import CSRF, Browser, count, execute, identity_settings
from integration.identity.test_oidc_login import full_login, op_settings
from support.oidc_op import TEST_ID_NUMBER, OpenIdProvider
from zc_db import create_engine


async def dev_browser(running_bridge: Callable[..., Any], who: str) -> Browser:
    browser: Browser = await running_bridge(dev_login=True)
    r = await browser.post(f"/api/identity/dev/login/{who}")
    assert r.status_code == 303, r.text
    return browser


async def user_id(browser: Browser) -> str:
    return str((await browser.get("/api/identity/session")).json()["user_id"])


@pytest.mark.parametrize(
    ("column", "reason"), [("last_seen_at", "idle_timeout"), ("absolute_expires_at", "absolute_timeout")]
)
async def test_session_ends_when_idle_or_absolute_timeout_passes(
    column: str, reason: str, running_bridge: Callable[..., Any], identity_db: str
) -> None:
    browser = await dev_browser(running_bridge, "applicant")
    assert (await browser.get("/api/identity/session")).status_code == 200
    await execute(identity_db, f"UPDATE sessions SET {column} = now() - interval '9 hours'")
    r = await browser.get("/api/identity/session")
    assert r.status_code == 401 and r.json()["code"] == "identity.no_session"
    assert await count(identity_db, f"SELECT count(*) FROM sessions WHERE end_reason = '{reason}'") == 1
    assert await count(identity_db, "SELECT count(*) FROM outbox WHERE subject = 'identity.session.ended.v1'") == 1


async def test_admin_grants_and_revokes_scoped_roles_and_every_change_is_audited(
    running_bridge: Callable[..., Any], identity_db: str
) -> None:
    applicant = await dev_browser(running_bridge, "applicant")
    target = await user_id(applicant)
    admin = await dev_browser(running_bridge, "admin")
    grant = {"role": "unit_reviewer", "scope_type": "unit", "scope_id": "unit-42"}
    r = await admin.post(f"/api/identity/admin/users/{target}/roles", json=grant, headers=CSRF)
    assert r.status_code == 200, r.text
    assert grant in r.json()["roles"]
    # the grant shows in the person's next token
    assert grant in (await applicant.get("/api/identity/session")).json()["roles"]

    refused = await applicant.post(f"/api/identity/admin/users/{target}/roles", json=grant, headers=CSRF)
    assert refused.status_code == 403
    bad = await admin.post(
        f"/api/identity/admin/users/{target}/roles",
        json={"role": "unit_reviewer", "scope_type": "global", "scope_id": "x"},
        headers=CSRF,
    )
    assert bad.status_code == 422 and bad.json()["field"] == "scope_id"
    for scope in ({"scope_type": "global"}, {"scope_type": "unit", "scope_id": "unit-42"}):  # issue 17 item 2
        unscoped = await admin.post(
            f"/api/identity/admin/users/{target}/roles", json={"role": "authority", **scope}, headers=CSRF
        )
        assert unscoped.status_code == 422 and unscoped.json()["field"] == "scope_type", unscoped.text
    province = {"role": "authority", "scope_type": "region", "scope_id": "510000"}
    assert (await admin.post(f"/api/identity/admin/users/{target}/roles", json=province, headers=CSRF)).is_success
    unknown = await admin.post(
        f"/api/identity/admin/users/{target}/roles", json={"role": "king", "scope_type": "global"}, headers=CSRF
    )
    assert unknown.status_code == 422 and unknown.json()["field"] == "role"
    no_csrf = await admin.post(f"/api/identity/admin/users/{target}/roles", json=grant)
    assert no_csrf.status_code == 403

    r = await admin.client.request("DELETE", f"/api/identity/admin/users/{target}/roles", json=grant, headers=CSRF)
    assert r.status_code == 200 and grant not in r.json()["roles"]
    audited = await count(
        identity_db,
        "SELECT count(*) FROM audit_log WHERE action IN ('role_grant', 'role_revoke') AND outcome='success'",
    )
    assert audited == 3
    assert await count(identity_db, "SELECT count(*) FROM outbox WHERE subject='identity.user.roles_changed.v1'") == 3


async def test_audit_log_is_append_only_and_hash_chained(running_bridge: Callable[..., Any], identity_db: str) -> None:
    await dev_browser(running_bridge, "applicant")
    await dev_browser(running_bridge, "admin")
    engine = create_engine(identity_db)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT prev_hash, hash FROM audit_log ORDER BY seq"))).all()
        assert len(rows) >= 2 and rows[0].prev_hash == b"\x00" * 32
        assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(rows))
        with pytest.raises(Exception, match="append-only"):
            async with engine.begin() as conn:
                await conn.execute(text("UPDATE audit_log SET outcome = 'forged'"))
    finally:
        await engine.dispose()


def test_dev_login_refused_when_env_is_production(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="must not be enabled when ZC_ENV=production"):
        identity_settings(
            tmp_path,
            "postgresql://x@127.0.0.1/x",
            "nats://127.0.0.1:4222",
            env="production",
            dev_login=True,
            cookie_secure=True,
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDENTITY_")}
    key = tmp_path / "k.pem"
    key.write_text("unused")
    env.update(
        {
            "ZC_ENV": "production",
            "IDENTITY_DEV_LOGIN": "true",
            "IDENTITY_DATABASE_URL": "postgresql://x@127.0.0.1/x",
            "IDENTITY_SIGNING_KEY_FILE": str(key),
            "IDENTITY_PII_KEYS": "a:" + "A" * 43,
            "IDENTITY_PII_ACTIVE_KEY": "a",
            "IDENTITY_PII_INDEX_KEY": base64.urlsafe_b64encode(b"0" * 32).decode(),
        }
    )
    r = subprocess.run(
        [sys.executable, "-m", "identity_bridge.main"], env=env, capture_output=True, text=True, timeout=60
    )
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert r.returncode != 0 and len(lines) == 1 and "IDENTITY_DEV_LOGIN must not be enabled" in lines[0]


async def test_dev_login_is_not_there_when_disabled(running_bridge: Callable[..., Any]) -> None:
    browser: Browser = await running_bridge(dev_login=False)
    assert (await browser.get("/api/identity/dev/login")).status_code == 404
    assert (await browser.post("/api/identity/dev/login/admin")).status_code == 404


async def test_login_without_a_provincial_platform_leads_to_the_demo_users_only_in_development(
    running_bridge: Callable[..., Any],
) -> None:
    """`make run` has no provincial platform: 登录 and 注册 open the development login (was a 401)."""
    browser: Browser = await running_bridge(dev_login=True)
    for path in ("/api/identity/login", "/api/identity/register"):
        r = await browser.get(path, params={"return_to": "/me?tab=1"})
        assert r.status_code == 302 and r.headers["location"] == "/api/identity/dev/login?return_to=%2Fme%3Ftab%3D1"
    r = await browser.get("/api/identity/login", params={"return_to": "https://evil.example/"})
    assert r.headers["location"] == "/api/identity/dev/login?return_to=%2F"  # not an open redirect
    closed: Browser = await running_bridge(dev_login=False)
    r = await closed.get("/api/identity/login")
    assert r.status_code == 401 and r.json()["code"] == "identity.login_failed"


async def test_no_plaintext_id_number_in_tables_logs_or_responses(
    op: OpenIdProvider, running_bridge: Callable[..., Any], identity_db: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    seen: list[str] = []
    browser: Browser = await running_bridge(dev_login=True, **op_settings(op))
    seen.append((await full_login(browser, "citizen-1")).text)
    for path in ("/api/identity/session", "/api/identity/session/authz"):
        r = await browser.get(path)
        seen += [r.text, json.dumps(dict(r.headers))]
    token = (await browser.post("/api/identity/session/token", headers=CSRF)).json()["access_token"]
    payload = token.split(".")[1]
    seen.append(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode())
    seen.append((await browser.post("/api/identity/dev/login/applicant")).text)
    seen.append((await browser.get("/api/identity/session")).text)
    seen.append((await browser.post("/api/identity/logout", headers=CSRF)).text)

    engine = create_engine(identity_db)
    try:
        async with engine.connect() as conn:
            tables = (
                (await conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")))
                .scalars()
                .all()
            )
            for table in tables:
                rows = (await conn.execute(text(f'SELECT to_jsonb(t)::text FROM "{table}" t'))).scalars().all()
                seen += rows
                # bytea columns as text too, in case something stored plaintext in a binary column
                seen += [bytes.fromhex(h[2:]).decode("utf-8", "ignore") for r in rows for h in _hex_values(r)]
    finally:
        await engine.dispose()
    seen.append(caplog.text)
    everything = "\n".join(seen)
    assert TEST_ID_NUMBER[-4:] in everything  # the masked form is there ...
    assert find_id_numbers(everything) == []  # ... the number itself is not
    assert await count(identity_db, "SELECT count(*) FROM users") == 2


def _hex_values(row_json: str) -> list[str]:
    return [v for v in json.loads(row_json).values() if isinstance(v, str) and v.startswith("\\x")]


async def test_a_committees_staff_see_its_experts_and_nobody_else_does(
    running_bridge: Callable[..., Any], identity_db: str
) -> None:
    """评审专家库: the names the committee's staff choose the panel from (组织专家评审), including experts who
    never logged in (`make run` registers the demo users at start-up); other people, and the staff of another
    committee, are refused."""
    staff: Browser = await running_bridge(dev_login=True, seed_demo_users=True)
    assert (await staff.post("/api/identity/dev/login/committee_staff")).status_code == 303
    listed = await staff.get(f"/api/identity/committees/{DEMO_COMMITTEE}/experts")
    assert listed.status_code == 200, listed.text
    assert sorted(e["name"] for e in listed.json()["items"]) == sorted(
        u.name for u in DEMO_USERS if u.key.startswith("expert")
    )
    assert await count(identity_db, "SELECT count(*) FROM sessions") == 1  # registered, not logged in
    other_committee = "0193a1f0-0000-7000-8000-0000000000aa"
    assert (await staff.get(f"/api/identity/committees/{other_committee}/experts")).status_code == 403
    applicant = await dev_browser(running_bridge, "applicant")
    assert (await applicant.get(f"/api/identity/committees/{DEMO_COMMITTEE}/experts")).status_code == 403
