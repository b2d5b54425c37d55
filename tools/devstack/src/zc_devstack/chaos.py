"""The crash matrix (issue 18): load through the gateway of a `make run` stack while its processes are killed,
then reconcile what the clients were told against the databases and NATS.

Load: full 申报评审 journeys (the demo's own journey: organise experts, three votes, 公示, issuance, one per demo
applicant) one after another, and 外省职称确认 and 专技人才统计 records with their reviews from two more
threads. Faults: SIGKILL of a service at random moments (the review service most often, and once right
after 组织专家评审 so the votes meet a fresh process), SIGKILL of NATS, an immediate PostgreSQL stop; the stack's
supervisor restarts each. The clients behave as patient users: what did not reach a service, or was rolled
back (503), is sent again; a decision is sent with an Idempotency-Key, so a resend does not decide twice.

Reconciliation (after the system has settled):
- lost / duplicated: acknowledged submissions with no process instance, or more than one;
- acknowledged without effect: acknowledged decisions with no `task_completed` in the review's history;
- certificates: approved applications and 外省职称确认 without exactly one certificate;
- stalled / errored instances; unsent outbox rows per service; pending and dead-lettered NATS messages.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import nats
import psutil

from zc_devstack.demo_application import JPEG, OUT_OF_PROVINCE, PDF, TALENT, UNIT
from zc_devstack.journey import Journey
from zc_devstack.procs import free_port
from zc_messaging import TOPOLOGY

log = logging.getLogger("zc_devstack.chaos")

RECORD_REVIEWERS = {
    "talent_stats": ("unit_reviewer",),
    "out_of_province": ("unit_reviewer", "department_reviewer", "department_reviewer2", "authority"),
}
APPLICANTS = tuple(f"applicant{n}" if n > 1 else "applicant" for n in range(1, 15))
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
SUBMIT = re.compile(
    r"^/api/(applications/applications|applications/records/\w+|certificates/verifications)/([^/]+)/submit$"
)
COMPLETE = re.compile(r"^/api/review/tasks/([^/]+)/complete$")


@dataclass
class Ledger:
    """What the clients were told: the acknowledged calls the reconciliation checks."""

    submissions: set[str] = field(default_factory=set)
    decisions: set[str] = field(default_factory=set)
    approved_applications: set[str] = field(default_factory=set)
    approved_records: set[str] = field(default_factory=set)
    resent: int = 0
    acknowledged_by_an_earlier_attempt: int = 0
    client_failures: list[str] = field(default_factory=list)
    faults: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)


class PatientTransport(httpx.HTTPTransport):
    """A user who tries again: what did not reach a service or was rolled back (503) is sent again (with the
    same Idempotency-Key); a state change refused as already done (409) after a resend was done by an earlier
    attempt, and counts as acknowledged. Acknowledged submissions and decisions go into the ledger."""

    def __init__(self, ledger: Ledger, patience: float = 180) -> None:
        super().__init__()
        self.ledger, self.patience = ledger, patience

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        unsafe = request.method not in SAFE
        if unsafe:
            request.headers.setdefault("Idempotency-Key", str(uuid.uuid4()))
        deadline, attempt = time.monotonic() + self.patience, 0
        while True:
            attempt += 1
            try:
                response = super().handle_request(request)
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
            else:
                if response.status_code not in (502, 503, 504) or time.monotonic() > deadline:
                    break
                response.read()
                response.close()
            with self.ledger.lock:
                self.ledger.resent += 1
            time.sleep(min(0.25 * attempt, 2.0))
        if unsafe and attempt > 1 and response.status_code == 409:
            response.read()
            with self.ledger.lock:
                self.ledger.acknowledged_by_an_earlier_attempt += 1
            response = httpx.Response(200, json={}, request=request)
        if unsafe and 200 <= response.status_code < 300:
            self._note(request.url.path)
        return response

    def _note(self, path: str) -> None:
        with self.ledger.lock:
            if found := SUBMIT.match(path):
                self.ledger.submissions.add(found.group(2))
            elif found := COMPLETE.match(path):
                self.ledger.decisions.add(found.group(1))


class Sessions:
    """One signed-in browser per demo user, all patient."""

    def __init__(self, base: str, ledger: Ledger) -> None:
        self.base, self.ledger = base, ledger
        self.clients: dict[str, httpx.Client] = {}
        self.lock = threading.Lock()

    def __call__(self, who: str) -> httpx.Client:
        with self.lock:
            if who not in self.clients:
                client = httpx.Client(
                    base_url=self.base,
                    timeout=60,
                    headers={"X-Requested-With": "zhicheng"},
                    transport=PatientTransport(self.ledger),
                )
                r = client.post(f"/api/identity/dev/login/{who}", params={"return_to": "/"})
                if r.status_code != 303:
                    raise RuntimeError(f"开发环境登录失败（{who}）：{r.status_code}")
                self.clients[who] = client
            return self.clients[who]


@dataclass
class RunningStack:
    base: str
    proc: subprocess.Popen[bytes]
    log: Path
    clock_file: Path
    offset: float = 0.0

    def advance(self, seconds: float) -> None:
        self.offset += seconds
        self.clock_file.write_text(str(self.offset), encoding="utf-8")

    def _infra_port(self, what: str) -> int:
        found = re.search(rf"{what} on 127\.0\.0\.1:(\d+)", self.log.read_text(encoding="utf-8"))
        if found is None:
            raise RuntimeError(f"{what} port not in {self.log}")
        return int(found.group(1))

    def database_url(self, service: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self._infra_port('PostgreSQL')}/zc_{service}"

    @property
    def nats_url(self) -> str:
        return f"nats://127.0.0.1:{self._infra_port('NATS JetStream')}"

    def processes(self) -> dict[str, psutil.Process]:
        """What runs under the stack now: each service, NATS and the PostgreSQL postmaster."""
        found: dict[str, psutil.Process] = {}
        for child in psutil.Process(self.proc.pid).children(recursive=True):
            try:
                cmdline = child.cmdline()
            except psutil.Error:
                continue
            if "zc_devstack.service_host" in cmdline:
                found[cmdline[cmdline.index("zc_devstack.service_host") + 1]] = child
            elif any(part.endswith("nats-server") for part in cmdline[:1]):
                found["nats"] = child
            elif cmdline[:1] and cmdline[0].endswith("postgres") and "-D" in cmdline:
                found["postgres"] = child
        return found

    def kill(self, target: str, ledger: Ledger) -> bool:
        """SIGKILL (PostgreSQL: SIGQUIT, its immediate shutdown); False when it is not running just now."""
        proc = self.processes().get(target)
        if proc is None:
            return False
        try:
            proc.send_signal(signal.SIGQUIT if target == "postgres" else signal.SIGKILL)
        except psutil.Error:
            return False
        with ledger.lock:
            ledger.faults[target] += 1
        log.warning("fault: %s killed", target)
        return True


@contextmanager
def running_stack(data_dir: Path) -> Iterator[RunningStack]:
    data_dir.mkdir(parents=True, exist_ok=True)
    port, log_file, clock_file = free_port(), data_dir / "stack.log", data_dir / "clock-offset"
    clock_file.write_text("0", encoding="utf-8")
    with open(log_file, "wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "zc_devstack", "run", "--data-dir", str(data_dir / "data"), "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env={**os.environ, "ZC_LOG_FORMAT": "json", "ZC_CLOCK_OFFSET_FILE": str(clock_file)},
        )
        try:
            deadline = time.monotonic() + 180
            while "Zhicheng is running" not in log_file.read_text(encoding="utf-8"):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"stack did not start:\n{log_file.read_text(encoding='utf-8')[-3000:]}")
                time.sleep(0.3)
            yield RunningStack(f"http://127.0.0.1:{port}", proc, log_file, clock_file)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(120)
            except subprocess.TimeoutExpired:
                proc.kill()


# -- load ----------------------------------------------------------------------------------------------------


def run_journeys(
    stack: RunningStack, sessions: Sessions, ledger: Ledger, applicants: list[str], on_step: Callable[[str], None]
) -> None:
    for applicant in applicants:
        # each journey starts on the real date: the one before moved the clock past the activity's deadlines
        stack.offset = 0.0
        stack.advance(0.0)
        journey = Journey(stack.base, advance_clock=stack.advance, say=on_step, applicant=applicant, timeout=180)
        journey.clients = _ClientsView(sessions)  # type: ignore[assignment]
        try:
            outcome = journey.direct_review()
        except Exception as exc:  # a client that gives up is reported, the run goes on
            with ledger.lock:
                ledger.client_failures.append(f"申报评审（{applicant}）：{exc!r}"[:300])
            continue
        if outcome.application_id:
            with ledger.lock:
                ledger.approved_applications.add(outcome.application_id)


class _ClientsView(dict):  # type: ignore[type-arg]
    """Journey keeps its clients in a dict; this one hands out the shared patient sessions."""

    def __init__(self, sessions: Sessions) -> None:
        super().__init__()
        self.sessions = sessions

    def __contains__(self, who: object) -> bool:
        return True

    def __getitem__(self, who: str) -> httpx.Client:
        return self.sessions(who)


def run_records(sessions: Sessions, ledger: Ledger, jobs: list[tuple[str, str]]) -> None:
    for applicant, kind in jobs:
        try:
            record_id = _submit_record(sessions(applicant), kind)
            for who in RECORD_REVIEWERS[kind]:
                _decide(sessions(who), record_id)
            with ledger.lock:
                if kind == "out_of_province":
                    ledger.approved_records.add(record_id)
        except Exception as exc:
            with ledger.lock:
                ledger.client_failures.append(f"{kind}（{applicant}）：{exc!r}"[:300])


def _submit_record(client: httpx.Client, kind: str) -> str:
    created = client.post(f"/api/applications/records/{kind}", json={"unit_id": UNIT})
    created.raise_for_status()
    record_id = str(created.json()["id"])
    base = f"/api/applications/records/{kind}/{record_id}"
    client.put(
        base, json=TALENT if kind == "talent_stats" else OUT_OF_PROVINCE, headers={"If-Match": "0"}
    ).raise_for_status()
    if kind == "out_of_province":
        client.post(f"{base}/photo", content=JPEG).raise_for_status()
        client.post(f"{base}/proofs", params={"filename": "原证书.pdf"}, content=PDF).raise_for_status()
    client.post(f"{base}/submit").raise_for_status()
    return record_id


def _decide(client: httpx.Client, key: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = client.get("/api/review/tasks", params={"size": 100})
        if r.status_code == 200:
            task = next((t for t in r.json()["items"] if t["business_key"] == key), None)
            if task is not None:
                done = client.post(f"/api/review/tasks/{task['task_id']}/complete", json={"decision": "approve"})
                if done.status_code == 200:
                    return
        time.sleep(0.5)
    raise TimeoutError(f"no task for {key}")


def inject_faults(
    stack: RunningStack, ledger: Ledger, stop: threading.Event, plan: ChaosPlan, rng: random.Random
) -> None:
    targets = ["review"] * 4 + ["applications"] * 2 + ["certificates"] * 2 + ["identity_bridge"]
    if plan.infra_faults:
        targets += ["nats", "postgres"]
    every = plan.fault_every
    while sum(ledger.faults.values()) < plan.max_faults and not stop.wait(rng.uniform(every * 0.5, every * 1.5)):
        stack.kill(rng.choice(targets), ledger)


# -- reconciliation --------------------------------------------------------------------------------------------


async def _fetch(url: str, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def _jetstream(url: str) -> dict[str, int]:
    nc = await nats.connect(url)
    try:
        js, state = nc.jetstream(), {"pending": 0, "dead_lettered": 0}
        for stream in TOPOLOGY.streams:
            if stream.name == "DLQ":
                state["dead_lettered"] += (await js.stream_info(stream.name)).state.messages
        for consumer in TOPOLOGY.consumers:
            info = await js.consumer_info(consumer.stream, consumer.durable)
            state["pending"] += info.num_pending + info.num_ack_pending
        return state
    finally:
        await nc.close()


async def reconcile(stack: RunningStack, ledger: Ledger) -> dict[str, int]:
    review = stack.database_url("review")
    instances = Counter(
        r["business_key"]
        for r in await _fetch(
            review, "SELECT business_key FROM process_instances WHERE business_key = ANY($1)", list(ledger.submissions)
        )
    )
    completed = {
        str(r["task_id"])
        for r in await _fetch(
            review,
            "SELECT task_id FROM history WHERE kind = 'task_completed' AND task_id = ANY($1::uuid[])",
            list(ledger.decisions),
        )
    }
    statuses = Counter(r["status"] for r in await _fetch(review, "SELECT status FROM process_instances"))
    certificates = Counter(
        str(r["subject"])
        for r in await _fetch(
            stack.database_url("certificates"),
            # an out-of-province confirmation's certificate carries the record's id as its application
            "SELECT application_id::text AS subject FROM certificates WHERE application_id::text = ANY($1)",
            list(ledger.approved_applications | ledger.approved_records),
        )
    )
    unsent = 0
    for service in ("identity", "applications", "review", "certificates"):
        unsent += (await _fetch(stack.database_url(service), "SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL"))[
            0
        ]["n"]
    jet = await _jetstream(stack.nats_url)
    approved = ledger.approved_applications | ledger.approved_records
    return {
        "submissions": len(ledger.submissions),
        "lost": sum(1 for key in ledger.submissions if instances[key] == 0),
        "duplicated": sum(1 for key in ledger.submissions if instances[key] > 1),
        "decisions": len(ledger.decisions),
        "acknowledged_without_effect": len(ledger.decisions - completed),
        "approvals": len(approved),
        "approvals_without_one_certificate": sum(1 for key in approved if certificates[key] != 1),
        "stalled": statuses["stalled"],
        "errored": statuses["error"],
        "running": statuses["running"],
        "unsent_outbox_rows": int(unsent),
        "nats_pending": jet["pending"],
        "dead_lettered": jet["dead_lettered"],
    }


def settle(stack: RunningStack, timeout: float = 180) -> dict[str, int]:
    """Waits until every outbox is sent and every consumer has caught up (or the timeout)."""
    deadline, state = time.monotonic() + timeout, {"pending": -1}
    while time.monotonic() < deadline:
        try:
            state = asyncio.run(_jetstream(stack.nats_url))
        except Exception:  # NATS may be restarting
            time.sleep(1)
            continue
        if state["pending"] == 0:
            return state
        time.sleep(1)
    return state


@dataclass
class ChaosPlan:
    journeys: int = 10
    records: int = 90
    fault_every: float = 8.0
    infra_faults: bool = True
    seed: int = 18
    max_faults: int = 30  # then the load finishes undisturbed (a service killed often waits up to 30 s to restart)


def run_chaos(data_dir: Path, plan: ChaosPlan) -> tuple[dict[str, int], Ledger]:
    rng, ledger = random.Random(plan.seed), Ledger()
    with running_stack(data_dir) as stack:
        sessions = Sessions(stack.base, ledger)
        stop = threading.Event()
        organised = threading.Event()

        def on_step(text: str) -> None:
            log.info("%s", text.strip())
            if "组织专家评审" in text and not organised.is_set():  # the votes meet a fresh review process
                organised.set()
                stack.kill("review", ledger)

        applicants = list(APPLICANTS[: plan.journeys])
        record_owners = [APPLICANTS[i % len(APPLICANTS)] for i in range(plan.records)]
        kinds = ["out_of_province" if i % 3 == 0 else "talent_stats" for i in range(plan.records)]
        jobs = list(zip(record_owners, kinds, strict=True))
        threads = [
            threading.Thread(target=run_journeys, args=(stack, sessions, ledger, applicants, on_step)),
            threading.Thread(target=run_records, args=(sessions, ledger, jobs[0::2])),
            threading.Thread(target=run_records, args=(sessions, ledger, jobs[1::2])),
        ]
        faults = threading.Thread(target=inject_faults, args=(stack, ledger, stop, plan, rng))
        for thread in threads:
            thread.start()
        faults.start()
        for thread in threads:
            thread.join()
        stop.set()
        faults.join()
        settle(stack)
        table = asyncio.run(reconcile(stack, ledger))
    return table, ledger


# what must be zero after a run
ANOMALIES = (
    "lost",
    "duplicated",
    "acknowledged_without_effect",
    "approvals_without_one_certificate",
    "stalled",
    "errored",
    "unsent_outbox_rows",
    "nats_pending",
    "dead_lettered",
)


def report(plan: ChaosPlan, table: dict[str, int], ledger: Ledger, seconds: float) -> str:
    faults = ", ".join(f"{name} {count}" for name, count in sorted(ledger.faults.items()))
    lines = [
        "# Crash matrix (`make chaos`)",
        "",
        f"Plan: {plan.journeys} full 申报评审, {plan.records} records, a fault every ~{plan.fault_every:g} s"
        f"{'' if plan.infra_faults else ' (services only)'}, seed {plan.seed}; {seconds:.0f} s.",
        f"Faults: {sum(ledger.faults.values())} ({faults}). Requests sent again: {ledger.resent}; "
        f"acknowledged by an earlier attempt: {ledger.acknowledged_by_an_earlier_attempt}.",
        "",
        "| measure | value |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in table.items()),
        "",
    ]
    if ledger.client_failures:
        lines += ["Clients that gave up:", "", *(f"- {failure}" for failure in ledger.client_failures), ""]
    return "\n".join(lines)
