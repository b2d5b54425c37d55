"""Fixtures for the identity bridge: its app on a migrated database, a real OpenID provider, a browser."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import text

from identity_bridge.adapters.signing_keys import generate_pem
from identity_bridge.main import create_app
from identity_bridge.settings import Settings
from support.oidc_op import TEST_ID_NUMBER, TEST_PHONE, OpenIdProvider
from zc_db import create_engine
from zc_db.migrate import upgrade
from zc_db.pii import generate_key_spec

REPO = Path(__file__).resolve().parents[3]
PUBLIC = "http://127.0.0.1:8000"
CALLBACK = f"{PUBLIC}/api/identity/callback"
CLIENT_ID, CLIENT_SECRET = "zhicheng-bridge", "zhicheng-bridge-secret-0123456789"
ACCOUNTS = {
    "citizen-1": {
        "name": "张三",
        "id_type": "居民身份证",
        "id_number": TEST_ID_NUMBER,
        "phone_number": TEST_PHONE,
        "auth_level": 3,
    },
    "citizen-2": {
        "name": "李四",
        "id_type": "居民身份证",
        "id_number": "510104198506035532",
        "phone_number": "13900001111",
        "auth_level": 2,
    },
}
CSRF = {"X-Requested-With": "zhicheng"}


@pytest.fixture(scope="session")
def op() -> Iterator[OpenIdProvider]:
    clients = [
        {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [CALLBACK],
            "post_logout_redirect_uris": [f"{PUBLIC}/"],
            "token_endpoint_auth_method": "client_secret_basic",
        }
    ]
    with OpenIdProvider(clients=clients, accounts=ACCOUNTS) as provider:
        yield provider


@pytest.fixture
async def identity_db(database_url: str) -> AsyncIterator[str]:
    await asyncio.to_thread(upgrade, REPO / "services" / "identity-bridge" / "migrations", database_url)
    yield database_url


def identity_settings(tmp_path: Path, database_url: str, nats_url: str, **overrides: Any) -> Settings:
    key = tmp_path / "signing.pem"
    if not key.exists():
        key.write_bytes(generate_pem())
    values: dict[str, Any] = {
        "env": "test",
        "database_url": database_url,
        "nats_url": nats_url,
        "public_base_url": PUBLIC,
        "cookie_secure": False,
        "signing_key_file": key,
        "pii_keys": generate_key_spec("t1"),
        "pii_active_key": "t1",
        "pii_index_key": base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("="),
    }
    values.update(overrides)
    return Settings(**values)


class Browser:
    """A browser on the bridge (ASGI) that can also visit other hosts through `outside`."""

    def __init__(self, app: Any, outside: httpx.AsyncClient | None = None) -> None:
        self.app = app
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC)
        self.outside = outside

    @staticmethod
    def local(url: str) -> str:
        parts = urlsplit(url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    async def get(self, url: str, **kw: Any) -> httpx.Response:
        return await self.client.get(self.local(url), **kw)

    async def post(self, url: str, **kw: Any) -> httpx.Response:
        return await self.client.post(self.local(url), **kw)


@pytest.fixture
async def running_bridge(tmp_path: Path, identity_db: str, nats_url: str) -> AsyncIterator[Callable[..., Any]]:
    """Factory: start the bridge app with given settings overrides and an http client to the platform."""
    started: list[Any] = []

    async def start(*, http: httpx.AsyncClient | None = None, **overrides: Any) -> Browser:
        app = create_app(identity_settings(tmp_path, identity_db, nats_url, **overrides), http=http)
        cm = app.router.lifespan_context(app)
        await cm.__aenter__()
        started.append(cm)
        return Browser(app)

    yield start
    for cm in started:
        await cm.__aexit__(None, None, None)


async def count(database_url: str, sql: str) -> int:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(text(sql))).scalar_one())
    finally:
        await engine.dispose()


async def execute(database_url: str, sql: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()
