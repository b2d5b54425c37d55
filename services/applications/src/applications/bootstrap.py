"""Composition root: the one place that picks implementations and wires them (nothing connects at import)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from applications.adapters.attachment_storage import FilesystemStorage
from applications.adapters.db.application_store import SqlApplicationStore
from applications.adapters.db.message_store import SqlMessageStore
from applications.adapters.db.reference_store import SqlReferenceStore
from applications.adapters.db.tables import messaging
from applications.adapters.registries import DemoRegistry, HttpRegistry
from applications.settings import Settings
from applications.usecases.applications import ApplicationService
from applications.usecases.messages import MessageService
from applications.usecases.records import RecordService
from applications.usecases.reference import ReferenceService
from zc_auth import HttpJwks, RevokedSessions, TokenVerifier
from zc_auth.revocation import SESSION_ENDED_SUBJECT
from zc_db import MessagingTables, create_engine, create_session_factory, database_ready
from zc_db.pii import PiiCipher, parse_key_ring
from zc_messaging import NatsConnection, follow_subject

SERVICE = "applications"


@dataclass
class Container:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    tables: MessagingTables
    nats: NatsConnection
    token_verifier: TokenVerifier
    reference: ReferenceService
    applications: ApplicationService
    messages: MessageService
    records: RecordService
    background: list[asyncio.Task[None]] = field(default_factory=list)

    async def readiness(self) -> dict[str, bool]:
        return {"database": await database_ready(self.engine), "nats": self.nats.is_connected}

    async def aclose(self) -> None:
        for task in self.background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.nats.close()
        await self.engine.dispose()


async def build_container(settings: Settings, *, clock: Callable[[], datetime] | None = None) -> Container:
    engine = create_engine(settings.database_url)
    nats = NatsConnection(settings.nats_url, name=f"{SERVICE}-api")
    await nats.start()  # returns at once; readiness says when it is up
    sessions = create_session_factory(engine)
    revoked = RevokedSessions()
    # Tokens of a session that ended are refused at once, not only when they expire.
    follower = asyncio.create_task(
        follow_subject(
            nats, SESSION_ENDED_SUBJECT, lambda e: revoked.on_session_ended(e.data), since=timedelta(hours=1)
        )
    )
    clocked: dict[str, Any] = {"clock": clock} if clock else {}
    reference = ReferenceService(sessions=sessions, store=SqlReferenceStore, **clocked)
    return Container(
        settings=settings,
        engine=engine,
        sessions=sessions,
        tables=messaging,
        nats=nats,
        token_verifier=TokenVerifier(
            issuer=settings.token_issuer,
            audience=settings.token_audience,
            jwks=HttpJwks(settings.jwks_url),
            revoked=revoked,
        ),
        reference=reference,
        applications=ApplicationService(
            sessions=sessions,
            store=SqlApplicationStore,
            reference_store=SqlReferenceStore,
            reference=reference,
            outbox=messaging,
            storage=FilesystemStorage(settings.attachments_dir),
            cipher=PiiCipher(parse_key_ring(settings.pii_keys), settings.pii_active_key),
            registry=HttpRegistry(settings.registry_url, http=httpx.AsyncClient())
            if settings.registry_url
            else DemoRegistry(),
            **clocked,
        ),
        messages=MessageService(sessions=sessions, store=SqlMessageStore, applications=SqlApplicationStore, **clocked),
        records=RecordService(
            sessions=sessions, store=SqlApplicationStore, reference_store=SqlReferenceStore, outbox=messaging, **clocked
        ),
        background=[follower],
    )
