"""External sources: 社保 fetched and shown with its source (read-only), 学历 and 省职业资格证书 同步 (choose
some or all), and a source that is down — a clear 503, and the application still saves."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from applications.demo_data import load
from applications.main import create_app
from applications.settings import Settings
from applications.usecases.ports import SourceUnavailableError
from integration.applications.conftest import NOW, Api
from integration.applications.test_application_lifecycle import INITIAL, SECTIONS, save
from support.clock import Clock
from zc_auth import Role, StaticJwks, TokenVerifier
from zc_auth.testing import TokenFactory
from zc_db.pii import generate_key_spec
from zc_registries import HttpRegistry, Person


@pytest.fixture
async def app_id(api: Api) -> str:
    await load(api.database_url, year=2026)
    return str((await api.post("/applications", headers=api.applicant, json=INITIAL)).json()["id"])


async def test_social_insurance_is_fetched_with_its_source_and_cannot_be_typed_in(api: Api, app_id: str) -> None:
    r = await api.get(f"/applications/{app_id}/social-insurance", headers=api.applicant)
    assert r.status_code == 200
    body = r.json()
    assert body["source"] == "演示数据源" and body["records"][0]["insurance"] == "企业职工基本养老保险"
    again = (await api.get(f"/applications/{app_id}/social-insurance", headers=api.applicant)).json()
    assert again["records"] == body["records"]  # the same person always gets the same demo records
    kept = (await api.get(f"/applications/{app_id}", headers=api.applicant)).json()
    assert kept["sections"]["social_insurance"]["records"] == body["records"]
    typed = await save(api, app_id, "social_insurance", {"records": []})
    assert typed.status_code == 404


async def test_education_and_certificates_sync_chosen_records_once(api: Api, app_id: str) -> None:
    listed = (await api.get(f"/applications/{app_id}/external/education", headers=api.applicant)).json()
    first = listed["records"][0]["record_id"]
    r = await api.post(
        f"/applications/{app_id}/external/education/sync", headers=api.applicant, json={"record_ids": [first]}
    )
    assert r.status_code == 200 and r.json() == {"section": "education", "version": 1}
    await api.post(
        f"/applications/{app_id}/external/education/sync", headers=api.applicant, json={"record_ids": [first]}
    )
    education = (await api.get(f"/applications/{app_id}", headers=api.applicant)).json()["sections"]["education"]
    assert len(education) == 1 and education[0]["school"] == listed["records"][0]["school"]
    assert education[0]["source_record"] == first

    unknown = await api.post(
        f"/applications/{app_id}/external/education/sync", headers=api.applicant, json={"record_ids": ["edu-999"]}
    )
    assert unknown.status_code == 422 and unknown.json()["field"] == "record_ids"
    certs = (await api.get(f"/applications/{app_id}/external/vocational", headers=api.applicant)).json()
    ids = [c["record_id"] for c in certs["records"]]
    synced = await api.post(
        f"/applications/{app_id}/external/vocational/sync", headers=api.applicant, json={"record_ids": ids}
    )
    assert synced.json()["section"] == "provincial_certificates"
    stranger = api.as_(Role.APPLICANT, subject="usr_stranger")
    assert (await api.get(f"/applications/{app_id}/social-insurance", headers=stranger)).status_code == 404


@pytest.fixture
async def api_with_dead_source(applications_db: str, nats_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    tokens = TokenFactory(issuer="http://127.0.0.1:8000/api/identity", audience="applications")
    app = create_app(
        Settings(
            database_url=applications_db,
            nats_url=nats_url,
            jwks_url="http://127.0.0.1:9/unused",
            attachments_dir=tmp_path / "att",
            pii_keys=generate_key_spec("t1"),
            pii_active_key="t1",
            registry_url="http://127.0.0.1:9/registry",  # nothing listens there
        ),
        clock=Clock(NOW),
    )
    async with app.router.lifespan_context(app):
        app.state.token_verifier = TokenVerifier(
            issuer=tokens.issuer, audience="applications", jwks=StaticJwks(tokens.jwks)
        )
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as client:
            yield Api(client, tokens, Clock(NOW), applications_db)


async def test_a_source_that_is_down_gives_a_clear_error_and_the_application_still_saves(
    api_with_dead_source: Api,
) -> None:
    api = api_with_dead_source
    await load(api.database_url, year=2026)
    app = (await api.post("/applications", headers=api.applicant, json=INITIAL)).json()
    r = await api.get(f"/applications/{app['id']}/social-insurance", headers=api.applicant)
    assert r.status_code == 503 and r.json()["code"] == "external.unavailable"
    assert "社保参保信息暂时无法获取" in r.json()["detail"]
    assert (await save(api, app["id"], "basic_info", SECTIONS["basic_info"])).status_code == 200


class KnownPerson:
    """The resolver's answer for one person (the real one asks the identity bridge: tests/integration/identity)."""

    async def person(self, subject: str, *, purpose: str) -> Person:
        assert purpose
        return Person(name="张三", id_type="居民身份证", id_number="51010219900307002X")


async def test_http_registry_asks_by_id_number_in_the_body_retries_then_gives_up() -> None:
    calls: list[httpx.Request] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) < 3:
            return httpx.Response(503)
        return httpx.Response(200, json={"records": [{"record_id": "edu-1", "school": "四川大学"}]})

    http = httpx.AsyncClient(transport=httpx.MockTransport(flaky))
    registry = HttpRegistry("http://registry.test", http=http, resolver=KnownPerson(), retries=2)
    assert (await registry.education("usr_1"))[0]["school"] == "四川大学" and len(calls) == 3
    asked = calls[-1]
    assert asked.method == "POST" and str(asked.url) == "http://registry.test/education"  # no ID in the URL
    assert json.loads(asked.content) == {"id_type": "居民身份证", "id_number": "51010219900307002X", "name": "张三"}

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    dead_http = httpx.AsyncClient(transport=httpx.MockTransport(down))
    dead = HttpRegistry("http://registry.test", http=dead_http, resolver=KnownPerson(), retries=1)
    with pytest.raises(SourceUnavailableError):
        await dead.social_insurance("usr_1")


async def test_unknown_topic_is_a_validation_error(api: Api, app_id: str) -> None:
    r: Any = await api.get(f"/applications/{app_id}/external/passport", headers=api.applicant)
    assert r.status_code == 422 and r.json()["field"] == "topic"
