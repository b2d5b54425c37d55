"""The timer scheduler: every replica runs one; SKIP LOCKED shares the due instances, so none is a singleton.
Each pass also flags instances that stalled (nothing left to wait for)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from review.usecases.timers import Timers

log = logging.getLogger(__name__)


# a stalled-instance search looks at what changed since the last pass, with this margin for transactions that
# committed after their clock reading and for other replicas' clocks
STALL_SEARCH_MARGIN = timedelta(minutes=5)
STALL_BATCH = 100


async def run_scheduler(timers: Timers, stop: asyncio.Event, *, poll_seconds: float, batch: int) -> None:
    changed_since: datetime | None = None  # the first pass searches every running instance
    while not stop.is_set():
        try:
            started = timers.now()
            fired = await timers.fire_due(limit=batch)
            if await timers.flag_stalled(limit=STALL_BATCH, changed_since=changed_since) < STALL_BATCH:
                changed_since = started - STALL_SEARCH_MARGIN  # all found: from now on, what changed
        except Exception:  # a database blip must not end the loop; the next pass retries
            log.exception("timer pass failed")
            fired = 0
        if fired >= batch:
            continue  # more are due: go again at once
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=poll_seconds)
