"""Entry point of the review worker: outbox relay + consumers. `python -m review.worker`."""

from __future__ import annotations

import asyncio

from review.adapters.db.tables import messaging
from review.bootstrap import SERVICE
from review.consumers import HANDLERS
from review.settings import Settings
from zc_db import create_engine
from zc_http import load_settings
from zc_messaging import WorkerSpec, install_signal_handlers, run_worker
from zc_telemetry import configure_logging, setup_telemetry


async def run(settings: Settings, stop: asyncio.Event) -> None:
    engine = create_engine(settings.database_url)
    try:
        spec = WorkerSpec(
            service=SERVICE, engine=engine, tables=messaging, nats_url=settings.nats_url, handlers=HANDLERS
        )
        await run_worker(spec, stop)
    finally:
        await engine.dispose()


def main() -> None:
    settings = load_settings(Settings)
    setup_telemetry(SERVICE)
    configure_logging(SERVICE)

    async def _main() -> None:
        stop = asyncio.Event()
        install_signal_handlers(stop)
        await run(settings, stop)

    asyncio.run(_main())


if __name__ == "__main__":
    main()
