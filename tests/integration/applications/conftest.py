"""Fixtures for the applications service: its app on a migrated database, a fixed clock, signed tokens."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from applications.main import create_app
from applications.settings import Settings
from support.clock import Clock
from support.responders import answering
from zc_auth import Role, RoleGrant, ScopeType, StaticJwks, TokenVerifier
from zc_auth.testing import TokenFactory
from zc_db.migrate import upgrade
from zc_db.pii import generate_key_spec

REPO = Path(__file__).resolve().parents[3]
# 2026-11-27 10:00 in Asia/Shanghai
NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


@dataclass
class Api:
    client: httpx.AsyncClient
    tokens: TokenFactory
    clock: Clock
    database_url: str
    _headers: dict[str, str] = field(default_factory=dict)

    def as_(self, *grants: RoleGrant | Role, subject: str = "usr_test") -> dict[str, str]:
        token = self.tokens.mint(subject, roles=grants, audience=["applications"])
        return {"Authorization": f"Bearer {token}"}

    @property
    def admin(self) -> dict[str, str]:
        return self.as_(Role.ADMIN, subject="usr_admin")

    @property
    def applicant(self) -> dict[str, str]:
        return self.as_(Role.APPLICANT, subject="usr_applicant")

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.get(f"/api/applications{path}", **kw)

    async def post(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.post(f"/api/applications{path}", **kw)

    async def put(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.put(f"/api/applications{path}", **kw)


@pytest.fixture
async def applications_db(database_url: str) -> str:
    await asyncio.to_thread(upgrade, REPO / "services" / "applications" / "migrations", database_url)
    return database_url


# who the test subjects are, as the identity bridge would answer `rpc.identity.person.v1` (its own tests cover the
# real lookup); a subject not listed is answered with the default person
PEOPLE = {
    "usr_applicant": {"name": "王小明", "id_type": "居民身份证", "id_number": "510104198506035532"},
    "usr_applicant2": {"name": "钱晓燕", "id_type": "居民身份证", "id_number": "510107199003052422"},
}
DEFAULT_PERSON = {"name": "测试申报人", "id_type": "居民身份证", "id_number": "510104199201011236"}


@asynccontextmanager
async def identity_bridge_answering(nats_url: str, people: dict[str, dict[str, str]]) -> AsyncIterator[list[Any]]:
    """Answers person lookups like the identity bridge; yields the questions asked."""

    def answer(ask: dict[str, Any]) -> dict[str, Any]:
        return people.get(ask["user_id"], DEFAULT_PERSON) if ask.get("purpose") else {"error": "refused"}

    async with answering(nats_url, "rpc.identity.person.v1", answer, queue="identity-bridge") as asked:
        yield asked


@asynccontextmanager
async def running_api(
    database_url: str, nats_url: str, *, people: dict[str, dict[str, str]] | None = PEOPLE, **overrides: Any
) -> AsyncIterator[Api]:
    """The applications API in-process, with settings as the tests need them (overrides win); `people` None: no
    identity bridge answers."""
    async with AsyncExitStack() as stack:
        if people is not None:
            await stack.enter_async_context(identity_bridge_answering(nats_url, people))
        yield await stack.enter_async_context(_running_api(database_url, nats_url, **overrides))


@asynccontextmanager
async def _running_api(database_url: str, nats_url: str, **overrides: Any) -> AsyncIterator[Api]:
    clock = Clock(NOW)
    tokens = TokenFactory(issuer="http://127.0.0.1:8000/api/identity", audience="applications")
    values: dict[str, Any] = {
        "database_url": database_url,
        "nats_url": nats_url,
        "jwks_url": "http://127.0.0.1:9/unused",
        "pii_keys": generate_key_spec("t1"),
        "pii_active_key": "t1",
        **overrides,
    }
    app = create_app(Settings(**values), clock=clock)
    async with app.router.lifespan_context(app):
        # tokens signed by the test's own key, verified exactly as the identity bridge's would be
        app.state.token_verifier = TokenVerifier(
            issuer=tokens.issuer, audience="applications", jwks=StaticJwks(tokens.jwks)
        )
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as client:
            yield Api(client, tokens, clock, database_url)


@pytest.fixture
async def api(applications_db: str, nats_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    async with running_api(applications_db, nats_url, attachments_dir=tmp_path / "attachments") as api:
        yield api


def grant(role: Role, scope: ScopeType, scope_id: str | None) -> RoleGrant:
    return RoleGrant(role, scope, scope_id)
