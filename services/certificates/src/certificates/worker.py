"""Entry point of the certificates worker (outbox relay + consumers): `python -m certificates.worker`."""

from __future__ import annotations

import asyncio

from certificates.adapters.db.tables import messaging
from certificates.adapters.holders import NatsHolderDirectory
from certificates.bootstrap import SERVICE, build_certificates, build_registry, build_verifications
from certificates.consumers import handlers
from certificates.settings import Settings
from zc_db import create_engine, create_session_factory
from zc_http import configured_clock, load_settings
from zc_messaging import worker_main
from zc_messaging.connection import NatsConnection
from zc_messaging.worker import WorkerSpec, run_worker


async def run(settings: Settings, stop: asyncio.Event) -> None:
    engine = create_engine(settings.database_url)
    lookups = NatsConnection(settings.nats_url, name=f"{SERVICE}-holder-lookups")
    await lookups.start()
    try:
        sessions, holders, clock = create_session_factory(engine), NatsHolderDirectory(lookups), configured_clock()
        certificates = build_certificates(settings, sessions, holders, clock=clock)
        verifications = build_verifications(settings, sessions, holders, build_registry(settings, lookups), clock=clock)
        spec = WorkerSpec(
            service=SERVICE,
            engine=engine,
            tables=messaging,
            nats_url=settings.nats_url,
            handlers=handlers(certificates, verifications),
        )
        await run_worker(spec, stop)
    finally:
        await lookups.close()
        await engine.dispose()


def main() -> None:
    settings = load_settings(Settings)
    worker_main(SERVICE, lambda stop: run(settings, stop))


if __name__ == "__main__":
    main()
