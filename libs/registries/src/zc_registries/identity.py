"""Resolving a subject to the ID number the government sources are keyed by: a NATS request to the identity
bridge (`rpc.identity.person.v1`), which answers only the services it allows and audits every answer. The
ID number is held in memory for the one query and never stored by the caller."""

from __future__ import annotations

from zc_messaging.connection import NatsConnection
from zc_messaging.requests import RequestFailedError, request_json
from zc_registries.ports import Person, SourceUnavailableError

PERSON_SUBJECT = "rpc.identity.person.v1"


class NatsPersonResolver:
    def __init__(self, nats: NatsConnection, *, requester: str, timeout: float = 3.0) -> None:
        self._nats = nats
        self._requester = requester
        self._timeout = timeout

    async def person(self, subject: str, *, purpose: str) -> Person:
        ask = {"user_id": subject, "requester": self._requester, "purpose": purpose}
        try:
            answer = await request_json(self._nats, PERSON_SUBJECT, ask, timeout=self._timeout)
        except RequestFailedError as exc:
            raise SourceUnavailableError(f"identity bridge: {exc}") from exc
        return Person(name=str(answer["name"]), id_type=str(answer["id_type"]), id_number=str(answer["id_number"]))
