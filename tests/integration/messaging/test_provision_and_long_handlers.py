"""Provisioning applies the one topology and updates what changed; long handlers are not redelivered."""

from __future__ import annotations

import asyncio
import dataclasses

import nats
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from integration.messaging.conftest import consume_one
from support import exactly_once as eo
from zc_contracts import Envelope
from zc_messaging import Topology, provision


async def test_provision_creates_then_updates_streams_and_consumers_when_topology_changes(clean_jetstream: str) -> None:
    nc = await nats.connect(clean_jetstream)
    try:
        js = nc.jetstream()
        first = await provision(js, eo.TEST_TOPOLOGY)
        assert first["stream APPLICATIONS"] == "created"
        assert first[f"consumer APPLICATIONS/{eo.CONSUMER.durable}"] == "created"
        again = await provision(js, eo.TEST_TOPOLOGY)
        assert again["stream APPLICATIONS"] == "unchanged"

        streams = tuple(
            dataclasses.replace(s, duplicate_window_seconds=600) if s.name == "APPLICATIONS" else s
            for s in eo.TEST_TOPOLOGY.streams
        )
        changed_consumer = dataclasses.replace(eo.CONSUMER, max_deliver=3, ack_wait_seconds=7.0)
        changed = await provision(js, Topology(streams=streams, consumers=(changed_consumer,)))
        assert changed["stream APPLICATIONS"] == "updated"
        info = await js.stream_info("APPLICATIONS")
        assert info.config.duplicate_window == 600
        assert str(getattr(info.config.storage, "value", info.config.storage)) == "file"
        cinfo = await js.consumer_info("APPLICATIONS", eo.CONSUMER.durable)
        assert cinfo.config.max_deliver == 3 and cinfo.config.ack_wait == 7.0
    finally:
        await nc.close()


async def test_long_handler_is_not_redelivered_when_it_outlasts_ack_wait(engine: AsyncEngine, provisioned: str) -> None:
    calls = {"n": 0}

    async def slow(envelope: Envelope, session: AsyncSession) -> None:
        calls["n"] += 1
        await asyncio.sleep(eo.CONSUMER.ack_wait_seconds * 2)  # in_progress() keeps the message ours
        await eo.apply_effect(envelope, session)

    async def effect_applied() -> bool:
        return (await eo.counts(engine))["effects"] == 1

    stats = await consume_one(
        engine, provisioned, slow, "slow", done=effect_applied, settle=eo.CONSUMER.ack_wait_seconds + 0.5
    )
    assert calls["n"] == 1 and stats.delivered == 1 and stats.duplicates_suppressed == 0
