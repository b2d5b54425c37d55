"""Every JSON answer of the identity bridge has a response model (issue 19): OpenAPI lists its fields, and the
JSON is what the use cases wrote (the session's end as isoformat)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from identity_bridge.main import create_app
from identity_bridge.settings import Settings
from integration.identity.conftest import CSRF
from integration.identity.test_sessions_roles_privacy import dev_browser


def test_every_json_success_response_names_its_fields() -> None:
    document = create_app(Settings.model_construct()).openapi()
    schemas = document["components"]["schemas"]
    typed = {}
    for path, item in document["paths"].items():
        if path.endswith(("/healthz", "/readyz")):
            continue  # zc_http's probes, not in the web client's document
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                content = response.get("content", {})
                if status.startswith("2") and "application/json" in content:
                    name = content["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
                    assert schemas[name]["properties"] and schemas[name]["additionalProperties"] is False
                    typed[f"{method.upper()} {path}"] = name
    assert typed == {
        "GET /api/identity/.well-known/jwks.json": "Jwks",
        "POST /api/identity/logout": "LogoutResult",
        "GET /api/identity/session": "SessionProfile",
        "POST /api/identity/session/token": "AccessToken",
        "GET /api/identity/admin/users/{user_id}/roles": "UserRoles",
        "POST /api/identity/admin/users/{user_id}/roles": "UserRoles",
        "DELETE /api/identity/admin/users/{user_id}/roles": "UserRoles",
        "GET /api/identity/committees/{committee_id}/experts": "ExpertList",
    }


async def test_the_session_profile_and_logout_answer_as_before(running_bridge: Callable[..., Any]) -> None:
    browser = await dev_browser(running_bridge, "applicant")
    profile = (await browser.get("/api/identity/session")).json()
    assert set(profile) == {
        "user_id",
        "name",
        "id_type",
        "id_number",
        "phone",
        "auth_level",
        "roles",
        "session_expires_at",
    }
    expires = profile["session_expires_at"]
    assert expires.endswith("+00:00") and datetime.fromisoformat(expires).isoformat() == expires  # not "Z"
    token = (await browser.post("/api/identity/session/token", headers=CSRF)).json()
    assert set(token) == {"access_token", "token_type", "expires_in"} and token["token_type"] == "Bearer"

    logout = await browser.post("/api/identity/logout", headers=CSRF)
    assert logout.status_code == 200 and logout.json() == {"logout_url": None}  # dev login: no platform session
    assert logout.headers["cache-control"] == "no-store"
    assert "zc_session=" in logout.headers["set-cookie"] and "max-age=0" in logout.headers["set-cookie"].lower()
    assert "zc_session" not in browser.client.cookies
    assert (await browser.get("/api/identity/session")).status_code == 401
