"""Consumers: answers other services' lookups of a person, NATS request-reply.

- `rpc.identity.holder.v1`: name and masked ID number of a certificate holder (certificates);
- `rpc.identity.person.v1`: the full ID number, for asking government sources about the person
  (applications, certificates; the requester must be in IDENTITY_PERSON_LOOKUP_REQUESTERS);
- `rpc.identity.grants.v1`: which of some users hold a role in a scope (review: experts of a committee).

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

from identity_bridge.domain.errors import DomainError
from identity_bridge.usecases.handlers import IdentityService
from zc_messaging.connection import NatsConnection

HOLDER_SUBJECT = "rpc.identity.holder.v1"
PERSON_SUBJECT = "rpc.identity.person.v1"
GRANTS_SUBJECT = "rpc.identity.grants.v1"
MAX_USERS_PER_ASK = 100
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


def _grants_responder(identity: IdentityService) -> Any:
    async def respond(msg: Any) -> None:
        try:
            ask = json.loads(msg.data)
            users = ask["user_ids"]
            if not isinstance(users, list) or len(users) > MAX_USERS_PER_ASK:
                raise ValueError("user_ids")
            holding = await identity.holding(
                role=str(ask["role"]),
                scope_type=str(ask["scope_type"]),
                scope_id=None if ask.get("scope_id") is None else str(ask["scope_id"]),
                user_ids=[str(u)[:64] for u in users],
            )
            reply: dict[str, Any] = {"holding": holding}
        except (KeyError, ValueError, TypeError, DomainError):
            reply = {"error": "bad_request"}
        except Exception:
            log.exception("grants check failed")
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
        await nats.client.subscribe(GRANTS_SUBJECT, queue="identity-bridge", cb=_grants_responder(identity)),
    ]
    try:
        await asyncio.Event().wait()
    finally:
        for sub in subs:
            await sub.unsubscribe()
