"""Answers `rpc.identity.grants.v1` as the identity bridge does, from a table the test controls (the bridge's
own answer is tested against its database in tests/integration/identity)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import nats

GRANTS_SUBJECT = "rpc.identity.grants.v1"
Grant = tuple[str, str, str]  # role, scope type, scope id


@asynccontextmanager
async def grants_directory(nats_url: str, holders: dict[Grant, set[str]]) -> AsyncIterator[list[dict[str, Any]]]:
    """`holders[(role, scope_type, scope_id)]` are the users holding that grant; yields the asks received."""
    asked: list[dict[str, Any]] = []
    nc = await nats.connect(nats_url)

    async def answer(msg: Any) -> None:
        ask = json.loads(msg.data)
        asked.append(ask)
        held = holders.get((ask["role"], ask["scope_type"], ask["scope_id"]), set())
        await msg.respond(json.dumps({"holding": [u for u in ask["user_ids"] if u in held]}).encode())

    await nc.subscribe(GRANTS_SUBJECT, queue="identity-bridge", cb=answer)
    try:
        yield asked
    finally:
        await nc.close()
