"""Messaging: apply a topology to JetStream (create what is missing, update what changed). Idempotent."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os

import nats
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, DiscardPolicy, RetentionPolicy, StorageType
from nats.js.api import StreamConfig as NatsStreamConfig
from nats.js.errors import NotFoundError

from zc_messaging.topology import TOPOLOGY, ConsumerSpec, StreamSpec, Topology

log = logging.getLogger("zc_messaging.provision")


def stream_config(spec: StreamSpec) -> NatsStreamConfig:
    return NatsStreamConfig(
        name=spec.name,
        subjects=list(spec.subjects),
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        discard=DiscardPolicy.OLD,
        max_age=spec.max_age_days * 86400.0,
        duplicate_window=float(spec.duplicate_window_seconds),
        num_replicas=int(os.environ.get("ZC_NATS_REPLICAS", "1")),
    )


def consumer_config(spec: ConsumerSpec) -> ConsumerConfig:
    return ConsumerConfig(
        name=spec.durable,
        durable_name=spec.durable,
        description=spec.description or None,
        filter_subject=spec.filter_subject,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=spec.ack_wait_seconds,
        max_deliver=spec.max_deliver,
        max_ack_pending=spec.max_ack_pending,
        deliver_policy=DeliverPolicy.ALL,
    )


async def provision(js: JetStreamContext, topology: Topology = TOPOLOGY) -> dict[str, str]:
    """Returns what happened to each stream/consumer: created, updated or unchanged."""
    outcome: dict[str, str] = {}
    for spec in topology.streams:
        wanted = stream_config(spec)
        try:
            info = await js.stream_info(spec.name)
        except NotFoundError:
            await js.add_stream(wanted)
            outcome[f"stream {spec.name}"] = "created"
            continue
        current = info.config
        if (
            sorted(current.subjects or []) != sorted(wanted.subjects or [])
            or current.max_age != wanted.max_age
            or current.duplicate_window != wanted.duplicate_window
        ):
            await js.update_stream(wanted)
            outcome[f"stream {spec.name}"] = "updated"
        else:
            outcome[f"stream {spec.name}"] = "unchanged"
    for c in topology.consumers:
        existed = True
        try:
            await js.consumer_info(c.stream, c.durable)
        except NotFoundError:
            existed = False
        # CONSUMER.CREATE with a name creates, or updates the editable fields of, the durable.
        await js.add_consumer(c.stream, consumer_config(c))
        outcome[f"consumer {c.stream}/{c.durable}"] = "applied" if existed else "created"
    return outcome


async def _main(url: str) -> None:
    nc = await nats.connect(url, connect_timeout=5, max_reconnect_attempts=3)
    try:
        outcome = await provision(nc.jetstream())
        for name, what in outcome.items():
            log.info("%s: %s", name, what)
    finally:
        await nc.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="Create or update the JetStream streams and consumers")
    parser.add_argument("--nats-url", default=os.environ.get("ZC_NATS_URL", "nats://127.0.0.1:4222"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    asyncio.run(_main(args.nats_url))


if __name__ == "__main__":
    main()
