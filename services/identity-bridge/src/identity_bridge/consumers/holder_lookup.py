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

from collections.abc import Awaitable, Callable
from typing import Any

from identity_bridge.domain.errors import DomainError
from identity_bridge.usecases.handlers import IdentityService
from zc_messaging.connection import NatsConnection
from zc_messaging.requests import serve_json

HOLDER_SUBJECT = "rpc.identity.holder.v1"
PERSON_SUBJECT = "rpc.identity.person.v1"
GRANTS_SUBJECT = "rpc.identity.grants.v1"
MAX_USERS_PER_ASK = 100


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
    """Runs until cancelled (zc_messaging.serve_json: one queue group across the replicas)."""

    async def person(**who: str) -> dict[str, str] | None:
        return await identity.person(**who, allowed=person_requesters)

    answers = {
        HOLDER_SUBJECT: _person_lookup(identity.holder),
        PERSON_SUBJECT: _person_lookup(person),
        GRANTS_SUBJECT: _grants_check(identity),
    }
    await serve_json(nats, answers, queue="identity-bridge")
