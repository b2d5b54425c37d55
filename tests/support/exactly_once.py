"""Test support: a miniature producing and consuming service for the outbox/inbox delivery tests.

The "state change" is a row in `things`; its event goes through the outbox. The consumer's effect is a
row in `effects` with NO unique key, so a doubled effect would show up as an extra row.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from zc_contracts import Envelope, applications_v1, make_envelope, parse_payload
from zc_db import messaging_tables, new_metadata
from zc_messaging import TOPOLOGY, ConsumerSpec, Topology, add_to_outbox

metadata: MetaData = new_metadata()
tables = messaging_tables(metadata)
things = Table("things", metadata, Column("id", UUID(as_uuid=True), primary_key=True), Column("label", String(50)))
effects = Table(
    "effects",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("application_id", UUID(as_uuid=True), nullable=False),
)

CONSUMER = ConsumerSpec(
    durable="review__exactly_once_test",
    stream="APPLICATIONS",
    filter_subject="applications.application.>",
    ack_wait_seconds=2.0,  # short, so a killed consumer's message comes back quickly
    max_deliver=20,
    backoff_seconds=(0.2, 0.5, 1.0),
)
TEST_TOPOLOGY = Topology(streams=TOPOLOGY.streams, consumers=(CONSUMER,))


async def create_schema(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)


async def change_state(session: AsyncSession, label: str) -> Envelope:
    """One state change and its event, in the caller's transaction."""
    thing_id = uuid.uuid4()
    await session.execute(insert(things).values(id=thing_id, label=label))
    payload = applications_v1.ApplicationSubmitted(
        application_id=thing_id,
        applicant_id="user-" + label,
        unit_id=uuid.uuid4(),
        evaluation_mode="review",
        year=2026,
        series_code="engineering",
        level_code="intermediate",
        submitted_at=datetime.now(UTC),
    )
    envelope = make_envelope(payload, source="applications", subject_id=str(thing_id))
    await add_to_outbox(session, tables, envelope)
    return envelope


async def apply_effect(envelope: Envelope, session: AsyncSession) -> None:
    payload = parse_payload(envelope)
    assert isinstance(payload, applications_v1.ApplicationSubmitted)
    await session.execute(insert(effects).values(event_id=envelope.id, application_id=payload.application_id))


async def counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        n_things = (await conn.execute(select(func.count()).select_from(things))).scalar_one()
        n_effects = (await conn.execute(select(func.count()).select_from(effects))).scalar_one()
        distinct = (await conn.execute(select(func.count(effects.c.event_id.distinct())))).scalar_one()
        pending = (
            await conn.execute(select(func.count()).select_from(tables.outbox).where(tables.outbox.c.sent_at.is_(None)))
        ).scalar_one()
    return {
        "state_changes": n_things,
        "effects": n_effects,
        "distinct_effects": distinct,
        "outbox_pending": pending,
    }
