"""Fixtures for the review service: its app on a migrated database, a fixed clock, the host-test process."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from review.adapters.db.tables import history, messaging, process_instances
from review.main import create_app
from review.settings import Settings
from review.usecases.reviews import Reviews as ReviewService
from support.clock import Clock
from support.engines import ENGINE_MODES, use_engine_mode
from support.grants import grants_directory
from zc_auth import Principal, Role, RoleGrant, ScopeType, StaticJwks, TokenVerifier
from zc_auth.testing import TokenFactory
from zc_contracts import Envelope
from zc_db.migrate import upgrade

REPO = Path(__file__).resolve().parents[3]
HOST_TEST_BPMN = (REPO / "tests" / "support" / "bpmn" / "host_test.bpmn").read_text(encoding="utf-8")
NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # a Friday, 10:00 in Beijing
UNIT = "0193a1f0-0000-7000-8000-00000000a001"
OTHER_UNIT = "0193a1f0-0000-7000-8000-00000000a002"
DEPARTMENT = "0193a1f0-0000-7000-8000-00000000d001"


@dataclass
class Api:
    client: httpx.AsyncClient
    tokens: TokenFactory
    clock: Clock
    reviews: ReviewService
    database_url: str
    _cache: dict[str, Any] = field(default_factory=dict)

    def as_(self, *grants: RoleGrant | Role, subject: str = "usr_reviewer") -> dict[str, str]:
        token = self.tokens.mint(subject, roles=grants, audience=["review"])
        return {"Authorization": f"Bearer {token}"}

    def unit_reviewer(self, subject: str = "usr_unit", unit: str = UNIT) -> dict[str, str]:
        return self.as_(RoleGrant(Role.UNIT_REVIEWER, ScopeType.UNIT, unit), subject=subject)

    @property
    def department_reviewer(self) -> dict[str, str]:
        return self.as_(RoleGrant(Role.DEPARTMENT_REVIEWER, ScopeType.DEPARTMENT, DEPARTMENT), subject="usr_dept")

    @property
    def operator(self) -> dict[str, str]:
        return self.as_(Role.OPERATOR, subject="usr_ops")

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.get(f"/api/review{path}", **kw)

    async def post(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.post(f"/api/review{path}", **kw)

    async def start(self, business_key: str | None = None, **data: Any) -> str:
        key = business_key or str(uuid.uuid4())
        async with self.reviews._sessions() as s, s.begin():
            await self.reviews.start(s, "host_test", key, {**start_data(key), **data})
        return key

    async def deliver(self, key: str, message: str, payload: dict[str, Any] | None = None) -> bool:
        async with self.reviews._sessions() as s, s.begin():
            return await self.reviews.deliver(s, key, message, payload or {})

    async def tasks(self, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
        r = await self.get("/tasks", headers=headers, params=params)
        assert r.status_code == 200, r.text
        return list(r.json()["items"])

    async def task_of(self, key: str, headers: dict[str, str]) -> dict[str, Any]:
        mine = [t for t in await self.tasks(headers, size=100) if t["business_key"] == key]
        assert len(mine) == 1, mine
        return mine[0]

    async def complete(self, task_id: str, headers: dict[str, str], **body: Any) -> httpx.Response:
        return await self.post(f"/tasks/{task_id}/complete", headers=headers, json=body)

    async def instance(self, key: str) -> dict[str, Any]:
        async with self.reviews._sessions() as s:
            row = (await s.execute(select(process_instances).where(process_instances.c.business_key == key))).one()
            return dict(row._mapping)

    async def history(self, key: str) -> list[dict[str, Any]]:
        inst = await self.instance(key)
        async with self.reviews._sessions() as s:
            rows = await s.execute(select(history).where(history.c.instance_id == inst["id"]).order_by(history.c.id))
            return [dict(r._mapping) for r in rows]

    async def events(self, key: str | None = None) -> list[Envelope]:
        """The events this service put in its outbox (in order), optionally for one business key."""
        async with self.reviews._sessions() as s:
            rows = await s.execute(select(messaging.outbox.c.payload).order_by(messaging.outbox.c.created_at))
            envelopes = [Envelope.from_bytes(r.payload) for r in rows]
        return [e for e in envelopes if key is None or e.subject_id == key]


def reviewer_principal(subject: str, role: Role, scope_id: str) -> Principal:
    scope = {Role.UNIT_REVIEWER: ScopeType.UNIT, Role.DEPARTMENT_REVIEWER: ScopeType.DEPARTMENT}[role]
    return Principal(
        subject=subject,
        session_id=None,
        roles=frozenset({RoleGrant(role, scope, scope_id)}),
        issuer="tests",
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )


def start_data(key: str) -> dict[str, Any]:
    return {
        "application_id": key,
        "applicant_id": "usr_applicant",
        "unit_id": UNIT,
        "department_ids": [DEPARTMENT],
        "department_id": DEPARTMENT,
        "series_code": "GC",
        "qualification_code": "GC-ZJ-GCS",
    }


@pytest.fixture
async def review_db(database_url: str) -> str:
    await asyncio.to_thread(upgrade, REPO / "services" / "review" / "migrations", database_url)
    return database_url


def review_settings(database_url: str, nats_url: str, **extra: Any) -> Settings:
    return Settings(database_url=database_url, nats_url=nats_url, jwks_url="http://127.0.0.1:9/unused", **extra)


COMMITTEE = "0193a1f0-0000-7000-8000-00000000c001"
# who the identity bridge says holds which grant (the experts a committee may name)
DIRECTORY: dict[tuple[str, str, str], set[str]] = {
    ("expert", "committee", COMMITTEE): {"usr_expert_1", "usr_expert_2", "usr_expert_3", "usr_expert_4"},
    ("expert", "committee", "0193a1f0-0000-7000-8000-00000000c002"): {"usr_expert_elsewhere"},
}


@pytest.fixture
async def directory(nats_url: str) -> AsyncIterator[list[dict[str, Any]]]:
    async with grants_directory(nats_url, DIRECTORY) as asked:
        yield asked


@pytest.fixture
async def api(review_db: str, nats_url: str, directory: list[dict[str, Any]]) -> AsyncIterator[Api]:
    clock = Clock(NOW)
    tokens = TokenFactory(issuer="http://127.0.0.1:8000/api/identity", audience="review")
    app = create_app(review_settings(review_db, nats_url), clock=clock)
    async with app.router.lifespan_context(app):
        app.state.token_verifier = TokenVerifier(issuer=tokens.issuer, audience="review", jwks=StaticJwks(tokens.jwks))
        reviews: ReviewService = app.state.container.reviews
        await reviews.deploy("host_test", HOST_TEST_BPMN, deployed_by="tests")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as client:
            yield Api(client, tokens, clock, reviews, review_db)


@pytest.fixture(params=ENGINE_MODES)
def engine_mode(request: pytest.FixtureRequest, api: Api) -> str:
    """Run a workflow test with one engine, a fresh engine per step, and two engines in turn (issue 18)."""
    use_engine_mode(api.reviews, request.param)
    return str(request.param)
