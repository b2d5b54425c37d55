"""The identity bridge against a real OpenID provider (oidc-provider): the code flow with PKCE, and every
way a login must fail without creating a session."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from integration.identity.conftest import CLIENT_ID, CLIENT_SECRET, CSRF, Browser, count, execute
from support.oidc_op import OpenIdProvider, browser_login
from zc_auth import StaticJwks, TokenVerifier

Forge = Callable[[dict[str, Any], dict[str, Any], OpenIdProvider], str]


class TamperingTransport(httpx.AsyncBaseTransport):
    """Real HTTP to the provider, except that the token endpoint's ID token is swapped for a forged one:
    what an attacker between the bridge and a compromised or spoofed provider could present."""

    def __init__(self, op: OpenIdProvider, forge: Forge) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._op, self._forge = op, forge

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if request.method == "POST" and request.url.path.endswith("/token"):
            await response.aread()
            body = json.loads(response.content)
            original = body["id_token"]
            body["id_token"] = self._forge(
                jwt.decode(original, options={"verify_signature": False}), jwt.get_unverified_header(original), self._op
            )
            return httpx.Response(response.status_code, json=body)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def op_settings(op: OpenIdProvider) -> dict[str, Any]:
    return {
        "provider": "oidc",
        "oidc_discovery_url": op.discovery_url,
        "oidc_client_id": CLIENT_ID,
        "oidc_client_secret": CLIENT_SECRET,
    }


def op_private_key(op: OpenIdProvider) -> tuple[Any, str]:
    jwk = op.jwks["keys"][0]
    return jwt.PyJWK(jwk).key, jwk["kid"]


def resign(claims: dict[str, Any], op: OpenIdProvider, **changes: Any) -> str:
    key, kid = op_private_key(op)
    return jwt.encode({**claims, **changes}, key, algorithm="RS256", headers={"kid": kid})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge_none(claims: dict[str, Any], header: dict[str, Any], op: OpenIdProvider) -> str:
    return f"{b64(json.dumps({'alg': 'none', 'kid': header['kid']}).encode())}.{b64(json.dumps(claims).encode())}."


def forge_hs256_with_public_key(claims: dict[str, Any], header: dict[str, Any], op: OpenIdProvider) -> str:
    """The classic key-confusion attack: HMAC keyed with the provider's public RSA key."""
    public_pem = (
        op_private_key(op)[0]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    signing_input = (
        f"{b64(json.dumps({'alg': 'HS256', 'kid': header['kid']}).encode())}.{b64(json.dumps(claims).encode())}"
    )
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def forge_unknown_kid(claims: dict[str, Any], header: dict[str, Any], op: OpenIdProvider) -> str:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims, other, algorithm="RS256", headers={"kid": "not-a-provider-key"})


# forgery -> the reason the bridge logs when it refuses it
EXPECTED_REASON = {
    "wrong_issuer": "InvalidIssuerError",
    "wrong_audience": "InvalidAudienceError",
    "expired_token": "ExpiredSignatureError",
    "alg_none": "disallowed alg 'none'",
    "hs256_with_rsa_public_key": "disallowed alg 'HS256'",
    "unknown_kid": "unknown kid",
}

FORGERIES: dict[str, Forge] = {
    "wrong_issuer": lambda c, h, op: resign(c, op, iss="http://127.0.0.1:1/evil"),
    "wrong_audience": lambda c, h, op: resign(c, op, aud="another-client"),
    "expired_token": lambda c, h, op: resign(c, op, exp=int(time.time()) - 3600, iat=int(time.time()) - 7200),
    "alg_none": forge_none,
    "hs256_with_rsa_public_key": forge_hs256_with_public_key,
    "unknown_kid": forge_unknown_kid,
}


async def start_login(browser: Browser, return_to: str = "/home") -> str:
    r = await browser.get(f"/api/identity/login?return_to={return_to}")
    assert r.status_code == 302, r.text
    return r.headers["location"]


async def provider_login(authorize_url: str, account: str = "citizen-1") -> str:
    def run() -> str:
        with httpx.Client(timeout=10) as c:
            return browser_login(c, authorize_url, account)

    return await asyncio.to_thread(run)


async def full_login(browser: Browser, account: str = "citizen-1") -> httpx.Response:
    return await browser.get(await provider_login(await start_login(browser), account))


def with_query(url: str, **changes: str | None) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    for k, v in changes.items():
        if v is None:
            query.pop(k, None)
        else:
            query[k] = v
    return urlunsplit(parts._replace(query=urlencode(query)))


async def assert_rejected(response: httpx.Response, database_url: str, sessions_before: int = 0) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "identity.login_failed"
    assert "zc_session" not in response.cookies
    assert await count(database_url, "SELECT count(*) FROM sessions") == sessions_before


async def test_code_flow_with_pkce_logs_in_with_masked_profile_and_verifiable_tokens(
    op: OpenIdProvider, running_bridge: Callable[..., Any], identity_db: str
) -> None:
    browser = await running_bridge(**op_settings(op))
    authorize = await start_login(browser)
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["state"][0]) >= 32 and query["nonce"]
    prelogin = browser.client.cookies.get("zc_prelogin")
    done = await browser.get(await provider_login(authorize))
    assert done.status_code == 303 and done.headers["location"] == "/home"
    session_cookie = done.cookies.get("zc_session")
    assert session_cookie and session_cookie != prelogin
    assert "httponly" in done.headers["set-cookie"].lower() and "samesite=lax" in done.headers["set-cookie"].lower()

    profile = (await browser.get("/api/identity/session")).json()
    assert profile["name"] == "*三" and profile["id_number"] == "*****002X" and profile["phone"] == "138****8000"
    assert profile["auth_level"] == 3 and profile["roles"] == [
        {"role": "applicant", "scope_type": "global", "scope_id": None}
    ]
    token = (await browser.post("/api/identity/session/token", headers=CSRF)).json()["access_token"]
    jwks = (await browser.get("/api/identity/.well-known/jwks.json")).json()
    verifier = TokenVerifier(
        issuer="http://127.0.0.1:8000/api/identity", audience="applications", jwks=StaticJwks(jwks)
    )
    principal = await verifier.verify(token)
    assert principal.subject == profile["user_id"]  # pseudonymous: the internal id, not the provider's sub
    assert await count(identity_db, "SELECT count(*) FROM sessions WHERE ended_at IS NULL") == 1


async def test_token_endpoint_requires_csrf_header(op: OpenIdProvider, running_bridge: Callable[..., Any]) -> None:
    browser = await running_bridge(**op_settings(op))
    await full_login(browser)
    r = await browser.post("/api/identity/session/token")
    assert r.status_code == 403 and r.json()["code"] == "identity.csrf_header_missing"


async def test_login_rejected_when_state_is_missing(
    op: OpenIdProvider, running_bridge: Callable[..., Any], identity_db: str
) -> None:
    browser = await running_bridge(**op_settings(op))
    callback = await provider_login(await start_login(browser))
    await assert_rejected(await browser.get(with_query(callback, state=None)), identity_db)


async def test_login_rejected_when_state_is_wrong(
    op: OpenIdProvider, running_bridge: Callable[..., Any], identity_db: str
) -> None:
    browser = await running_bridge(**op_settings(op))
    callback = await provider_login(await start_login(browser))
    await assert_rejected(await browser.get(with_query(callback, state="x" * 43)), identity_db)


async def test_login_rejected_when_callback_comes_from_another_browser(
    op: OpenIdProvider, running_bridge: Callable[..., Any], identity_db: str
) -> None:
    """state is bound to the pre-login cookie: a callback URL stolen from one browser fails in another."""
    browser = await running_bridge(**op_settings(op))
    callback = await provider_login(await start_login(browser))
    browser.client.cookies.clear()
    await assert_rejected(await browser.get(callback), identity_db)


async def test_login_rejected_when_code_is_replayed(
    op: OpenIdProvider, running_bridge: Callable[..., Any], identity_db: str
) -> None:
    browser = await running_bridge(**op_settings(op))
    callback = await provider_login(await start_login(browser))
    assert (await browser.get(callback)).status_code == 303
    # the same callback again: its state is used up
    await assert_rejected(await browser.get(callback), identity_db, sessions_before=1)
    # the old code under a freshly started login: the provider refuses the used code
    fresh = parse_qs(urlsplit(await start_login(browser)).query)["state"][0]
    await assert_rejected(await browser.get(with_query(callback, state=fresh)), identity_db, sessions_before=1)


async def test_login_rejected_when_pkce_verifier_does_not_match(
    op: OpenIdProvider, running_bridge: Callable[..., Any], identity_db: str
) -> None:
    browser = await running_bridge(**op_settings(op))
    authorize = await start_login(browser)
    await execute(identity_db, f"UPDATE login_states SET code_verifier = '{'v' * 64}'")
    await assert_rejected(await browser.get(await provider_login(authorize)), identity_db)


async def test_login_rejected_when_nonce_does_not_match(
    op: OpenIdProvider, running_bridge: Callable[..., Any], identity_db: str
) -> None:
    browser = await running_bridge(**op_settings(op))
    authorize = await start_login(browser)
    await execute(identity_db, "UPDATE login_states SET nonce = 'some-other-nonce'")
    await assert_rejected(await browser.get(await provider_login(authorize)), identity_db)


@pytest.mark.parametrize("forgery", list(FORGERIES))
async def test_login_rejected_when_id_token_is_forged(
    forgery: str,
    op: OpenIdProvider,
    running_bridge: Callable[..., Any],
    identity_db: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    http = httpx.AsyncClient(transport=TamperingTransport(op, FORGERIES[forgery]), timeout=10)
    browser = await running_bridge(http=http, **op_settings(op))
    with caplog.at_level("INFO", logger="identity_bridge.oidc"):
        await assert_rejected(await full_login(browser), identity_db)
    assert EXPECTED_REASON[forgery] in caplog.text
    failures = await count(identity_db, "SELECT count(*) FROM audit_log WHERE action='login' AND outcome='failure'")
    assert failures == 1


async def test_tampering_transport_itself_lets_an_honest_token_through(
    op: OpenIdProvider, running_bridge: Callable[..., Any], identity_db: str
) -> None:
    """Control for the forgery tests: re-signing unchanged claims with the provider's key still logs in."""
    http = httpx.AsyncClient(transport=TamperingTransport(op, lambda c, h, o: resign(c, o)), timeout=10)
    browser = await running_bridge(http=http, **op_settings(op))
    assert (await full_login(browser)).status_code == 303
    assert await count(identity_db, "SELECT count(*) FROM sessions") == 1


async def test_new_login_replaces_the_browsers_previous_session(
    op: OpenIdProvider, running_bridge: Callable[..., Any], identity_db: str
) -> None:
    browser = await running_bridge(**op_settings(op))
    first = (await full_login(browser)).cookies["zc_session"]
    second = (await full_login(browser)).cookies["zc_session"]
    assert first != second
    assert await count(identity_db, "SELECT count(*) FROM sessions WHERE ended_at IS NULL") == 1
    browser.client.cookies.set("zc_session", first)
    assert (await browser.get("/api/identity/session")).status_code == 401


async def test_logout_ends_session_here_and_at_provider_and_announces_it(
    op: OpenIdProvider, running_bridge: Callable[..., Any], identity_db: str
) -> None:
    browser = await running_bridge(**op_settings(op))
    await full_login(browser)
    old_cookie = browser.client.cookies["zc_session"]
    r = await browser.post("/api/identity/logout", headers=CSRF)
    assert r.status_code == 200
    logout_url = r.json()["logout_url"]
    assert logout_url.startswith(op.issuer) and "id_token_hint=" in logout_url
    browser.client.cookies.set("zc_session", old_cookie)
    assert (await browser.get("/api/identity/session")).status_code == 401
    assert (await browser.post("/api/identity/session/token", headers=CSRF)).status_code == 401
    authz = await browser.get("/api/identity/session/authz")
    assert authz.status_code == 200 and "authorization" not in authz.headers
    events = await count(identity_db, "SELECT count(*) FROM outbox WHERE subject = 'identity.session.ended.v1'")
    assert events == 1
    assert await count(identity_db, "SELECT count(*) FROM sessions WHERE provider_id_token_enc IS NOT NULL") == 0


async def test_second_account_with_same_id_number_is_refused(
    op: OpenIdProvider, running_bridge: Callable[..., Any], identity_db: str
) -> None:
    browser = await running_bridge(**op_settings(op))
    await full_login(browser, "citizen-1")
    # the same person arriving under another subject (another account at the platform) is not merged
    await execute(identity_db, "UPDATE users SET subject = 'someone-else'")
    r = await full_login(browser, "citizen-1")
    assert r.status_code == 409 and r.json()["code"] == "identity.id_number_bound_elsewhere"
    assert await count(identity_db, "SELECT count(*) FROM users") == 1


async def test_the_session_acts_for_a_state_change_only_when_our_own_pages_sent_it(
    op: OpenIdProvider, running_bridge: Callable[..., Any]
) -> None:
    """CSRF (issue 17, item 4): the gateway / Ingress asks for a token with the original method, URL and the
    browser's origin headers; a state change without same-origin evidence gets no token but a 403."""
    browser = await running_bridge(**op_settings(op))
    await full_login(browser)
    original = {"X-Original-Method": "POST", "X-Original-URL": "https://zc.example/api/applications/records"}
    refused = [
        {},  # a fetch without our header, no browser evidence
        {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},  # a cross-site form
        {"Origin": "https://zc.example.evil.example", "Sec-Fetch-Site": "cross-site"},
        {"X-Requested-With": "XMLHttpRequest"},
    ]
    for extra in refused:
        r = await browser.get("/api/identity/session/authz", headers={**original, **extra})
        assert r.status_code == 403, extra
        assert "authorization" not in r.headers and r.json()["code"] == "identity.cross_site_request"
    allowed = [
        {"X-Requested-With": "zhicheng"},  # the web client
        {"Sec-Fetch-Site": "same-origin"},
        {"Origin": "https://zc.example"},
    ]
    for extra in allowed:
        r = await browser.get("/api/identity/session/authz", headers={**original, **extra})
        assert r.status_code == 200 and r.headers["authorization"].startswith("Bearer "), extra
    read = await browser.get("/api/identity/session/authz", headers={**original, "X-Original-Method": "GET"})
    assert read.status_code == 200 and "authorization" in read.headers
