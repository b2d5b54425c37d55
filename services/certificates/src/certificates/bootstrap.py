"""Composition root: the one place that picks implementations and wires them (nothing connects at import)."""

from __future__ import annotations

from dataclasses import dataclass

from certificates.adapters.db.tables import messaging
from certificates.settings import Settings
from zc_auth import TokenVerifier
from zc_auth.live import live_session_verifier
from zc_db import MessagingTables
from zc_messaging import ServiceRuntime

SERVICE = "certificates"


@dataclass
class Container:
    settings: Settings
    runtime: ServiceRuntime
    tables: MessagingTables
    token_verifier: TokenVerifier

    async def readiness(self) -> dict[str, bool]:
        return await self.runtime.readiness()

    async def aclose(self) -> None:
        await self.runtime.aclose()


async def build_container(settings: Settings) -> Container:
    runtime = await ServiceRuntime.start(SERVICE, database_url=settings.database_url, nats_url=settings.nats_url)
    verifier = live_session_verifier(
        issuer=settings.token_issuer, audience=settings.token_audience, jwks_url=settings.jwks_url, events=runtime
    )
    return Container(settings=settings, runtime=runtime, tables=messaging, token_verifier=verifier)
