"""Entry point of the applications worker (outbox relay + consumers): `python -m applications.worker`."""

from __future__ import annotations

import asyncio

from applications.adapters.db.application_store import SqlApplicationStore
from applications.adapters.db.message_store import SqlMessageStore
from applications.adapters.db.tables import messaging
from applications.bootstrap import SERVICE
from applications.consumers import handlers
from applications.settings import Settings
from zc_http import load_settings
from zc_messaging import run_service_worker, worker_main


async def run(settings: Settings, stop: asyncio.Event) -> None:
    await run_service_worker(
        SERVICE,
        database_url=settings.database_url,
        nats_url=settings.nats_url,
        tables=messaging,
        handlers=handlers(SqlMessageStore, SqlApplicationStore),
        stop=stop,
    )


def main() -> None:
    settings = load_settings(Settings)
    worker_main(SERVICE, lambda stop: run(settings, stop))


if __name__ == "__main__":
    main()
