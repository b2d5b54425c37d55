"""NATS request-reply for questions between services (nothing to keep, so no stream): JSON in, JSON out."""

from __future__ import annotations

import json
from typing import Any

from zc_messaging.connection import NatsConnection


class RequestFailedError(Exception):
    """No answer (not connected, no responder, timeout), or the responder answered {"error": …}."""


async def request_json(nats: NatsConnection, subject: str, ask: dict[str, Any], *, timeout: float) -> dict[str, Any]:
    client = nats.client
    if client is None or not client.is_connected:
        raise RequestFailedError("not connected")
    try:
        reply = await client.request(subject, json.dumps(ask, ensure_ascii=False).encode(), timeout=timeout)
    except Exception as exc:  # timeout, no responders, connection lost
        raise RequestFailedError(type(exc).__name__) from exc
    answer = json.loads(reply.data)
    if not isinstance(answer, dict):
        raise RequestFailedError("malformed answer")
    if "error" in answer:
        raise RequestFailedError(str(answer["error"]))
    return answer
