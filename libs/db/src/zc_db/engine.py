"""DB layer: async engine and session factory; nothing here connects until first use."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def create_engine(url: str, *, pool_size: int = 5, max_overflow: int = 5, echo: bool = False) -> AsyncEngine:
    """An asyncpg engine; `url` may say postgresql:// and is switched to the asyncpg driver."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+asyncpg://" + url.split("://", 1)[1]
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,  # a DB restart must not leave dead connections in the pool
        pool_recycle=1800,
        echo=echo,
        connect_args={"timeout": 5, "command_timeout": 30},
    )
    try:
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

        SQLAlchemyInstrumentor().instrument(engine=engine.sync_engine)
    except ImportError:  # pragma: no cover - telemetry is optional for tools
        pass
    return engine


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
