"""Unit tests, auth library: the shared `GET /me` route answers the caller's grants, typed in OpenAPI."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from zc_auth import Role, RoleGrant, ScopeType, StaticJwks, TokenVerifier
from zc_auth.routes import whoami_router
from zc_auth.testing import TokenFactory
from zc_http.problems import install_problem_handlers


def build_app(factory: TokenFactory) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.state.token_verifier = TokenVerifier(
        issuer=factory.issuer, audience=factory.audience, jwks=StaticJwks(factory.jwks)
    )
    app.include_router(whoami_router())
    return app


async def test_me_answers_the_subject_and_its_grants_sorted() -> None:
    factory = TokenFactory()
    token = factory.mint("user-42", roles=[RoleGrant(Role.EXPERT, ScopeType.COMMITTEE, "c-1"), Role.APPLICANT])
    transport = httpx.ASGITransport(build_app(factory))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert response.json() == {
        "subject": "user-42",
        "roles": [
            {"role": "applicant", "scope_type": "global", "scope_id": None},
            {"role": "expert", "scope_type": "committee", "scope_id": "c-1"},
        ],
    }


def test_me_is_typed_in_openapi() -> None:
    document = build_app(TokenFactory()).openapi()
    schema = document["paths"]["/me"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/WhoAmI"}
    components = document["components"]["schemas"]
    who = components["WhoAmI"]
    assert set(who["properties"]) == {"subject", "roles"} and who["additionalProperties"] is False
    grant = components["WhoAmIGrant"]
    assert set(grant["properties"]) == {"role", "scope_type", "scope_id"}
    assert set(components["Role"]["enum"]) == {r.value for r in Role}
    assert set(components["ScopeType"]["enum"]) == {s.value for s in ScopeType}
