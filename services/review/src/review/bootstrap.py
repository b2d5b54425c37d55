"""Composition root: the one place that picks implementations and wires them (nothing connects at import)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from review.adapters.db.tables import messaging
from review.settings import Settings
from zc_auth import HttpJwks, TokenVerifier
from zc_db import MessagingTables, create_engine, create_session_factory, database_ready
from zc_messaging import NatsConnection

SERVICE = "review"


@dataclass
class Container:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    tables: MessagingTables
    nats: NatsConnection
    token_verifier: TokenVerifier

    async def readiness(self) -> dict[str, bool]:
        return {"database": await database_ready(self.engine), "nats": self.nats.is_connected}

    async def aclose(self) -> None:
        await self.nats.close()
        await self.engine.dispose()


async def build_container(settings: Settings) -> Container:
    engine = create_engine(settings.database_url)
    nats = NatsConnection(settings.nats_url, name=f"{SERVICE}-api")
    await nats.start()  # returns at once; readiness says when it is up
    return Container(
        settings=settings,
        engine=engine,
        sessions=create_session_factory(engine),
        tables=messaging,
        nats=nats,
        token_verifier=TokenVerifier(
            issuer=settings.token_issuer, audience=settings.token_audience, jwks=HttpJwks(settings.jwks_url)
        ),
    )
