"""Resolving a subject to the ID number the government sources are keyed by: a NATS request to the identity
bridge (`rpc.identity.person.v1`), which answers only the services it allows and audits every answer. The
ID number is held in memory for the one query and never stored by the caller."""

from __future__ import annotations

import json

from zc_messaging.connection import NatsConnection
from zc_registries.ports import Person, SourceUnavailableError

PERSON_SUBJECT = "rpc.identity.person.v1"


class NatsPersonResolver:
    def __init__(self, nats: NatsConnection, *, requester: str, timeout: float = 3.0) -> None:
        self._nats = nats
        self._requester = requester
        self._timeout = timeout

    async def person(self, subject: str, *, purpose: str) -> Person:
        client = self._nats.client
        if client is None or not client.is_connected:
            raise SourceUnavailableError("identity bridge not connected")
        ask = {"user_id": subject, "requester": self._requester, "purpose": purpose}
        try:
            reply = await client.request(PERSON_SUBJECT, json.dumps(ask).encode(), timeout=self._timeout)
        except Exception as exc:  # timeout, no responders, connection lost
            raise SourceUnavailableError("identity bridge did not answer") from exc
        answer = json.loads(reply.data)
        if "error" in answer:
            raise SourceUnavailableError(f"identity bridge: {answer['error']}")
        return Person(name=str(answer["name"]), id_type=str(answer["id_type"]), id_number=str(answer["id_number"]))
