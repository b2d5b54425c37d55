"""A NATS outage: the connection says so (waiters block instead of spinning) and comes back by itself, and a
follower of a subject neither burns the CPU while NATS is away nor misses what is published after."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import nats
import nats.errors
import pytest
from nats.aio.subscription import Subscription

from zc_contracts import Envelope, identity_v1, make_envelope
from zc_devstack.nats import EmbeddedNats
from zc_devstack.procs import free_port
from zc_messaging import NatsConnection, ServiceRuntime, follow_subject, provision
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


async def test_a_service_closes_even_when_its_follower_loses_a_cancellation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The teardown that hung twice: a follower whose cancellation is lost (Python 3.11's `wait_for` swallows
    one that arrives as the awaited call finishes; nats-py turns one into ConnectionClosedError) went on
    looping, and closing the service waited for it for ever. It ends on the runtime's `stopping` too."""
    receive = Subscription.next_msg

    async def losing_cancellations(self: Subscription, timeout: float | None = 1.0) -> Any:
        try:
            return await receive(self, timeout=timeout)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            assert task is not None
            task.uncancel()  # lost entirely: nothing tells the task it is being cancelled
            raise nats.errors.TimeoutError from None

    monkeypatch.setattr(Subscription, "next_msg", losing_cancellations)
    server = EmbeddedNats(tmp_path / "nats", port=free_port())
    server.start()
    runtime = await ServiceRuntime.start("close-test", database_url="postgresql://x@127.0.0.1:9/x", nats_url=server.url)
    try:
        await runtime.nats.wait_connected(timeout=10)
        assert runtime.nats.client is not None
        await provision(runtime.nats.client.jetstream(), TOPOLOGY)
        runtime.follow("identity.session.ended.v1", lambda _e: None, since=timedelta(0))
        await asyncio.sleep(1.0)  # subscribed and waiting for a message
        await asyncio.wait_for(runtime.aclose(), timeout=10)
        assert all(task.done() for task in runtime.background)
    finally:
        server.stop()
