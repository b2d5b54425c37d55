"""Session-wide fixtures: real servers, a fresh database per test, a clean JetStream per test."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import nats
import pytest
from nats.js.errors import NotFoundError

from support.infra import nats_server, postgres_server
from support.random_ids import random_db_name

_COUNT_REPORTS: list[tuple[str, dict[str, int]]] = []


@pytest.fixture(scope="session")
def infra_dir() -> Iterator[Path]:
    """Outside pytest's basetemp on purpose: another pytest session prunes old basetemps, and that must not
    pull the data directory from under this session's PostgreSQL."""
    base = os.environ.get("ZC_TEST_INFRA_DIR")
    if base:
        yield Path(base)
        return
    path = Path(tempfile.mkdtemp(prefix="zc-test-infra-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_admin_url(infra_dir: Path) -> Iterator[str]:
    with postgres_server(infra_dir) as url:
        yield url


@pytest.fixture(scope="session")
def nats_url(infra_dir: Path) -> Iterator[str]:
    with nats_server(infra_dir) as url:
        yield url


def _with_database(url: str, database: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{database}"


@pytest.fixture
async def database_url(pg_admin_url: str) -> AsyncIterator[str]:
    """A brand-new empty database for this test, dropped afterwards."""
    name = random_db_name()
    admin_url = pg_admin_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    yield _with_database(admin_url, name)
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
async def clean_jetstream(nats_url: str) -> AsyncIterator[str]:
    """The session's NATS with every stream deleted first, so each test starts from nothing."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        for info in await js.streams_info():
            try:
                await js.delete_stream(info.config.name)
            except NotFoundError:
                pass
    finally:
        await nc.close()
    yield nats_url


@pytest.fixture
def report_counts(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Tests call it with their counts; the terminal summary lists them after the run."""

    def report(counts: dict[str, int]) -> None:
        _COUNT_REPORTS.append((request.node.nodeid, dict(counts)))

    return report


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # type: ignore[no-untyped-def]
    if not _COUNT_REPORTS:
        return
    terminalreporter.section("counts reported by tests (deliveries, fuzzing, authorization matrix, crash matrix)")
    for nodeid, counts in _COUNT_REPORTS:
        terminalreporter.write_line(f"{nodeid.split('::')[-1]}: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
