"""Messaging: the worker process body shared by every service (outbox relay + consumers + shutdown).

SIGTERM/SIGINT: stop fetching, finish the messages in hand, drain NATS, dispose the DB engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from zc_db import MessagingTables, create_session_factory
from zc_messaging.connection import NatsConnection
from zc_messaging.consumer import ConsumerRunner, Handler
from zc_messaging.health import serve_liveness
from zc_messaging.outbox import OutboxRelay, Publisher
from zc_messaging.stats import MessagingStats
from zc_messaging.topology import TOPOLOGY, Topology

log = logging.getLogger("zc_messaging.worker")


@dataclass
class WorkerSpec:
    service: str
    engine: AsyncEngine
    tables: MessagingTables
    nats_url: str
    handlers: Mapping[str, Handler] = field(default_factory=dict)  # durable consumer name -> handler
    topology: Topology = TOPOLOGY


async def run_worker(spec: WorkerSpec, stop: asyncio.Event, stats: MessagingStats | None = None) -> None:
    stats = stats or MessagingStats()
    sessions = create_session_factory(spec.engine)
    conn = NatsConnection(spec.nats_url, name=f"{spec.service}-worker")
    await conn.start()
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await conn.wait_connected(timeout=1.0)
                break
        if stop.is_set():
            return
        js = conn.jetstream()
        relay = OutboxRelay(session_factory=sessions, tables=spec.tables, publisher=Publisher(js), stats=stats)
        runners = [
            ConsumerRunner(
                js=js,
                spec=spec.topology.consumer(durable),
                handler=handler,
                session_factory=sessions,
                tables=spec.tables,
                stats=stats,
            )
            for durable, handler in spec.handlers.items()
        ]
        log.info("worker started", extra={"consumers": [r.spec.durable for r in runners]})
        async with asyncio.TaskGroup() as tg:
            tg.create_task(relay.run(stop), name="outbox-relay")
            for r in runners:
                tg.create_task(r.run(stop), name=f"consumer-{r.spec.durable}")
        log.info("worker stopped", extra={"stats": stats.as_dict()})
    finally:
        await conn.close()


def install_signal_handlers(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)


async def run_service_worker(
    service: str,
    *,
    database_url: str,
    nats_url: str,
    tables: MessagingTables,
    handlers: Mapping[str, Handler],
    stop: asyncio.Event,
) -> None:
    """A service's worker: its own engine, relay and consumers until `stop`; the engine is disposed after."""
    from zc_db import create_engine

    engine = create_engine(database_url)
    try:
        await run_worker(
            WorkerSpec(service=service, engine=engine, tables=tables, nats_url=nats_url, handlers=handlers), stop
        )
    finally:
        await engine.dispose()


def worker_main(service: str, run: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Process entry point: telemetry, JSON logs, SIGTERM/SIGINT -> graceful stop."""
    from zc_telemetry import configure_logging, setup_telemetry

    setup_telemetry(service)
    configure_logging(service)

    async def _main() -> None:
        stop = asyncio.Event()
        install_signal_handlers(stop)
        liveness = asyncio.create_task(serve_liveness(stop), name="liveness")
        try:
            await run(stop)
        finally:
            stop.set()
            await liveness

    asyncio.run(_main())
