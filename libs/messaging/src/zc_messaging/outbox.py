"""Messaging: the transactional outbox; rows written with the state change, a relay publishes them.

Delivery guarantee: a row is marked sent only after JetStream acked it (file storage, fsync'd), and
it is published with `Nats-Msg-Id` = event id. A relay that dies between publish and mark-sent
re-publishes on restart; JetStream's duplicate window drops the copy and consumers' inboxes catch
anything older. NATS being down only delays rows: they wait and the relay resumes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zc_contracts import Envelope
from zc_db import MessagingTables
from zc_messaging.stats import MessagingStats
from zc_telemetry import extract_context, inject_context

log = logging.getLogger("zc_messaging.outbox")
tracer = trace.get_tracer("zc_messaging")

MSG_ID = "Nats-Msg-Id"


async def add_to_outbox(session: AsyncSession, tables: MessagingTables, envelope: Envelope) -> None:
    """Stage an event in the caller's transaction; it leaves only if that transaction commits."""
    await add_all_to_outbox(session, tables, [envelope])


async def add_all_to_outbox(session: AsyncSession, tables: MessagingTables, envelopes: Sequence[Envelope]) -> None:
    """Stage several events of one change in the caller's transaction with one statement (rows in order)."""
    if not envelopes:
        return
    headers: dict[str, str] = {}
    inject_context(headers)  # the relay continues the trace of the request that made the change
    rows = [{"id": e.id, "subject": e.subject, "payload": e.to_bytes(), "headers": headers} for e in envelopes]
    await session.execute(insert(tables.outbox), rows)  # executemany: compiled once, one round trip


class Publisher:
    """The JetStream side of the relay (a port, so tests can count or fail publishes)."""

    def __init__(self, js: Any) -> None:
        self._js = js

    async def publish(self, subject: str, payload: bytes, headers: dict[str, str]) -> bool:
        """Publish and wait for the stream's ack; returns True when the stream saw a duplicate."""
        ack = await self._js.publish(subject, payload, headers=headers, timeout=5.0)
        return bool(getattr(ack, "duplicate", False))


class OutboxRelay:
    def __init__(
        self,
        *,
        session_factory: async_sessionmaker[AsyncSession],
        tables: MessagingTables,
        publisher: Publisher,
        stats: MessagingStats | None = None,
        batch_size: int = 100,
        poll_interval: float = 0.2,
        max_backoff: float = 5.0,
        after_publish: Callable[[str], None] | None = None,  # test hook: between publish and mark-sent
    ) -> None:
        self._sessions = session_factory
        self._tables = tables
        self._publisher = publisher
        self.stats = stats or MessagingStats()
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._max_backoff = max_backoff
        self._after_publish = after_publish
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Skip the rest of the poll interval (a same-process writer just committed)."""
        self._wake.set()

    async def relay_once(self) -> int:
        """Publish one batch of pending rows; returns how many were published."""
        outbox = self._tables.outbox
        published = 0
        async with self._sessions() as session, session.begin():
            # SKIP LOCKED: several relay replicas share the work without publishing a row twice at once.
            rows = (
                await session.execute(
                    select(outbox.c.id, outbox.c.subject, outbox.c.payload, outbox.c.headers)
                    .where(outbox.c.sent_at.is_(None))
                    .order_by(outbox.c.created_at, outbox.c.id)
                    .limit(self._batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in rows:
                event_id = str(row.id)
                stored = {str(k): str(v) for k, v in (row.headers or {}).items()}
                with tracer.start_as_current_span(
                    f"{row.subject} publish",
                    context=extract_context(stored),
                    kind=SpanKind.PRODUCER,
                    attributes={
                        "messaging.system": "nats",
                        "messaging.destination.name": row.subject,
                        "messaging.message.id": event_id,
                    },
                ):
                    headers: dict[str, str] = {MSG_ID: event_id}
                    inject_context(headers)  # this span becomes the consumer's parent
                    try:
                        duplicate = await self._publisher.publish(row.subject, row.payload, headers)
                    except Exception as exc:
                        self.stats.publish_failures += 1
                        await session.execute(
                            update(outbox)
                            .where(outbox.c.id == row.id)
                            .values(attempts=outbox.c.attempts + 1, last_error=str(exc)[:500])
                        )
                        log.warning(
                            "publish failed, row stays pending",
                            extra={"event_id": event_id, "subject": row.subject},
                        )
                        break  # keep order: later rows wait for this one
                    self.stats.on_published(duplicate)
                    log.info(
                        "event published",
                        extra={"event_id": event_id, "subject": row.subject, "duplicate": duplicate},
                    )
                if self._after_publish is not None:
                    self._after_publish(event_id)
                await session.execute(
                    update(outbox)
                    .where(outbox.c.id == row.id)
                    .values(sent_at=func.now(), attempts=outbox.c.attempts + 1, last_error=None)
                )
                published += 1
        if published < len(rows):
            raise ConnectionError("publishing stopped: NATS unavailable")
        return published

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until `stop` is set; errors back off and retry, they never end the loop."""
        delay = self._poll_interval
        while not stop.is_set():
            try:
                n = await self.relay_once()
                delay = self._poll_interval
                if n == self._batch_size:
                    continue  # more waiting
            except Exception as exc:
                delay = min(max(delay * 2, 0.5), self._max_backoff)
                log.warning("outbox relay retrying in %.1fs: %s", delay, type(exc).__name__)
            self._wake.clear()
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
            await asyncio.wait(waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
            for w in waiters:
                w.cancel()
