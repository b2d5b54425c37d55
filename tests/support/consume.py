"""Publish events to the real JetStream and let a service's own consumer handle them, as its worker would."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import nats

from zc_contracts import Envelope
from zc_db import MessagingTables, create_engine, create_session_factory
from zc_messaging import TOPOLOGY, ConsumerRunner, Handler, provision
from zc_messaging.stats import MessagingStats


async def consume(
    nats_url: str,
    database_url: str,
    *,
    durable: str,
    handler: Handler,
    tables: MessagingTables,
    messages: Sequence[tuple[Envelope, str]],
    timeout: float = 15,
) -> MessagingStats:
    """Publish each (envelope, Nats-Msg-Id), then run the durable consumer until every message was applied or
    suppressed by the inbox. A repeated message id is dropped by JetStream and does not count."""
    nc = await nats.connect(nats_url)
    engine = create_engine(database_url)
    try:
        js = nc.jetstream()
        await provision(js, TOPOLOGY)
        for envelope, msg_id in messages:
            await js.publish(envelope.subject, envelope.to_bytes(), headers={"Nats-Msg-Id": msg_id})
        runner = ConsumerRunner(
            js=js,
            spec=TOPOLOGY.consumer(durable),
            handler=handler,
            session_factory=create_session_factory(engine),
            tables=tables,
            fetch_timeout=0.3,
        )
        expected = len({msg_id for _, msg_id in messages})
        stop = asyncio.Event()
        task = asyncio.create_task(runner.run(stop))
        deadline = asyncio.get_running_loop().time() + timeout
        while runner.stats.applied + runner.stats.duplicates_suppressed < expected:
            assert asyncio.get_running_loop().time() < deadline, runner.stats
            await asyncio.sleep(0.05)
        stop.set()
        await task
        return runner.stats
    finally:
        await nc.close()
        await engine.dispose()
