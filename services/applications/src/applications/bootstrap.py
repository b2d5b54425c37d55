"""Composition root: the one place that picks implementations and wires them (nothing connects at import)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from applications.adapters.db.application_store import SqlApplicationStore
from applications.adapters.db.message_store import SqlMessageStore
from applications.adapters.db.portal_store import SqlPortalStore
from applications.adapters.db.reference_store import SqlReferenceStore
from applications.adapters.db.tables import messaging
from applications.adapters.documents.templates import WordTemplates
from applications.consumers.committee_lookup import serve_committee_lookups
from applications.settings import Settings
from applications.usecases.applications import ApplicationService
from applications.usecases.messages import MessageService
from applications.usecases.portal import PortalService
from applications.usecases.ports import DocumentTemplates
from applications.usecases.records import RecordService
from applications.usecases.reference import ReferenceService
from zc_auth import TokenVerifier
from zc_auth.live import live_session_verifier
from zc_db import MessagingTables
from zc_db.pii import PiiCipher, parse_key_ring
from zc_messaging import ServiceRuntime
from zc_registries import DemoRegistry, HttpRegistry, NatsPersonResolver
from zc_storage import storage_from_settings

SERVICE = "applications"


@dataclass
class Container:
    settings: Settings
    runtime: ServiceRuntime
    tables: MessagingTables
    token_verifier: TokenVerifier
    reference: ReferenceService
    applications: ApplicationService
    messages: MessageService
    records: RecordService
    portal: PortalService
    templates: DocumentTemplates
    lookups: asyncio.Task[None] | None = None  # answers the committee lookups of other services

    async def readiness(self) -> dict[str, bool]:
        return await self.runtime.readiness()

    async def aclose(self) -> None:
        if self.lookups is not None:
            self.lookups.cancel()
        await self.runtime.aclose()


async def build_container(settings: Settings, *, clock: Callable[[], datetime] | None = None) -> Container:
    runtime = await ServiceRuntime.start(SERVICE, database_url=settings.database_url, nats_url=settings.nats_url)
    sessions = runtime.sessions
    clocked: dict[str, Any] = {"clock": clock} if clock else {}
    reference = ReferenceService(sessions=sessions, store=SqlReferenceStore, **clocked)
    storage = storage_from_settings(
        settings.attachments_s3_url, settings.attachments_dir, server_side_encryption=settings.attachments_s3_sse
    )
    people = NatsPersonResolver(runtime.nats, requester=SERVICE)  # the identity bridge's person lookup
    return Container(
        settings=settings,
        runtime=runtime,
        tables=messaging,
        token_verifier=live_session_verifier(
            issuer=settings.token_issuer, audience=settings.token_audience, jwks_url=settings.jwks_url, events=runtime
        ),
        reference=reference,
        applications=ApplicationService(
            sessions=sessions,
            store=SqlApplicationStore,
            reference_store=SqlReferenceStore,
            reference=reference,
            outbox=messaging,
            storage=storage,
            cipher=PiiCipher(parse_key_ring(settings.pii_keys), settings.pii_active_key),
            registry=HttpRegistry(
                settings.registry_url,
                http=httpx.AsyncClient(),
                resolver=NatsPersonResolver(runtime.nats, requester=SERVICE),
            )
            if settings.registry_url
            else DemoRegistry(),
            people=people,
            **clocked,
        ),
        messages=MessageService(sessions=sessions, store=SqlMessageStore, applications=SqlApplicationStore, **clocked),
        records=RecordService(
            sessions=sessions,
            store=SqlApplicationStore,
            reference_store=SqlReferenceStore,
            outbox=messaging,
            storage=storage,
            people=people,
            **clocked,
        ),
        portal=PortalService(sessions=sessions, store=SqlPortalStore, reference_store=SqlReferenceStore, **clocked),
        templates=WordTemplates(),
        lookups=asyncio.create_task(serve_committee_lookups(runtime.nats, reference), name="committee-lookups"),
    )
