"""Contracts: the event envelope every message on NATS carries, and subject naming."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID

import uuid6
from pydantic import BaseModel, ConfigDict, Field

SUBJECT_RE = re.compile(
    r"^(?P<producer>[a-z][a-z_]*)\.(?P<aggregate>[a-z][a-z_]*)\.(?P<event>[a-z][a-z_]*)\.v(?P<major>\d+)$"
)


def new_event_id() -> UUID:
    """UUIDv7: time-ordered, so outbox rows and logs sort by creation."""
    return UUID(str(uuid6.uuid7()))


def subject_for(event_type: str, version: int) -> str:
    """`<producer>.<aggregate>.<event>` + major version -> `<producer>.<aggregate>.<event>.v<major>`."""
    subject = f"{event_type}.v{version}"
    if not SUBJECT_RE.match(subject):
        raise ValueError(f"not a valid event subject: {subject!r}")
    return subject


class EventPayload(BaseModel):
    """Base of every payload. Producers validate strictly; consumers read tolerantly (see `parse_payload`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]  # "<producer>.<aggregate>.<event>"
    version: ClassVar[int]  # major version

    @classmethod
    def subject(cls) -> str:
        return subject_for(cls.event_type, cls.version)


class Envelope(BaseModel):
    """What travels on the wire: metadata plus the payload as a plain JSON object."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: UUID = Field(default_factory=new_event_id)
    type: str
    version: int = Field(ge=1)
    source: str
    subject_id: str
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    correlation_id: UUID | None = None
    causation_id: UUID | None = None
    data: dict[str, Any]

    @property
    def subject(self) -> str:
        return subject_for(self.type, self.version)

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        return cls.model_validate_json(raw)


def make_envelope(
    payload: EventPayload,
    *,
    source: str,
    subject_id: str,
    correlation_id: UUID | None = None,
    causation: Envelope | None = None,
) -> Envelope:
    """Wrap a payload. A follow-up event inherits the correlation id and names its cause."""
    event_id = new_event_id()
    if causation is not None:
        correlation_id = correlation_id or causation.correlation_id or causation.id
    return Envelope(
        id=event_id,
        type=payload.event_type,
        version=payload.version,
        source=source,
        subject_id=subject_id,
        correlation_id=correlation_id or event_id,
        causation_id=causation.id if causation is not None else None,
        data=payload.model_dump(mode="json"),
    )
