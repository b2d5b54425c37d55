"""`make run`'s stack, end to end: every service ready behind one port, tokens verified across services, a
killed service, NATS or PostgreSQL restarted, Ctrl-C leaves no process behind, and a second run reuses the data."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt
import psutil
import pytest

from zc_devstack.postgres import POSTGRES_BIN_PATH, SYSTEM_USER
from zc_devstack.procs import as_user, free_port, is_root

PREFIXES = ("identity", "applications", "review", "certificates")


def start_stack(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "zc_devstack", "run", "--data-dir", str(data_dir), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=open(log, "wb"),
        env={**os.environ, "ZC_LOG_FORMAT": "json"},
    )


def wait_until_running(proc: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"stack exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        if "Zhicheng is running" in log.read_text():
            return
        time.sleep(0.2)
    raise AssertionError(f"stack not up after {timeout}s:\n{log.read_text()[-3000:]}")


def stop_with_ctrl_c(proc: subprocess.Popen[bytes]) -> list[int]:
    """SIGINT as a terminal's Ctrl-C sends it; returns the pids that were running under the stack."""
    descendants = [p.pid for p in psutil.Process(proc.pid).children(recursive=True)]
    proc.send_signal(signal.SIGINT)
    assert proc.wait(90) == 0
    return descendants


def stack_child(proc: subprocess.Popen[bytes], match: Callable[[list[str]], bool]) -> psutil.Process:
    found = []
    for p in psutil.Process(proc.pid).children(recursive=True):
        with contextlib.suppress(psutil.Error):  # postgres' workers come and go
            if match(p.cmdline()):
                found.append(p)
    (child,) = found
    return child


def wait_until_restarted(client: httpx.Client, log: Path, name: str, since: int) -> str:
    """After `name` stopped: the stack logs its restart and every service is ready again through the gateway.
    Returns what the stack logged meanwhile."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        logged = log.read_text()[since:]
        with contextlib.suppress(httpx.HTTPError):
            if f"{name} restarted" in logged and all(
                client.get(f"/api/{p}/readyz").status_code == 200 for p in PREFIXES
            ):
                return logged
        time.sleep(0.3)
    raise AssertionError(f"{name} not back:\n{log.read_text()[-2000:]}")


def check_a_killed_service_is_restarted(proc: subprocess.Popen[bytes], client: httpx.Client, log: Path) -> None:
    """Issue 18 item 4: a service that dies is logged at once and started again; the gateway follows."""
    service = stack_child(proc, lambda cmd: "zc_devstack.service_host" in cmd and "applications" in cmd)
    since = len(log.read_text())
    service.kill()
    service.wait(10)
    assert "applications exited (-9); restarting" in wait_until_restarted(client, log, "applications", since)


def check_killed_infrastructure_is_restarted(
    proc: subprocess.Popen[bytes], client: httpx.Client, log: Path, data_dir: Path
) -> None:
    """Issue 18 item 4: NATS and PostgreSQL are supervised too. Each is killed outright (PostgreSQL also stopped
    by pg_ctl's immediate mode), restarted on its port and data; the services reconnect by themselves (none of
    them exits) and a round trip through the database and NATS works again."""
    pgdata = data_dir / "postgres" / "pgdata"

    def pg_ctl_immediate() -> None:
        subprocess.run(
            [str(POSTGRES_BIN_PATH / "pg_ctl"), "stop", "-D", str(pgdata), "-m", "immediate"],
            check=True,
            capture_output=True,
            **as_user(SYSTEM_USER if is_root() else None),
        )

    def kill(match: Callable[[list[str]], bool]) -> Callable[[], None]:
        return lambda: stack_child(proc, match).kill()

    faults = (
        ("NATS", "-9", kill(lambda cmd: cmd[:1] != [] and cmd[0].endswith("nats-server"))),
        ("PostgreSQL", "-9", kill(lambda cmd: cmd[:1] != [] and cmd[0].endswith("postgres") and str(pgdata) in cmd)),
        ("PostgreSQL", "0", pg_ctl_immediate),  # leaves no postmaster.pid, where SIGKILL leaves a stale one
    )
    for name, code, fault in faults:
        since = len(log.read_text())
        fault()
        logged = wait_until_restarted(client, log, name, since)
        assert f"{name} exited ({code}); restarting in" in logged
        assert [line for line in logged.splitlines() if "exited (" in line and name not in line] == []
        check_dev_login_and_logout(client)  # the session-ended event crosses NATS to every service
        check_demo_committee_query(client)


def infrastructure_processes(data_dir: Path) -> list[psutil.Process]:
    """This stack's nats-server and postgres processes, its children or not (PostgreSQL's run in pgdata)."""
    found = []
    for p in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if p.name() in ("nats-server", "postgres") and p.status() != psutil.STATUS_ZOMBIE:
                if str(data_dir) in " ".join(p.cmdline()) or Path(p.cwd()).is_relative_to(data_dir):
                    found.append(p)
    return found


def mint_token(data_dir: Path, port: int) -> str:
    from identity_bridge.adapters.signing_keys import SigningKeys

    keys = SigningKeys.from_pem_file(data_dir / "identity" / "signing-key.pem")
    now = datetime.now(UTC)
    claims = {
        "iss": f"http://127.0.0.1:{port}/api/identity",
        "aud": ["applications", "review", "certificates"],
        "sub": "usr_e2e",
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "roles": [{"role": "applicant", "scope_type": "global", "scope_id": None}],
    }
    return jwt.encode(claims, keys.private_key, algorithm="ES256", headers={"kid": keys.kid, "typ": "at+jwt"})


def check_dev_login_and_logout(client: httpx.Client) -> None:
    """The browser journey: one-click demo login, every service knows the user through the gateway's
    cookie-to-token exchange, logout ends it everywhere (tokens taken before logout included)."""
    page = client.get("/api/identity/dev/login")
    assert page.status_code == 200 and "仅限开发环境使用" in page.text
    login = client.post("/api/identity/dev/login/unit_reviewer?return_to=/")
    assert login.status_code == 303 and "zc_session" in client.cookies
    check_a_second_visitor_stays_anonymous(str(client.base_url))
    profile = client.get("/api/identity/session").json()
    assert profile["id_number"].startswith("*****") and len(profile["id_number"]) == 9
    for prefix in ("applications", "review", "certificates"):
        me = client.get(f"/api/{prefix}/me")
        assert me.status_code == 200, (prefix, me.text)
        assert me.json()["subject"] == profile["user_id"]
        assert {(r["role"], r["scope_type"]) for r in me.json()["roles"]} == {
            ("applicant", "global"),  # everyone may apply
            ("unit_reviewer", "unit"),
        }
    csrf = {"X-Requested-With": "zhicheng"}
    check_cross_site_requests_are_refused(client)
    token = client.post("/api/identity/session/token", headers=csrf).json()["access_token"]
    assert client.post("/api/identity/logout", headers=csrf).status_code == 200
    assert client.get("/api/identity/session").status_code == 401
    assert client.get("/api/applications/me").status_code == 401
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the session-ended event reaches every service
        held = client.get("/api/review/me", headers={"Authorization": f"Bearer {token}"})
        if held.status_code == 401:
            break
        time.sleep(0.2)
    assert held.status_code == 401, "a token of an ended session must stop working"


def check_cross_site_requests_are_refused(client: httpx.Client) -> None:
    """CSRF through the gateway (issue 17, item 4): with the victim's cookie, a cross-site text/plain form and a
    script without our header are refused before any service acts; the real web client's request goes through."""
    form = client.post(
        "/api/applications/applications",
        content=b'{"x": 1}',
        headers={"Content-Type": "text/plain", "Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert form.status_code == 403, form.text
    bare = client.post("/api/applications/applications", json={})
    assert bare.status_code == 403, bare.text
    ours = client.post("/api/applications/applications", json={}, headers={"X-Requested-With": "zhicheng"})
    assert ours.status_code == 422, ours.text  # it reached the service, which checked the (empty) body


def check_a_second_visitor_stays_anonymous(base_url: str) -> None:
    """The gateway shares one upstream client among all visitors: it must never hand one visitor's session
    (a cookie it saw in a Set-Cookie) to another (issue 17, item 1)."""
    with httpx.Client(base_url=base_url, timeout=30) as stranger:
        assert stranger.get("/api/identity/session").status_code == 401
        csrf = {"X-Requested-With": "zhicheng"}
        assert stranger.post("/api/identity/session/token", headers=csrf).status_code == 401
        for prefix in ("applications", "review", "certificates"):
            assert stranger.get(f"/api/{prefix}/me").status_code == 401, prefix
        assert not stranger.cookies


def check_demo_committee_query(client: httpx.Client) -> None:
    """The demo province is there: the manual's example unit sees its committees."""
    r = client.get(
        "/api/applications/committees/query",
        params={
            "unit_id": "0193a1f0-0000-7000-8000-00000000a001",
            "method": "SHEHUIHUA",
            "series": "NONGYE",
            "level": "ZHONGJI",
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["header"][0].startswith("1.您的工作单位职称业务归属地为【四川省/成都市/市(州)本级】")
    assert r.json()["direct"]["total"] >= 3


@pytest.mark.timeout(400)
def test_stack_serves_all_services_on_one_port_and_stops_cleanly_then_reuses_data(tmp_path: Path) -> None:
    data_dir, port = tmp_path / "data", free_port()
    log1 = tmp_path / "run1.log"
    proc = start_stack(data_dir, port, log1)
    try:
        wait_until_running(proc, log1)
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=10) as client:
            for prefix in PREFIXES:
                r = client.get(f"/api/{prefix}/readyz")
                assert r.status_code == 200, (prefix, r.text)
                assert r.json()["checks"] == {"database": True, "nats": True}
            home = client.get("/")
            assert home.status_code == 200 and "四川省职称评审系统" in home.text
            missing = client.get("/api/nothing/here")
            assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
            # malformed but deliverable input reaches the service as sent, never a gateway 500 (issue 17, item 9)
            latin1 = client.get("/api/applications/me", headers={"X-Note": "é".encode("latin-1")})
            assert latin1.status_code == 401, latin1.text
            assert client.get("/api/applications/%0a%00").status_code in (404, 422)
            # A token signed with the identity bridge's key is accepted by another service via its JWKS.
            anonymous = client.get("/api/applications/me")
            assert anonymous.status_code == 401 and anonymous.json()["code"] == "auth.missing_token"
            me = client.get("/api/applications/me", headers={"Authorization": f"Bearer {mint_token(data_dir, port)}"})
            assert me.status_code == 200, me.text
            assert me.json()["subject"] == "usr_e2e"
            check_dev_login_and_logout(client)
            check_demo_committee_query(client)
            check_a_killed_service_is_restarted(proc, client, log1)
            check_killed_infrastructure_is_restarted(proc, client, log1, data_dir)
            assert {p.name() for p in infrastructure_processes(data_dir)} >= {"nats-server", "postgres"}
    finally:
        pids = stop_with_ctrl_c(proc)
    assert len(pids) >= 6  # postgres, nats-server, four services (plus postgres' own workers)
    time.sleep(0.5)
    left = [pid for pid in pids if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
    assert left == [], f"left behind: {left}"
    # the restarted NATS and PostgreSQL were stopped too, cleanly (a killed postmaster leaves its pid file)
    assert infrastructure_processes(data_dir) == []
    assert not (data_dir / "postgres" / "pgdata" / "postmaster.pid").exists()
    # The stack stops PostgreSQL with SIGINT; a SIGTERM could only be the parent-death signal of a restarted
    # server whose spawning thread ended before the stack stopped it in order.
    assert "smart shutdown" not in (data_dir / "postgres" / "postgres.log").read_text()
    text = log1.read_text()
    assert "creating data" in text and "stream APPLICATIONS: created" in text
    # Service logs are JSON lines that name their service.
    assert '"service": "applications"' in (data_dir / "logs" / "applications.log").read_text()

    log2 = tmp_path / "run2.log"
    proc = start_stack(data_dir, port, log2)
    try:
        wait_until_running(proc, log2)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            assert all(client.get(f"/api/{p}/readyz").status_code == 200 for p in PREFIXES)
    finally:
        stop_with_ctrl_c(proc)
    text = log2.read_text()
    assert "reusing data" in text and "stream APPLICATIONS: unchanged" in text
