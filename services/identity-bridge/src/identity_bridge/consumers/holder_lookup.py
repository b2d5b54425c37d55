"""Consumers: answers other services' holder lookups (`rpc.identity.holder.v1`, NATS request-reply).

Plain NATS, not a stream: a lookup is a question, nothing to keep. Every API replica answers in one
queue group. In production, NATS permissions let only the certificates service publish on the subject.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from identity_bridge.usecases.handlers import IdentityService
from zc_messaging.connection import NatsConnection

HOLDER_SUBJECT = "rpc.identity.holder.v1"
log = logging.getLogger(__name__)


async def serve_holder_lookups(nats: NatsConnection, identity: IdentityService) -> None:
    """Runs until cancelled; subscribes once NATS is up (the client resubscribes after reconnects)."""
    await nats.wait_connected()
    assert nats.client is not None

    async def answer(msg: Any) -> None:
        try:
            ask = json.loads(msg.data)
            found = await identity.holder(
                user_id=str(ask["user_id"]),
                requester=str(ask.get("requester", "unknown"))[:40],
                purpose=str(ask.get("purpose", ""))[:60],
            )
            reply: dict[str, Any] = found if found is not None else {"error": "not_found"}
        except Exception:  # a bad request must not kill the subscription
            log.exception("holder lookup failed")
            reply = {"error": "failed"}
        await msg.respond(json.dumps(reply, ensure_ascii=False).encode())

    sub = await nats.client.subscribe(HOLDER_SUBJECT, queue="identity-bridge", cb=answer)
    try:
        await asyncio.Event().wait()
    finally:
        await sub.unsubscribe()
