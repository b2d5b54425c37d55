"""NATS request-reply for questions between services (nothing to keep, so no stream): JSON in, JSON out."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from zc_messaging.connection import NatsConnection

log = logging.getLogger(__name__)


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


Answer = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


def _responder(subject: str, answer: Answer) -> Callable[[Any], Awaitable[None]]:
    """A NATS callback: parse the ask, reply with what `answer` gives or an error; never kill the subscription."""

    async def respond(msg: Any) -> None:
        try:
            reply = await answer(json.loads(msg.data))
        except PermissionError:
            reply = {"error": "forbidden"}
        except (ValueError, KeyError, TypeError):
            reply = {"error": "bad_request"}
        except Exception:
            log.exception("answering %s failed", subject)
            reply = {"error": "failed"}
        await msg.respond(json.dumps(reply, ensure_ascii=False).encode())

    return respond


async def serve_json(nats: NatsConnection, answers: dict[str, Answer], *, queue: str) -> None:
    """Answer questions on these subjects until cancelled; every replica joins one queue group, so each question
    gets one answer. Subscribes once NATS is up (the client resubscribes after reconnects)."""
    await nats.wait_connected()
    assert nats.client is not None
    subs = [
        await nats.client.subscribe(subject, queue=queue, cb=_responder(subject, answer))
        for subject, answer in answers.items()
    ]
    try:
        await asyncio.Event().wait()
    finally:
        for sub in subs:
            await sub.unsubscribe()
