"""DB layer: the shared body of every service's Alembic env.py (online, async, one history per service)."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine


def _async_url(url: str) -> str:
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    return url


def run_env(target_metadata: MetaData, *, url_env: str) -> None:
    """Run migrations for the URL in the alembic config (set by `upgrade`) or the env var `url_env`."""
    config = context.config
    url = config.get_main_option("sqlalchemy.url") or os.environ.get(url_env)
    if not url:
        raise SystemExit(f"{url_env} is not set: the database URL to migrate")

    def do_run(connection: Connection) -> None:
        context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()

    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    async def run_async() -> None:
        engine = create_async_engine(_async_url(url), poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(do_run)
        await engine.dispose()

    asyncio.run(run_async())
