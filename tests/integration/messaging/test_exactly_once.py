"""An event written with a state change reaches its consumer exactly once, through crashes and outages.

Every test writes state changes whose events go through the outbox, runs relay and consumer against
real PostgreSQL and NATS JetStream, breaks something at the worst moment, and checks that each event
had exactly one effect. Counts are reported in the run's "delivery counts" section.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import nats
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from integration.messaging.conftest import eventually, spawn_msg_proc
from support import exactly_once as eo
from zc_db import create_session_factory
from zc_devstack.nats import EmbeddedNats
from zc_devstack.procs import free_port
from zc_messaging import ConsumerRunner, MessagingStats, OutboxRelay, Publisher, provision

N = 20


async def write_changes(engine: AsyncEngine, n: int, label: str = "x") -> None:
    sessions = create_session_factory(engine)
    for i in range(n):
        async with sessions() as session, session.begin():
            await eo.change_state(session, f"{label}{i}")


async def stream_messages(js: nats.js.JetStreamContext) -> int:
    return int((await js.stream_info("APPLICATIONS")).state.messages)


@contextlib.asynccontextmanager
async def running(*coros):  # type: ignore[no-untyped-def]
    """Run relay/consumer loops in the background until the block ends, then stop them gracefully."""
    stop = asyncio.Event()
    tasks = [asyncio.create_task(c(stop)) for c in coros]
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.gather(*tasks)


def make_relay(engine: AsyncEngine, js, stats: MessagingStats) -> OutboxRelay:  # type: ignore[no-untyped-def]
    return OutboxRelay(
        session_factory=create_session_factory(engine),
        tables=eo.tables,
        publisher=Publisher(js),
        stats=stats,
        poll_interval=0.05,
        max_backoff=0.5,
    )


def make_consumer(engine: AsyncEngine, js, stats: MessagingStats) -> ConsumerRunner:  # type: ignore[no-untyped-def]
    return ConsumerRunner(
        js=js,
        spec=eo.CONSUMER,
        handler=eo.apply_effect,
        session_factory=create_session_factory(engine),
        tables=eo.tables,
        stats=stats,
        fetch_timeout=0.3,
    )


def effects_reached(engine: AsyncEngine, n: int):  # type: ignore[no-untyped-def]
    async def check() -> bool:
        c = await eo.counts(engine)
        return c["effects"] >= n and c["outbox_pending"] == 0

    return check


@pytest.mark.parametrize("outage", ["graceful_stop", "kill"])
async def test_event_delivered_once_when_nats_stops_and_restarts_with_events_pending(
    engine: AsyncEngine, tmp_path: Path, outage: str, report_counts
) -> None:
    server = EmbeddedNats(tmp_path / "nats", port=free_port())
    server.start()
    relay_stats, consumer_stats = MessagingStats(), MessagingStats()
    nc = await nats.connect(server.url, max_reconnect_attempts=-1, reconnect_time_wait=0.2, error_cb=_quiet)
    try:
        js = nc.jetstream()
        await provision(js, eo.TEST_TOPOLOGY)
        relay, consumer = make_relay(engine, js, relay_stats), make_consumer(engine, js, consumer_stats)
        async with running(relay.run, consumer.run):
            await write_changes(engine, 5, "before")
            await eventually(effects_reached(engine, 5), what="first 5 effects")

            # NATS goes away; state changes go on, their events wait in the outbox.
            server.kill() if outage == "kill" else server.stop()
            await write_changes(engine, N - 5, "during")
            await asyncio.sleep(1.0)
            during = await eo.counts(engine)
            assert during["outbox_pending"] == N - 5, "nothing can be published while NATS is down"
            assert during["effects"] == 5

            server.start()  # same port, same store directory
            await eventually(effects_reached(engine, N), timeout=30, what="all effects after restart")
            await asyncio.sleep(consumer.spec.ack_wait_seconds + 0.5)  # time for any stray redelivery
        final = await eo.counts(engine)
        assert await stream_messages(js) == N, "the stream kept the events acked before the outage"
    finally:
        await nc.close()
        server.stop()
    assert final == {"state_changes": N, "effects": N, "distinct_effects": N, "outbox_pending": 0}
    assert consumer_stats.applied == N
    report_counts(
        {
            "state_changes": N,
            "pending_during_outage": N - 5,
            "published": relay_stats.published,
            "publish_duplicates_dropped": relay_stats.publish_duplicates,
            "delivered": consumer_stats.delivered,
            "applied": consumer_stats.applied,
            "duplicates_suppressed": consumer_stats.duplicates_suppressed,
            "effects": final["effects"],
        }
    )


async def test_event_delivered_once_when_relay_killed_between_publish_and_mark_sent(
    engine: AsyncEngine, database_url: str, provisioned: str, tmp_path: Path, report_counts
) -> None:
    await write_changes(engine, N)
    # The relay publishes in batches of 5, pipelined, and dies while going through the acks of its second batch
    # (at the 7th event): events 6 to 10 are in the stream, but their batch's mark-sent never committed.
    proc = spawn_msg_proc(
        "relay",
        db=database_url,
        nats_url=provisioned,
        service="applications",
        log_file=tmp_path / "relay.log",
        die_after=7,
    )
    assert proc.wait(60) == 137
    nc = await nats.connect(provisioned)
    try:
        js = nc.jetstream()
        assert await stream_messages(js) == 10
        pending_after_crash = (await eo.counts(engine))["outbox_pending"]
        assert pending_after_crash == N - 5

        relay_stats, consumer_stats = MessagingStats(), MessagingStats()
        async with running(make_relay(engine, js, relay_stats).run, make_consumer(engine, js, consumer_stats).run):
            await eventually(effects_reached(engine, N), what="all effects")
            await asyncio.sleep(eo.CONSUMER.ack_wait_seconds + 0.5)
        in_stream = await stream_messages(js)
    finally:
        await nc.close()
    final = await eo.counts(engine)
    assert final == {"state_changes": N, "effects": N, "distinct_effects": N, "outbox_pending": 0}
    assert relay_stats.published == pending_after_crash
    assert relay_stats.publish_duplicates == 5, "JetStream dropped the re-published events 6 to 10"
    assert in_stream == N
    assert consumer_stats.delivered == N and consumer_stats.applied == N
    report_counts(
        {
            "published_before_crash": 10,
            "republished": relay_stats.published,
            "publish_duplicates_dropped": relay_stats.publish_duplicates,
            "in_stream": in_stream,
            "delivered": consumer_stats.delivered,
            "applied": consumer_stats.applied,
            "duplicates_suppressed": consumer_stats.duplicates_suppressed,
            "effects": final["effects"],
        }
    )


async def test_event_applied_once_when_consumer_killed_after_effects_before_ack(
    engine: AsyncEngine, database_url: str, provisioned: str, tmp_path: Path, report_counts
) -> None:
    await write_changes(engine, N)
    nc = await nats.connect(provisioned)
    try:
        js = nc.jetstream()
        relay_stats = MessagingStats()
        async with running(make_relay(engine, js, relay_stats).run):
            await eventually(lambda: _pending_is_zero(engine), what="outbox drained")
        # The consumer commits the 5th effect and dies before acking it.
        proc = spawn_msg_proc(
            "consumer",
            db=database_url,
            nats_url=provisioned,
            service="review",
            log_file=tmp_path / "consumer.log",
            die_after=5,
        )
        assert proc.wait(60) == 137
        assert (await eo.counts(engine))["effects"] == 5

        stats = MessagingStats()
        async with running(make_consumer(engine, js, stats).run):
            await eventually(effects_reached(engine, N), what="all effects")
            # the unacked 5th message comes back after ack_wait and must be recognised
            await eventually(
                lambda: _true_if(stats.duplicates_suppressed >= 1),
                timeout=15,
                what="redelivery of the unacked message",
            )
            await asyncio.sleep(0.5)
    finally:
        await nc.close()
    final = await eo.counts(engine)
    assert final == {"state_changes": N, "effects": N, "distinct_effects": N, "outbox_pending": 0}
    assert stats.duplicates_suppressed == 1
    assert stats.applied == N - 5
    report_counts(
        {
            "published": relay_stats.published,
            "applied_before_crash": 5,
            "delivered_after_restart": stats.delivered,
            "applied_after_restart": stats.applied,
            "duplicates_suppressed": stats.duplicates_suppressed,
            "effects": final["effects"],
        }
    )


async def _pending_is_zero(engine: AsyncEngine) -> bool:
    return (await eo.counts(engine))["outbox_pending"] == 0


async def _true_if(value: bool) -> bool:
    return value


async def _quiet(_exc: Exception) -> None:
    """Connection errors are the point of the outage test; nats-py would print each one."""
