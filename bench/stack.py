"""The `make run` stack for the whole-system benchmarks (issue 23 §2.1, §2.4, §2.5): started once on a fresh data
directory, shared by bench/submit_to_inbox.py and bench/mixed_load.py, with what both need to load it.

- `Stack`: `python -m zc_devstack run` as a subprocess (its own data directory and port), stopped by Ctrl-C.
- Applicants: a demo applicant may hold one live application per year and qualification (the applications
  database's uq_applications_live), so a benchmark that submits thousands needs thousands of applicants. The
  identity bridge signs in only the demo users, so the benchmark applicants are tokens minted with the stack's own
  signing key (as tests/e2e/test_dev_stack.py does) for fresh subjects with the applicant role; they go through
  the gateway as bearer tokens, skipping its cookie-to-token exchange (the reviewers use real cookie sessions).
- Drafts: one complete application is made through the API as the demo applicant fills one in (the sections,
  the counting 论文, every required material; zc_devstack.journey), then copied in SQL in the applications
  database, once per benchmark applicant (the row with its sections and identity, and its attachment rows,
  which point at the same stored files). Making each through the API would take ~2 s of the stack's time apiece.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import jwt
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from e2e.test_dev_stack import stop_with_ctrl_c, wait_until_running  # noqa: E402

from zc_devstack.demo_application import PDF, SECTIONS, paper, settings  # noqa: E402
from zc_devstack.journey import DEMO_COMMITTEE  # noqa: E402
from zc_devstack.procs import free_port  # noqa: E402

CSRF = {"X-Requested-With": "zhicheng"}  # the web client's header (the gateway's CSRF check)
SERVICES = ("identity_bridge", "applications", "review", "certificates")


@dataclass
class Stack:
    data: Path
    port: int
    proc: subprocess.Popen[bytes]
    started_in: float = 0.0
    _pg_port: int = 0
    signing: Any = field(default=None, repr=False)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pg_port(self) -> int:
        if not self._pg_port:  # the embedded server's port: postmaster.pid's 4th line
            pid_file = self.data / "data" / "postgres" / "pgdata" / "postmaster.pid"
            self._pg_port = int(pid_file.read_text().splitlines()[3])
        return self._pg_port

    def dsn(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.pg_port}/zc_{database}"

    def mint(self, subject: str, minutes: int = 120) -> str:
        """An applicant's access token, as the identity bridge would sign it."""
        if self.signing is None:
            from identity_bridge.adapters.signing_keys import SigningKeys

            self.signing = SigningKeys.from_pem_file(self.data / "data" / "identity" / "signing-key.pem")
        now = datetime.now(UTC)
        claims = {
            "iss": f"{self.base}/api/identity",
            "aud": ["applications", "review", "certificates"],
            "sub": subject,
            "iat": now,
            "exp": now + timedelta(minutes=minutes),
            "roles": [{"role": "applicant", "scope_type": "global", "scope_id": None}],
        }
        headers = {"kid": self.signing.kid, "typ": "at+jwt"}
        return jwt.encode(claims, self.signing.private_key, algorithm="ES256", headers=headers)

    # -- the processes, for the memory figures ------------------------------------------------------------

    def processes(self) -> dict[str, list[psutil.Process]]:
        """The stack's process tree by role: each service, the stack's own process (gateway, supervisor),
        PostgreSQL (postmaster and its backends) and NATS."""
        groups: dict[str, list[psutil.Process]] = {"gateway (stack process)": [psutil.Process(self.proc.pid)]}
        for p in psutil.Process(self.proc.pid).children(recursive=True):
            with contextlib.suppress(psutil.Error):
                cmd = p.cmdline()
                if "zc_devstack.service_host" in cmd:
                    name = next(s for s in SERVICES if s in cmd)
                    groups.setdefault(name, []).append(p)
                elif p.name() == "nats-server":
                    groups.setdefault("NATS", []).append(p)
                elif p.name() == "postgres":
                    groups.setdefault("PostgreSQL", []).append(p)
                else:
                    groups.setdefault("other", []).append(p)
        return groups

    def logged_errors(self, last: int = 3) -> dict[str, list[str]]:
        """The last ERROR lines each service logged (its logs go away with the data directory)."""
        found = {}
        for log in sorted((self.data / "data" / "logs").glob("*.log")):
            lines = [line for line in log.read_text(errors="replace").splitlines() if '"level": "ERROR"' in line]
            if lines:
                found[log.stem] = [line[:1500] for line in lines[-last:]]
        return found

    def stop(self) -> None:
        try:
            if self.proc.poll() is None:
                stop_with_ctrl_c(self.proc)
        finally:
            shutil.rmtree(self.data, ignore_errors=True)


def start() -> Stack:
    data = Path(tempfile.mkdtemp(prefix="zc-bench-stack-"))
    port = free_port()
    log = data / "stack.log"
    began = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "zc_devstack", "run", "--data-dir", str(data / "data"), "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
    stack = Stack(data, port, proc)
    try:
        wait_until_running(proc, log)
    except BaseException:
        stack.stop()
        raise
    stack.started_in = time.perf_counter() - began
    return stack


# -- drafts -------------------------------------------------------------------------------------------------


def template_draft(stack: Stack, who: str = "applicant") -> str:
    """One complete 农艺师 application, ready to submit, made through the API as the demo applicant fills it
    in (zc_devstack.journey.Journey.submit without the submit), or the one made before. Returns its id."""
    with httpx.Client(base_url=stack.base, timeout=60, headers=CSRF) as client:
        assert client.post(f"/api/identity/dev/login/{who}", params={"return_to": "/"}).status_code == 303
        mine = client.get("/api/applications/applications").json()["items"]
        if mine and mine[0]["status"] == "draft":  # made by an earlier benchmark on this stack
            return str(mine[0]["id"])
        notice = client.get(f"/api/applications/committees/{DEMO_COMMITTEE}/activities/2026").json()
        created = client.post("/api/applications/applications", json=settings(DEMO_COMMITTEE))
        assert created.status_code == 201, created.text
        app_id = str(created.json()["id"])
        for name, body in SECTIONS.items():
            client.put(
                f"/api/applications/applications/{app_id}/sections/{name}", json=body, headers={"If-Match": "0"}
            ).raise_for_status()
        counting = next(t for t in notice["achievement_templates"] if t["counts"] and t["form"] == "paper")
        client.put(
            f"/api/applications/applications/{app_id}/sections/achievements",
            json=[paper(counting["code"])],
            headers={"If-Match": "0"},
        ).raise_for_status()
        for material in notice["required_materials"]:
            if material["required"]:
                client.post(
                    f"/api/applications/applications/{app_id}/materials",
                    params={"material": material["name"], "filename": f"{material['name']}.pdf"},
                    content=PDF,
                ).raise_for_status()
        return app_id


CLONE_APPLICATIONS = """
INSERT INTO applications (id, applicant_id, year, method, unit_id, committee_id, activity_id, settings, status,
                          status_reason, sections, section_versions, snapshot_version, created_at, updated_at,
                          trail, stages_reached, applicant_identity)
SELECT c.id, c.applicant_id, a.year, a.method, a.unit_id, a.committee_id, a.activity_id, a.settings, a.status,
       a.status_reason, a.sections, a.section_versions, 0, now(), now(), a.trail, '[]'::jsonb, a.applicant_identity
FROM applications a, unnest($2::uuid[], $3::text[]) AS c(id, applicant_id)
WHERE a.id = $1
"""
CLONE_ATTACHMENTS = """
INSERT INTO attachments (id, application_id, record_id, kind, material_name, section, entry_id, filename,
                         content_type, size, sha256, storage_key, created_at)
SELECT gen_random_uuid(), c.id, NULL, t.kind, t.material_name, t.section, t.entry_id, t.filename, t.content_type,
       t.size, t.sha256, t.storage_key, now()
FROM attachments t, unnest($2::uuid[]) AS c(id)
WHERE t.application_id = $1 AND t.deleted_at IS NULL
"""


async def _clone(dsn: str, template: str, ids: list[uuid.UUID], applicants: list[str]) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.execute(CLONE_APPLICATIONS, uuid.UUID(template), ids, applicants)
            await conn.execute(CLONE_ATTACHMENTS, uuid.UUID(template), ids)
        await conn.execute("ANALYZE applications; ANALYZE attachments")
    finally:
        await conn.close()


@dataclass(frozen=True)
class Draft:
    app_id: str
    applicant: str  # the token's subject
    token: str


def clone_drafts(stack: Stack, template: str, n: int) -> list[Draft]:
    """`n` copies of the template draft, each for a fresh benchmark applicant with a minted token."""
    ids = [uuid.uuid4() for _ in range(n)]
    applicants = [str(uuid.uuid4()) for _ in range(n)]
    asyncio.run(_clone(stack.dsn("applications"), template, ids, applicants))
    return [Draft(str(i), a, stack.mint(a)) for i, a in zip(ids, applicants, strict=True)]


# -- certificates for the public check ----------------------------------------------------------------------

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "文博思雨晓明建华志强丽娟海燕国庆玉兰子涵欣怡"


@dataclass(frozen=True)
class Holder:
    name: str
    id_masked: str


async def _insert_certificates(dsn: str, rows: list[dict[str, Any]]) -> None:
    from sqlalchemy import delete, insert
    from sqlalchemy.ext.asyncio import create_async_engine

    from certificates.adapters.db.tables import certificates

    engine = create_async_engine(dsn.replace("postgresql://", "postgresql+asyncpg://"))
    try:
        async with engine.begin() as conn:
            bench_numbers = certificates.c.certificate_no.like("512026NONGYE9%")  # an earlier run's on this stack
            await conn.execute(delete(certificates).where(bench_numbers))
            await conn.execute(insert(certificates), rows)
    finally:
        await engine.dispose()


def seed_certificates(stack: Stack, n: int) -> list[tuple[str, str, str]]:
    """`n` valid 农艺师 certificates, made and signed as the certificates service issues them (its own
    new_certificate and key) but written straight into its database: issuing them through the review would take
    the whole journey per certificate. Numbers from 900001 up, clear of the service's own sequence. Returns
    (number, holder's name, QR token) of each."""
    from certificates.adapters.signing import Signer
    from certificates.domain.certificate import certificate_number
    from certificates.usecases.certificates import new_certificate

    env = (stack.data / "data" / "certificates" / "signing-key.env").read_text()
    spec = next(line.split("=", 1)[1] for line in env.splitlines() if line.startswith("CERTIFICATES_SIGNING_KEY="))
    signer = Signer.from_spec(spec)
    now = datetime.now(UTC)
    rows = []
    for i in range(n):
        name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 7) % len(GIVEN)] + GIVEN[(i * 3 + 1) % len(GIVEN)]
        rows.append(
            new_certificate(
                signer,
                now=now,
                holder_id=str(uuid.uuid4()),
                holder=Holder(name, "5101**********" + f"{i % 10000:04d}"),
                source="issued",
                certificate_no=certificate_number("51", 2026, "NONGYE", 900_001 + i),
                series_code="NONGYE",
                level_code="ZHONGJI",
                qualification_code="NONGYE_ZHONGJI_NONGYI",
                qualification_name="农艺师",
                specialty="农业机械化",
                issue_date=now.date(),
                issuing_authority="四川省人力资源和社会保障厅",
                region_code="510100",
            )
        )
    asyncio.run(_insert_certificates(stack.dsn("certificates"), rows))
    return [(r["certificate_no"], r["holder_name"], r["qr_token"]) for r in rows]
