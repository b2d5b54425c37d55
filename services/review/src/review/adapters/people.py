"""Adapters: who holds a role in a scope, asked of the identity bridge (the keeper of grants).

A NATS request to `rpc.identity.grants.v1` (nothing to keep, so no stream). Used when a form names people,
e.g. the experts of an application's panel, who must be experts of the application's committee.
"""

from __future__ import annotations

from collections.abc import Sequence

from review.domain.errors import DirectoryUnavailableError
from zc_messaging.connection import NatsConnection
from zc_messaging.requests import RequestFailedError, request_json

GRANTS_SUBJECT = "rpc.identity.grants.v1"


class NatsPeopleDirectory:
    def __init__(self, nats: NatsConnection, *, timeout: float = 3.0) -> None:
        self._nats = nats
        self._timeout = timeout

    async def holding(self, role: str, scope_type: str, scope_id: str, user_ids: Sequence[str]) -> set[str]:
        ask = {"role": role, "scope_type": scope_type, "scope_id": scope_id, "user_ids": list(user_ids)}
        try:
            answer = await request_json(self._nats, GRANTS_SUBJECT, ask, timeout=self._timeout)
        except RequestFailedError as exc:
            raise DirectoryUnavailableError("暂时无法核实人员身份，请稍后重试") from exc
        return {str(u) for u in answer.get("holding", [])}
