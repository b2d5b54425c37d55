"""Answers `rpc.identity.grants.v1` as the identity bridge does, from a table the test controls (the bridge's
own answer is tested against its database in tests/integration/identity)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from support.responders import answering

GRANTS_SUBJECT = "rpc.identity.grants.v1"
Grant = tuple[str, str, str]  # role, scope type, scope id


@asynccontextmanager
async def grants_directory(nats_url: str, holders: dict[Grant, set[str]]) -> AsyncIterator[list[dict[str, Any]]]:
    """`holders[(role, scope_type, scope_id)]` are the users holding that grant; yields the asks received."""

    def answer(ask: dict[str, Any]) -> dict[str, Any]:
        held = holders.get((ask["role"], ask["scope_type"], ask["scope_id"]), set())
        return {"holding": [u for u in ask["user_ids"] if u in held]}

    async with answering(nats_url, GRANTS_SUBJECT, answer, queue="identity-bridge") as asked:
        yield asked
