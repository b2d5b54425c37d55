"""Messaging: counters of what the relay and the consumers did (reported by tests and metrics)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from opentelemetry import metrics

_meter = metrics.get_meter("zc_messaging")
_published = _meter.create_counter("zc.messaging.published", description="events published by the relay")
_delivered = _meter.create_counter("zc.messaging.delivered", description="messages delivered to consumers")
_applied = _meter.create_counter("zc.messaging.applied", description="messages whose effects were committed")
_suppressed = _meter.create_counter("zc.messaging.duplicates_suppressed", description="redeliveries ignored")
_dead = _meter.create_counter("zc.messaging.dead_lettered", description="messages sent to the DLQ")


@dataclass
class MessagingStats:
    published: int = 0
    publish_duplicates: int = 0  # PubAck said duplicate: JetStream dropped a re-publish
    publish_failures: int = 0
    delivered: int = 0
    applied: int = 0
    duplicates_suppressed: int = 0  # inbox already had the event id
    nacked: int = 0
    dead_lettered: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def on_published(self, duplicate: bool) -> None:
        self.published += 1
        self.publish_duplicates += int(duplicate)
        _published.add(1, {"duplicate": duplicate})

    def on_delivered(self, consumer: str) -> None:
        self.delivered += 1
        _delivered.add(1, {"consumer": consumer})

    def on_applied(self, consumer: str) -> None:
        self.applied += 1
        _applied.add(1, {"consumer": consumer})

    def on_duplicate(self, consumer: str) -> None:
        self.duplicates_suppressed += 1
        _suppressed.add(1, {"consumer": consumer})

    def on_dead_letter(self, consumer: str) -> None:
        self.dead_lettered += 1
        _dead.add(1, {"consumer": consumer})
