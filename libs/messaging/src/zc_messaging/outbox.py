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

import asyncpg  # type: ignore[import-untyped]
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zc_contracts import Envelope
from zc_db import MessagingTables
from zc_db.migration_ops import OUTBOX_CHANNEL
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
        """Publish one batch of pending rows; returns how many were published.

        The batch's publishes are pipelined (sent in order on one connection, their acks awaited together) and
        the acked rows marked sent in one statement: a row's round trip to JetStream's disk no longer waits for
        the previous row's. Only the rows before the first failure are marked; the rest stay pending and are
        published again later, and JetStream's duplicate window (`Nats-Msg-Id`) drops those it already stored.
        """
        outbox = self._tables.outbox
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
            if not rows:
                return 0
            results = await asyncio.gather(*(self._publish(row) for row in rows), return_exceptions=True)
            published = 0
            for row, result in zip(rows, results, strict=True):
                if isinstance(result, BaseException):
                    break  # keep order: this row and the later ones wait
                published += 1
                if self._after_publish is not None:
                    self._after_publish(str(row.id))
            if published:
                await session.execute(
                    update(outbox)
                    .where(outbox.c.id.in_([row.id for row in rows[:published]]))
                    .values(sent_at=func.now(), attempts=outbox.c.attempts + 1, last_error=None)
                )
            if published < len(rows):
                failed, error = rows[published], results[published]
                self.stats.publish_failures += 1
                await session.execute(
                    update(outbox)
                    .where(outbox.c.id == failed.id)
                    .values(attempts=outbox.c.attempts + 1, last_error=str(error)[:500])
                )
                log.warning(
                    "publish failed, row stays pending", extra={"event_id": str(failed.id), "subject": failed.subject}
                )
        if published < len(rows):
            raise ConnectionError("publishing stopped: NATS unavailable")
        return published

    async def _publish(self, row: Any) -> None:
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
            duplicate = await self._publisher.publish(row.subject, row.payload, headers)
            self.stats.on_published(duplicate)
            log.info("event published", extra={"event_id": event_id, "subject": row.subject, "duplicate": duplicate})

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until `stop` is set; errors back off and retry, they never end the loop. Between batches it
        waits for the outbox's insert notification (migration_ops.create_outbox_notify) or the poll interval,
        whichever comes first: the poll still finds rows whose notification was missed (a lost connection)."""
        delay = self._poll_interval
        listener: asyncpg.Connection | None = None
        listen_retry_at = 0.0
        loop = asyncio.get_running_loop()
        try:
            while not stop.is_set():
                if (listener is None or listener.is_closed()) and loop.time() >= listen_retry_at:
                    listener = await self._listen()
                    listen_retry_at = loop.time() + 5.0
                self._wake.clear()  # before the batch: a notification during it means another batch
                try:
                    n = await self.relay_once()
                    delay = self._poll_interval
                    if n == self._batch_size:
                        continue  # more waiting
                except Exception as exc:
                    delay = min(max(delay * 2, 0.5), self._max_backoff)
                    log.warning("outbox relay retrying in %.1fs: %s", delay, type(exc).__name__)
                waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
                await asyncio.wait(waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
                for w in waiters:
                    w.cancel()
        finally:
            if listener is not None and not listener.is_closed():
                await listener.close(timeout=2)

    async def _listen(self) -> asyncpg.Connection | None:
        """A connection of its own (not the pool's) listening on the outbox channel; None if it cannot be had,
        and the relay polls."""
        engine = self._sessions.kw.get("bind")
        if engine is None:
            return None
        dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        try:
            conn = await asyncpg.connect(dsn, timeout=5)
            await conn.add_listener(OUTBOX_CHANNEL, lambda *_: self._wake.set())
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            log.warning("outbox relay polls only: cannot listen (%s)", type(exc).__name__)
            return None
        return conn
