"""HTTP layer: every error is problem+json with a stable code, the field and a Chinese reason; health routes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, Field

from zc_http import ConflictProblem, create_service_app

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
