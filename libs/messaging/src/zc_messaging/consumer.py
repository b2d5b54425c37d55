"""Messaging: a durable pull-consumer runner with explicit ack and an inbox for exactly-once effects.

For each message: the event id goes into the `inbox` table in the same transaction as the handler's
effects, then the message is acked. A redelivery (the consumer died before the ack, or the relay
re-published) finds the id in the inbox, changes nothing and is acked. Failures are classified:
transient -> nak with backoff (bounded by max_deliver); poison -> term + the dead-letter subject.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import nats.errors
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from pydantic import ValidationError
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zc_contracts import Envelope, UnknownEventError
from zc_db import MessagingTables
from zc_messaging.errors import PoisonMessageError
from zc_messaging.stats import MessagingStats
from zc_messaging.topology import ConsumerSpec, dlq_subject
from zc_telemetry import extract_context, inject_context

log = logging.getLogger("zc_messaging.consumer")
tracer = trace.get_tracer("zc_messaging")

# The handler gets the envelope and the open transaction; it must not commit.
Handler = Callable[[Envelope, AsyncSession], Awaitable[None]]

_POISON = (PoisonMessageError, ValidationError, UnknownEventError, UnicodeDecodeError, ValueError)


class ConsumerRunner:
    def __init__(
        self,
        *,
        js: Any,
        spec: ConsumerSpec,
        handler: Handler,
        session_factory: async_sessionmaker[AsyncSession],
        tables: MessagingTables,
        stats: MessagingStats | None = None,
        batch_size: int = 10,
        fetch_timeout: float = 1.0,
        after_commit: Callable[[str], None] | None = None,  # test hook: between commit and ack
    ) -> None:
        self._js = js
        self.spec = spec
        self._handler = handler
        self._sessions = session_factory
        self._tables = tables
        self.stats = stats or MessagingStats()
        self._batch_size = batch_size
        self._fetch_timeout = fetch_timeout
        self._after_commit = after_commit
        self._stopped = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Fetch and handle until `stop` is set; the batch in hand is finished first."""
        sub = None
        delay = 0.5
        try:
            while not stop.is_set():
                try:
                    if sub is None:
                        sub = await self._js.pull_subscribe_bind(durable=self.spec.durable, stream=self.spec.stream)
                    msgs = await sub.fetch(self._batch_size, timeout=self._fetch_timeout)
                    delay = 0.5
                except (nats.errors.TimeoutError, TimeoutError):
                    # an idle fetch: nats-py raises its own TimeoutError or asyncio's, depending on where the
                    # wait ended; neither means NATS is gone (a fetch on a dead connection fails otherwise)
                    continue
                except Exception as exc:  # NATS down or restarting: wait, rebind, go on
                    log.warning("consumer %s waiting for NATS (%s)", self.spec.durable, type(exc).__name__)
                    sub = None
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=delay)
                    delay = min(delay * 2, 5.0)
                    continue
                for msg in msgs:
                    await self.handle(msg)
        finally:
            if sub is not None:
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()
            self._stopped.set()

    async def handle(self, msg: Any) -> None:
        self.stats.on_delivered(self.spec.durable)
        headers = dict(msg.headers or {})
        with tracer.start_as_current_span(
            f"{msg.subject} process",
            context=extract_context(headers),
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "nats",
                "messaging.destination.name": msg.subject,
                "messaging.consumer.group.name": self.spec.durable,
            },
        ):
            try:
                envelope = Envelope.from_bytes(msg.data)
            except _POISON as exc:
                await self._dead_letter(msg, f"unreadable envelope: {type(exc).__name__}")
                return
            heartbeat = asyncio.create_task(self._keep_alive(msg))
            try:
                applied = await self._apply(envelope)
            except _POISON as exc:
                await self._dead_letter(msg, f"{type(exc).__name__}: {exc}"[:500], envelope)
                return
            except Exception as exc:
                await self._retry_later(msg, exc, envelope)
                return
            finally:
                heartbeat.cancel()
            if self._after_commit is not None:
                self._after_commit(str(envelope.id))
            try:
                await msg.ack()
            except Exception as exc:  # effects are committed; the redelivery will hit the inbox
                log.warning("ack failed (%s); a redelivery will be ignored", type(exc).__name__)
            log.info(
                "event handled" if applied else "duplicate event ignored",
                extra={"event_id": str(envelope.id), "subject": msg.subject, "consumer": self.spec.durable},
            )

    async def _apply(self, envelope: Envelope) -> bool:
        """Record the event id and run the handler in one transaction; False when already recorded."""
        inbox = self._tables.inbox
        async with self._sessions() as session, session.begin():
            first_time = (
                await session.execute(
                    insert(inbox)
                    .values(consumer=self.spec.durable, event_id=envelope.id, subject=envelope.subject)
                    .on_conflict_do_nothing()
                    .returning(inbox.c.event_id)
                )
            ).first()
            if first_time is None:
                self.stats.on_duplicate(self.spec.durable)
                return False
            await self._handler(envelope, session)
        self.stats.on_applied(self.spec.durable)
        return True

    async def _keep_alive(self, msg: Any) -> None:
        """Long handlers: tell the server we are still working so it does not redeliver."""
        interval = max(self.spec.ack_wait_seconds / 3, 0.5)
        with contextlib.suppress(asyncio.CancelledError, Exception):
            while True:
                await asyncio.sleep(interval)
                await msg.in_progress()

    async def _retry_later(self, msg: Any, exc: Exception, envelope: Envelope) -> None:
        attempt = msg.metadata.num_delivered
        if attempt >= self.spec.max_deliver:
            await self._dead_letter(msg, f"gave up after {attempt} attempts: {type(exc).__name__}", envelope)
            return
        backoff = self.spec.backoff_seconds
        delay = backoff[min(attempt - 1, len(backoff) - 1)]
        self.stats.nacked += 1
        log.warning(
            "handler failed, retrying in %ss (attempt %s): %s",
            delay,
            attempt,
            type(exc).__name__,
            extra={"event_id": str(envelope.id), "consumer": self.spec.durable},
        )
        await msg.nak(delay=delay)

    async def _dead_letter(self, msg: Any, reason: str, envelope: Envelope | None = None) -> None:
        """Park the message on `dlq.<stream>.<consumer>` with why, then stop its redelivery."""
        event_id = str(envelope.id) if envelope else f"seq-{msg.metadata.sequence.stream}"
        headers = inject_context(
            {
                "Nats-Msg-Id": f"{event_id}:dlq:{self.spec.durable}",
                "Zc-Original-Subject": msg.subject,
                "Zc-Consumer": self.spec.durable,
                "Zc-Reason": reason.replace("\n", " ")[:500],
            }
        )
        try:
            await self._js.publish(dlq_subject(self.spec.stream, self.spec.durable), msg.data, headers=headers)
        except Exception:
            # Without the DLQ copy, terminating would lose the message: let it be redelivered instead.
            log.exception("dead-letter publish failed; message will be redelivered")
            await msg.nak(delay=self.spec.backoff_seconds[-1])
            return
        self.stats.on_dead_letter(self.spec.durable)
        log.error(
            "message dead-lettered",
            extra={"event_id": event_id, "reason": reason, "consumer": self.spec.durable},
        )
        await msg.term()
