"""One trace across processes; poison messages go to the DLQ; transient failures retry; graceful stop."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path
from typing import Any

import nats
from opentelemetry import trace
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from integration.messaging.conftest import consume_one, eventually, spawn_msg_proc
from support import exactly_once as eo
from zc_contracts import Envelope
from zc_db import create_session_factory
from zc_messaging import ConsumerRunner, MessagingStats, TransientError, dlq_subject
from zc_telemetry import current_trace_id, setup_telemetry


def _json_lines(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


async def test_one_trace_id_in_publisher_and_consumer_logs_when_event_crosses_services(
    engine: AsyncEngine, database_url: str, provisioned: str, tmp_path: Path
) -> None:
    setup_telemetry("applications")
    tracer = trace.get_tracer("tests")
    sessions = create_session_factory(engine)
    # The state change happens inside a request span of the producing service.
    with tracer.start_as_current_span("POST /api/applications/things"):
        trace_id = current_trace_id()
        async with sessions() as session, session.begin():
            envelope = await eo.change_state(session, "traced")
    assert trace_id is not None

    relay_log, consumer_log = tmp_path / "applications.log", tmp_path / "review.log"
    relay = spawn_msg_proc("relay", db=database_url, nats_url=provisioned, service="applications", log_file=relay_log)
    consumer = spawn_msg_proc(
        "consumer", db=database_url, nats_url=provisioned, service="review", log_file=consumer_log
    )
    try:
        await eventually(lambda: _effects(engine, 1), what="the effect")
    finally:
        for p in (relay, consumer):
            p.send_signal(signal.SIGTERM)
    # Graceful shutdown: both exit 0 after finishing and report their counters.
    for p in (relay, consumer):
        assert p.wait(30) == 0
    consumer_stats = json.loads(consumer.stdout.read().decode().strip().splitlines()[-1])["stats"]  # type: ignore[union-attr]
    assert consumer_stats["applied"] == 1

    published = [r for r in _json_lines(relay_log) if r.get("message") == "event published"]
    handled = [r for r in _json_lines(consumer_log) if r.get("message") == "event handled"]
    assert [r["event_id"] for r in published] == [str(envelope.id)]
    assert [r["event_id"] for r in handled] == [str(envelope.id)]
    assert published[0]["service"] == "applications" and handled[0]["service"] == "review"
    assert published[0]["trace_id"] == trace_id
    assert handled[0]["trace_id"] == trace_id


async def _effects(engine: AsyncEngine, n: int) -> bool:
    return (await eo.counts(engine))["effects"] >= n


async def test_poison_message_is_dead_lettered_and_terminated_when_payload_is_invalid(
    engine: AsyncEngine, provisioned: str
) -> None:
    nc = await nats.connect(provisioned)
    try:
        js = nc.jetstream()
        dlq = await js.subscribe(dlq_subject("APPLICATIONS", eo.CONSUMER.durable), stream="DLQ")
        bad = Envelope(
            type="applications.application.submitted",
            version=1,
            source="applications",
            subject_id="x",
            data={"application_id": "not-a-uuid"},
        )
        await js.publish(bad.subject, bad.to_bytes(), headers={"Nats-Msg-Id": str(bad.id)})
        await js.publish("applications.application.submitted.v1", b"\xff not json")
        stats = MessagingStats()
        runner = ConsumerRunner(
            js=js,
            spec=eo.CONSUMER,
            handler=eo.apply_effect,
            session_factory=create_session_factory(engine),
            tables=eo.tables,
            stats=stats,
            fetch_timeout=0.3,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(runner.run(stop))
        parked = [await dlq.next_msg(timeout=10), await dlq.next_msg(timeout=10)]
        await asyncio.sleep(eo.CONSUMER.ack_wait_seconds + 0.5)  # terminated: no redelivery
        stop.set()
        await task
    finally:
        await nc.close()
    assert stats.dead_lettered == 2 and stats.delivered == 2 and stats.applied == 0
    assert parked[0].data == bad.to_bytes()
    assert "ValidationError" in parked[0].headers["Zc-Reason"]
    assert parked[1].headers["Zc-Original-Subject"] == "applications.application.submitted.v1"
    assert (await eo.counts(engine))["effects"] == 0


async def test_transient_failure_is_retried_with_backoff_then_applied_once(
    engine: AsyncEngine, provisioned: str
) -> None:
    failures = {"left": 2}

    async def flaky(envelope: Envelope, session: AsyncSession) -> None:
        await eo.apply_effect(envelope, session)  # rolled back with the transaction when we fail
        if failures["left"] > 0:
            failures["left"] -= 1
            raise TransientError("dependency busy")

    stats = await consume_one(engine, provisioned, flaky, "flaky", done=lambda: _effects(engine, 1))
    assert stats.nacked == 2 and stats.delivered == 3 and stats.applied == 1
    assert (await eo.counts(engine))["effects"] == 1
