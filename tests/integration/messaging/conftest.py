"""Fixtures for the messaging tests: an engine on a fresh database, the test topology provisioned."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import nats
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from support import exactly_once as eo
from zc_db import create_engine, create_session_factory
from zc_messaging import ConsumerRunner, MessagingStats, provision

TESTS_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await eo.create_schema(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def provisioned(clean_jetstream: str) -> str:
    nc = await nats.connect(clean_jetstream)
    try:
        await provision(nc.jetstream(), eo.TEST_TOPOLOGY)
    finally:
        await nc.close()
    return clean_jetstream


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 20.0, what: str = "") -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        if await check():
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(0.05)


def spawn_msg_proc(
    role: str, *, db: str, nats_url: str, service: str, log_file: Path, die_after: int | None = None
) -> subprocess.Popen[bytes]:
    args = [
        sys.executable,
        "-m",
        "support.msg_proc",
        role,
        "--db",
        db,
        "--nats",
        nats_url,
        "--service",
        service,
    ]
    if die_after is not None:
        args += ["--die-after", str(die_after)]
    env = {**os.environ, "PYTHONPATH": str(TESTS_DIR), "ZC_LOG_FORMAT": "json"}
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=open(log_file, "wb"))


async def consume_one(
    engine: AsyncEngine,
    nats_url: str,
    handler: Any,
    label: str,
    *,
    done: Callable[[], Awaitable[bool]],
    settle: float = 0.0,
) -> MessagingStats:
    """Write one state change, publish its event, run a consumer with `handler` until `done`, then `settle`
    seconds more (to catch a redelivery), and stop it gracefully."""
    sessions = create_session_factory(engine)
    async with sessions() as session, session.begin():
        envelope = await eo.change_state(session, label)
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        await js.publish(envelope.subject, envelope.to_bytes(), headers={"Nats-Msg-Id": str(envelope.id)})
        stats = MessagingStats()
        runner = ConsumerRunner(
            js=js,
            spec=eo.CONSUMER,
            handler=handler,
            session_factory=sessions,
            tables=eo.tables,
            stats=stats,
            fetch_timeout=0.3,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(runner.run(stop))
        await eventually(done, timeout=20, what=f"the {label} effect")
        await asyncio.sleep(settle)
        stop.set()
        await task
    finally:
        await nc.close()
    return stats
