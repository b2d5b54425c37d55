"""The applications service's routes with 100,000 applications stored (issue 23 §2.3): section save, 暂存 of the
whole form, 提交, 我的申报 and the reviewer's read of a submitted snapshot, each at a stated fixed rate (open loop),
p50/p95/p99/max beside a do-nothing route's at the same rate. How it is measured: METHOD below.

Run: `.venv/bin/python bench/applications_routes.py [--quick]` (or `bench/run_all.py --only applications_routes`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
from sqlalchemy.dialects import postgresql

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))

from report import Section, Table, Target, latency_row  # noqa: E402

from applications.adapters.db.application_store import SqlApplicationStore  # noqa: E402
from applications.demo_data import load as load_demo_data  # noqa: E402
from support.responders import answering  # noqa: E402
from zc_auth import Role, RoleGrant, ScopeType  # noqa: E402
from zc_auth.testing import TokenFactory  # noqa: E402
from zc_db.migrate import upgrade  # noqa: E402
from zc_db.pii import generate_key_spec  # noqa: E402
from zc_devstack.demo_application import PDF, SECTIONS, UNIT, paper, settings  # noqa: E402
from zc_devstack.nats import EmbeddedNats  # noqa: E402
from zc_devstack.postgres import EmbeddedPostgres  # noqa: E402
from zc_devstack.procs import free_port  # noqa: E402

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 2026-11-27 10:00 in Shanghai: the demo activity takes submissions
COMMITTEE = "0193a1f0-0000-7000-8000-00000000c001"  # the demo journey's committee (农业, 成都)
ISSUER = "http://127.0.0.1:8000/api/identity"
PREFIX = "/api/applications"
TEMPLATE_APPLICANT = "usr_template"
PERSON = {"name": "测试申报人", "id_type": "居民身份证", "id_number": "510104199201011236"}

# (route, requests per second): the rates the table states
RATES = {"save": 50.0, "save_all": 20.0, "submit": 10.0, "mine": 50.0, "snapshot": 50.0, "floor": 50.0}
# the sections one save touches, in turn: the sealed phone numbers, an entry list with files, the work history
# (checked against the last passed application), the committee's achievement clauses
SAVED_SECTIONS = ("basic_info", "education", "work_history", "achievements")
HEAVY_APPLICANTS = 3
WARM_UP = 10  # requests of each route before it is measured, not counted (pools, statement caches)


@dataclass(frozen=True)
class Size:
    applications: int
    applicants: int
    per_heavy: int  # applications of each of the HEAVY_APPLICANTS
    seconds: float  # per measured route
    floor_seconds: float


FULL = Size(applications=100_000, applicants=20_000, per_heavy=300, seconds=10, floor_seconds=3)
QUICK = Size(applications=5_000, applicants=1_000, per_heavy=100, seconds=3, floor_seconds=2)


# -- the API process --------------------------------------------------------------------------------------------


# One API replica as serve_api runs it, with the bench's clock and token keys, in a process of its own started
# with `python -c` so that it imports only what the service needs (the bench's own imports cost seconds more).
SERVE_API = """
import asyncio, json, sys
from datetime import datetime

import uvicorn
from uvicorn._compat import asyncio_run

from applications.main import create_app
from applications.settings import Settings
from zc_auth import PrincipalDep, StaticJwks, TokenVerifier
from zc_telemetry import configure_logging, setup_telemetry

args = json.loads(sys.argv[1])
now = datetime.fromisoformat(args["now"])


async def do_nothing(principal: PrincipalDep) -> dict:
    return {"subject": principal.subject}


async def run() -> None:
    app = create_app(Settings(**args["settings"]), clock=lambda: now)
    setup_telemetry("applications")
    configure_logging("applications")
    # the floor: same middleware, telemetry and token check, no database; first in the list (routes are matched in
    # order), so it is what every request pays before its route's own work
    app.add_api_route(args["floor"], do_nothing, methods=["GET"])
    app.router.routes.insert(0, app.router.routes.pop())
    async with app.router.lifespan_context(app):
        app.state.token_verifier = TokenVerifier(
            issuer=args["issuer"], audience="applications", jwks=StaticJwks(args["jwks"])
        )
        # keep-alive longer than uvicorn's 5 s: the bench's connections idle between two routes must not be
        # closed under a request (nothing in a request's own latency changes)
        config = uvicorn.Config(
            app, host="127.0.0.1", port=args["port"], lifespan="off", log_config=None, proxy_headers=False,
            timeout_keep_alive=120,
        )
        await uvicorn.Server(config).serve()


asyncio_run(run(), loop_factory=uvicorn.Config(app=None).get_loop_factory())
"""


def start_api(values: dict[str, Any], port: int, jwks: Any, log: Any) -> subprocess.Popen[bytes]:
    args = {
        "settings": values,
        "port": port,
        "jwks": jwks,
        "now": NOW.isoformat(),
        "issuer": ISSUER,
        "floor": f"{PREFIX}/bench/floor",
    }
    return subprocess.Popen(
        [sys.executable, "-c", SERVE_API, json.dumps(args)], stdout=log, stderr=subprocess.STDOUT, cwd=REPO
    )


# -- the load generator ------------------------------------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    token: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    kind: str = ""  # a sub-label (我的申报 of a typical or of a heavy applicant)

    def wire(self) -> bytes:
        lines = [f"{self.method} {PREFIX}{self.path} HTTP/1.1", "Host: svc", f"Authorization: Bearer {self.token}"]
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        if self.body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(self.body)}"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + (self.body or b"")


class Connections:
    """Keep-alive HTTP/1.1 connections, one request at a time each; the most recently used is reused first. A
    minimal client: the load generator must cost the 2 cores little."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def open(self, n: int) -> None:
        for _ in range(n):
            self.idle.append(await asyncio.open_connection("127.0.0.1", self.port))

    async def send(self, wire: bytes) -> tuple[int, bytes]:
        while self.idle:
            reader, writer = self.idle.pop()
            if not reader.at_eof():
                break
            writer.close()
        else:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        writer.write(wire)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.lower().split(b"\r\n"):
            if line.startswith(b"content-length:"):
                length = int(line[15:])
        body = await reader.readexactly(length)
        self.idle.append((reader, writer))
        return status, body

    def close(self) -> None:
        for _, writer in self.idle:
            writer.close()
        self.idle.clear()


@dataclass
class Run:
    label: str
    rate: float
    latencies: dict[str, list[float]]  # by the requests' kind
    achieved: float
    errors: int
    first_error: str = ""
    cpu: tuple[float, float] = (0.0, 0.0)  # CPU seconds of the API process, of PostgreSQL's processes
    load: float = 0.0  # the machine's 1-minute load average at the end


class CpuMeter:
    """CPU seconds spent by the API process and by PostgreSQL (the postmaster and its children) — what a
    request costs, much less disturbed by a busy machine than its latency."""

    def __init__(self, api_pid: int, postmaster_pid: int) -> None:
        self.api, self.postmaster = psutil.Process(api_pid), psutil.Process(postmaster_pid)

    @staticmethod
    def _times(procs: list[psutil.Process]) -> dict[int, float]:
        out = {}
        for p in procs:
            with contextlib.suppress(psutil.NoSuchProcess):
                t = p.cpu_times()
                out[p.pid] = t.user + t.system
        return out

    def sample(self) -> tuple[dict[int, float], dict[int, float]]:
        return self._times([self.api]), self._times([self.postmaster, *self.postmaster.children(recursive=True)])

    @staticmethod
    def spent(before: dict[int, float], after: dict[int, float]) -> float:
        """Processes that ended in between are not counted; new ones from zero."""
        return sum(t - before.get(pid, 0.0) for pid, t in after.items())


async def drive(port: int, meter: CpuMeter, label: str, requests: list[Request], rate: float) -> Run:
    """Open loop: request i leaves at start + i / rate; latency counts from that moment; any answer but 200 is
    an error."""
    connections = Connections(port)
    await connections.open(16)
    wires = [(r.kind, r.wire()) for r in requests]
    for _, wire in wires[:WARM_UP]:
        await connections.send(wire)
    measured = wires[WARM_UP:]
    loop = asyncio.get_running_loop()
    latencies: dict[str, list[float]] = {}
    errors: list[str] = []
    last = [0.0]
    start = loop.time() + 0.1
    cpu_before = meter.sample()

    async def one(i: int, kind: str, wire: bytes) -> None:
        at = start + i / rate
        await asyncio.sleep(max(0.0, at - loop.time()))
        try:
            status, body = await connections.send(wire)
        except (OSError, asyncio.IncompleteReadError) as exc:
            status, body = 0, repr(exc).encode()
        done = loop.time()
        last[0] = max(last[0], done)
        latencies.setdefault(kind, []).append(done - at)
        if status != 200:
            errors.append(f"{status} {body[:300].decode(errors='replace')}")

    await asyncio.gather(*(one(i, kind, wire) for i, (kind, wire) in enumerate(measured)))
    cpu_after = meter.sample()
    connections.close()
    achieved = len(measured) / (last[0] - start)
    cpu = (CpuMeter.spent(cpu_before[0], cpu_after[0]), CpuMeter.spent(cpu_before[1], cpu_after[1]))
    first = errors[0] if errors else ""
    return Run(label, rate, latencies, achieved, len(errors), first, cpu, os.getloadavg()[0])


# -- the data ----------------------------------------------------------------------------------------------------


async def make_template(base: str, tokens: TokenFactory, nats_url: str) -> str:
    """One application made through the API as the demo journey makes it: every section, the achievement, the
    required materials, then 提交. The identity bridge's person lookup is answered as the tests answer it."""
    token = tokens.mint(TEMPLATE_APPLICANT, roles=[Role.APPLICANT], audience=["applications"], ttl=600)
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        answering(nats_url, "rpc.identity.person.v1", lambda ask: PERSON, queue="identity-bridge"),
        httpx.AsyncClient(base_url=base + PREFIX, headers=headers, timeout=60) as client,
    ):
        notice = (await client.get(f"/committees/{COMMITTEE}/activities/2026")).raise_for_status().json()
        created = await client.post("/applications", json=settings(COMMITTEE))
        if created.status_code != 201:
            raise RuntimeError(f"template: create {created.status_code} {created.text[:300]}")
        app_id = str(created.json()["id"])
        counting = next(t for t in notice["achievement_templates"] if t["counts"] and t["form"] == "paper")
        for name, body in [*SECTIONS.items(), ("achievements", [paper(counting["code"])])]:
            r = await client.put(f"/applications/{app_id}/sections/{name}", json=body, headers={"If-Match": "0"})
            r.raise_for_status()
        for material in notice["required_materials"]:
            if material["required"]:
                r = await client.post(
                    f"/applications/{app_id}/materials",
                    params={"material": material["name"], "filename": f"{material['name']}.pdf"},
                    content=PDF,
                )
                r.raise_for_status()
        submitted = await client.post(f"/applications/{app_id}/submit")
        if submitted.status_code != 200:
            raise RuntimeError(f"template: submit {submitted.status_code} {submitted.text[:300]}")
    return app_id


# Copies of the template: applicant usr_bNNNNNN holds one application a year from 2026 back; this year's is a
# draft for 4 in 10 of them (submitted 4, returned 1, withdrawn 1), earlier ones mostly decided, 1 in 10 abandoned.
# usr_heavyN holds many (one a year over 20 years for each of several made-up qualifications).
SEED_APPLICATIONS = """
WITH g AS (
  SELECT 'usr_b' || lpad((i % $3)::text, 6, '0') AS applicant, 2026 - i / $3 AS year, 0 AS variant,
         CASE WHEN i / $3 = 0
              THEN (ARRAY['draft','draft','draft','draft','submitted','submitted','submitted','submitted',
                          'returned','withdrawn'])[i % 10 + 1]
              ELSE (ARRAY['certified','certified','certified','certified','certified','rejected','rejected',
                          'rejected','approved','abandoned'])[(i / 7) % 10 + 1] END AS status,
         timestamptz '2026-11-01' - make_interval(days => (i / $3) * 365 - (i % 300)) AS created
  FROM generate_series(0, $2 - 1) AS i
  UNION ALL
  SELECT 'usr_heavy' || h, 2026 - j % 20, j / 20,
         CASE WHEN j % 20 = 0 THEN 'submitted' WHEN j % 3 = 0 THEN 'rejected' ELSE 'certified' END,
         timestamptz '2026-11-01' - make_interval(days => (j % 20) * 365 - j)
  FROM generate_series(1, $4) AS h, generate_series(0, $5 - 1) AS j
)
INSERT INTO applications (id, applicant_id, year, method, unit_id, committee_id, activity_id, settings, status,
                          sections, section_versions, snapshot_version, created_at, updated_at, submitted_at,
                          trail, stages_reached, applicant_identity)
SELECT gen_random_uuid(), g.applicant, g.year, t.method, t.unit_id, t.committee_id, t.activity_id,
       CASE WHEN g.variant = 0 THEN t.settings
            ELSE jsonb_set(t.settings, '{qualification}', to_jsonb((t.settings->>'qualification') || '_' || g.variant))
       END,
       g.status,
       CASE WHEN g.status = 'abandoned' THEN '{}'::jsonb ELSE t.sections END,
       CASE WHEN g.status = 'abandoned' THEN '{}'::jsonb ELSE t.section_versions END,
       CASE WHEN g.status IN ('draft', 'abandoned') THEN 0 ELSE 1 END,
       g.created, g.created,
       CASE WHEN g.status IN ('draft', 'abandoned') THEN NULL ELSE g.created + interval '7 days' END,
       CASE WHEN g.status IN ('draft', 'abandoned') THEN '[]'::jsonb ELSE t.trail END,
       CASE WHEN g.status IN ('draft', 'abandoned') THEN '[]'::jsonb ELSE t.stages_reached END,
       t.applicant_identity
FROM applications t, g
WHERE t.id = $1
"""
# the template's snapshot as it is (changing each copy's applicant_id inside it would recompress every one: twice
# the seeding time, and no route reads it)
SEED_SNAPSHOTS = """
INSERT INTO application_snapshots (application_id, version, content, created_at)
SELECT a.id, 1, s.content, a.submitted_at
FROM applications a, application_snapshots s
WHERE s.application_id = $1 AND a.snapshot_version = 1 AND a.id <> $1
"""
SEED_ATTACHMENTS = """
INSERT INTO attachments (id, application_id, kind, material_name, section, entry_id, filename, content_type, size,
                         sha256, storage_key, created_at)
SELECT gen_random_uuid(), a.id, f.kind, f.material_name, f.section, f.entry_id, f.filename, f.content_type, f.size,
       f.sha256, f.storage_key, a.created_at
FROM applications a, attachments f
WHERE f.application_id = $1 AND f.deleted_at IS NULL AND a.id <> $1 AND a.year = 2026 AND a.status <> 'abandoned'
"""


async def seed(dsn: str, template: str, size: Size, timings: dict[str, float]) -> dict[str, Any]:
    # foreign keys unchecked while seeding (session_replication_role): every row is a copy of a checked one
    conn = await asyncpg.connect(dsn, server_settings={"session_replication_role": "replica"})
    others = [await asyncpg.connect(dsn, server_settings={"session_replication_role": "replica"}) for _ in range(2)]
    mark = time.perf_counter()
    try:
        heavy = HEAVY_APPLICANTS * size.per_heavy
        await conn.execute(
            SEED_APPLICATIONS,
            template,
            size.applications - heavy - 1,  # with the template: exactly size.applications
            size.applicants,
            HEAVY_APPLICANTS,
            size.per_heavy,
        )
        # the two copies at once: PostgreSQL has 2 cores
        await asyncio.gather(conn.execute(SEED_SNAPSHOTS, template), others[0].execute(SEED_ATTACHMENTS, template))
        timings[f"{size.applications:,} applications copied in SQL (with snapshots, attachment rows)"] = (
            time.perf_counter() - mark
        )
        mark = time.perf_counter()
        # as a database that has lived with its rows: statistics, hint bits and the visibility map set (no
        # autovacuum of the bulk load during the routes), and its dirty pages written, so no route pays for them
        tables = ("applications", "application_snapshots", "attachments")
        await asyncio.gather(
            *(c.execute(f"VACUUM (ANALYZE) {t}") for c, t in zip((conn, *others), tables, strict=True))
        )
        await conn.execute("CHECKPOINT")
        timings["VACUUM (ANALYZE) of the three tables, CHECKPOINT"] = time.perf_counter() - mark
        counts = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM applications) AS applications,"
            " (SELECT count(DISTINCT applicant_id) FROM applications) AS applicants,"
            " (SELECT count(*) FROM application_snapshots) AS snapshots,"
            " (SELECT count(*) FROM attachments) AS attachments,"
            " pg_size_pretty(pg_total_relation_size('applications')) AS applications_size,"
            " pg_size_pretty(pg_total_relation_size('application_snapshots')) AS snapshots_size"
        )
        drafts = await conn.fetch(
            "SELECT id::text, applicant_id FROM applications WHERE status = 'draft' AND applicant_id LIKE 'usr_b%'"
        )
        readable = await conn.fetch("SELECT id::text FROM applications WHERE snapshot_version > 0")
        row = await conn.fetchrow("SELECT sections, section_versions FROM applications WHERE id = $1", template)
    finally:
        for c in (conn, *others):
            await c.close()
    return {
        "counts": dict(counts),
        "drafts": [(r["id"], r["applicant_id"]) for r in drafts],
        "readable": [r["id"] for r in readable],
        "versions": json.loads(row["section_versions"]),
        "sections": json.loads(row["sections"]),
    }


def mine_query_sql(applicant: str) -> tuple[str, str]:
    """The two statements 我的申报 runs (count, then the page), as the store builds them."""
    captured: list[Any] = []

    class Capture:
        async def scalar(self, query: Any) -> int:
            captured.append(query)
            return 0

        async def execute(self, query: Any) -> Any:
            captured.append(query)
            return type("Rows", (), {"mappings": lambda self: []})()

    asyncio.run(SqlApplicationStore(Capture()).page_for(applicant, page=1, size=10))  # type: ignore[arg-type]
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    count, page = (str(q.compile(dialect=dialect, compile_kwargs={"literal_binds": True})) for q in captured)
    return count, page


async def explain(dsn: str, applicant: str) -> str:
    count, page = await asyncio.to_thread(mine_query_sql, applicant)
    conn = await asyncpg.connect(dsn)
    try:
        out = []
        for sql in (count, page):
            rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql)
            out.append("\n".join(r[0] for r in rows))
    finally:
        await conn.close()
    return "\n\n".join(out)


# -- the run -----------------------------------------------------------------------------------------------------


def requests_for(data: dict[str, Any], tokens: TokenFactory, size: Size, notice_code: str) -> dict[str, list[Request]]:
    rng = random.Random(23)
    drafts = list(data["drafts"])
    rng.shuffle(drafts)
    versions, sections = data["versions"], data["sections"]
    minted: dict[str, str] = {}

    def token(subject: str, *roles: RoleGrant | Role) -> str:
        if subject not in minted:
            minted[subject] = tokens.mint(subject, roles=roles or [Role.APPLICANT], audience=["applications"], ttl=900)
        return minted[subject]

    def n(route: str, seconds: float | None = None) -> int:
        return WARM_UP + int(RATES[route] * (seconds or size.seconds))

    bodies = {**SECTIONS, "achievements": [paper(notice_code)]}
    out: dict[str, list[Request]] = {}
    need = n("save") + n("save_all") + n("submit")
    if len(drafts) < need:
        raise RuntimeError(f"only {len(drafts)} drafts for {need} writes")
    take = iter(drafts)
    out["save"] = []
    for i in range(n("save")):
        app_id, who = next(take)
        name = SAVED_SECTIONS[i % len(SAVED_SECTIONS)]
        out["save"].append(
            Request(
                "PUT",
                f"/applications/{app_id}/sections/{name}",
                token(who),
                json.dumps(bodies[name], ensure_ascii=False).encode(),
                {"If-Match": str(versions[name])},
            )
        )
    whole = {name: {"version": versions[name], "content": bodies[name]} for name in sections if name in bodies}
    out["save_all"] = [
        Request("PUT", f"/applications/{app_id}/sections", token(who), json.dumps(whole, ensure_ascii=False).encode())
        for app_id, who in (next(take) for _ in range(n("save_all")))
    ]
    out["submit"] = [
        Request("POST", f"/applications/{app_id}/submit", token(who))
        for app_id, who in (next(take) for _ in range(n("submit")))
    ]
    # 我的申报: 1 in 10 asks are a heavy applicant's
    typical = [f"usr_b{rng.randrange(size.applicants):06d}" for _ in range(400)]
    out["mine"] = [
        Request("GET", "/applications?page=1&size=10", token(f"usr_heavy{1 + i % HEAVY_APPLICANTS}"), kind="heavy")
        if i % 10 == 9
        else Request("GET", "/applications?page=1&size=10", token(typical[i % len(typical)]), kind="typical")
        for i in range(n("mine"))
    ]
    reviewer = token("usr_unit_reviewer", RoleGrant(Role.UNIT_REVIEWER, ScopeType.UNIT, UNIT))
    out["snapshot"] = [
        Request("GET", f"/review/applications/{rng.choice(data['readable'])}", reviewer) for _ in range(n("snapshot"))
    ]
    out["floor"] = [
        Request("GET", "/bench/floor", token(typical[i % len(typical)])) for i in range(n("floor", size.floor_seconds))
    ]
    return out


LABELS = {
    "floor": "floor: do-nothing route",
    "save": "section save (PUT …/sections/{name})",
    "save_all": "暂存, whole form (PUT …/sections)",
    "submit": "提交 (POST …/submit)",
    "mine": "我的申报 (GET /applications)",
    "snapshot": "reviewer reads the snapshot (GET /review/applications/{id})",
}


async def wait_ready(base: str, timeout: float = 120) -> None:
    """Until the API answers /readyz (its database and NATS reached)."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=base + PREFIX) as client:
        while True:
            with contextlib.suppress(httpx.TransportError):
                if (await client.get("/readyz")).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise TimeoutError("the API did not become ready")
            await asyncio.sleep(0.1)


async def bench(size: Size, tmp: Path) -> tuple[list[Run], dict[str, Any], str, dict[str, float]]:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    pg = EmbeddedPostgres(tmp / "pg", preferred_port=0)  # its port is chosen here, before it starts
    nats = EmbeddedNats(tmp / "nats", port=free_port())
    tokens = TokenFactory(issuer=ISSUER, audience="applications")
    url = pg.url("bench_applications")
    dsn = url.replace("postgresql+asyncpg", "postgresql")
    values = {
        "database_url": url,
        "nats_url": nats.url,
        "jwks_url": "http://127.0.0.1:9/unused",
        "pii_keys": generate_key_spec("b1"),
        "pii_active_key": "b1",
        "attachments_dir": str(tmp / "attachments"),
    }
    port, log_path = free_port(), tmp / "api.log"
    proc: subprocess.Popen[bytes] | None = None
    nats.start()
    try:
        # the API process imports for seconds: it starts first, PostgreSQL is made meanwhile (it connects lazily)
        with log_path.open("wb") as log:
            proc = start_api(values, port, tokens.jwks, log)
        pg.start()
        pg.create_database("bench_applications")
        await asyncio.to_thread(upgrade, REPO / "services" / "applications" / "migrations", url)
        await load_demo_data(url, year=2026)
        base = f"http://127.0.0.1:{port}"
        await wait_ready(base)
        timings["PostgreSQL, NATS and the API process started, migrated, demo data"] = time.perf_counter() - started
        mark = time.perf_counter()
        template = await make_template(base, tokens, nats.url)
        timings["the template application made through the API"] = time.perf_counter() - mark
        data = await seed(dsn, template, size, timings)

        code = next(e["template_code"] for e in data["sections"]["achievements"])
        plan = requests_for(data, tokens, size, code)
        mark = time.perf_counter()
        postmaster = int((pg.pgdata / "postmaster.pid").read_text().splitlines()[0])
        meter = CpuMeter(proc.pid, postmaster)
        # the floor before and after the routes: the machine's state at both ends
        order = ["floor", "save", "save_all", "submit", "mine", "snapshot", "floor"]
        runs = []
        for i, route in enumerate(order):
            label = LABELS[route] + (" (after the routes)" if i and route == "floor" else "")
            runs.append(await drive(port, meter, label, plan[route], RATES[route]))
        timings["the routes driven (warm-up included)"] = time.perf_counter() - mark
        plans = await explain(dsn, "usr_heavy1")
        return runs, data["counts"], plans, timings
    except Exception:
        if log_path.exists():
            print("API log (tail):\n" + log_path.read_text(errors="replace")[-4000:], file=sys.stderr)
        raise
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        nats.stop()
        pg.stop()


def run(quick: bool = False) -> Section:
    size = QUICK if quick else FULL
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="zc-bench-apps-") as tmp:
        runs, counts, plans, timings = asyncio.run(bench(size, Path(tmp)))
    rows, targets = [], []
    for r in runs:
        total = sum(len(v) for v in r.latencies.values())
        for kind in sorted(r.latencies, key=lambda k: k != "typical"):
            values, share = r.latencies[kind], len(r.latencies[kind]) / total
            who = {"typical": ", applicant with ~5", "heavy": f", applicant with {size.per_heavy}"}.get(kind, "")
            rate = f"{r.rate * share:.0f}/s"
            api_ms, db_ms = r.cpu[0] / total * 1000, r.cpu[1] / total * 1000
            shared = (
                [str(r.errors), f"{api_ms:.1f}", f"{db_ms:.1f}", f"{r.rate * api_ms / 10:.0f}%", f"{r.load:.1f}"]
                if kind != "heavy"
                else ["(above)"] * 5
            )
            rows.append([r.label + who, rate, f"{r.achieved * share:.1f}/s", f"{len(values):,}"])
            rows[-1] += [*latency_row(values), *shared]
            if not r.label.startswith(LABELS["floor"]):
                targets.append(
                    Target(f"{r.label}{who}: p99", f"reported, at {rate}", latency_row(values)[2] + " ms", None)
                )
    failed = sum(r.errors for r in runs)
    targets.append(Target("errors, all routes", "0", str(failed), failed == 0))
    stored = (
        f"{counts['applications']:,} applications of {counts['applicants']:,} applicants "
        f"({counts['applications_size']} with indexes), {counts['snapshots']:,} snapshots "
        f"({counts['snapshots_size']}), {counts['attachments']:,} attachment rows (this year's live applications)"
    )
    first_errors = [f"- {r.label}: {r.first_error}" for r in runs if r.errors]
    section = Section(
        key="applications",
        title=f"Applications service routes with {counts['applications']:,} applications stored",
        command=".venv/bin/python bench/applications_routes.py" + (" --quick" if quick else ""),
        method=METHOD.format(seconds=size.seconds, floor=size.floor_seconds, stored=stored),
        tables=[
            Table(
                [
                    "route",
                    "stated rate",
                    "achieved",
                    "requests",
                    "p50 (ms)",
                    "p95 (ms)",
                    "p99 (ms)",
                    "max (ms)",
                    "errors",
                    "API CPU ms / request",
                    "PostgreSQL CPU ms / request",
                    "API process busy at the stated rate",
                    "load avg at end",
                ],
                rows,
            ),
            Table(["setup step", "seconds"], [[k, f"{v:.1f}"] for k, v in timings.items()]),
        ],
        targets=targets,
        limits=limits(runs),
        details=[
            f"我的申报's two statements (count, then the page) for the applicant with {size.per_heavy} applications, "
            f"EXPLAIN ANALYZE after the run:\n\n```\n{plans}\n```",
            *(["Errors (the first of each route):\n" + "\n".join(first_errors)] if first_errors else []),
        ],
    )
    section.seconds = time.perf_counter() - started
    return section


def limits(runs: list[Run]) -> str:
    routes = [r for r in runs if not r.label.startswith(LABELS["floor"])]
    per = [(r.cpu[0] / n * 1000, r.cpu[1] / n * 1000) for r in routes if (n := sum(map(len, r.latencies.values())))]
    floor = runs[0].cpu[0] / len(runs[0].latencies[""]) * 1000
    return (
        f"CPU, and the API process's before PostgreSQL's: {min(a for a, _ in per):.1f}–{max(a for a, _ in per):.1f} ms "
        f"per request in the API process ({floor:.1f} ms of it the floor's middleware, telemetry and token check), "
        f"{min(d for _, d in per):.1f}–{max(d for _, d in per):.1f} ms in PostgreSQL. One API process (one event "
        "loop) and PostgreSQL (the dev stack's settings: shared_buffers 64 MB, fsync and synchronous_commit on) "
        "share 2 cores with the load generator, and every write waits for its WAL flush; latency beyond the CPU "
        "cost is waiting for a core or the disk. When the machine's load average is well above its 2 cores (other "
        "work running), the API process gets less CPU than the busy column says it needs, its queue grows and the "
        "tail goes to seconds: read the latencies of such a run with the load column, the CPU columns stay valid."
    )


METHOD = (
    "An embedded PostgreSQL (the dev stack's) gets a fresh database migrated with the applications service's "
    "migrations, with its demo units, committees and activities; an embedded NATS runs as in production (the measured "
    "routes ask it nothing). The API runs as serve_api runs it (uvicorn with uvloop and httptools, telemetry and JSON "
    "logs set up) in its own process, over TCP, with a fixed clock (2026-11-27, inside the demo activity's submission "
    "window) and tokens signed by the bench's key. One application is made through the API as the demo journey makes "
    "it (every section, the achievement, the required materials, 提交); the stored rows are copies of it made in SQL "
    "(its section JSON and its ciphertext of the phone numbers; each copy with its own id, applicant, year and "
    "status), then ANALYZE: about 5 applications per applicant (one a year, 2022–2026; this year's a draft for 4 in "
    "10 applicants, in review or returned or withdrawn for the others; earlier ones decided, 1 in 10 abandoned), "
    "3 applicants with many, a snapshot for every application ever submitted. Stored: {stored}. Each route is driven "
    "open-loop for {seconds} s (the floor {floor} s) after 10 unmeasured requests: request i leaves at "
    "start + i / rate whatever the earlier ones are doing, and its latency runs from that scheduled moment to the "
    "last byte of the answer, so a stall shows in the figures instead of slowing the schedule. Every write goes to "
    "another applicant's draft, prepared beforehand and complete (If-Match the version it holds; 提交 finds "
    "everything submission needs); 我的申报 asks for page 1 of 10, 1 ask in 10 by an applicant with many; the "
    "reviewer (工作单位审核人 of the demo unit) reads random submitted applications. The floor is a do-nothing "
    "route of the same app, before and after the routes at the same rate: the same middleware, telemetry and token "
    "check, first in the route list, no database: what every request pays before its route's own work. The CPU "
    "columns are CPU seconds of the API process and of all PostgreSQL processes over the measured requests, divided "
    "by their number: a request's cost, which a busy machine disturbs much less than its latency."
)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="bench/applications_routes.py")
    parser.add_argument("--quick", action="store_true", help="5,000 applications, 3 s per route")
    print(run(parser.parse_args().quick).markdown())
