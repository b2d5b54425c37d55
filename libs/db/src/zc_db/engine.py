"""DB layer: async engine and session factory; nothing here connects until first use."""

from __future__ import annotations

import json
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext import asyncio as sa_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker


def create_engine(url: str, *, pool_size: int = 5, max_overflow: int = 5, echo: bool = False) -> AsyncEngine:
    """An asyncpg engine; `url` may say postgresql:// and is switched to the asyncpg driver."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+asyncpg://" + url.split("://", 1)[1]
    # Looked up at call time so telemetry's instrumentation (which wraps it) sees every engine.
    return sa_asyncio.create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,  # a DB restart must not leave dead connections in the pool
        pool_recycle=1800,
        echo=echo,
        connect_args={"timeout": 5, "command_timeout": 30},
        json_deserializer=json_loads,
    )


def json_loads(text: str | bytes) -> Any:
    """How JSON/JSONB columns (and JSON text kept in them, such as workflow states) are read: with orjson,
    several times faster than json on large documents; json remains the fallback for what orjson refuses
    (integers beyond 64 bits)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def database_ready(engine: AsyncEngine) -> bool:
    """Readiness probe: a round trip to the database."""
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
