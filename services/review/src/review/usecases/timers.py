"""Use cases: the scheduler's passes — fire the timers that are due, and flag instances that stalled."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from opentelemetry import metrics

from review.usecases.host import WorkflowHost
from review.usecases.transitions import Actor, Pending, Step, TransitionWriter, history_row

log = logging.getLogger(__name__)

STALLED_INSTANCES = metrics.get_meter("review").create_counter(
    "review.instances.stalled", description="process instances found with nothing to wait for (need an operator)"
)
BEIJING = timezone(timedelta(hours=8))


class Timers:
    def __init__(self, host: WorkflowHost, transitions: TransitionWriter) -> None:
        self._host = host
        self._transitions = transitions

    def now(self) -> datetime:
        return self._host.now()

    async def fire_due(self, *, limit: int = 50) -> int:
        """One scheduler pass: claim due instances (SKIP LOCKED), fire their timers, save. Any replica may run it."""
        now = self._host.now()
        async with self._host.sessions() as s, s.begin():
            store = self._host.store(s)
            batch: list[Pending] = []
            for instance in await store.claim_due(now, limit):
                version, definition = await self._host.definition(store, instance["definition_id"])
                result = self._host.engine.fire_timers(definition, instance["state"], now=now)
                due = [w["name"] for w in instance["waiting"] if w["kind"] == "timer"]
                step = Step("timer", Actor.system("scheduler"), details={"due": due})
                batch.append(Pending(instance, version, result, step))
            # the claimed rows stay locked until commit: the whole pass is saved with one statement
            await self._transitions.save_all(s, store, batch)
        return len(batch)

    async def flag_stalled(self, *, limit: int = 100, changed_since: datetime | None = None) -> int:
        """One scheduler pass: a running instance with no open task, timer or awaited message can never move on
        by itself; it is marked `stalled` for operators (why and since when, in its error and history), counted
        in the `review.instances.stalled` metric, and `retry` runs its engine step again. `changed_since`: only
        instances changed since then (the scheduler searches everything once at start, then what changed)."""
        now = self._host.now()
        flagged = 0
        async with self._host.sessions() as s, s.begin():
            store = self._host.store(s)
            for instance in await store.claim_stalled(limit, changed_since):
                since = instance["updated_at"].astimezone(BEIJING)
                reason = f"流程停滞：没有待办、定时器或等待的消息（自 {since:%Y-%m-%d %H:%M} 起），请重试或终止"
                values = {"status": "stalled", "error": reason, "updated_at": now}
                if not await store.save_instance(instance["id"], instance["version"], values):
                    continue  # it moved on meanwhile
                version, _ = await self._host.definition(store, instance["definition_id"])
                step = Step("stalled", Actor("system:scheduler", "system"), comment=reason)
                await store.append_history([history_row(instance, step, now, version)])
                log.warning("process instance stalled", extra={"instance_id": str(instance["id"]), "since": str(since)})
                flagged += 1
        if flagged:
            STALLED_INSTANCES.add(flagged)
        return flagged
