"""Integration test (harness): the loopback OpenID Provider runs a real OIDC code flow + PKCE, via httpx + pyjwt."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
import pytest

from support.oidc_op import TEST_ID_NUMBER, TEST_PHONE, OpenIdProvider, browser_login, browser_logout

CLIENT_ID = "identity-bridge-test"
CLIENT_SECRET = "identity-bridge-test-secret-0123456789"
POST_CLIENT_ID = "identity-bridge-post"
POST_CLIENT_SECRET = "identity-bridge-post-secret-0123456789"
REDIRECT_URI = "http://127.0.0.1:18080/auth/callback"
POST_LOGOUT_URI = "http://127.0.0.1:18080/auth/logged-out"
ACCOUNT = "citizen-1"
ACCOUNT_CLAIMS = {
    "name": "张三",
    "id_type": "居民身份证",
    "id_number": TEST_ID_NUMBER,
    "phone_number": TEST_PHONE,
    "auth_level": 3,
}
SCOPE = "openid profile phone idcard"


@pytest.fixture(scope="module")
def op() -> Iterator[OpenIdProvider]:
    clients = [
        {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [REDIRECT_URI],
            "post_logout_redirect_uris": [POST_LOGOUT_URI],
            "token_endpoint_auth_method": "client_secret_basic",
        },
        {
            "client_id": POST_CLIENT_ID,
            "client_secret": POST_CLIENT_SECRET,
            "redirect_uris": [REDIRECT_URI],
            "post_logout_redirect_uris": [POST_LOGOUT_URI],
            "token_endpoint_auth_method": "client_secret_post",
        },
    ]
    with OpenIdProvider(clients=clients, accounts={ACCOUNT: ACCOUNT_CLAIMS}) as provider:
        yield provider


@pytest.fixture(scope="module")
def discovery(op: OpenIdProvider) -> dict[str, Any]:
    response = httpx.get(op.discovery_url, timeout=10)
    response.raise_for_status()
    document: dict[str, Any] = response.json()
    return document


@pytest.fixture
def browser() -> Iterator[httpx.Client]:
    with httpx.Client(follow_redirects=False, timeout=10) as client:
        yield client


def _pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _authorize_url(discovery: dict[str, Any], client_id: str = CLIENT_ID, **params: str) -> str:
    query = {"client_id": client_id, "response_type": "code", "redirect_uri": REDIRECT_URI, "scope": SCOPE, **params}
    return f"{discovery['authorization_endpoint']}?{urlencode(query)}"


def _callback_params(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == REDIRECT_URI, url
    return {k: v[0] for k, v in parse_qs(parts.query).items()}


def _code_flow(discovery: dict[str, Any], browser: httpx.Client, client_id: str = CLIENT_ID) -> dict[str, str]:
    verifier, challenge = _pkce_pair()
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    url = _authorize_url(
        discovery, client_id, state=state, nonce=nonce, code_challenge=challenge, code_challenge_method="S256"
    )
    params = _callback_params(browser_login(browser, url, ACCOUNT))
    assert params.get("state") == state, params
    assert "code" in params, params
    return {"code": params["code"], "verifier": verifier, "nonce": nonce, "iss": params.get("iss", "")}


def _redeem(discovery: dict[str, Any], code: str, verifier: str) -> httpx.Response:
    return httpx.post(
        discovery["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=10,
    )


def _verify_id_token(op: OpenIdProvider, discovery: dict[str, Any], id_token: str, client_id: str) -> dict[str, Any]:
    signing_key = jwt.PyJWKClient(discovery["jwks_uri"]).get_signing_key_from_jwt(id_token)
    return jwt.decode(
        id_token,
        signing_key.key,
        algorithms=discovery["id_token_signing_alg_values_supported"],
        audience=client_id,
        issuer=op.issuer,
    )


def test_discovery_advertises_s256_only_and_logout(op: OpenIdProvider, discovery: dict[str, Any]) -> None:
    assert discovery["issuer"] == op.issuer
    assert discovery["code_challenge_methods_supported"] == ["S256"]
    assert discovery["end_session_endpoint"].startswith(op.issuer)
    assert {"openid", "profile", "phone", "idcard"} <= set(discovery["scopes_supported"])
    assert {"id_type", "id_number", "auth_level", "name", "phone_number"} <= set(discovery["claims_supported"])
    assert "RS256" in discovery["id_token_signing_alg_values_supported"]
    jwks = httpx.get(discovery["jwks_uri"], timeout=10).json()
    assert jwks["keys"] and all("d" not in key for key in jwks["keys"])


def test_authorization_without_code_challenge_is_rejected(discovery: dict[str, Any], browser: httpx.Client) -> None:
    url = _authorize_url(discovery, state="s-no-pkce", nonce="n-no-pkce")
    response = browser.get(url)
    assert response.is_redirect, response.text[:500]
    params = _callback_params(response.headers["location"])
    assert params["error"] == "invalid_request"
    assert "PKCE" in params.get("error_description", "")
    assert params["state"] == "s-no-pkce"


def test_code_flow_with_pkce_yields_verified_id_token(
    op: OpenIdProvider, discovery: dict[str, Any], browser: httpx.Client
) -> None:
    flow = _code_flow(discovery, browser)
    assert flow["iss"] == op.issuer  # RFC 9207 iss in the authorization response

    response = _redeem(discovery, flow["code"], flow["verifier"])
    assert response.status_code == 200, response.text
    tokens = response.json()
    claims = _verify_id_token(op, discovery, tokens["id_token"], CLIENT_ID)
    assert claims["sub"] == ACCOUNT
    assert claims["nonce"] == flow["nonce"]
    assert claims["name"] == ACCOUNT_CLAIMS["name"]
    assert claims["id_type"] == "居民身份证"
    assert claims["id_number"] == TEST_ID_NUMBER
    assert claims["phone_number"] == TEST_PHONE
    assert claims["auth_level"] == 3

    replay = _redeem(discovery, flow["code"], flow["verifier"])
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"


def test_wrong_code_verifier_is_rejected(discovery: dict[str, Any], browser: httpx.Client) -> None:
    flow = _code_flow(discovery, browser)
    wrong_verifier, _ = _pkce_pair()
    response = _redeem(discovery, flow["code"], wrong_verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_client_secret_post_client(op: OpenIdProvider, discovery: dict[str, Any], browser: httpx.Client) -> None:
    flow = _code_flow(discovery, browser, POST_CLIENT_ID)
    response = httpx.post(
        discovery["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": flow["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": flow["verifier"],
            "client_id": POST_CLIENT_ID,
            "client_secret": POST_CLIENT_SECRET,
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text
    claims = _verify_id_token(op, discovery, response.json()["id_token"], POST_CLIENT_ID)
    assert claims["sub"] == ACCOUNT


def test_rp_initiated_logout_redirects_to_post_logout_uri(discovery: dict[str, Any], browser: httpx.Client) -> None:
    flow = _code_flow(discovery, browser)
    id_token = _redeem(discovery, flow["code"], flow["verifier"]).json()["id_token"]
    query = urlencode({"id_token_hint": id_token, "post_logout_redirect_uri": POST_LOGOUT_URI, "state": "bye"})
    target = browser_logout(browser, f"{discovery['end_session_endpoint']}?{query}")
    assert target.startswith(POST_LOGOUT_URI)
    assert parse_qs(urlsplit(target).query)["state"] == ["bye"]


def test_restart_keeps_issuer_and_keys_but_forgets_codes(op: OpenIdProvider, browser: httpx.Client) -> None:
    discovery = httpx.get(op.discovery_url, timeout=10).json()
    flow = _code_flow(discovery, browser)
    keys_before = httpx.get(discovery["jwks_uri"], timeout=10).json()

    op.stop()
    with pytest.raises(httpx.TransportError):
        httpx.get(op.discovery_url, timeout=2)
    op.start()

    assert httpx.get(op.discovery_url, timeout=10).json()["issuer"] == op.issuer
    assert httpx.get(discovery["jwks_uri"], timeout=10).json() == keys_before
    response = _redeem(discovery, flow["code"], flow["verifier"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
