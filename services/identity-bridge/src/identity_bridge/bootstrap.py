"""Composition root: the one place that picks implementations and wires them (nothing connects at import)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from identity_bridge.adapters.db.tables import messaging
from identity_bridge.adapters.signing_keys import SigningKeys
from identity_bridge.settings import Settings
from zc_db import MessagingTables, create_engine, create_session_factory, database_ready
from zc_messaging import NatsConnection

SERVICE = "identity-bridge"


@dataclass
class Container:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    tables: MessagingTables
    nats: NatsConnection
    signing_keys: SigningKeys
    token_verifier: None = None  # the bridge mints tokens; it does not verify its own

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
        signing_keys=SigningKeys.from_pem_file(settings.signing_key_file),
    )
