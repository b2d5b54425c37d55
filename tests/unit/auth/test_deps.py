"""Unit tests, auth library: FastAPI dependencies turning the Bearer token into a Principal or a problem."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI

from zc_auth import (
    HttpJwks,
    Principal,
    PrincipalDep,
    Role,
    RoleGrant,
    ScopeType,
    StaticJwks,
    TokenVerifier,
    require_role,
)
from zc_auth.testing import TokenFactory
from zc_http.problems import PROBLEM_JSON, install_problem_handlers

ManagerDep = Annotated[Principal, Depends(require_role(Role.ADMIN, Role.OPERATOR))]


def build_app(verifier: TokenVerifier | None) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    if verifier is not None:
        app.state.token_verifier = verifier

    @app.get("/me")
    async def me(principal: PrincipalDep) -> dict[str, Any]:
        return {"subject": principal.subject, "roles": sorted(g.role.value for g in principal.roles)}

    @app.get("/manage")
    async def manage(principal: ManagerDep) -> dict[str, str]:
        return {"subject": principal.subject}

    return app


@pytest.fixture
def factory() -> TokenFactory:
    return TokenFactory()


@pytest.fixture
async def client(factory: TokenFactory) -> AsyncIterator[httpx.AsyncClient]:
    verifier = TokenVerifier(issuer=factory.issuer, audience=factory.audience, jwks=StaticJwks(factory.jwks))
    transport = httpx.ASGITransport(build_app(verifier))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_me_returns_401_problem_when_no_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/me")

    assert response.status_code == 401
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert (body["code"], body["detail"], body["status"]) == ("auth.missing_token", "请先登录", 401)


@pytest.mark.parametrize(
    "authorization", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Bearer a b", "Token abc", "Bearer a\tb"]
)
async def test_me_returns_401_problem_when_authorization_header_is_malformed(
    client: httpx.AsyncClient, authorization: str
) -> None:
    response = await client.get("/me", headers={"Authorization": authorization})

    assert response.status_code == 401
    assert response.json()["code"] == "auth.missing_token"


async def test_me_ignores_identity_headers_when_no_token_is_sent(client: httpx.AsyncClient) -> None:
    response = await client.get("/me", headers={"X-User-Id": "admin", "X-Roles": "admin", "X-Subject": "admin"})

    assert response.status_code == 401


async def test_me_returns_401_invalid_token_problem_when_token_is_expired(
    client: httpx.AsyncClient, factory: TokenFactory
) -> None:
    response = await client.get("/me", headers=bearer(factory.mint("user-1", ttl=-300)))

    assert response.status_code == 401
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    body = response.json()
    assert body["code"] == "auth.invalid_token"
    assert body["detail"] == "登录凭证无效或已过期，请重新登录"  # no PyJWT wording leaks out


async def test_me_returns_principal_when_token_is_valid(client: httpx.AsyncClient, factory: TokenFactory) -> None:
    token = factory.mint("user-42", roles=[RoleGrant(Role.EXPERT, ScopeType.COMMITTEE, "c-1"), Role.APPLICANT])

    response = await client.get("/me", headers=bearer(token))

    assert response.status_code == 200
    assert response.json() == {"subject": "user-42", "roles": ["applicant", "expert"]}


async def test_me_accepts_token_when_scheme_is_lowercase(client: httpx.AsyncClient, factory: TokenFactory) -> None:
    response = await client.get("/me", headers={"Authorization": f"bearer {factory.mint('user-1')}"})

    assert response.status_code == 200


async def test_manage_returns_403_problem_when_role_is_missing(
    client: httpx.AsyncClient, factory: TokenFactory
) -> None:
    token = factory.mint("user-1", roles=[Role.APPLICANT, Role.PROCESS_DESIGNER])

    response = await client.get("/manage", headers=bearer(token))

    assert response.status_code == 403
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert (body["code"], body["detail"]) == ("auth.forbidden", "当前账号无权执行此操作")


async def test_manage_returns_401_problem_when_no_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/manage")

    assert response.status_code == 401
    assert response.json()["code"] == "auth.missing_token"


async def test_manage_returns_200_with_principal_when_one_role_is_held_in_any_scope(
    client: httpx.AsyncClient, factory: TokenFactory
) -> None:
    token = factory.mint("ops-1", roles=[RoleGrant(Role.OPERATOR, ScopeType.REGION, "r-1")])

    response = await client.get("/manage", headers=bearer(token))

    assert response.status_code == 200
    assert response.json() == {"subject": "ops-1"}


async def test_me_returns_503_problem_when_jwks_is_unreachable(factory: TokenFactory) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    jwks = HttpJwks("https://identity.test/jwks", httpx.AsyncClient(transport=httpx.MockTransport(refuse)))
    verifier = TokenVerifier(issuer=factory.issuer, audience=factory.audience, jwks=jwks)
    transport = httpx.ASGITransport(build_app(verifier))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/me", headers=bearer(factory.mint("user-1")))

    assert response.status_code == 503
    assert response.json()["code"] == "auth.jwks_unavailable"


async def test_me_returns_500_when_verifier_is_not_configured(factory: TokenFactory) -> None:
    transport = httpx.ASGITransport(build_app(None), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/me", headers=bearer(factory.mint("user-1")))

    assert response.status_code == 500


def test_require_role_refuses_configuration_when_no_roles_given() -> None:
    with pytest.raises(ValueError):
        require_role()
