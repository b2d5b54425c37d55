"""Adapters: who holds a certificate — asked of the identity bridge, which alone keeps names and ID numbers.

A NATS request (not a stream: nothing is stored) to `rpc.identity.holder.v1`; the bridge answers with the
name and the masked ID number and audits the lookup. In production, NATS permissions allow only the
certificates service to publish on that subject.
"""

from __future__ import annotations

from dataclasses import dataclass

from certificates.domain.errors import HolderUnavailableError
from zc_messaging.connection import NatsConnection
from zc_messaging.requests import RequestFailedError, request_json

HOLDER_SUBJECT = "rpc.identity.holder.v1"


@dataclass(frozen=True)
class Holder:
    name: str
    id_masked: str


class NatsHolderDirectory:
    def __init__(self, nats: NatsConnection, *, timeout: float = 3.0) -> None:
        self._nats = nats
        self._timeout = timeout

    async def holder(self, user_id: str, *, purpose: str) -> Holder:
        ask = {"user_id": user_id, "requester": "certificates", "purpose": purpose}
        try:
            answer = await request_json(self._nats, HOLDER_SUBJECT, ask, timeout=self._timeout)
        except RequestFailedError as exc:  # issuance is retried later
            if str(exc) == "not_found":
                raise HolderUnavailableError("身份服务未找到持证人：not_found") from exc
            raise HolderUnavailableError("暂时无法获取持证人信息，请稍后重试") from exc
        return Holder(name=str(answer["name"]), id_masked=str(answer["id_number_masked"]))
