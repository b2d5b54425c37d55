"""The whole stack under a mixed load, and its memory (issue 23 §2.4, §2.5).

Run: `.venv/bin/python bench/mixed_load.py [--quick]` — one `make run` stack: the submit → inbox benchmark
(bench/submit_to_inbox.py), then the mixed load with memory sampled throughout; it prints three sections.
`make bench` calls `run_all(quick)` (all three sections, one stack) or `run(quick)` (this section alone, memory
folded in, on a stack of its own).

Locust (bench/mixed_load_locustfile.py, run as its own process: locust monkey-patches with gevent) drives the stack
through the gateway with applicants editing and submitting, the demo unit's reviewers deciding, and the public
checking certificates; every request's time is kept and grouped by route template. Meanwhile this process samples
each process of the stack with psutil.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stack as whole_stack
import submit_to_inbox
from report import Section, Table, Target, latency_row, pct

KEY = "mixed_load"
COMMAND = ".venv/bin/python bench/mixed_load.py"
LOCUSTFILE = Path(__file__).resolve().parent / "mixed_load_locustfile.py"
DURATION, QUICK_DURATION = 600, 15  # seconds of load
APPLICANTS, REVIEWERS, PUBLIC = 30, 6, 12  # locust users of each kind
SPAWN_RATE = 10  # users started per second
BACKLOG = 200  # open unit tasks the reviewers find at the start (run alone; after submit_to_inbox: its 1,600+)
RSS_EVERY, USS_EVERY = 2.0, 60.0  # seconds between memory samples under load
MB = 1024 * 1024


# -- memory -------------------------------------------------------------------------------------------------


def rss(procs: list[psutil.Process]) -> float:
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total / MB


def uss(procs: list[psutil.Process]) -> float:
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            total += p.memory_full_info().uss
    return total / MB


@dataclass
class Memory:
    idle_rss: dict[str, float] = field(default_factory=dict)
    idle_uss: dict[str, float] = field(default_factory=dict)
    load_rss: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    load_uss: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    processes: dict[str, int] = field(default_factory=dict)  # how many processes each group had (max)

    def idle(self, st: whole_stack.Stack, quick: bool = False) -> None:
        """After start-up, before any load: the median of three samples a second apart (quick: two)."""
        samples: dict[str, list[float]] = defaultdict(list)
        for _ in range(2 if quick else 3):
            for name, procs in st.processes().items():
                samples[name].append(rss(procs))
            time.sleep(1.0)
        self.idle_rss = {name: statistics.median(v) for name, v in samples.items()}
        self.idle_uss = {name: uss(procs) for name, procs in st.processes().items()}

    def sample_until(self, st: whole_stack.Stack, stop: threading.Event) -> threading.Thread:
        def sample() -> None:
            next_uss = time.monotonic() + USS_EVERY / 2
            while not stop.is_set():
                groups = st.processes()
                for name, procs in groups.items():
                    self.load_rss[name].append(rss(procs))
                    self.processes[name] = max(self.processes.get(name, 0), len(procs))
                if time.monotonic() >= next_uss:
                    for name, procs in groups.items():
                        self.load_uss[name].append(uss(procs))
                    next_uss = time.monotonic() + USS_EVERY
                stop.wait(RSS_EVERY)
            for name, procs in st.processes().items():  # and once more at the end of the load
                self.load_uss[name].append(uss(procs))

        thread = threading.Thread(target=sample, name="memory-sampler", daemon=True)
        thread.start()
        return thread


ORDER = ("gateway (stack process)", "identity_bridge", "applications", "review", "certificates", "NATS", "PostgreSQL")


def memory_section(mem: Memory, quick: bool, ran: float) -> Section:
    names = [n for n in ORDER if n in mem.idle_rss] + sorted(set(mem.idle_rss) - set(ORDER))
    rows = []
    for name in names:
        load = mem.load_rss.get(name) or [0.0]
        loaded_uss = mem.load_uss.get(name) or [0.0]
        count = mem.processes.get(name, 1)
        label = f"{name} ({count} processes)" if count > 1 else name
        rows.append(
            [
                label,
                f"{mem.idle_rss[name]:.0f}",
                f"{statistics.median(load):.0f}",
                f"{max(load):.0f}",
                f"{mem.idle_uss.get(name, 0):.0f}",
                f"{max(loaded_uss):.0f}",
            ]
        )
    total_idle = sum(mem.idle_uss.values())
    total_load = sum(max(v) for v in mem.load_uss.values()) if mem.load_uss else 0.0
    rows.append(["whole stack (USS, summed)", "", "", "", f"{total_idle:.0f}", f"{total_load:.0f}"])
    table = Table(
        [
            "process",
            "RSS idle (MiB)",
            "RSS under load, median",
            "max",
            "USS idle (MiB)",
            "USS under load, max",
        ],
        rows,
    )
    length = f"{QUICK_DURATION} s (quick)" if quick else f"{DURATION // 60} minutes"
    method = (
        f"psutil over the `make run` stack's process tree: each service's process (API and worker in one), the "
        f"stack's own process (the gateway and the supervisor), NATS, and PostgreSQL's postmaster with its "
        f"backends and workers. Idle: after start-up, before any load (median of {2 if quick else 3} samples a "
        f"second apart). "
        f"Under load: during the mixed load ({length}), RSS every {RSS_EVERY:g} s (median and maximum), USS "
        f"(memory_full_info().uss, the memory only that process holds) every {USS_EVERY:g} s and at the end. "
        f"A group's RSS is the sum over its processes, so PostgreSQL's shared buffers are counted once per "
        f"backend there; its USS is not. The whole-stack figure sums USS over every process (shared libraries "
        f"and PostgreSQL's shared memory are left out of USS, so it is a floor of what the stack needs). Locust "
        f"and the bench process are not counted."
    )
    return Section(
        key="memory",
        title="Memory of the whole stack, idle and under the mixed load",
        command=COMMAND + (" --quick" if quick else ""),
        method=method,
        tables=[table],
        targets=[
            Target("whole stack USS under the mixed load (max)", "reported", f"{total_load:.0f} MiB", None),
        ],
        seconds=ran,
    )


# -- the load -----------------------------------------------------------------------------------------------


async def _open_unit_tasks(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM open_tasks WHERE task_name = 'unit_review'"))
    finally:
        await conn.close()


def ensure_backlog(st: whole_stack.Stack, template: str, want: int) -> int:
    """The reviewers' inbox holds `want` open unit tasks before the load (submitted through the API, 10 at once)."""
    have = asyncio.run(_open_unit_tasks(st.dsn("review")))
    if have >= want:
        return have
    drafts = whole_stack.clone_drafts(st, template, want - have)

    async def submit_all() -> None:
        gate = asyncio.Semaphore(10)
        async with httpx.AsyncClient(base_url=st.base, timeout=60) as client:

            async def one(d: whole_stack.Draft) -> None:
                async with gate:
                    r = await client.post(
                        f"/api/applications/applications/{d.app_id}/submit",
                        headers={"Authorization": f"Bearer {d.token}"},
                    )
                    r.raise_for_status()

            await asyncio.gather(*(one(d) for d in drafts))

    asyncio.run(submit_all())
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (have := asyncio.run(_open_unit_tasks(st.dsn("review")))) < want:
        time.sleep(0.5)
    return have


def run_locust(plan: dict[str, Any], duration: int, work: Path) -> list[list[Any]]:
    plan_file, out = work / "plan.json", work / "requests.json"
    plan["out"] = str(out)
    plan_file.write_text(json.dumps(plan), encoding="utf-8")
    users = plan["applicants"] + plan["reviewers"] + plan["public"]
    cmd = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "-u",
        str(users),
        "-r",
        str(SPAWN_RATE),
        "-t",
        f"{duration}s",
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--exit-code-on-error",
        "0",
        "--csv",
        str(work / "locust"),
    ]
    log = work / "locust.log"
    with log.open("wb") as sink:
        done = subprocess.run(cmd, env={**os.environ, "ZC_MIXED_PLAN": str(plan_file)}, stdout=sink, stderr=sink)
    if done.returncode != 0 or not out.exists():
        raise RuntimeError(f"locust failed ({done.returncode}):\n{log.read_text()[-3000:]}")
    return list(json.loads(out.read_text(encoding="utf-8")))


def mixed_section(records: list[list[Any]], backlog: int, quick: bool, ran: float, log_tail: str) -> Section:
    by_route: dict[str, list[list[Any]]] = defaultdict(list)
    for rec in records:
        by_route[rec[0]].append(rec)
    starts = [rec[1] for rec in records]
    span = max(starts) - min(starts) if len(starts) > 1 else 1.0
    rows = []
    errors: dict[str, dict[int, int]] = {}
    for name in sorted(by_route, key=lambda n: (n.split(" ", 1)[1], n)):
        recs = by_route[name]
        times = [rec[2] / 1000 for rec in recs]
        failed = [rec for rec in recs if not rec[4]]
        if failed:
            errors[name] = defaultdict(int)
            for rec in failed:
                errors[name][rec[3]] += 1
        rows.append([f"`{name}`", str(len(recs)), f"{len(recs) / span:.2f}", *latency_row(times), str(len(failed))])
    every = [rec[2] / 1000 for rec in records]
    failed_total = sum(1 for rec in records if not rec[4])
    rows.append(["**all**", str(len(records)), f"{len(records) / span:.1f}", *latency_row(every), str(failed_total)])
    table = Table(["route", "requests", "per s", "p50 (ms)", "p95", "p99", "max", "errors"], rows)
    count = {name: len(recs) for name, recs in by_route.items()}
    submits = count.get("POST /api/applications/applications/{id}/submit", 0)
    decisions = count.get("POST /api/review/tasks/{id}/complete", 0)
    checks = sum(v for k, v in count.items() if "/public/check" in k)
    retries = log_tail.count("Retrying (Retry(")
    summary = Table(
        ["throughput", "requests / s", "submissions / s", "decisions / s", "certificate checks / s", "resent"],
        [
            [
                f"{span:.0f} s",
                f"{len(records) / span:.1f}",
                f"{submits / span:.2f}",
                f"{decisions / span:.2f}",
                f"{checks / span:.2f}",
                str(retries),
            ]
        ],
    )
    length = f"{QUICK_DURATION} s (quick)" if quick else f"{DURATION // 60} minutes"
    method = (
        f"Locust {_locust_version()} (headless, its own process: bench/mixed_load_locustfile.py) for {length} "
        f"against the `make run` stack through its gateway, {APPLICANTS + REVIEWERS + PUBLIC} users started "
        f"{SPAWN_RATE} a second: {APPLICANTS} applicants, {REVIEWERS} unit reviewers and {PUBLIC} public visitors, "
        f"each doing what the web client does with think time between the steps. Applicants (3–8 s between visits, "
        f"2–5 s per edit): 我的申报, the editor (the application, the committee's notice, the files), 暂存 1–3 times "
        f"(PUT …/sections, the editor's single request; then the editor reloads), 提交 every third visit; a quarter "
        f"of the visits look at an application submitted earlier and, if a reviewer returned it, edit and resubmit "
        f"it. Each benchmark applicant holds one draft copied from one made through the API and signs in with a "
        f"token signed with the stack's key (bench/stack.py: a live application is unique per applicant, year and "
        f"qualification, and the dev login knows only the demo users). Unit reviewers (the demo unit's "
        f"工作单位审核人, a cookie session through the gateway; 3–8 s between tasks, 3–8 s reading): 我的待办 (the "
        f"task page and the counts), 认领, the inbox again, the task and the submitted application, 办理 "
        f"(approve three times in four, else return to the applicant), the inbox again; they share one identity "
        f"and split the tasks by id so that none races another. The inbox held {backlog:,} open unit tasks at the "
        f"start. Public visitors (5–15 s apart, each from its own 127.0.x.y address): the certificate check by "
        f"number and name (60 %), by QR token (30 %), an unknown number (10 %), over 200 valid certificates "
        f"signed with the service's key and written into its database. Every request is timed by Locust (from "
        f"before it is sent to the whole body read) and grouped by route template; an error is any failed request "
        f"or any answer ≥ 400. Like a browser, the client sends a request again once when it fails on a kept-alive "
        f"connection the gateway had just closed (uvicorn closes a connection idle for 5 s, and the think times "
        f"straddle that); 'resent' counts those (urllib3's retries), and the time is the two attempts'. Load "
        f"generator and stack share the machine's cores."
    )
    details = []
    if errors:
        lines = [
            f"- `{name}`: " + ", ".join(f"{n}× HTTP {status}" for status, n in sorted(by_status.items()))
            for name, by_status in errors.items()
        ]
        details.append("Errors by route and status:\n\n" + "\n".join(lines))
    if "Traceback" in log_tail or "Error report" in log_tail:  # the summary is above; its errors are not
        details.append("Locust's log ended with:\n\n```\n" + log_tail.strip()[-1500:] + "\n```")
    p99 = pct(every, 99) if every else 0.0
    return Section(
        key=KEY,
        title="The whole stack under a mixed load (Locust)",
        command=COMMAND + (" --quick" if quick else ""),
        method=method,
        tables=[summary, table],
        targets=[
            Target("errors under the mixed load", "0", f"{failed_total} of {len(records):,}", failed_total == 0),
            Target("p99 over every request of the mixed load", "reported", f"{p99 * 1000:.0f} ms", None),
        ],
        limits=(
            "two cores for the four services, PostgreSQL, NATS, the gateway and Locust; the writes (暂存, 提交, "
            "办理) hold the tail, the reads follow them."
        ),
        details=details,
        seconds=ran,
    )


def _locust_version() -> str:
    from importlib.metadata import version

    return version("locust")


def measure(st: whole_stack.Stack, quick: bool, mem: Memory) -> Section:
    started = time.perf_counter()
    duration = QUICK_DURATION if quick else DURATION
    template = whole_stack.template_draft(st)
    backlog = ensure_backlog(st, template, BACKLOG if not quick else 50)
    # a draft per applicant's submission: at most one every ~20 s each, with room to spare
    drafts = whole_stack.clone_drafts(st, template, APPLICANTS * (duration // 15 + 4))
    certificates = whole_stack.seed_certificates(st, 200)
    plan = {
        "base": st.base,
        "applicants": APPLICANTS,
        "reviewers": REVIEWERS,
        "public": PUBLIC,
        "reviewer": "unit_reviewer",
        "drafts": [[d.app_id, d.token] for d in drafts],
        "certificates": [list(c) for c in certificates],
    }
    stop = threading.Event()
    with tempfile.TemporaryDirectory(prefix="zc-bench-locust-") as tmp:
        work = Path(tmp)
        sampler = mem.sample_until(st, stop)
        try:
            records = run_locust(plan, duration, work)
        finally:
            stop.set()
            sampler.join(30)
        log_tail = (work / "locust.log").read_text(errors="replace")
    section = mixed_section(records, backlog, quick, time.perf_counter() - started, log_tail)
    if any(not rec[4] for rec in records):
        for service, lines in st.logged_errors().items():
            section.details.append(f"The last errors {service} logged:\n\n```\n" + "\n".join(lines) + "\n```")
    return section


def run_all(quick: bool = False) -> list[Section]:
    """One stack for §2.1, §2.4 and §2.5: [submit_to_inbox, mixed_load, memory]."""
    st = whole_stack.start()
    try:
        mem = Memory()
        idle_started = time.perf_counter()
        mem.idle(st, quick)
        idle_s = time.perf_counter() - idle_started
        first = submit_to_inbox.measure(st, quick)
        mixed = measure(st, quick, mem)
        memory = memory_section(mem, quick, idle_s)  # sampled during the mixed load, whose time that is
        return [first, mixed, memory]
    finally:
        st.stop()


def run(quick: bool = False) -> Section:
    """The mixed load alone on a stack of its own, with the memory tables folded in."""
    st = whole_stack.start()
    try:
        mem = Memory()
        mem.idle(st, quick)
        mixed = measure(st, quick, mem)
        memory = memory_section(mem, quick, 0)
        mixed.method += " " + memory.method
        mixed.tables += memory.tables
        mixed.targets += memory.targets
        return mixed
    finally:
        st.stop()


if __name__ == "__main__":
    for sec in run_all(quick="--quick" in sys.argv):
        print(sec.markdown())
        print()
