"""Entry point of the review worker: outbox relay, consumers and the timer scheduler (`python -m review.worker`)."""

from __future__ import annotations

import asyncio

from review.adapters.db.tables import messaging
from review.bootstrap import SERVICE, build_reviews
from review.consumers import handlers
from review.scheduler import run_scheduler
from review.settings import Settings
from zc_db import create_engine, create_session_factory
from zc_http import configured_clock, load_settings
from zc_messaging import worker_main
from zc_messaging.worker import WorkerSpec, run_worker


async def run(settings: Settings, stop: asyncio.Event) -> None:
    engine = create_engine(settings.database_url)
    try:
        reviews = build_reviews(settings, create_session_factory(engine), clock=configured_clock())
        if settings.bpmn_dir is not None:
            await reviews.definitions.deploy_directory(settings.bpmn_dir)
        spec = WorkerSpec(
            service=SERVICE,
            engine=engine,
            tables=messaging,
            nats_url=settings.nats_url,
            handlers=handlers(reviews.instances),
        )
        async with asyncio.TaskGroup() as tg:
            tg.create_task(run_worker(spec, stop), name="messaging")
            tg.create_task(
                run_scheduler(
                    reviews.timers, stop, poll_seconds=settings.timer_poll_seconds, batch=settings.timer_batch
                ),
                name="timers",
            )
    finally:
        await engine.dispose()


def main() -> None:
    settings = load_settings(Settings)
    worker_main(SERVICE, lambda stop: run(settings, stop))


if __name__ == "__main__":
    main()
