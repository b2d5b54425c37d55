"""A NATS outage: the connection says so (waiters block instead of spinning) and comes back by itself, and a
follower of a subject neither burns the CPU while NATS is away nor misses what is published after."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nats
import pytest

from zc_contracts import Envelope, identity_v1, make_envelope
from zc_devstack.nats import EmbeddedNats
from zc_devstack.procs import free_port
from zc_messaging import NatsConnection, follow_subject, provision
from zc_messaging.topology import TOPOLOGY


async def test_waiters_block_during_an_outage_and_a_follower_resumes(tmp_path: Path) -> None:
    server = EmbeddedNats(tmp_path / "nats", port=free_port())
    server.start()
    conn = NatsConnection(server.url, name="outage-test")
    seen: list[Envelope] = []
    stop = asyncio.Event()
    try:
        await conn.start()
        await conn.wait_connected(timeout=10)
        assert conn.client is not None
        await provision(conn.client.jetstream(), TOPOLOGY)
        follower = asyncio.create_task(
            follow_subject(conn, "identity.session.ended.v1", seen.append, since=timedelta(0), stop=stop)
        )
        await asyncio.sleep(0.5)

        server.stop()
        await asyncio.sleep(1.0)
        assert not conn.is_connected
        with pytest.raises(TimeoutError):
            await conn.wait_connected(timeout=0.5)  # blocks instead of returning at once
        cpu = time.process_time()
        await asyncio.sleep(2.0)
        assert time.process_time() - cpu < 0.5  # the follower waits; it does not spin

        server.start()  # same port, same store
        await conn.wait_connected(timeout=15)
        now = datetime.now(UTC)
        ended = identity_v1.SessionEnded(
            session_id="s-1", user_id="u-1", reason="logout", ended_at=now, tokens_valid_until=now
        )
        publisher = await nats.connect(server.url)
        try:
            for _ in range(50):  # the follower resubscribes once it sees the connection back
                await publisher.jetstream().publish(
                    "identity.session.ended.v1", make_envelope(ended, source="test", subject_id="s-1").to_bytes()
                )
                await asyncio.sleep(0.2)
                if seen:
                    break
        finally:
            await publisher.close()
        assert seen and seen[0].subject == "identity.session.ended.v1"
        stop.set()
        await asyncio.wait_for(follower, timeout=5)
    finally:
        stop.set()
        await conn.close()
        server.stop()
