"""Messaging: keep an in-memory view current from a subject (e.g. ended sessions), through reconnects.

Not for effects that must happen exactly once (use a durable consumer and the inbox for those): this is an
ephemeral ordered consumer that replays the recent past at start, then follows live.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import nats.errors
from nats.js.api import ConsumerConfig, DeliverPolicy

from zc_contracts import Envelope
from zc_messaging.connection import NatsConnection

log = logging.getLogger("zc_messaging.follow")


async def follow_subject(
    conn: NatsConnection,
    subject: str,
    on_event: Callable[[Envelope], None],
    *,
    since: timedelta,
    stop: asyncio.Event | None = None,
) -> None:
    """Call `on_event` for every envelope on `subject` from `now - since` on, until `stop` (or cancelled).

    A cancellation can be lost on the way: Python 3.11's `asyncio.wait_for` swallows one that arrives as the
    awaited call finishes, and nats-py turns one into ConnectionClosedError once the client is closed. So the
    loops also ask whether the task is being cancelled, and the owner sets `stop` besides cancelling."""
    stop = stop or asyncio.Event()
    while _running(stop):
        with contextlib.suppress(TimeoutError):
            await conn.wait_connected(timeout=1.0)
        if not conn.is_connected:
            continue
        start = datetime.now(UTC) - since
        try:
            sub = await conn.jetstream().subscribe(
                subject,
                ordered_consumer=True,
                deliver_policy=DeliverPolicy.BY_START_TIME,
                config=ConsumerConfig(opt_start_time=start),
            )
        except Exception as exc:  # stream not provisioned yet, or NATS just went away
            log.warning("cannot follow %s yet (%s)", subject, type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=2.0)
            continue
        try:
            while _running(stop) and conn.is_connected:
                try:
                    msg = await sub.next_msg(timeout=1.0)
                except nats.errors.TimeoutError:
                    continue
                try:
                    on_event(Envelope.from_bytes(msg.data))
                except Exception:
                    log.exception("could not apply an event from %s", subject)
        except Exception as exc:
            log.warning("following %s interrupted (%s); starting over", subject, type(exc).__name__)
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()


def _running(stop: asyncio.Event) -> bool:
    task = asyncio.current_task()
    return not stop.is_set() and not (task is not None and task.cancelling())
