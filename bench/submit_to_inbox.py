"""Submit → the unit reviewer's inbox, through the whole `make run` stack (issue 23 §2.1).

Run: `.venv/bin/python bench/submit_to_inbox.py [--quick]` (`make bench` calls `run()`; bench/mixed_load.py's
`run_all()` runs it on the stack it shares with the mixed load).

An applicant's 提交 (POST /api/applications/applications/{id}/submit through the gateway) commits the snapshot
and an ApplicationSubmitted event in the applications outbox; the outbox relay publishes it to JetStream; the
review service's consumer starts the application_review process, whose first task (单位审核推荐) is written to
open_tasks — from then on GET /api/review/tasks shows it to the unit's reviewers. The figure is the time from
just before the HTTP request is sent to the moment the bench process sees that row.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stack as whole_stack
from report import Section, Table, Target, latency_row, ms, pct

KEY = "submit_to_inbox"
COMMAND = ".venv/bin/python bench/submit_to_inbox.py"
RATES = (10, 50, 100)  # submissions per second
SECONDS = 10.0  # per rate (full run)
QUICK_SECONDS = 1.0
WARM_UP, QUICK_WARM_UP = 20, 10  # submissions at 10/s before the measured rates, not counted
POLL = 0.005  # the bench's poll of open_tasks
DRAIN = 8.0  # a rate ends this long after its sending stopped: answers and arrivals later than that are lost
LATE = 1.5  # a rate stops sending at 1.5 × its planned time (a starved generator), the rest counted unsent
NO_ANSWER, BROKEN = -2, -1  # a submission's status when no answer came before the rate ended / the connection failed
TARGET_RATE, TARGET_P99 = 50, 0.250

ARRIVED = "SELECT business_key, created_at FROM open_tasks WHERE business_key = ANY($1::text[])"
# where the time goes, from the rows each step leaves (PostgreSQL's now() is its transaction's start)
OUTBOX = """SELECT id, created_at, sent_at, payload FROM outbox
            WHERE subject = 'applications.application.submitted.v1' AND created_at >= $1"""
CONSUMED = "SELECT event_id, processed_at FROM inbox WHERE event_id = ANY($1::uuid[])"
STAGES = (
    "request → submit transaction begins",
    "→ relay picks the event up",
    "→ review consumer begins handling it",
    "→ task row written (process started)",
    "→ seen by the bench's poll",
)


@dataclass
class Sample:
    app_id: str
    sent: float = 0.0  # time.time() just before the request
    sent_perf: float = 0.0
    answered: float = 0.0  # perf_counter when the submit's response was read
    status: int = 0
    seen: float = 0.0  # perf_counter when the poll found the task
    stamped: float = 0.0  # the task row's created_at (review's clock), epoch seconds
    stages: list[float] = field(default_factory=list)  # seconds spent in each of STAGES

    @property
    def http(self) -> float:
        return self.answered - self.sent_perf

    @property
    def to_inbox(self) -> float:
        return self.seen - self.sent_perf

    @property
    def to_row(self) -> float:
        return self.stamped - self.sent


@dataclass
class RateResult:
    rate: int
    offered: int
    samples: list[Sample] = field(default_factory=list)
    achieved: float = 0.0  # submissions sent per second
    lag: float = 0.0  # the largest delay of a send behind its schedule (the load generator's own lag)
    polls: int = 0
    poll_cost: float = 0.0  # mean seconds per poll query

    @property
    def arrived(self) -> list[Sample]:
        return [s for s in self.samples if s.seen]

    @property
    def sent(self) -> list[Sample]:
        return [s for s in self.samples if s.sent_perf]

    @property
    def failed(self) -> list[Sample]:
        return [s for s in self.sent if s.status != 200]


IDLE_REUSE_SECONDS = 4.0  # below the gateway's keep-alive timeout (5 s)


class Client:
    """A minimal keep-alive HTTP/1.1 client: the load generator shares the 2 cores with the stack and must cost
    them little (httpx's pool costs milliseconds a request once hundreds are in flight). Like a browser, a request
    that fails on a reused connection before any answer is sent again once on a new one."""

    def __init__(self, port: int) -> None:
        self.port = port
        # with the time each went idle: one idle longer than the server keeps it (the gateway: 5 s) is not reused
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []

    async def _connection(self, fresh: bool) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bool]:
        now = time.monotonic()
        while self.idle and not fresh:
            reader, writer, since = self.idle.pop()
            if now - since < IDLE_REUSE_SECONDS:
                return reader, writer, True
            writer.close()
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        return reader, writer, False

    async def post(self, path: str, token: str) -> int:
        request = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Length: 0\r\n\r\n"
        ).encode()
        for attempt in (1, 2):
            reader, writer, reused = await self._connection(fresh=attempt == 2)
            try:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
            except (ConnectionError, asyncio.IncompleteReadError):
                writer.close()
                if reused and attempt == 1:
                    continue
                raise
            status = int(head[9:12])
            lower = head.lower()
            if b"transfer-encoding: chunked" in lower:  # the gateway streams what the service answered
                while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
                    await reader.readexactly(size + 2)
                await reader.readuntil(b"\r\n")
            else:
                length = next(
                    (int(line[15:]) for line in lower.split(b"\r\n") if line.startswith(b"content-length:")), 0
                )
                await reader.readexactly(length)
            if b"connection: close" in lower:
                writer.close()
            else:
                self.idle.append((reader, writer, time.monotonic()))
            return status
        raise AssertionError("unreachable")

    def close(self) -> None:
        for _, writer, _ in self.idle:
            writer.close()


async def run_rate(client: Client, conn: asyncpg.Connection, drafts: list[whole_stack.Draft], rate: int) -> RateResult:
    """Open loop: submission i is sent at start + i/rate whatever the earlier ones are doing."""
    result = RateResult(rate, len(drafts))
    samples = {d.app_id: Sample(d.app_id) for d in drafts}
    result.samples = list(samples.values())
    pending: set[str] = set()
    done_sending = asyncio.Event()

    async def submit(draft: whole_stack.Draft, sample: Sample) -> None:
        sample.sent, sample.sent_perf = time.time(), time.perf_counter()
        pending.add(draft.app_id)
        try:
            sample.status = await client.post(f"/api/applications/applications/{draft.app_id}/submit", draft.token)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            sample.status = BROKEN
        sample.answered = time.perf_counter()

    async def poll() -> None:
        while True:
            if pending:
                keys = list(pending)
                began = time.perf_counter()
                rows = await conn.fetch(ARRIVED, keys)
                now = time.perf_counter()
                result.polls += 1
                result.poll_cost += now - began
                for row in rows:
                    key = row["business_key"]
                    if key in pending:
                        pending.discard(key)
                        samples[key].seen = now
                        samples[key].stamped = row["created_at"].timestamp()
            if done_sending.is_set() and (not pending or time.perf_counter() > phase_end):
                return
            await asyncio.sleep(POLL)

    poller = asyncio.create_task(poll())
    start = time.perf_counter() + 0.05
    sends = []
    give_up = start + LATE * len(drafts) / rate
    phase_end = give_up + DRAIN  # the whole rate takes at most this long, however far behind the stack is
    for i, draft in enumerate(drafts):
        due = start + i / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        if time.perf_counter() > give_up:
            break
        result.lag = max(result.lag, time.perf_counter() - due)
        sends.append(asyncio.create_task(submit(draft, samples[draft.app_id])))
    result.achieved = (len(sends) - 1) / max(1e-9, time.perf_counter() - start) if len(sends) > 1 else 0.0
    if sends:
        _, late = await asyncio.wait(sends, timeout=max(0.0, phase_end - time.perf_counter()))
        for task in late:
            task.cancel()
        for sample in result.samples:
            if sample.sent_perf and not sample.status:
                sample.status = NO_ANSWER
    done_sending.set()
    await poller
    result.poll_cost /= max(1, result.polls)
    return result


async def trace(st: whole_stack.Stack, results: list[RateResult], since: datetime) -> None:
    """Each arrived submission's time per stage: the outbox row's created_at (the submit's transaction) and
    sent_at (the relay's pick-up), the review inbox row's processed_at (the consumer's transaction), the task
    row's created_at; all on this machine's one clock."""
    apps = await asyncpg.connect(st.dsn("applications"))
    review = await asyncpg.connect(st.dsn("review"))
    try:
        events = {}
        for row in await apps.fetch(OUTBOX, since):
            envelope = json.loads(row["payload"])
            events[envelope["subject_id"]] = (row["id"], row["created_at"], row["sent_at"])
        consumed = {
            r["event_id"]: r["processed_at"]
            for r in await review.fetch(CONSUMED, [event[0] for event in events.values()])
        }
    finally:
        await apps.close()
        await review.close()
    for r in results:
        for s in r.arrived:
            found = events.get(s.app_id)
            if found is None or found[2] is None or found[0] not in consumed:
                continue
            began, picked, handled = found[1].timestamp(), found[2].timestamp(), consumed[found[0]].timestamp()
            seen = s.sent + s.to_inbox  # the poll's moment on the wall clock
            s.stages = [began - s.sent, picked - began, handled - picked, s.stamped - handled, seen - s.stamped]


async def measure_async(st: whole_stack.Stack, batches: list[list[whole_stack.Draft]]) -> list[RateResult]:
    since = datetime.now(UTC)
    conn = await asyncpg.connect(st.dsn("review"))
    client = Client(st.port)
    try:
        await run_rate(client, conn, batches[0], 10)  # warm-up: connections, caches, the consumer
        results = []
        for rate, batch in zip(RATES, batches[1:], strict=True):
            results.append(await run_rate(client, conn, batch, rate))
            await asyncio.sleep(0.5)  # the stack settles between rates
    finally:
        client.close()
        await conn.close()
    await trace(st, results, since)
    return results


def measure(st: whole_stack.Stack, quick: bool) -> Section:
    started = time.perf_counter()
    seconds = QUICK_SECONDS if quick else SECONDS
    sizes = [QUICK_WARM_UP if quick else WARM_UP] + [round(rate * seconds) for rate in RATES]
    prepared = time.perf_counter()
    template = whole_stack.template_draft(st)
    drafts = whole_stack.clone_drafts(st, template, sum(sizes))
    prepare_s = time.perf_counter() - prepared
    batches, at = [], 0
    for size in sizes:
        batches.append(drafts[at : at + size])
        at += size
    results = asyncio.run(measure_async(st, batches))
    return section(results, seconds, quick, sizes[0], prepare_s, time.perf_counter() - started)


def section(
    results: list[RateResult], seconds: float, quick: bool, warm_up: int, prepare_s: float, ran: float
) -> Section:
    rows, targets, details = [], [], []
    for r in results:
        arrived = r.arrived
        inbox = [s.to_inbox for s in arrived]
        http = [s.http for s in r.samples if s.status == 200]
        row_lag = [s.to_row for s in arrived]
        lost = len(r.sent) - len(arrived)
        unsent = r.offered - len(r.sent)
        rows.append(
            [
                f"{r.rate}/s",
                f"{len(r.sent)} of {r.offered} ({r.achieved:.0f}/s)",
                *(latency_row(inbox) if inbox else ["—"] * 4),
                ms(statistics.median(http)) + " / " + ms(pct(http, 99)) if http else "—",
                ms(statistics.median(row_lag)) + " / " + ms(pct(row_lag, 99)) if row_lag else "—",
                f"{len(r.failed)} / {lost}",
            ]
        )
        if r.rate == TARGET_RATE:
            p99 = pct(inbox, 99) if inbox else float("inf")
            targets.append(
                Target(
                    f"submit → unit inbox p99 at {TARGET_RATE} submissions/s",
                    f"< {TARGET_P99 * 1000:.0f} ms",
                    f"{ms(p99)} ms"
                    + (f" ({lost} not arrived)" if lost else "")
                    + (f" ({unsent} not sent)" if unsent else ""),
                    p99 < TARGET_P99 and lost == 0 and unsent == 0 and not r.failed,
                )
            )
        failures = Counter(s.status for s in r.failed)
        named = {
            NO_ANSWER: f"no answer within the rate's end ({DRAIN:g} s after sending stopped)",
            BROKEN: "broken connection",
        }
        failed_text = (
            "; failed: " + ", ".join(f"{n}× {named.get(code, f'HTTP {code}')}" for code, n in failures.most_common())
            if failures
            else ""
        )
        details.append(
            f"{r.rate}/s: {r.polls} polls, {r.poll_cost * 1000:.2f} ms per poll query on average; "
            f"largest send lag behind schedule {r.lag * 1000:.1f} ms{failed_text}."
        )
    table = Table(
        [
            "offered rate",
            "sent (achieved rate)",
            "to inbox p50 (ms)",
            "p95",
            "p99",
            "max",
            "submit HTTP p50 / p99 (ms)",
            "to row's created_at p50 / p99 (ms)",
            "errors / not arrived",
        ],
        rows,
    )
    traced = {r.rate: [s.stages for s in r.arrived if s.stages] for r in results}
    stage_rows = []
    for i, stage in enumerate(STAGES):
        cells = [stage]
        for r in results:
            spent = [stages[i] for stages in traced[r.rate]]
            cells.append(f"{ms(statistics.median(spent))} / {ms(pct(spent, 99))}" if spent else "—")
        stage_rows.append(cells)
    stages_table = Table(["where the time goes (ms, p50 / p99)", *[f"{r.rate}/s" for r in results]], stage_rows)
    at_target = traced.get(TARGET_RATE) or []
    if at_target:
        medians = [statistics.median(stages[i] for stages in at_target) for i in range(len(STAGES))]
        worst = max(range(len(STAGES)), key=lambda i: medians[i])
        biggest = f"At {TARGET_RATE}/s the largest stage of the median is '{STAGES[worst]}' ({ms(medians[worst])} ms). "
    else:
        biggest = ""
    size = "quick: " if quick else ""
    method = (
        f"The `make run` stack (embedded PostgreSQL and NATS JetStream, the four services, the gateway) on a fresh "
        f"data directory, loaded from this process. Drafts: one complete 农艺师 application is made through the API "
        f"as the demo applicant fills one in, then copied in SQL in the applications database for each benchmark "
        f"applicant ({prepare_s:.1f} s for all; a live application is unique per applicant, year and "
        f"qualification, and the dev login knows only the demo users, so each copy belongs to a fresh subject "
        f"whose applicant token is signed with the stack's key and sent as a bearer token through the gateway). "
        f"Open loop ({size}{seconds:g} s per rate, after a {warm_up}-submission warm-up at 10/s): submission i is "
        f"sent at start + i/rate by a minimal keep-alive HTTP/1.1 client (asyncio; a new connection whenever none "
        f"is idle) whatever the earlier ones are doing; "
        f"each is timed from just before its request is sent; a generator that falls behind (starved of CPU) stops at "
        f"{LATE:g}× a rate's planned time and the rest count as not sent; a rate ends {DRAIN:g} s after its "
        f"sending stopped (bounding the run when the stack falls behind): a submission unanswered by then counts "
        f"as an error, one whose task has not appeared as not arrived. Arrival: the same process polls the review "
        f"database's open_tasks for the pending application ids (business_key) every {POLL * 1000:g} ms, so the "
        f"detection resolution is {POLL * 1000:g} ms plus one poll query (its mean cost is listed below); "
        f"PostgreSQL has no notification on that table and the review service publishes no task-opened event "
        f"(review.application.stage_reached leaves through the review outbox after the row is committed, so it "
        f"would add the relay's delay). The 'to row's created_at' column is the task row's own timestamp "
        f"(review's clock, taken before its commit) minus the send time: a lower bound of the same delay. "
        f"Where the time goes comes from the rows each step leaves, after the run: the applications outbox row's "
        f"created_at (PostgreSQL's now(), the submit transaction's start) and sent_at (the relay transaction that "
        f"picked it up), the review inbox row's processed_at (the consumer's transaction), the task row's "
        f"created_at, and the poll that saw it; all on this machine's one clock. "
        f"The load generator, the stack and PostgreSQL share the machine's cores."
    )
    return Section(
        key=KEY,
        title="Submit → the unit reviewer's inbox (whole stack)",
        command=COMMAND + (" --quick" if quick else ""),
        method=method,
        tables=[table, stages_table],
        targets=targets,
        limits=(
            biggest + "The applications outbox relay is woken by the outbox's insert notification (a statement "
            "trigger, NOTIFY at commit) and publishes a batch pipelined, its acks awaited together (JetStream syncs "
            "every write to disk, sync_interval: always); the review consumer handles what it fetched one message "
            "at a time. Every service, PostgreSQL, NATS and the load generator share the same cores: past the rate "
            "they sustain (the applications API's submit first: '→ submit transaction begins'), the queue and the "
            "tail grow."
        ),
        details=details,
        seconds=ran,
    )


def run(quick: bool = False) -> Section:
    st = whole_stack.start()
    try:
        return measure(st, quick)
    finally:
        st.stop()


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv).markdown())
