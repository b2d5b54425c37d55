"""Consumers: answers other services' lookups of a person, NATS request-reply.

- `rpc.identity.holder.v1`: name and masked ID number of a certificate holder (certificates);
- `rpc.identity.person.v1`: the full ID number, for asking government sources about the person
  (applications, certificates; the requester must be in IDENTITY_PERSON_LOOKUP_REQUESTERS).

Plain NATS, not a stream: a lookup is a question, nothing to keep. Every API replica answers in one
queue group. Each answer is audited. In production, NATS account permissions decide who may publish on
these subjects (deploy/k8s/README.md); the requester field names the service for the audit and the allow-list.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from identity_bridge.usecases.handlers import IdentityService
from zc_messaging.connection import NatsConnection

HOLDER_SUBJECT = "rpc.identity.holder.v1"
PERSON_SUBJECT = "rpc.identity.person.v1"
log = logging.getLogger(__name__)


def _responder(name: str, lookup: Callable[[dict[str, str]], Awaitable[dict[str, str] | None]]) -> Any:
    """A NATS callback: parse the ask, answer the lookup's result or an error; never kill the subscription."""

    async def respond(msg: Any) -> None:
        try:
            ask = json.loads(msg.data)
            who = {
                "user_id": str(ask["user_id"]),
                "requester": str(ask.get("requester", "unknown"))[:40],
                "purpose": str(ask.get("purpose", ""))[:60],
            }
            found = await lookup(who)
            reply: dict[str, Any] = found if found is not None else {"error": "not_found"}
        except PermissionError:
            reply = {"error": "forbidden"}
        except Exception:
            log.exception("%s lookup failed", name)
            reply = {"error": "failed"}
        await msg.respond(json.dumps(reply, ensure_ascii=False).encode())

    return respond


async def serve_holder_lookups(
    nats: NatsConnection, identity: IdentityService, *, person_requesters: frozenset[str] = frozenset()
) -> None:
    """Runs until cancelled; subscribes once NATS is up (the client resubscribes after reconnects)."""
    await nats.wait_connected()
    assert nats.client is not None

    async def person(who: dict[str, str]) -> dict[str, str] | None:
        return await identity.person(**who, allowed=person_requesters)

    subs = [
        await nats.client.subscribe(
            HOLDER_SUBJECT, queue="identity-bridge", cb=_responder("holder", lambda who: identity.holder(**who))
        ),
        await nats.client.subscribe(PERSON_SUBJECT, queue="identity-bridge", cb=_responder("person", person)),
    ]
    try:
        await asyncio.Event().wait()
    finally:
        for sub in subs:
            await sub.unsubscribe()
