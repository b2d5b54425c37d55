"""HTTP layer: every error is problem+json with a stable code, the field and a Chinese reason; health routes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, Field

from zc_http import JSON_BODY_LIMIT, ConflictProblem, create_service_app

router = APIRouter()


class ThingCreate(BaseModel):
    name: str = Field(min_length=1, max_length=5)
    year: int = Field(ge=2000)


class AlreadySubmittedError(Exception):
    """Stands for a domain error: knows nothing about HTTP."""


@router.post("/things")
async def create_thing(body: ThingCreate) -> dict[str, str]:
    if body.name == "dup":
        raise ConflictProblem("该申报已提交，不能重复提交", code="application.already_submitted")
    if body.name == "dom":
        raise AlreadySubmittedError()
    if body.name == "boom":
        raise RuntimeError("secret internals")
    return {"name": body.name}


def make_app(ready: dict[str, bool]) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield

    async def readiness(_app: FastAPI) -> Mapping[str, bool]:
        return ready

    return create_service_app(
        title="t",
        prefix="/api/things",
        lifespan=lifespan,
        readiness=readiness,
        routers=[router],
        problem_mappers={
            AlreadySubmittedError: lambda e: ConflictProblem("已提交", code="application.already_submitted")
        },
    )


@pytest.fixture
def ready() -> dict[str, bool]:
    return {"database": True, "nats": True}


@pytest.fixture
async def client(ready: dict[str, bool]) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app(ready)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        yield c


async def test_validation_error_names_field_with_chinese_reason_when_too_long(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/things/things", json={"name": "toolongname", "year": 2026})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == "validation_failed" and body["field"] == "name"
    assert body["errors"] == [{"field": "name", "reason": "长度不能超过5个字符"}]
    assert body["instance"] == "/api/things/things"


async def test_validation_error_lists_every_field_when_several_are_missing(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/things/things", json={})
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"name", "year"}
    assert all(e["reason"] == "必填项不能为空" for e in r.json()["errors"])


async def test_malformed_json_is_a_problem_not_a_500(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/things/things", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["code"] == "validation_failed"


async def test_a_body_not_in_utf8_is_a_422_naming_the_body_not_a_400_in_english(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/things/things", content=b"\xffS\xfe", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["field"] == "body" and "UTF-8" in r.json()["detail"]


async def test_problem_error_keeps_its_code_when_raised_in_a_route(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/things/things", json={"name": "dup", "year": 2026})
    assert r.status_code == 409
    assert r.json()["code"] == "application.already_submitted"
    assert r.json()["detail"] == "该申报已提交，不能重复提交"


async def test_domain_error_maps_to_problem_when_registered(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/things/things", json={"name": "dom", "year": 2026})
    assert r.status_code == 409 and r.json()["code"] == "application.already_submitted"


async def test_unexpected_error_is_generic_500_without_internals(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/things/things", json={"name": "boom", "year": 2026})
    assert r.status_code == 500
    assert r.json()["code"] == "internal_error"
    assert "secret" not in r.text


async def test_unknown_route_is_problem_404(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/things/nope")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["detail"] == "请求的地址不存在"


async def test_request_id_is_echoed_when_well_formed_and_replaced_when_not(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/things/healthz", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    r = await client.get("/api/things/healthz", headers={"X-Request-ID": "bad id\nwith newline"})
    assert r.headers["x-request-id"] != "bad id\nwith newline" and len(r.headers["x-request-id"]) == 32


async def test_readyz_is_503_with_failing_check_when_a_dependency_is_down(
    client: httpx.AsyncClient, ready: dict[str, bool]
) -> None:
    assert (await client.get("/api/things/readyz")).status_code == 200
    ready["nats"] = False
    r = await client.get("/api/things/readyz")
    assert r.status_code == 503
    assert r.json() == {"status": "not_ready", "checks": {"database": True, "nats": False}}
    assert (await client.get("/api/things/healthz")).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "a\x00b", "year": 2026}, "name"),
        (
            {"name": "ok", "year": 2026, "entries": [{"title": "ok"}, {"title": "x", "note": "a\x00b"}]},
            "entries.1.note",
        ),
        ({"name": "ok", "year": 2026, "entries": [{"title": "\x00"}], "later": "\x00"}, "entries.0.title"),
        ("\x00", "body"),
    ],
)
async def test_a_nul_in_a_json_value_is_a_422_naming_its_dotted_path_before_the_route(
    client: httpx.AsyncClient, body: object, field: str
) -> None:
    r = await client.post("/api/things/things", json=body)  # the first three would pass the model
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", r.text
    problem = r.json()
    assert problem["code"] == "http.control_character" and problem["field"] == field
    assert problem["errors"] == [{"field": field, "reason": "含有不允许的空字符"}]
    assert "\\u0000" in problem["detail"] and problem["instance"] == "/api/things/things"
    assert len(r.headers["x-request-id"]) == 32 and problem["request_id"] == r.headers["x-request-id"]


async def test_a_nul_in_a_json_object_key_is_refused_too_also_for_a_plus_json_type(client: httpx.AsyncClient) -> None:
    content = json.dumps({"name": "ok", "year": 2026, "meta": {"k\x00": "v"}}).encode()
    assert b"\\u0000" in content
    for content_type in ("application/json", "application/merge-patch+json; charset=utf-8"):
        r = await client.post("/api/things/things", content=content, headers={"content-type": content_type})
        assert r.status_code == 422 and r.json()["code"] == "http.control_character", r.text
        assert r.json()["field"] == "meta.k\x00"


async def test_line_breaks_tabs_chinese_and_an_escaped_backslash_u0000_still_reach_the_route(
    client: httpx.AsyncClient,
) -> None:
    r = await client.post("/api/things/things", json={"name": "名\n称\t", "year": 2026})
    assert r.status_code == 200 and r.json() == {"name": "名\n称\t"}
    # `\\u0000` is a backslash and "u0000", no NUL: the route's own validation answers (6 characters, at most 5)
    r = await client.post(
        "/api/things/things",
        content=b'{"name": "\\\\u0000", "year": 2026}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422 and r.json()["code"] == "validation_failed", r.text
    assert r.json()["errors"] == [{"field": "name", "reason": "长度不能超过5个字符"}]


async def test_malformed_json_or_another_content_type_holding_a_nul_gets_the_routes_own_422(
    client: httpx.AsyncClient,
) -> None:
    r = await client.post(
        "/api/things/things", content=b'{"name": "\\u0000", ', headers={"content-type": "application/json"}
    )
    assert r.status_code == 422 and r.json()["code"] == "validation_failed", r.text
    r = await client.post(
        "/api/things/things", content=b'{"name": "\\u0000", "year": 2026}', headers={"content-type": "text/plain"}
    )
    assert r.status_code == 422 and r.json()["code"] == "validation_failed", r.text


async def test_an_oversize_json_body_is_a_413_before_it_is_parsed_declared_or_streamed(
    client: httpx.AsyncClient,
) -> None:
    content = json.dumps({"name": "\x00" * (JSON_BODY_LIMIT // 6 + 1), "year": 2026}).encode()  # `\u0000` each
    assert len(content) > JSON_BODY_LIMIT
    r = await client.post("/api/things/things", content=content, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json", r.text
    assert r.json()["code"] == "http_413"

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while it streams in
        for start in range(0, len(content), 64 * 1024):
            yield content[start : start + 64 * 1024]

    r = await client.post("/api/things/things", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json", r.text
    assert r.json()["code"] == "http_413" and "1 MB" in r.json()["detail"]
