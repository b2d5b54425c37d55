"""Test support: run a relay or a consumer in its own process, optionally dying at a chosen line.

    python -m support.msg_proc relay|consumer --db URL --nats URL [--die-after N] --service NAME

`--die-after N` ends the process with os._exit (as abrupt as SIGKILL: no cleanup, no ack, no commit)
right after the N-th publish (relay: before mark-sent) or the N-th commit (consumer: before ack).
Without it the process runs until SIGTERM and then shuts down gracefully. Logs are JSON on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

import nats
from opentelemetry import trace

from support import exactly_once as eo
from zc_db import create_engine, create_session_factory
from zc_messaging import ConsumerRunner, MessagingStats, OutboxRelay, Publisher, install_signal_handlers
from zc_telemetry import configure_logging, setup_telemetry


def _die_after(n: int | None):  # type: ignore[no-untyped-def]
    seen = 0

    def hook(_event_id: str) -> None:
        nonlocal seen
        seen += 1
        if n is not None and seen >= n:
            sys.stderr.flush()
            os._exit(137)

    return hook if n is not None else None


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=["relay", "consumer"])
    parser.add_argument("--db", required=True)
    parser.add_argument("--nats", required=True)
    parser.add_argument("--service", required=True)
    parser.add_argument("--die-after", type=int)
    args = parser.parse_args()
    setup_telemetry(args.service)
    configure_logging(args.service, fmt="json")
    engine = create_engine(args.db)
    sessions = create_session_factory(engine)
    nc = await nats.connect(args.nats, max_reconnect_attempts=-1, reconnect_time_wait=0.5)
    js = nc.jetstream()
    stats = MessagingStats()
    stop = asyncio.Event()
    install_signal_handlers(stop)
    if args.role == "relay":
        relay = OutboxRelay(
            session_factory=sessions,
            tables=eo.tables,
            publisher=Publisher(js),
            stats=stats,
            poll_interval=0.05,
            batch_size=5,
            after_publish=_die_after(args.die_after),
        )
        await relay.run(stop)
    else:
        runner = ConsumerRunner(
            js=js,
            spec=eo.CONSUMER,
            handler=eo.apply_effect,
            session_factory=sessions,
            tables=eo.tables,
            stats=stats,
            batch_size=5,
            fetch_timeout=0.3,
            after_commit=_die_after(args.die_after),
        )
        await runner.run(stop)
    trace.get_tracer_provider().force_flush()  # type: ignore[attr-defined]
    await nc.drain()
    await engine.dispose()
    print(json.dumps({"stats": stats.as_dict()}), flush=True)  # noqa: T201 - the parent reads this


if __name__ == "__main__":
    asyncio.run(main())
