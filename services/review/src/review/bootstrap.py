"""Composition root: the one place that picks implementations and wires them (nothing connects at import)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from review.adapters.db.instance_store import SqlInstanceStore
from review.adapters.db.tables import messaging
from review.adapters.people import NatsPeopleDirectory
from review.adapters.workflow.spiff import SpiffEngine
from review.domain.calendar import BusinessCalendar
from review.settings import Settings
from review.usecases.ports import PeopleDirectory
from review.usecases.reviews import Reviews
from zc_auth import TokenVerifier
from zc_auth.live import live_session_verifier
from zc_db import MessagingTables
from zc_messaging import ServiceRuntime

SERVICE = "review"


@dataclass
class Container:
    settings: Settings
    runtime: ServiceRuntime
    tables: MessagingTables
    token_verifier: TokenVerifier
    reviews: Reviews

    async def readiness(self) -> dict[str, bool]:
        return await self.runtime.readiness()

    async def aclose(self) -> None:
        await self.runtime.aclose()


def build_reviews(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    *,
    clock: Callable[[], datetime] | None = None,
    people: PeopleDirectory | None = None,
) -> Reviews:
    calendar = BusinessCalendar.load(settings.calendar_dir)
    return Reviews(
        sessions=sessions,
        store=SqlInstanceStore,
        engine=SpiffEngine(calendar),
        calendar=calendar,
        outbox=messaging,
        clock=clock,
        people=people,
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
        reviews=build_reviews(settings, runtime.sessions, clock=clock, people=NatsPeopleDirectory(runtime.nats)),
    )
