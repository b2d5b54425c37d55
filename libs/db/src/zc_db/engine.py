"""DB layer: async engine and session factory; nothing here connects until first use."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy import event, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext import asyncio as sa_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

# A pooled connection idle for longer than this is pinged before it is handed out.
IDLE_PING_SECONDS = 10.0


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    max_overflow: int = 0,
    echo: bool = False,
    idle_ping_seconds: float = IDLE_PING_SECONDS,
) -> AsyncEngine:
    """An asyncpg engine; `url` may say postgresql:// and is switched to the asyncpg driver.

    Ten connections kept, none beyond: a busy replica serves about as many requests at once, and overflow
    connections were opened and closed continually under load (a connect, codec set-up and a server process
    each: ~5 % of a replica's time in the completions bench, decision 0012); the cap is the same as before."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+asyncpg://" + url.split("://", 1)[1]
    # Looked up at call time so telemetry's instrumentation (which wraps it) sees every engine.
    engine = sa_asyncio.create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_recycle=1800,
        echo=echo,
        connect_args={"timeout": 5, "command_timeout": 30},
        json_deserializer=json_loads,
    )
    _check_on_checkout(engine, idle_ping_seconds)
    return engine


def _check_on_checkout(engine: AsyncEngine, idle_ping_seconds: float) -> None:
    """A DB restart must not leave dead connections in the pool. pool_pre_ping would ensure that with three
    round trips on every checkout (asyncpg's ping is BEGIN, a query, ROLLBACK), which cost a busy service
    more than its own statements. Instead: a connection whose server closed it (a restart, an administrator
    ending the session) is replaced without any round trip; one that sat idle for a while, where the network
    could have dropped it silently, is pinged with one. Raising DisconnectionError makes the pool replace
    the connection and try again."""
    pool = engine.sync_engine.pool

    @event.listens_for(pool, "checkin")
    def _note_idle_since(dbapi_connection: Any, record: Any) -> None:
        record.info["zc_idle_since"] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _check(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        if dbapi_connection.driver_connection.is_closed():
            raise DisconnectionError("the server closed this connection")
        idle_since = record.info.get("zc_idle_since")
        if idle_since is not None and time.monotonic() - idle_since >= idle_ping_seconds:
            try:
                dbapi_connection.run_async(lambda conn: conn.execute("SELECT 1"))
            except Exception as exc:
                raise DisconnectionError("the connection did not answer a ping") from exc


# keys of any type and datetimes (handed to `default`) as json.dumps treats them
_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


def json_dumps(value: Any, *, default: Callable[[Any], Any] | None = None) -> str:
    """JSON text as json.dumps(value, default=default) writes it, by orjson (several times faster on large
    documents such as workflow states); json remains the fallback for what orjson refuses (integers beyond
    64 bits). One difference: orjson writes a uuid.UUID itself, as its text, without asking `default`."""
    try:
        return orjson.dumps(value, default=default, option=_ORJSON_OPTIONS).decode()
    except TypeError:
        return json.dumps(value, default=default)


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
