"""Benchmarks of the review service's workflow host (issue #6). Run: `make bench-review` (or
`.venv/bin/python bench/review_host.py [completions [--quick]|returns|throughput|timers|all]`; `make bench` runs
`run()`: completions against the honest twin, issue 23).

Everything runs on this machine against an embedded PostgreSQL started here; figures are printed as a
table. Ratios are measured side by side in one run, because the machines are noisy.

throughput runs two configurations, each against its own bare rate (the same UPDATE + history INSERT +
outbox INSERT straight through asyncpg, 16 connections in all): (a) one process, the app in-process
behind httpx's ASGI transport (client and server share one core); (b) two API processes under uvicorn
as serve_api runs it (uvloop + httptools) sharing one port, driven over TCP by a minimal keep-alive
client, with the bare rate from two client processes. Each measured run follows a warm-up that is not
counted (the bare run's pool is opened before it starts, too). Replicas, PostgreSQL and the load
generator all share this machine's 2 cores. The bench connects to no NATS (NO_NATS).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
from sqlalchemy import text

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from review.adapters.workflow.spiff import SpiffEngine  # noqa: E402
from review.api.routes import CompleteTask, ReviewerDep  # noqa: E402
from review.bootstrap import build_reviews  # noqa: E402
from review.domain.calendar import BusinessCalendar  # noqa: E402
from review.main import create_app  # noqa: E402
from review.scheduler import run_scheduler  # noqa: E402
from review.settings import Settings  # noqa: E402
from review.usecases.reviews import Reviews as ReviewService  # noqa: E402
from review.usecases.tasks import Decision  # noqa: E402
from zc_auth import Principal, Role, RoleGrant, ScopeType, StaticJwks, TokenVerifier  # noqa: E402
from zc_auth.testing import TokenFactory  # noqa: E402
from zc_db import create_engine, create_session_factory  # noqa: E402
from zc_db.migrate import upgrade  # noqa: E402
from zc_devstack.postgres import EmbeddedPostgres  # noqa: E402

sys.path.insert(0, str(REPO / "bench"))
from httpclient import HttpConnection  # noqa: E402
from report import Section, Table, Target  # noqa: E402

SOURCE = (REPO / "tests" / "support" / "bpmn" / "host_test.bpmn").read_text(encoding="utf-8")
NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
DUE = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)
UNIT = "0193a1f0-0000-7000-8000-00000000a001"
# the bench talks to no NATS: a dev stack or test run on this machine (port 4222) must not join in
NO_NATS = "nats://127.0.0.1:9"
REVIEWER = Principal(
    subject="usr_unit",
    session_id=None,
    roles=frozenset({RoleGrant(Role.UNIT_REVIEWER, ScopeType.UNIT, UNIT)}),
    issuer="bench",
    expires_at=datetime.now(UTC) + timedelta(days=1),
)


def data(key: str) -> dict[str, Any]:
    return {"application_id": key, "applicant_id": "usr_a", "unit_id": UNIT, "department_id": UNIT, "series_code": "GC"}


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def fresh_db(pg: EmbeddedPostgres, name: str) -> str:
    pg.create_database(name)
    url = pg.url(name)
    await asyncio.to_thread(upgrade, REPO / "services" / "review" / "migrations", url)
    return url


def service(url: str, clock: Any = None) -> tuple[ReviewService, Any]:
    engine = create_engine(url, pool_size=20, max_overflow=10)
    settings = Settings(database_url=url, jwks_url="http://127.0.0.1:9/unused", nats_url=NO_NATS)
    return build_reviews(settings, create_session_factory(engine), clock=clock or (lambda: NOW)), engine


async def open_task(reviews: ReviewService, key: str) -> str:
    async with reviews._sessions() as s:
        row = (await s.execute(text("SELECT task_id FROM open_tasks WHERE business_key = :k"), {"k": key})).scalar_one()
    return str(row)


# -- 1. cost per transition after N returns ---------------------------------------------------------------


def engine_only_costs(compact: bool) -> dict[int, str]:
    engine = SpiffEngine(BusinessCalendar.load(), compact_depth=12 if compact else 10**9)
    definition = engine.parse("host_test", SOURCE)
    state = engine.start(definition, {"unit_id": "u"}, now=NOW)
    marks, out, times = {1, 10, 100, 200, 1000}, {}, []
    for n in range(1, 1001):
        t0 = time.perf_counter()
        try:
            state = engine.complete_task(
                definition,
                state.state,
                state.open_tasks[0].task_id,
                {"decision": "return", "stage": "unit", "comment": "退回"},
                now=NOW,
            )
            state = engine.deliver_message(definition, state.state, "resubmitted", {}, now=NOW)
            if state.status != "running" or not state.open_tasks:
                raise RuntimeError(state.error or "no open task")
        except (Exception, RecursionError) as exc:
            for m in sorted(marks):
                if m >= n:
                    out[m] = f"failed at return {n}: {type(exc).__name__}"
            return out
        times.append(time.perf_counter() - t0)
        if n in marks:
            out[n] = f"{statistics.median(times[-10:]) * 1000:.2f} ms"
    return out


async def bench_returns(pg: EmbeddedPostgres) -> None:
    url = await fresh_db(pg, "bench_returns")
    reviews, engine = service(url)
    await reviews.deploy("host_test", SOURCE, deployed_by="bench")

    async def started() -> str:
        key = str(uuid.uuid4())
        async with reviews._sessions() as s, s.begin():
            await reviews.start(s, "host_test", key, data(key))
        return key

    async def return_round(key: str) -> float:
        task = await open_task(reviews, key)
        t0 = time.perf_counter()
        await reviews.complete(REVIEWER, uuid.UUID(task), Decision("return", "退回"), idempotency_key=None)
        async with reviews._sessions() as s, s.begin():
            await reviews.deliver(s, key, "resubmitted", {})
        return time.perf_counter() - t0

    for _ in range(20):  # warm up (connections, statement caches, parsed spec)
        await return_round(await started())
    # the first return of 30 fresh instances; then one instance returned 1,000 times
    first = [await return_round(await started()) for _ in range(30)]
    key = await started()
    marks, times = {1, 10, 100, 200, 1000}, []
    host = {1: statistics.median(first) * 1000}
    for n in range(1, 1001):
        times.append(await return_round(key))
        if n in marks and n > 1:
            host[n] = statistics.median(times[-10:]) * 1000
    await engine.dispose()
    plain, compacted = engine_only_costs(False), engine_only_costs(True)
    print(
        "\n## Cost of one return round (complete 'return' + deliver 'resubmitted'): at 1, the median of the first"
        " return of 30 fresh instances; further on, the median of the last 10 rounds of one instance"
    )
    print("| returns | host (PostgreSQL, 2 transactions) | engine only, compacted | engine only, library as is |")
    print("|---:|---:|---:|---:|")
    for m in sorted(marks):
        print(f"| {m} | {host[m]:.2f} ms | {compacted[m]} | {plain[m]} |")
    print(f"\nhost p50 at 200 / at 1: {host[200] / host[1]:.2f}")


# -- 2. completions per second through the HTTP API vs the bare transaction -----------------------------


async def prepare(reviews: ReviewService, n: int) -> list[str]:
    keys = [str(uuid.uuid4()) for _ in range(n)]
    for key in keys:
        async with reviews._sessions() as s, s.begin():
            await reviews.start(s, "host_test", key, data(key))
    async with reviews._sessions() as s:  # the new instances' tasks only (the twin leaves task rows too)
        rows = await s.execute(text("SELECT task_id FROM open_tasks WHERE business_key = ANY(:keys)"), {"keys": keys})
        return [str(r[0]) for r in rows]


async def drive(tasks: list[str], concurrency: int, act: Any, rate: float | None = None) -> tuple[float, list[float]]:
    queue = list(tasks)
    latencies: list[float] = []
    start = time.perf_counter()
    interval = (1 / rate) if rate else 0.0
    next_at = [start]

    async def worker() -> None:
        while queue:
            item = queue.pop()
            if interval:
                slot = next_at[0]
                next_at[0] += interval
                delay = slot - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            t0 = time.perf_counter()
            await act(item)
            latencies.append(time.perf_counter() - t0)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(tasks) / (time.perf_counter() - start), latencies


ISSUER = "http://127.0.0.1:8000/api/identity"
TWIN_POOL = 8  # connections of each replica's twin pool (the 16 clients spread over 2 replicas)
# completions before each measured run, so that it sees a warm process (its pool's connections opened, the
# statements prepared, the diagram parsed), as a long-running replica is
WARM_UP = 300


def verifier(jwks: Any) -> TokenVerifier:
    return TokenVerifier(issuer=ISSUER, audience="review", jwks=StaticJwks(jwks))


def api_settings(url: str) -> Settings:
    return Settings(database_url=url, jwks_url="http://127.0.0.1:9/unused", nats_url=NO_NATS)


BARE_SQL = (
    "UPDATE process_instances SET state = $1::jsonb, version = version + 1, updated_at = now() WHERE id = $2",
    "INSERT INTO history (instance_id, at, kind, actor_id, decision, details) "
    "VALUES ($1, now(), 'task_completed', 'usr_unit', 'approve', '{}'::jsonb)",
    "INSERT INTO outbox (id, subject, payload) VALUES ($1, 'review.bench.v1', $2)",
)


Go = Callable[[], Awaitable[None]]


async def bare_run(url: str, ids: list[Any], concurrency: int, go: Go | None = None) -> float:
    """The bare minimum: the same row update + history insert + outbox insert, straight through asyncpg."""
    dsn = url.replace("postgresql+asyncpg", "postgresql")
    pool = await asyncpg.create_pool(dsn, min_size=concurrency, max_size=concurrency)
    async with pool.acquire() as conn:
        state = await conn.fetchval("SELECT state::text FROM process_instances LIMIT 1")

    async def bare(instance_id: Any) -> None:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(BARE_SQL[0], state, instance_id)
            await conn.execute(BARE_SQL[1], instance_id)
            await conn.execute(BARE_SQL[2], uuid.uuid4(), b"{}")

    if go is not None:
        await go()  # connected: wait for the other client processes
    rate, _ = await drive(ids, concurrency, bare)
    await pool.close()
    return rate


def bare_process(url: str, ids: list[Any], concurrency: int, ready: Any, start: Any, out: Any) -> None:
    async def go() -> None:
        ready.put(True)
        await asyncio.to_thread(start.wait)

    asyncio.run(bare_run(url, ids, concurrency, go))
    out.put(time.time())


async def bare_rate(url: str, n: int, concurrency: int, processes: int) -> float:
    """Bare transactions per second from `processes` client processes sharing `concurrency` connections."""
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    ids = [r[0] for r in await conn.fetch("SELECT id FROM process_instances LIMIT $1", n)]
    await conn.close()
    if processes == 1:
        return await bare_run(url, ids, concurrency)
    ctx = multiprocessing.get_context("spawn")
    ready, out, start = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [
        ctx.Process(target=bare_process, args=(url, ids[i::processes], concurrency // processes, ready, start, out))
        for i in range(processes)
    ]
    for p in procs:
        p.start()
    for _ in procs:
        await asyncio.to_thread(ready.get, timeout=60)
    t0 = time.time()
    start.set()
    ends = [await asyncio.to_thread(out.get, timeout=300) for _ in procs]
    for p in procs:
        p.join()
    return len(ids) / (max(ends) - t0)


async def do_nothing_completion(task_id: uuid.UUID, body: CompleteTask, principal: ReviewerDep) -> dict[str, Any]:
    return {"task_id": str(task_id), "decision": body.decision, "status": "running", "current_stage": "unit"}


def add_floor_route(app: Any) -> None:
    """The completion route's twin that does nothing: same middleware, token check, path parameter and body
    model, no database and no engine. Its rate is the ceiling the web stack alone allows."""
    app.add_api_route("/api/review/bench/tasks/{task_id}/complete", do_nothing_completion, methods=["POST"])


# The honest twin's one statement: what a completion must write at the least, as one autocommit statement —
# the version-checked instance update (a state of the real size), its open-task rows replaced, a history row
# and an outbox row, each only when the update matched. No read, no engine, no ORM.
TWIN_SQL = """
WITH saved AS (
    UPDATE process_instances SET state = $2::jsonb, status = 'running', next_due_at = NULL,
        waiting = '[]'::jsonb, current_stage = 'department', error = NULL, updated_at = now(),
        version = version + 1
    WHERE id = $1 AND version = 1
    RETURNING id, process_key, business_key
), dropped AS (
    DELETE FROM open_tasks t USING saved WHERE t.instance_id = saved.id AND t.task_id <> $3::uuid
), added AS (
    INSERT INTO open_tasks (task_id, instance_id, process_key, business_key, task_name, title, role,
        scope_type, scope_id, candidate_group, decisions, stage, unit_id, created_at)
    SELECT $3::uuid, id, process_key, business_key, 'department_review', '主管部门审核', 'department_reviewer',
        'unit', $6::text, 'department_reviewer@unit:' || $6::text, '["approve", "return", "reject"]'::jsonb,
        'department', $6::text, now()
    FROM saved
), logged AS (
    INSERT INTO history (instance_id, at, kind, actor_id, actor_role, scope_type, scope_id, task_id, task_name,
        stage, decision, details, definition_version)
    SELECT id, now(), 'task_completed', $4::text, 'unit_reviewer', 'unit', $6::text, $3::uuid, 'unit_review',
        'unit', $5::text, '{"reasons": [], "return_target": "applicant", "title": "单位审核"}'::jsonb, 1
    FROM saved
), sent AS (
    INSERT INTO outbox (id, subject, payload, headers) SELECT $7::uuid, 'review.stage.reached.v1', $8, '{}'::jsonb
    FROM saved
)
SELECT count(*) FROM saved
"""


def add_twin_route(app: Any, pool: Any, state: str) -> None:
    """The honest twin: the completion route's path parameter, body model, token check and middleware, and the
    completion's bare SQL (TWIN_SQL) through a plain asyncpg pool — everything but the engine and the host."""
    payload = b"x" * 600  # an envelope's size

    async def twin(task_id: uuid.UUID, body: CompleteTask, principal: ReviewerDep) -> dict[str, Any]:
        async with pool.acquire() as conn:
            saved = await conn.fetchval(
                TWIN_SQL, task_id, state, uuid.uuid4(), principal.subject, body.decision, UNIT, uuid.uuid4(), payload
            )
        if not saved:
            raise RuntimeError("twin: the version moved on")
        return {"task_id": str(task_id), "decision": body.decision, "status": "running", "current_stage": "unit"}

    app.add_api_route("/api/review/bench/twin/{task_id}/complete", twin, methods=["POST"])


def api_process(url: str, port: int, jwks: Any, ready: Any) -> None:
    """One API replica as serve_api runs it (telemetry and JSON logs set up as it does; uvicorn with its
    defaults: uvloop + httptools), with the bench's fixed clock and token keys. Every replica binds the same
    port (SO_REUSEPORT: the kernel spreads the connections)."""
    import socket

    import uvicorn
    from uvicorn._compat import asyncio_run

    from zc_telemetry import configure_logging, setup_telemetry

    async def run() -> None:
        app = create_app(api_settings(url), clock=lambda: NOW)
        setup_telemetry("review")  # as serve_api does, before the lifespan creates the engine
        configure_logging("review")  # JSON lines; uvicorn's access log only for its warnings
        add_floor_route(app)
        dsn = url.replace("postgresql+asyncpg", "postgresql")
        pool = await asyncpg.create_pool(dsn, min_size=TWIN_POOL, max_size=TWIN_POOL)
        async with pool.acquire() as conn:  # a running instance's state: the size a completion writes
            state = await conn.fetchval("SELECT state::text FROM process_instances WHERE status = 'running' LIMIT 1")
        add_twin_route(app, pool, state or "{}")
        async with app.router.lifespan_context(app):
            app.state.token_verifier = verifier(jwks)
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(("127.0.0.1", port))
            sock.listen(2048)  # before "ready": a client may connect before uvicorn's own listen
            server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_config=None, proxy_headers=True))
            ready.put(port)
            await server.serve(sockets=[sock])

    # the event loop uvicorn.run would pick (uvloop when installed)
    asyncio_run(run(), loop_factory=uvicorn.Config(app=None).get_loop_factory())


def completer(conns: asyncio.Queue[HttpConnection], prefix: str, body: bytes) -> Callable[[str], Awaitable[None]]:
    """POST {prefix}/{task_id}/complete on the next free keep-alive connection; anything but 200 fails the run."""

    async def post(task_id: str) -> None:
        conn = await conns.get()
        try:
            status, text_ = await conn.post(f"{prefix}/{task_id}/complete", body)
            assert status == 200, text_
        finally:
            conns.put_nowait(conn)

    return post


async def bench_throughput(pg: EmbeddedPostgres, n: int = 3000, concurrency: int = 16, workers: int = 2) -> None:
    url = await fresh_db(pg, "bench_tp")
    tokens = TokenFactory(issuer=ISSUER, audience="review")
    token = tokens.mint("usr_unit", roles=[RoleGrant(Role.UNIT_REVIEWER, ScopeType.UNIT, UNIT)], ttl=3600)
    body = json.dumps({"decision": "approve"}).encode()
    results: list[tuple[str, float, float, float, list[float]]] = []

    # (a) one process: the app in-process behind httpx's ASGI transport (client and server share the core)
    app = create_app(api_settings(url), clock=lambda: NOW)
    async with app.router.lifespan_context(app):
        app.state.token_verifier = verifier(tokens.jwks)
        reviews: ReviewService = app.state.container.reviews
        await reviews.deploy("host_test", SOURCE, deployed_by="bench")
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        async with httpx.AsyncClient(transport=transport, base_url="http://svc", headers=headers) as client:

            async def complete(task_id: str) -> None:
                r = await client.post(f"/api/review/tasks/{task_id}/complete", content=body)
                assert r.status_code == 200, r.text

            await drive(await prepare(reviews, WARM_UP), concurrency, complete)  # not counted
            rate, _ = await drive(await prepare(reviews, n), concurrency, complete)
            half, lat = await drive(await prepare(reviews, n // 2), concurrency, complete, rate=rate / 2)
    results.append(("1 process, in-process ASGI (httpx)", rate, await bare_rate(url, n, concurrency, 1), half, lat))

    # (b) `workers` API processes under uvicorn on one port, a light HTTP client in this process
    reviews, engine = service(url)
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Queue()
    with socket_port() as port:
        procs = [ctx.Process(target=api_process, args=(url, port, tokens.jwks, ready)) for _ in range(workers)]
        for p in procs:
            p.start()
        for _ in procs:
            await asyncio.to_thread(ready.get, timeout=120)
        conns: asyncio.Queue[HttpConnection] = asyncio.Queue()
        for _ in range(concurrency):
            conns.put_nowait(HttpConnection(port, token))

        complete_tcp = completer(conns, "/api/review/tasks", body)
        floor_tcp = completer(conns, "/api/review/bench/tasks", body)

        try:
            await drive(await prepare(reviews, WARM_UP), concurrency, complete_tcp)  # not counted
            rate, _ = await drive(await prepare(reviews, n), concurrency, complete_tcp)
            half, lat = await drive(await prepare(reviews, n // 2), concurrency, complete_tcp, rate=rate / 2)
            floor, _ = await drive([str(uuid.uuid4()) for _ in range(4 * n)], concurrency, floor_tcp)
        finally:
            while not conns.empty():
                await conns.get_nowait().close()
            for p in procs:
                p.terminate()
            for p in procs:
                p.join()
    await engine.dispose()
    bare = await bare_rate(url, n, concurrency, workers)
    results.append((f"{workers} API processes (uvicorn, TCP); bare from {workers} processes", rate, bare, half, lat))

    print(f"\n## Task completions, {concurrency} concurrent clients (FastAPI + auth + host + PostgreSQL), {n:,} each")
    print(
        "| configuration | API completions/s | bare transactions/s (update + history + outbox, asyncpg) "
        "| ratio API / bare | at half the API rate: p50 / p99 latency |"
    )
    print("|---|---:|---:|---:|---:|")
    for what, rate, bare, half, lat in results:
        print(
            f"| {what} | {rate:.0f} | {bare:.0f} | {rate / bare:.2f} | "
            f"{half:.0f}/s: {pct(lat, 50) * 1000:.1f} ms / {pct(lat, 99) * 1000:.1f} ms |"
        )
    print(
        f"\nThe same {workers} processes answering the completion route's do-nothing twin (same middleware, token"
        f" check and body model; no database, no engine): {floor:.0f}/s — the web stack's own ceiling here."
        "\nA real deployment runs several API replicas; on this 2-core machine the replicas, PostgreSQL and"
        " the load generator share the same 2 cores."
    )


async def twin_instances(url: str, n: int) -> list[str]:
    """n running instances for the twin, cloned from one the engine started (version 1, no open task)."""
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        rows = await conn.fetch(
            "INSERT INTO process_instances (id, definition_id, process_key, business_key, status, state, version,"
            " next_due_at, current_stage, waiting, routing, tree_size, created_at, updated_at)"
            " SELECT gen_random_uuid(), definition_id, process_key, gen_random_uuid()::text, status, state, 1,"
            " next_due_at, current_stage, waiting, routing, tree_size, created_at, updated_at"
            " FROM (SELECT * FROM process_instances WHERE status = 'running' LIMIT 1) t, generate_series(1, $1)"
            " RETURNING id",
            n,
        )
    finally:
        await conn.close()
    return [str(r[0]) for r in rows]


def cpu_by_pid(pids: list[int]) -> dict[int, float]:
    """CPU seconds (user + system) so far of each process still alive."""
    out = {}
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            t = psutil.Process(pid).cpu_times()
            out[pid] = t.user + t.system
    return out


def postgres_pids(pg: EmbeddedPostgres) -> list[int]:
    """The postmaster and its children (one backend per connection, and the background workers)."""
    master = int((pg.pgdata / "postmaster.pid").read_text().split()[0])
    return [master] + [c.pid for c in psutil.Process(master).children(recursive=True)]


async def measured(
    pg: EmbeddedPostgres, replicas: list[int], items: list[str], concurrency: int, act: Any
) -> tuple[float, float, float]:
    """(requests/s, replicas' CPU ms per request, PostgreSQL's CPU ms per request): CPU per request barely moves
    when other work shares the machine, the rate does."""
    before_api, before_pg = cpu_by_pid(replicas), cpu_by_pid(postgres_pids(pg))
    rate, _ = await drive(items, concurrency, act)
    after_api, after_pg = cpu_by_pid(replicas), cpu_by_pid(postgres_pids(pg))
    api = sum(v - before_api.get(p, 0.0) for p, v in after_api.items())
    db = sum(v - before_pg.get(p, 0.0) for p, v in after_pg.items())
    return rate, api * 1000 / len(items), db * 1000 / len(items)


def completions_plan(quick: bool) -> tuple[int, int]:
    """(requests per measured run, alternations)."""
    return (300, 2) if quick else (1200, 4)


async def bench_completions(
    pg: EmbeddedPostgres, quick: bool = False, concurrency: int = 16, workers: int = 2
) -> Section:
    """Task completions through the HTTP API against the honest twin, alternating in the same replicas."""
    t_start = time.perf_counter()
    n, rounds = completions_plan(quick)
    url = await fresh_db(pg, "bench_completions")
    tokens = TokenFactory(issuer=ISSUER, audience="review")
    token = tokens.mint("usr_unit", roles=[RoleGrant(Role.UNIT_REVIEWER, ScopeType.UNIT, UNIT)], ttl=3600)
    body = json.dumps({"decision": "approve"}).encode()
    reviews, engine = service(url)
    await reviews.deploy("host_test", SOURCE, deployed_by="bench")
    warm = await prepare(reviews, WARM_UP)  # before the replicas start: the twin takes its state size from one
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Queue()
    runs: list[tuple[int, tuple[float, float, float], tuple[float, float, float]]] = []  # round, completions, twin
    with socket_port() as port:
        procs = [ctx.Process(target=api_process, args=(url, port, tokens.jwks, ready)) for _ in range(workers)]
        for p in procs:
            p.start()
        conns: asyncio.Queue[HttpConnection] = asyncio.Queue()
        try:
            for _ in procs:
                await asyncio.to_thread(ready.get, timeout=120)
            for _ in range(concurrency):
                conns.put_nowait(HttpConnection(port, token))

            complete = completer(conns, "/api/review/tasks", body)
            twin = completer(conns, "/api/review/bench/twin", body)
            await drive(warm, concurrency, complete)  # not counted
            await drive(await twin_instances(url, WARM_UP), concurrency, twin)
            for i in range(rounds):
                tasks, clones = await prepare(reviews, n), await twin_instances(url, n)
                # the order flips each round: neither side always runs on a machine warmed by the other
                replicas = [p.pid for p in procs if p.pid is not None]
                if i % 2 == 0:
                    c_run = await measured(pg, replicas, tasks, concurrency, complete)
                    t_run = await measured(pg, replicas, clones, concurrency, twin)
                else:
                    t_run = await measured(pg, replicas, clones, concurrency, twin)
                    c_run = await measured(pg, replicas, tasks, concurrency, complete)
                runs.append((i + 1, c_run, t_run))
            c_med = statistics.median(r[1][0] for r in runs)
            half, lat = await drive(await prepare(reviews, n // 2), concurrency, complete, rate=c_med / 2)
        finally:
            while not conns.empty():
                await conns.get_nowait().close()
            for p in procs:
                p.terminate()
            for p in procs:
                p.join()
    await engine.dispose()
    t_med = statistics.median(r[2][0] for r in runs)
    ratio = statistics.median(c[0] / t[0] for _, c, t in runs)

    def cpu(run: tuple[float, float, float]) -> str:
        return f"{run[1]:.2f} + {run[2]:.2f}"

    rows = [
        [
            str(i),
            f"{c[0]:.0f}",
            f"{t[0]:.0f}",
            f"{c[0] / t[0]:.2f}",
            cpu(c),
            cpu(t),
            f"{(t[1] + t[2]) / (c[1] + c[2]):.2f}",
        ]
        for i, c, t in runs
    ]

    def med(k: int, side: int) -> float:
        return statistics.median(r[side][k] for r in runs)

    cost_ratio = statistics.median((t[1] + t[2]) / (c[1] + c[2]) for _, c, t in runs)
    rows.append(
        [
            "median",
            f"{c_med:.0f}",
            f"{t_med:.0f}",
            f"{ratio:.2f}",
            f"{med(1, 1):.2f} + {med(2, 1):.2f}",
            f"{med(1, 2):.2f} + {med(2, 2):.2f}",
            f"{cost_ratio:.2f}",
        ]
    )
    p99 = pct(lat, 99)
    return Section(
        key="completions",
        title="Task completions through the HTTP API vs. the honest twin",
        command=".venv/bin/python bench/review_host.py completions" + (" --quick" if quick else ""),
        method=(
            f"{workers} API replicas as serve_api runs them (uvicorn, uvloop + httptools, telemetry and JSON logs; one"
            f" port, SO_REUSEPORT), {concurrency} keep-alive clients over TCP from one light client process, no NATS."
            f" Completions (approve on a fresh unit task) and the honest twin alternate, {n:,} requests per run, the"
            " order flipping each round, after a warm-up of both. The twin is a route on the same app (same"
            " middleware, token check, path parameter and body model) that runs the completion's bare SQL — the"
            " version-checked instance update with a state of the real size, the open-task rows, a history row and"
            " an outbox row — as one autocommit statement through a plain asyncpg pool: no read, no engine, no ORM."
            " Replicas, PostgreSQL and the client share the machine's cores; the CPU each request cost the replicas"
            " and PostgreSQL (user + system time of their processes over the run) moves far less than the rates"
            " when other work shares the machine."
        ),
        tables=[
            Table(
                [
                    "round",
                    "completions/s",
                    "twin/s",
                    "ratio",
                    "completion: CPU ms per request (replicas + PostgreSQL)",
                    "twin: CPU ms per request",
                    "CPU ratio twin / completion",
                ],
                rows,
            )
        ],
        targets=[
            Target("completions through the HTTP API", "≥ 500/s", f"{c_med:.0f}/s", c_med >= 500),
            Target("completions / honest twin", "≥ 0.6", f"{ratio:.2f}", ratio >= 0.6),
            Target(
                f"p99 latency at half load ({half:.0f}/s)",
                "< 100 ms",
                f"{p99 * 1000:.1f} ms (p50 {pct(lat, 50) * 1000:.1f} ms)",
                p99 < 0.1,
            ),
        ],
        limits=(
            f"CPU. A completion costs the replicas {med(1, 1):.1f} ms and PostgreSQL {med(2, 1):.1f} ms here, the twin"
            f" {med(1, 2):.1f} + {med(2, 2):.1f} ms; 500/s on 2 cores leaves 4 ms per completion for the replicas,"
            " PostgreSQL and the client together. What the completion adds to the twin, by a py-spy profile of both"
            " replicas (decision 0012, addendum for issue 23): the engine step (SpiffWorkflow, ~38 % of the route),"
            " reading and writing the whole instance state through asyncpg (~49 %: the state is the largest value"
            " of every completion, JSON text inside JSONB, read whole and written whole), pool checkout (~6 %)."
        ),
        seconds=time.perf_counter() - t_start,
    )


async def run_async(quick: bool) -> Section:
    with tempfile.TemporaryDirectory(prefix="zc-bench-") as tmp:
        pg = EmbeddedPostgres(Path(tmp) / "pg", preferred_port=0)
        pg.start()
        try:
            return await bench_completions(pg, quick)
        finally:
            pg.stop()


def run(quick: bool = False) -> Section:
    """The `make bench` entry: completions through the HTTP API against the honest twin."""
    return asyncio.run(run_async(quick))


@contextlib.contextmanager
def socket_port() -> Any:
    """A free TCP port on 127.0.0.1 for the API replicas to share."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    yield port


# -- 3. 10,000 timers due in the same second, two scheduler processes ----------------------------------


def scheduler_process(url: str, due_at: Any, ready: Any, go: Any, poll_seconds: float, out: Any) -> None:
    """One replica running the worker's scheduler loop with the service's default batch; it stops once it
    has fired something and then found nothing due for a second. Telemetry and logs as worker_main sets
    them up."""
    from zc_telemetry import configure_logging, setup_telemetry

    setup_telemetry("review")
    configure_logging("review")

    async def run() -> None:
        # the host's clock: DUE at the wall time the bench sets once both replicas are up, then real time
        reviews, engine = service(url, clock=lambda: DUE + timedelta(seconds=time.time() - due_at.value))
        ready.put(True)
        await asyncio.to_thread(go.wait)
        defaults = api_settings(url)
        fire, fired, last = reviews.fire_due, [0], [0.0]

        async def counting(*, limit: int) -> int:
            n = await fire(limit=limit)
            fired[0] += n
            if n:
                last[0] = time.time()
            return n

        reviews.fire_due = counting  # type: ignore[method-assign]
        stop = asyncio.Event()

        async def stop_when_idle() -> None:
            while not (fired[0] and time.time() - last[0] > 1.0):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=0.1)
            stop.set()

        await asyncio.gather(
            run_scheduler(reviews, stop, poll_seconds=poll_seconds, batch=defaults.timer_batch),
            stop_when_idle(),
        )
        await engine.dispose()
        out.put(fired[0])

    asyncio.run(run())


async def bench_timers(pg: EmbeddedPostgres, n: int = 10_000, poll_seconds: float = 0.2) -> None:
    url = await fresh_db(pg, "bench_timers")
    reviews, engine = service(url)
    await reviews.deploy("host_test", SOURCE, deployed_by="bench")
    key = str(uuid.uuid4())
    async with reviews._sessions() as s, s.begin():
        await reviews.start(s, "host_test", key, data(key))
    await reviews.complete(
        REVIEWER, uuid.UUID(await open_task(reviews, key)), Decision("approve"), idempotency_key=None
    )
    # clone the waiting instance: n instances whose notice ends in the same second; each clone gets its
    # own task ids (the engine pre-creates the department task, and open_tasks keys on task ids)
    async with reviews._sessions() as s:
        row = (await s.execute(text("SELECT * FROM process_instances"))).mappings().one()
    template = row["state"]["workflow"]
    task_ids = list(json.loads(template)["tasks"])
    rows = []
    for _ in range(n - 1):
        workflow = template
        for old in task_ids:
            workflow = workflow.replace(old, str(uuid.uuid4()))
        rows.append(
            (uuid.uuid4(), row["definition_id"], str(uuid.uuid4()), json.dumps({**row["state"], "workflow": workflow}))
        )
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    await conn.executemany(
        "INSERT INTO process_instances (id, definition_id, process_key, business_key, status, state, version,"
        " next_due_at, current_stage, waiting, routing, tree_size, created_at, updated_at)"
        " SELECT $1, $2, process_key, $3, status, $4::jsonb, version, next_due_at, current_stage, waiting, routing,"
        " tree_size, created_at, updated_at FROM process_instances WHERE business_key = '" + row["business_key"] + "'",
        rows,
    )
    due = await conn.fetchval("SELECT count(*) FROM process_instances WHERE next_due_at = $1", DUE)
    await conn.close()
    await engine.dispose()
    assert due == n, due
    ctx = multiprocessing.get_context("spawn")
    out, ready, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    due_at = ctx.Value("d", 0.0)
    procs = [ctx.Process(target=scheduler_process, args=(url, due_at, ready, go, poll_seconds, out)) for _ in range(2)]
    for p in procs:
        p.start()
    for _ in procs:  # both replicas are up (imports done, connected) before the timers come due
        await asyncio.to_thread(ready.get, timeout=120)
    due_at.value = time.time() + 0.5
    go.set()
    for p in procs:
        p.join()
    per_replica = [out.get() for _ in procs]
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    rows = await conn.fetch(
        "SELECT instance_id, count(*) AS n, max(at) AS at FROM history WHERE kind = 'timer' GROUP BY 1"
    )
    await conn.close()
    late = [(r["at"] - DUE).total_seconds() for r in rows]
    once = sum(1 for r in rows if r["n"] == 1)
    defaults = api_settings(url)
    print(
        f"\n## {n:,} timers due in the same second, 2 scheduler processes (the worker's loop: batch"
        f" {defaults.timer_batch}, polling every {poll_seconds} s)"
    )
    print("| fired (replica 1 + 2) | instances fired exactly once | p50 lateness | p99 lateness | max |")
    print("|---|---:|---:|---:|---:|")
    print(
        f"| {per_replica[0]:,} + {per_replica[1]:,} | {once:,} of {n:,} | {pct(late, 50):.1f} s | "
        f"{pct(late, 99):.1f} s | {max(late):.1f} s |"
    )


async def main(which: str) -> None:
    with tempfile.TemporaryDirectory(prefix="zc-bench-") as tmp:
        pg = EmbeddedPostgres(Path(tmp) / "pg", preferred_port=0)
        pg.start()
        try:
            if which in ("returns", "all"):
                await bench_returns(pg)
            if which in ("throughput", "all"):
                await bench_throughput(pg)
            if which in ("timers", "all"):
                await bench_timers(pg)
        finally:
            pg.stop()


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--quick"]
    which = args[0] if args else "completions"
    if which == "completions":
        print(run("--quick" in sys.argv).markdown())
    else:
        asyncio.run(main(which))
