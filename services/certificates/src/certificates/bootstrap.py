"""Composition root: the one place that picks implementations and wires them (nothing connects at import)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from certificates.adapters.committees import NatsCommitteeDirectory
from certificates.adapters.db.store import SqlCertificateStore
from certificates.adapters.db.tables import messaging
from certificates.adapters.holders import NatsHolderDirectory
from certificates.adapters.pdf import render_certificate
from certificates.adapters.signing import Signer
from certificates.settings import Settings
from certificates.usecases.certificates import CertificateService, HolderDirectory, IssuingPolicy
from certificates.usecases.verifications import CommitteeDirectory, VerificationService
from zc_auth import TokenVerifier
from zc_auth.live import live_session_verifier
from zc_db import MessagingTables
from zc_messaging import NatsConnection, ServiceRuntime
from zc_registries import DemoRegistry, ExternalRegistry, HttpRegistry, NatsPersonResolver
from zc_storage import storage_from_settings

SERVICE = "certificates"


@dataclass
class Container:
    settings: Settings
    runtime: ServiceRuntime
    tables: MessagingTables
    token_verifier: TokenVerifier
    certificates: CertificateService
    verifications: VerificationService

    async def readiness(self) -> dict[str, bool]:
        return await self.runtime.readiness()

    async def aclose(self) -> None:
        await self.runtime.aclose()


def build_certificates(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    holders: HolderDirectory,
    *,
    clock: Callable[[], datetime] | None = None,
) -> CertificateService:
    return CertificateService(
        sessions=sessions,
        store=SqlCertificateStore,
        signer=Signer.from_spec(settings.signing_key, settings.verify_keys),
        holders=holders,
        outbox=messaging,
        policy=IssuingPolicy(
            province_code=settings.province_code,
            issuing_authority=settings.issuing_authority,
            check_base_url=settings.public_base_url,
            checks_per_minute=settings.checks_per_minute,
        ),
        render=render_certificate,
        clock=clock,
    )


def build_registry(settings: Settings, nats: NatsConnection) -> ExternalRegistry:
    if not settings.registry_url:
        return DemoRegistry()
    resolver = NatsPersonResolver(nats, requester=SERVICE)
    return HttpRegistry(settings.registry_url, http=httpx.AsyncClient(), resolver=resolver)


def build_verifications(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    holders: HolderDirectory,
    registry: ExternalRegistry,
    *,
    committees: CommitteeDirectory | None = None,
    clock: Callable[[], datetime] | None = None,
) -> VerificationService:
    return VerificationService(
        registry=registry,
        storage=storage_from_settings(
            settings.attachments_s3_url, settings.attachments_dir, server_side_encryption=settings.attachments_s3_sse
        ),
        sessions=sessions,
        store=SqlCertificateStore,
        signer=Signer.from_spec(settings.signing_key, settings.verify_keys),
        holders=holders,
        outbox=messaging,
        committees=committees,
        clock=clock,
    )


async def build_container(settings: Settings, *, clock: Callable[[], datetime] | None = None) -> Container:
    runtime = await ServiceRuntime.start(SERVICE, database_url=settings.database_url, nats_url=settings.nats_url)
    verifier = live_session_verifier(
        issuer=settings.token_issuer, audience=settings.token_audience, jwks_url=settings.jwks_url, events=runtime
    )
    return Container(
        settings=settings,
        runtime=runtime,
        tables=messaging,
        token_verifier=verifier,
        certificates=build_certificates(settings, runtime.sessions, NatsHolderDirectory(runtime.nats), clock=clock),
        verifications=build_verifications(
            settings,
            runtime.sessions,
            NatsHolderDirectory(runtime.nats),
            build_registry(settings, runtime.nats),
            committees=NatsCommitteeDirectory(runtime.nats),
            clock=clock,
        ),
    )
