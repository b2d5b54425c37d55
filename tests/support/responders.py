"""Answers a NATS request-reply subject as another service would, from what the test decides (each real
responder has its own test against its own database): the fakes of the identity bridge's and the applications
service's lookups."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import nats


@asynccontextmanager
async def answering(
    nats_url: str, subject: str, answer: Callable[[dict[str, Any]], dict[str, Any]], *, queue: str
) -> AsyncIterator[list[dict[str, Any]]]:
    """Replies `answer(ask)` to every question on `subject`; yields the questions asked, in order."""
    asked: list[dict[str, Any]] = []
    nc = await nats.connect(nats_url)

    async def respond(msg: Any) -> None:
        ask = json.loads(msg.data)
        asked.append(ask)
        await msg.respond(json.dumps(answer(ask), ensure_ascii=False).encode())

    await nc.subscribe(subject, queue=queue, cb=respond)
    try:
        yield asked
    finally:
        await nc.close()
