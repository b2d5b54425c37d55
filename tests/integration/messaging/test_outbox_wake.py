"""The outbox relay is woken by the outbox's insert notification instead of waiting for its next poll, and the
publishes of one batch, pipelined, reach the stream in the outbox's order."""

from __future__ import annotations

import asyncio
import time

import nats
from sqlalchemy.ext.asyncio import AsyncEngine

from integration.messaging.conftest import eventually
from support import exactly_once as eo
from zc_db import create_session_factory
from zc_db.migration_ops import create_outbox_notify
from zc_messaging import MessagingStats, OutboxRelay, Publisher


class _Statements:
    """What migration_ops needs of alembic's `op`: it collects the statements, the test runs them."""

    def __init__(self) -> None:
        self.sql: list[str] = []

    def execute(self, sql: str) -> None:
        self.sql.append(sql)


async def _add_notify_trigger(engine: AsyncEngine) -> None:
    op = _Statements()
    create_outbox_notify(op)
    async with engine.begin() as conn:
        for statement in op.sql:
            await conn.exec_driver_sql(statement)


async def _pending(engine: AsyncEngine) -> int:
    return (await eo.counts(engine))["outbox_pending"]


async def test_a_committed_row_wakes_the_relay_long_before_its_poll(engine: AsyncEngine, provisioned: str) -> None:
    await _add_notify_trigger(engine)
    nc = await nats.connect(provisioned)
    stop = asyncio.Event()
    relay = OutboxRelay(
        session_factory=create_session_factory(engine),
        tables=eo.tables,
        publisher=Publisher(nc.jetstream()),
        stats=MessagingStats(),
        poll_interval=30.0,  # only the notification can make it publish within the test's time
    )
    task = asyncio.create_task(relay.run(stop))
    try:
        await asyncio.sleep(0.5)  # the relay's first (empty) batch done, it listens and waits
        sessions = create_session_factory(engine)
        started = time.monotonic()
        async with sessions() as session, session.begin():
            await eo.change_state(session, "woken")
        await eventually(lambda: _zero(engine), timeout=5, what="the row published")
        assert time.monotonic() - started < 5
        assert relay.stats.as_dict()["published"] == 1
    finally:
        stop.set()
        await task
        await nc.close()


async def _zero(engine: AsyncEngine) -> bool:
    return await _pending(engine) == 0


async def test_a_pipelined_batch_reaches_the_stream_in_outbox_order(engine: AsyncEngine, provisioned: str) -> None:
    sessions = create_session_factory(engine)
    written = []
    for i in range(60):
        async with sessions() as session, session.begin():
            written.append((await eo.change_state(session, f"ordered{i}")).id)
    nc = await nats.connect(provisioned)
    try:
        js = nc.jetstream()
        relay = OutboxRelay(
            session_factory=sessions, tables=eo.tables, publisher=Publisher(js), stats=MessagingStats(), batch_size=100
        )
        assert await relay.relay_once() == 60
        assert await _pending(engine) == 0
        info = await js.stream_info("APPLICATIONS")
        first = info.state.first_seq
        stored = [
            (await js.get_msg("APPLICATIONS", seq)).headers["Nats-Msg-Id"]  # type: ignore[index]
            for seq in range(first, first + 60)
        ]
        assert stored == [str(event_id) for event_id in written]
    finally:
        await nc.close()
