"""The timer scheduler: every replica runs one; SKIP LOCKED shares the due instances, so none is a singleton.
Each pass also flags instances that stalled (nothing left to wait for)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from review.usecases.reviews import ReviewService

log = logging.getLogger(__name__)


async def run_scheduler(reviews: ReviewService, stop: asyncio.Event, *, poll_seconds: float, batch: int) -> None:
    while not stop.is_set():
        try:
            fired = await reviews.fire_due(limit=batch)
            await reviews.flag_stalled()
        except Exception:  # a database blip must not end the loop; the next pass retries
            log.exception("timer pass failed")
            fired = 0
        if fired >= batch:
            continue  # more are due: go again at once
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=poll_seconds)
