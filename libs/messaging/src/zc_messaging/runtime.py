"""Messaging: what every service API process holds at run time — its database engine, its NATS connection
and its background followers — with readiness and an orderly close."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from zc_contracts import Envelope
from zc_db import create_engine, create_session_factory, database_ready
from zc_messaging.connection import NatsConnection
from zc_messaging.follow import follow_subject

log = logging.getLogger("zc_messaging.runtime")
CLOSE_WAIT_SECONDS = 5.0  # a follower notices `stopping` within about a second (its receive timeout)


@dataclass
class ServiceRuntime:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    nats: NatsConnection
    background: list[asyncio.Task[None]] = field(default_factory=list)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)  # tells the followers to end

    @classmethod
    async def start(cls, service: str, *, database_url: str, nats_url: str) -> ServiceRuntime:
        """Nothing waits here: the engine connects on first use, NATS in the background (see readiness)."""
        engine = create_engine(database_url)
        nats = NatsConnection(nats_url, name=f"{service}-api")
        await nats.start()
        return cls(engine=engine, sessions=create_session_factory(engine), nats=nats)

    def follow(self, subject: str, on_event: Callable[[Envelope], None], *, since: timedelta) -> None:
        """Keep an in-memory view current from `subject` for as long as the process runs."""
        follower = follow_subject(self.nats, subject, on_event, since=since, stop=self.stopping)
        self.background.append(asyncio.create_task(follower))

    async def readiness(self) -> dict[str, bool]:
        return {"database": await database_ready(self.engine), "nats": self.nats.is_connected}

    async def aclose(self) -> None:
        """Followers end (asked and cancelled; a close never waits on one for long), then NATS, then the pool."""
        self.stopping.set()
        for task in self.background:
            task.cancel()
        if self.background:
            _, pending = await asyncio.wait(self.background, timeout=CLOSE_WAIT_SECONDS)
            if pending:
                log.warning("background tasks still running at close", extra={"tasks": len(pending)})
        await self.nats.close()
        await self.engine.dispose()
