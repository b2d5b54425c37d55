"""The pool hands out live connections without a round trip per checkout: one the server ended is replaced,
one idle for a while is pinged first (zc_db.create_engine)."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from sqlalchemy import text

from zc_db import create_engine


async def _backend_pid(engine: Any) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_a_connection_the_server_ended_is_replaced_without_an_error(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        first = await _backend_pid(engine)
        admin = await asyncpg.connect(database_url)
        try:  # what a server restart or an administrator does to the pooled session
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", first)
        finally:
            await admin.close()
        await asyncio.sleep(0.3)  # the pooled connection's socket sees the server's goodbye
        second = await _backend_pid(engine)  # without the check, this raised "connection was closed"
        assert second != first
    finally:
        await engine.dispose()


async def test_only_a_connection_idle_for_a_while_is_pinged(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=1, max_overflow=0, idle_ping_seconds=0.5)
    queries: list[str] = []
    try:
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            raw.driver_connection.add_query_logger(lambda logged: queries.append(logged.query))
        await _backend_pid(engine)  # handed out again at once: no ping
        assert "SELECT 1" not in queries
        await asyncio.sleep(0.6)
        before = len(queries)
        await _backend_pid(engine)
        after_idle = queries[before:]
        assert after_idle[0] == "SELECT 1"  # the ping, before the connection is handed out
        assert "BEGIN;" in after_idle[1:]  # then the caller's transaction (prepared statements are not logged)
        assert queries.count("SELECT 1") == 1
    finally:
        await engine.dispose()
