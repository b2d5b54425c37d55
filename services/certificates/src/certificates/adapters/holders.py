"""Adapters: who holds a certificate — asked of the identity bridge, which alone keeps names and ID numbers.

A NATS request (not a stream: nothing is stored) to `rpc.identity.holder.v1`; the bridge answers with the
name and the masked ID number and audits the lookup. In production, NATS permissions allow only the
certificates service to publish on that subject.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from certificates.domain.errors import HolderUnavailableError
from zc_messaging.connection import NatsConnection

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
        client = self._nats.client
        if client is None or not client.is_connected:
            raise HolderUnavailableError("暂时无法获取持证人信息，请稍后重试")
        request = json.dumps({"user_id": user_id, "requester": "certificates", "purpose": purpose}).encode()
        try:
            reply = await client.request(HOLDER_SUBJECT, request, timeout=self._timeout)
        except Exception as exc:  # timeout, no responders, connection lost: issuance is retried later
            raise HolderUnavailableError("暂时无法获取持证人信息，请稍后重试") from exc
        answer = json.loads(reply.data)
        if "error" in answer:
            raise HolderUnavailableError(f"身份服务未找到持证人：{answer['error']}")
        return Holder(name=str(answer["name"]), id_masked=str(answer["id_number_masked"]))
