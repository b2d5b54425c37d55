"""Unit tests, auth library: access-token verification, JWKS sources and Principal role checks."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from jwt.utils import base64url_decode, base64url_encode

from zc_auth import (
    HttpJwks,
    InvalidTokenError,
    JwksUnavailableError,
    Principal,
    Role,
    RoleGrant,
    ScopeType,
    StaticJwks,
    TokenVerifier,
    parse_jwks,
)
from zc_auth.revocation import RevokedSessions
from zc_auth.testing import TokenFactory
from zc_http.problems import ServiceUnavailableProblem, UnauthorizedProblem

JWKS_URL = "https://identity.test/.well-known/jwks.json"


@pytest.fixture
def factory() -> TokenFactory:
    return TokenFactory()


def verifier_for(factory: TokenFactory, **kwargs: Any) -> TokenVerifier:
    return TokenVerifier(issuer=factory.issuer, audience=factory.audience, jwks=StaticJwks(factory.jwks), **kwargs)


def encode_segment(data: dict[str, Any]) -> str:
    return base64url_encode(json.dumps(data).encode()).decode()


def valid_claims(factory: TokenFactory) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": factory.issuer, "aud": factory.audience, "sub": "u-1", "iat": now, "exp": now + 300}


async def assert_rejected(verifier: TokenVerifier, token: str) -> InvalidTokenError:
    with pytest.raises(InvalidTokenError) as caught:
        await verifier.verify(token)
    return caught.value


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class JwksEndpoint:
    """A MockTransport handler serving a JWKS document that tests can rotate or break."""

    def __init__(self, *documents: dict[str, Any]) -> None:
        self.keys: list[dict[str, Any]] = [k for doc in documents for k in doc["keys"]]
        self.calls = 0
        self.failure: str | None = None  # None, "500" or "network"

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        await asyncio.sleep(0.01)  # yield like real I/O so concurrent callers overlap
        if self.failure == "network":
            raise httpx.ConnectError("connection refused", request=request)
        if self.failure == "500":
            return httpx.Response(500, text="boom")
        return httpx.Response(200, json={"keys": self.keys})

    def jwks(self, clock: FakeClock, **kwargs: Any) -> HttpJwks:
        client = httpx.AsyncClient(transport=httpx.MockTransport(self))
        return HttpJwks(JWKS_URL, client, clock=clock, **kwargs)


# --- TokenVerifier: accepted tokens ---


async def test_verify_returns_principal_with_roles_when_token_is_valid(factory: TokenFactory) -> None:
    roles: list[RoleGrant | Role] = [RoleGrant(Role.UNIT_REVIEWER, ScopeType.UNIT, "unit-7"), Role.APPLICANT]
    token = factory.mint("user-42", roles=roles, sid="sess-1")

    principal = await verifier_for(factory).verify(token)

    assert principal.subject == "user-42"
    assert principal.session_id == "sess-1"
    assert principal.issuer == factory.issuer
    assert principal.roles == frozenset(
        {
            RoleGrant(Role.UNIT_REVIEWER, ScopeType.UNIT, "unit-7"),
            RoleGrant(Role.APPLICANT, ScopeType.GLOBAL, None),
        }
    )
    assert principal.expires_at.tzinfo is UTC
    assert principal.expires_at > datetime.now(UTC)


async def test_verify_returns_principal_without_session_or_roles_when_claims_are_absent(
    factory: TokenFactory,
) -> None:
    principal = await verifier_for(factory).verify(factory.sign(valid_claims(factory)))

    assert principal.session_id is None
    assert principal.roles == frozenset()


async def test_verify_accepts_token_when_expiry_is_within_leeway(factory: TokenFactory) -> None:
    now = int(time.time())
    token = factory.mint("user-1", iat=now - 600, exp=now - 10)

    principal = await verifier_for(factory, leeway_seconds=30).verify(token)

    assert principal.subject == "user-1"


async def test_verify_accepts_token_when_audience_list_contains_ours(factory: TokenFactory) -> None:
    token = factory.mint("user-1", audience=["other-api", factory.audience])

    assert (await verifier_for(factory).verify(token)).subject == "user-1"


@pytest.mark.parametrize("typ", ["AT+JWT", "application/at+jwt"])
async def test_verify_accepts_token_when_typ_uses_other_rfc9068_spelling(factory: TokenFactory, typ: str) -> None:
    token = factory.mint("user-1", headers={"typ": typ})

    assert (await verifier_for(factory).verify(token)).subject == "user-1"


# --- TokenVerifier: rejected tokens ---


async def test_verify_rejects_token_when_expired(factory: TokenFactory) -> None:
    now = int(time.time())
    token = factory.mint("user-1", iat=now - 600, exp=now - 120)

    await assert_rejected(verifier_for(factory), token)


async def test_verify_rejects_token_when_not_yet_valid(factory: TokenFactory) -> None:
    token = factory.mint("user-1", nbf=int(time.time()) + 600)

    await assert_rejected(verifier_for(factory), token)


async def test_verify_rejects_token_when_issued_in_the_future(factory: TokenFactory) -> None:
    token = factory.mint("user-1", iat=int(time.time()) + 600)

    await assert_rejected(verifier_for(factory), token)


@pytest.mark.parametrize("claim", ["exp", "iat", "sub", "iss", "aud"])
async def test_verify_rejects_token_when_required_claim_is_missing(factory: TokenFactory, claim: str) -> None:
    dropped: dict[str, Any] = {claim: None}
    token = factory.mint("user-1", **dropped)

    await assert_rejected(verifier_for(factory), token)


async def test_verify_rejects_token_when_exp_is_a_string(factory: TokenFactory) -> None:
    token = factory.mint("user-1", exp=str(int(time.time()) + 300))

    await assert_rejected(verifier_for(factory), token)


async def test_verify_rejects_token_when_issuer_differs(factory: TokenFactory) -> None:
    token = factory.mint("user-1", issuer="https://evil.example")

    await assert_rejected(verifier_for(factory), token)


async def test_verify_rejects_token_when_issuer_only_shares_a_prefix(factory: TokenFactory) -> None:
    token = factory.mint("user-1", issuer=factory.issuer + "/")

    await assert_rejected(verifier_for(factory), token)


async def test_verify_rejects_token_when_audience_differs(factory: TokenFactory) -> None:
    token = factory.mint("user-1", audience="some-other-api")

    await assert_rejected(verifier_for(factory), token)


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
async def test_verify_rejects_token_when_alg_is_none(factory: TokenFactory, alg: str) -> None:
    header = {"alg": alg, "typ": "at+jwt", "kid": factory.kid}
    token = f"{encode_segment(header)}.{encode_segment(valid_claims(factory))}."

    await assert_rejected(verifier_for(factory), token)


@pytest.mark.parametrize("secret_kind", ["pem", "jwk_json"])
async def test_verify_rejects_token_when_hs256_signed_with_public_key_as_secret(
    factory: TokenFactory, secret_kind: str
) -> None:
    # The classic key-confusion attack: the public key is known to everyone, so as an HMAC secret it
    # lets anybody mint tokens a naive verifier would accept.
    secret = factory.public_key_pem if secret_kind == "pem" else json.dumps(factory.public_jwk).encode()
    header = {"alg": "HS256", "typ": "at+jwt", "kid": factory.kid}
    signing_input = f"{encode_segment(header)}.{encode_segment(valid_claims(factory))}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{base64url_encode(signature).decode()}"

    await assert_rejected(verifier_for(factory), token)


async def test_verify_rejects_token_when_kid_is_unknown(factory: TokenFactory) -> None:
    token = factory.mint("user-1", headers={"kid": "no-such-key"})

    await assert_rejected(verifier_for(factory), token)


async def test_verify_rejects_token_when_kid_is_missing(factory: TokenFactory) -> None:
    token = factory.mint("user-1", headers={"kid": None})

    await assert_rejected(verifier_for(factory), token)


async def test_verify_rejects_token_when_signed_by_another_key_with_same_kid(factory: TokenFactory) -> None:
    impostor = TokenFactory(issuer=factory.issuer, audience=factory.audience, kid=factory.kid)

    await assert_rejected(verifier_for(factory), impostor.mint("user-1"))


async def test_verify_rejects_token_when_typ_is_missing(factory: TokenFactory) -> None:
    token = factory.mint("user-1", headers={"typ": None})

    await assert_rejected(verifier_for(factory), token)


@pytest.mark.parametrize("typ", ["JWT", "id+jwt", "at+jwt-ish"])
async def test_verify_rejects_token_when_typ_is_not_an_access_token(factory: TokenFactory, typ: str) -> None:
    token = factory.mint("user-1", headers={"typ": typ})

    await assert_rejected(verifier_for(factory), token)


async def test_verify_rejects_token_when_payload_is_tampered(factory: TokenFactory) -> None:
    header, payload, signature = factory.mint("user-1", roles=[Role.APPLICANT]).split(".")
    claims = json.loads(base64url_decode(payload))
    claims["roles"] = [{"role": "admin", "scope_type": "global", "scope_id": None}]
    tampered = f"{header}.{encode_segment(claims)}.{signature}"

    await assert_rejected(verifier_for(factory), tampered)


async def test_verify_rejects_token_when_alg_differs_from_the_jwk_alg(
    factory: TokenFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="zc_auth.tokens")
    header = {"alg": "ES384", "typ": "at+jwt", "kid": factory.kid}
    token = f"{encode_segment(header)}.{encode_segment(valid_claims(factory))}.AAAA"
    verifier = verifier_for(factory, algorithms=["ES256", "ES384"])

    await assert_rejected(verifier, token)

    assert "does not match key alg ES256" in caplog.text


@pytest.mark.parametrize(
    "grant",
    [
        {"role": "superuser", "scope_type": "global", "scope_id": None},
        {"role": "admin", "scope_type": "planet", "scope_id": "earth"},
        {"role": "unit_reviewer", "scope_type": "unit", "scope_id": None},
        {"role": "admin", "scope_type": "global", "scope_id": "x"},
        {"role": "admin"},
        "admin",
    ],
    ids=["unknown-role", "unknown-scope", "scoped-without-id", "global-with-id", "no-scope", "not-object"],
)
async def test_verify_rejects_token_when_role_grant_is_unknown_or_malformed(factory: TokenFactory, grant: Any) -> None:
    token = factory.sign({**valid_claims(factory), "roles": [grant]})

    await assert_rejected(verifier_for(factory), token)


async def test_verify_rejects_token_when_roles_is_not_a_list(factory: TokenFactory) -> None:
    token = factory.sign({**valid_claims(factory), "roles": "admin"})

    await assert_rejected(verifier_for(factory), token)


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "x" * 20_000])
async def test_verify_rejects_token_when_it_is_not_a_jwt(factory: TokenFactory, token: str) -> None:
    await assert_rejected(verifier_for(factory), token)


async def test_verify_hides_reason_from_user_but_logs_it_when_rejecting(
    factory: TokenFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="zc_auth.tokens")
    now = int(time.time())

    error = await assert_rejected(verifier_for(factory), factory.mint("u", iat=now - 600, exp=now - 120))

    assert isinstance(error, UnauthorizedProblem)
    assert (error.status, error.code) == (401, "auth.invalid_token")
    assert error.detail == "登录凭证无效或已过期，请重新登录"
    assert "ExpiredSignatureError" in caplog.text
    assert all(r.levelno == logging.INFO for r in caplog.records if r.name == "zc_auth.tokens")


@pytest.mark.parametrize("algorithms", [["none"], ["HS256"], ["ES256", "hs512"], []])
def test_verifier_refuses_configuration_when_unsafe_algorithm_allowed(
    factory: TokenFactory, algorithms: list[str]
) -> None:
    with pytest.raises(ValueError):
        verifier_for(factory, algorithms=algorithms)


# --- JWKS sources ---


def test_parse_jwks_skips_keys_when_symmetric_kidless_or_not_for_signing(factory: TokenFactory) -> None:
    document = {
        "keys": [
            factory.public_jwk,
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
            {**factory.public_jwk, "kid": "enc", "use": "enc"},
            {k: v for k, v in factory.public_jwk.items() if k != "kid"},
            {"kty": "EC", "kid": "broken"},
        ]
    }

    assert set(parse_jwks(document)) == {factory.kid}


async def test_http_jwks_refetches_when_unknown_kid_appears_after_rotation(factory: TokenFactory) -> None:
    rotated = TokenFactory(issuer=factory.issuer, audience=factory.audience)
    endpoint, clock = JwksEndpoint(factory.jwks), FakeClock()
    verifier = TokenVerifier(
        issuer=factory.issuer, audience=factory.audience, jwks=endpoint.jwks(clock, min_refresh_interval=10)
    )
    await verifier.verify(factory.mint("user-1"))
    endpoint.keys.append(rotated.public_jwk)
    clock.now += 11

    principal = await verifier.verify(rotated.mint("user-2"))

    assert principal.subject == "user-2"
    assert endpoint.calls == 2


async def test_http_jwks_rate_limits_refetch_when_kids_are_forged(factory: TokenFactory) -> None:
    endpoint, clock = JwksEndpoint(factory.jwks), FakeClock()
    verifier = TokenVerifier(
        issuer=factory.issuer, audience=factory.audience, jwks=endpoint.jwks(clock, min_refresh_interval=10)
    )
    await verifier.verify(factory.mint("user-1"))
    clock.now += 11

    for i in range(20):
        await assert_rejected(verifier, factory.mint("user-1", headers={"kid": f"forged-{i}"}))
        clock.now += 0.1

    assert endpoint.calls == 2  # the first fetch plus one refresh for the whole burst
    clock.now += 10
    await assert_rejected(verifier, factory.mint("user-1", headers={"kid": "forged-late"}))
    assert endpoint.calls == 3
    assert (await verifier.verify(factory.mint("user-1"))).subject == "user-1"
    assert endpoint.calls == 3


async def test_http_jwks_refetches_when_ttl_expires(factory: TokenFactory) -> None:
    endpoint, clock = JwksEndpoint(factory.jwks), FakeClock()
    jwks = endpoint.jwks(clock, ttl_seconds=300)
    await jwks.get_key(factory.kid)
    clock.now += 299
    await jwks.get_key(factory.kid)
    assert endpoint.calls == 1

    clock.now += 2
    assert await jwks.get_key(factory.kid) is not None

    assert endpoint.calls == 2


async def test_http_jwks_drops_removed_key_when_refetched_after_ttl(factory: TokenFactory) -> None:
    endpoint, clock = JwksEndpoint(factory.jwks), FakeClock()
    jwks = endpoint.jwks(clock, ttl_seconds=300)
    await jwks.get_key(factory.kid)
    endpoint.keys.clear()
    clock.now += 301

    assert await jwks.get_key(factory.kid) is None


@pytest.mark.parametrize("failure", ["500", "network"])
async def test_http_jwks_keeps_cached_keys_when_endpoint_fails(
    factory: TokenFactory, failure: str, caplog: pytest.LogCaptureFixture
) -> None:
    endpoint, clock = JwksEndpoint(factory.jwks), FakeClock()
    verifier = TokenVerifier(
        issuer=factory.issuer, audience=factory.audience, jwks=endpoint.jwks(clock, ttl_seconds=300)
    )
    await verifier.verify(factory.mint("user-1"))
    endpoint.failure = failure
    clock.now += 301

    principal = await verifier.verify(factory.mint("user-1"))

    assert principal.subject == "user-1"
    assert endpoint.calls == 2
    assert "keeping cached keys" in caplog.text


async def test_http_jwks_keeps_cached_keys_when_endpoint_returns_junk(factory: TokenFactory) -> None:
    state = {"body": json.dumps(factory.jwks)}
    client = httpx.AsyncClient(transport=httpx.MockTransport(lambda _: httpx.Response(200, text=state["body"])))
    clock = FakeClock()
    jwks = HttpJwks(JWKS_URL, client, ttl_seconds=300, clock=clock)
    await jwks.get_key(factory.kid)
    state["body"] = "<html>maintenance</html>"
    clock.now += 301

    assert await jwks.get_key(factory.kid) is not None


async def test_http_jwks_raises_unavailable_when_first_fetch_fails(factory: TokenFactory) -> None:
    endpoint, clock = JwksEndpoint(factory.jwks), FakeClock()
    endpoint.failure = "network"
    verifier = TokenVerifier(issuer=factory.issuer, audience=factory.audience, jwks=endpoint.jwks(clock))

    with pytest.raises(JwksUnavailableError) as caught:
        await verifier.verify(factory.mint("user-1"))

    assert isinstance(caught.value, ServiceUnavailableProblem)
    assert (caught.value.status, caught.value.code) == (503, "auth.jwks_unavailable")


async def test_http_jwks_recovers_when_endpoint_comes_back_after_failed_first_fetch(
    factory: TokenFactory,
) -> None:
    endpoint, clock = JwksEndpoint(factory.jwks), FakeClock()
    endpoint.failure = "500"
    jwks = endpoint.jwks(clock, min_refresh_interval=10)
    with pytest.raises(JwksUnavailableError):
        await jwks.get_key(factory.kid)
    endpoint.failure = None
    with pytest.raises(JwksUnavailableError):
        await jwks.get_key(factory.kid)  # still inside the refresh interval: no new fetch
    clock.now += 10

    assert await jwks.get_key(factory.kid) is not None
    assert endpoint.calls == 2


async def test_http_jwks_fetches_once_when_requests_arrive_concurrently(factory: TokenFactory) -> None:
    endpoint, clock = JwksEndpoint(factory.jwks), FakeClock()
    verifier = TokenVerifier(issuer=factory.issuer, audience=factory.audience, jwks=endpoint.jwks(clock))

    principals = await asyncio.gather(*(verifier.verify(factory.mint(f"user-{i}")) for i in range(10)))

    assert len(principals) == 10
    assert endpoint.calls == 1


async def test_http_jwks_closes_own_client_when_closed() -> None:
    jwks = HttpJwks(JWKS_URL)

    await jwks.aclose()  # nothing was created yet, so this must be a no-op


# --- Principal ---


def make_principal(*grants: RoleGrant) -> Principal:
    return Principal("u-1", None, frozenset(grants), "iss", datetime.now(UTC))


def test_has_role_matches_any_scope_when_no_scope_given() -> None:
    principal = make_principal(RoleGrant(Role.EXPERT, ScopeType.COMMITTEE, "c-1"))

    assert principal.has_role(Role.EXPERT)
    assert principal.has_role(Role.EXPERT, ScopeType.COMMITTEE)
    assert principal.has_role(Role.EXPERT, ScopeType.COMMITTEE, "c-1")
    assert not principal.has_role(Role.EXPERT, ScopeType.COMMITTEE, "c-2")
    assert not principal.has_role(Role.EXPERT, ScopeType.UNIT, "c-1")
    assert not principal.has_role(Role.EXPERT, ScopeType.GLOBAL)


def test_has_role_matches_every_scope_when_grant_is_global() -> None:
    principal = make_principal(RoleGrant(Role.AUTHORITY, ScopeType.GLOBAL))

    assert principal.has_role(Role.AUTHORITY, ScopeType.REGION, "r-1")
    assert principal.has_role(Role.AUTHORITY, ScopeType.GLOBAL)
    assert not principal.has_role(Role.EXPERT, ScopeType.REGION, "r-1")


def test_has_role_denies_other_roles_when_principal_is_admin() -> None:
    principal = make_principal(RoleGrant(Role.ADMIN, ScopeType.GLOBAL))

    assert principal.has_role(Role.ADMIN)
    assert not principal.has_role(Role.COMMITTEE_STAFF)
    assert not principal.has_any_role(Role.EXPERT, Role.APPLICANT)


def test_has_role_refuses_query_when_scope_id_given_without_scope_type() -> None:
    with pytest.raises(ValueError):
        make_principal().has_role(Role.EXPERT, scope_id="c-1")


def test_scopes_for_lists_each_scope_when_role_held_in_several() -> None:
    principal = make_principal(
        RoleGrant(Role.UNIT_REVIEWER, ScopeType.UNIT, "u-1"),
        RoleGrant(Role.UNIT_REVIEWER, ScopeType.UNIT, "u-2"),
        RoleGrant(Role.EXPERT, ScopeType.GLOBAL),
    )

    assert principal.scopes_for(Role.UNIT_REVIEWER) == {(ScopeType.UNIT, "u-1"), (ScopeType.UNIT, "u-2")}
    assert principal.scopes_for(Role.EXPERT) == {(ScopeType.GLOBAL, None)}
    assert principal.scopes_for(Role.ADMIN) == set()


# --- TokenVerifier: remembering verified tokens ---


class CountingJwks:
    """A JWKS whose keys can be withdrawn, counting the lookups a full verification makes."""

    def __init__(self, factory: TokenFactory) -> None:
        self.source = StaticJwks(factory.jwks)
        self.lookups = 0
        self.withdrawn = False

    async def get_key(self, kid: str) -> Any:
        self.lookups += 1
        return None if self.withdrawn else await self.source.get_key(kid)


def remembering_verifier(factory: TokenFactory, clock: FakeClock, **kwargs: Any) -> tuple[TokenVerifier, CountingJwks]:
    jwks = CountingJwks(factory)
    verifier = TokenVerifier(issuer=factory.issuer, audience=factory.audience, jwks=jwks, clock=clock, **kwargs)
    return verifier, jwks


async def test_verify_remembers_a_verified_token_for_a_minute_at_most(factory: TokenFactory) -> None:
    clock = FakeClock()
    verifier, jwks = remembering_verifier(factory, clock)
    token = factory.mint("u-1", roles=[Role.APPLICANT], ttl=3600)
    first = await verifier.verify(token)
    jwks.withdrawn = True  # the key leaves the JWKS: the remembered verification still holds ...
    clock.now += 59
    assert await verifier.verify(token) == first
    assert jwks.lookups == 1
    clock.now += 2  # ... for a minute at most; then the token is verified again, and fails
    await assert_rejected(verifier, token)
    assert jwks.lookups == 2


async def test_verify_forgets_a_remembered_token_when_it_expires(factory: TokenFactory) -> None:
    clock = FakeClock()
    clock.now = time.time()
    verifier, jwks = remembering_verifier(factory, clock, leeway_seconds=0)
    token = factory.mint("u-1", ttl=20)
    await verifier.verify(token)
    clock.now += 19
    await verifier.verify(token)
    assert jwks.lookups == 1
    clock.now += 2  # past exp: not answered from memory (the full check runs again)
    await verifier.verify(token)
    assert jwks.lookups == 2


async def test_verify_rejects_a_remembered_token_once_its_session_has_ended(factory: TokenFactory) -> None:
    clock = FakeClock()
    revoked = RevokedSessions(clock=time.time)
    verifier, _ = remembering_verifier(factory, clock, revoked=revoked)
    token = factory.mint("u-1", sid="s-1", ttl=3600)
    await verifier.verify(token)
    revoked.revoke("s-1", datetime.now(UTC) + timedelta(hours=1))
    await assert_rejected(verifier, token)


async def test_verify_never_remembers_a_rejected_token(factory: TokenFactory) -> None:
    clock = FakeClock()
    verifier, jwks = remembering_verifier(factory, clock)
    tampered = factory.mint("u-1", ttl=3600)[:-4] + "AAAA"
    await assert_rejected(verifier, tampered)
    await assert_rejected(verifier, tampered)
    assert jwks.lookups == 2


@pytest.mark.parametrize(
    ("grant", "region", "covered"),
    [
        ("510000", "510000", True),  # the province itself
        ("510000", "510104", True),  # a county in the province
        ("510000", "510000-BJ", True),  # 省本级
        ("510100", "510100-BJ", True),  # 成都市本级
        ("510100", "510104", True),
        ("510100", "511100", False),  # a sibling prefecture
        ("510100", "510000", False),  # above it
        ("510104", "510104-BJ", True),
        ("510104", "510105", False),
        ("510100-BJ", "510100-BJ", True),  # an own-level node reaches only itself
        ("510100-BJ", "510104", False),
        ("510000", "520000", False),  # another province
        ("51", "510104", False),  # not a division code: itself only
    ],
)
def test_a_region_grant_covers_its_region_and_those_below(grant: str, region: str, covered: bool) -> None:
    principal = make_principal(RoleGrant(Role.AUTHORITY, ScopeType.REGION, grant))
    assert principal.has_role(Role.AUTHORITY, ScopeType.REGION, region) is covered
    assert not principal.has_role(Role.AUTHORITY, ScopeType.UNIT, region)
