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


def _responder(name: str, answer: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]) -> Any:
    """A NATS callback: parse the ask, reply with what `answer` gives or an error; never kill the subscription."""

    async def respond(msg: Any) -> None:
        try:
            reply = await answer(json.loads(msg.data))
        except PermissionError:
            reply = {"error": "forbidden"}
        except Exception:
            log.exception("%s lookup failed", name)
            reply = {"error": "failed"}
        await msg.respond(json.dumps(reply, ensure_ascii=False).encode())

    return respond


def _person_lookup(lookup: Callable[..., Awaitable[dict[str, str] | None]]) -> Callable[..., Awaitable[dict[str, Any]]]:
    """The holder and person lookups: one user, the requesting service and its purpose."""

    async def answer(ask: dict[str, Any]) -> dict[str, Any]:
        found = await lookup(
            user_id=str(ask["user_id"]),
            requester=str(ask.get("requester", "unknown"))[:40],
            purpose=str(ask.get("purpose", ""))[:60],
        )
        return found if found is not None else {"error": "not_found"}

    return answer


def _grants_check(identity: IdentityService) -> Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]:
    async def answer(ask: dict[str, Any]) -> dict[str, Any]:
        try:
            users = ask["user_ids"]
            if not isinstance(users, list) or len(users) > MAX_USERS_PER_ASK:
                raise ValueError("user_ids")
            holding = await identity.holding(
                role=str(ask["role"]),
                scope_type=str(ask["scope_type"]),
                scope_id=None if ask.get("scope_id") is None else str(ask["scope_id"]),
                user_ids=[str(u)[:64] for u in users],
            )
        except (KeyError, ValueError, TypeError, DomainError):
            return {"error": "bad_request"}
        return {"holding": holding}

    return answer


async def serve_holder_lookups(
    nats: NatsConnection, identity: IdentityService, *, person_requesters: frozenset[str] = frozenset()
) -> None:
    """Runs until cancelled; subscribes once NATS is up (the client resubscribes after reconnects)."""
    await nats.wait_connected()
    assert nats.client is not None

    async def person(**who: str) -> dict[str, str] | None:
        return await identity.person(**who, allowed=person_requesters)

    answers = {
        HOLDER_SUBJECT: _responder("holder", _person_lookup(identity.holder)),
        PERSON_SUBJECT: _responder("person", _person_lookup(person)),
        GRANTS_SUBJECT: _responder("grants", _grants_check(identity)),
    }
    subs = [await nats.client.subscribe(subject, queue="identity-bridge", cb=cb) for subject, cb in answers.items()]
    try:
        await asyncio.Event().wait()
    finally:
        for sub in subs:
            await sub.unsubscribe()
