"""Dev stack: bring up the whole system on one machine (embedded PostgreSQL + NATS, every service, one port)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import nats
import uvicorn

from zc_db.migrate import upgrade
from zc_devstack.gateway import create_gateway
from zc_devstack.nats import EmbeddedNats
from zc_devstack.postgres import EmbeddedPostgres
from zc_devstack.procs import free_port, spawn, stop
from zc_messaging import provision

log = logging.getLogger("zc_devstack")

REPO = Path(__file__).resolve().parents[4]
# the web client as `make web` builds it (web/dist); the gateway serves it at /
WEB_BUNDLE = REPO / "web" / "dist"


@dataclass(frozen=True)
class ServiceDef:
    name: str  # directory under services/
    package: str
    prefix: str  # /api/<prefix>
    env: str  # settings prefix

    @property
    def database(self) -> str:
        return f"zc_{self.prefix}"


SERVICES = (
    ServiceDef("identity-bridge", "identity_bridge", "identity", "IDENTITY"),
    ServiceDef("applications", "applications", "applications", "APPLICATIONS"),
    ServiceDef("review", "review", "review", "REVIEW"),
    ServiceDef("certificates", "certificates", "certificates", "CERTIFICATES"),
)


def clock_offset_file(data_dir: Path) -> Path:
    """Seconds the development stack's clock runs ahead of the real one (see zc_http.clock)."""
    return data_dir / "clock-offset"


@dataclass
class Stack:
    data_dir: Path
    port: int = 8000
    pg: EmbeddedPostgres | None = None
    nats: EmbeddedNats | None = None
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    service_ports: dict[str, int] = field(default_factory=dict)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _procs_lock: threading.Lock = field(default_factory=threading.Lock)

    def start_infra(self) -> None:
        reused = (self.data_dir / "postgres" / "pgdata" / "PG_VERSION").exists()
        log.info("%s data in %s", "reusing" if reused else "creating", self.data_dir)
        self.pg = EmbeddedPostgres(self.data_dir / "postgres")
        self.pg.start()
        log.info("PostgreSQL on 127.0.0.1:%s", self.pg.port)
        self.nats = EmbeddedNats(self.data_dir / "nats")
        self.nats.start()
        log.info("NATS JetStream on 127.0.0.1:%s", self.nats.port)

    def prepare(self) -> None:
        """Databases, migrations, NATS topology, demo data: every step is safe to repeat."""
        assert self.pg is not None and self.nats is not None
        for svc in SERVICES:
            self.pg.create_database(svc.database)
            upgrade(REPO / "services" / svc.name / "migrations", self.pg.url(svc.database))
            log.info("migrated %s", svc.database)
        asyncio.run(self._provision(self.nats.url))
        for svc in SERVICES:
            self._load_demo_data(svc)

    async def _provision(self, url: str) -> None:
        nc = await nats.connect(url)
        try:
            for name, what in (await provision(nc.jetstream())).items():
                log.info("NATS %s: %s", name, what)
        finally:
            await nc.close()

    def _load_demo_data(self, svc: ServiceDef) -> None:
        """A service with demo data exposes `<package>.demo_data.load(database_url)` (idempotent)."""
        try:
            module = importlib.import_module(f"{svc.package}.demo_data")
        except ModuleNotFoundError:
            return
        assert self.pg is not None
        asyncio.run(module.load(self.pg.url(svc.database)))
        log.info("demo data loaded for %s", svc.name)

    def _signing_key(self) -> Path:
        path = self.data_dir / "identity" / "signing-key.pem"
        if not path.exists():
            from identity_bridge.adapters.signing_keys import generate_pem

            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(generate_pem())
            path.chmod(0o600)
        return path

    def service_env(self, svc: ServiceDef) -> dict[str, str]:
        assert self.pg is not None and self.nats is not None
        base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "ZC_ENV": "dev",
            # an adjustable clock (development only): `make demo` moves it over the 公示 periods
            "ZC_CLOCK_OFFSET_FILE": os.environ.get("ZC_CLOCK_OFFSET_FILE") or str(clock_offset_file(self.data_dir)),
            f"{svc.env}_DATABASE_URL": self.pg.url(svc.database),
            f"{svc.env}_NATS_URL": self.nats.url,
            f"{svc.env}_TOKEN_ISSUER": f"{base}/api/identity",
            f"{svc.env}_JWKS_URL": f"http://127.0.0.1:{self.service_ports.get('identity', self.port)}"
            "/api/identity/.well-known/jwks.json",
        }
        if svc.package == "identity_bridge":
            env.update(self._identity_env(base))
        if svc.package == "review":
            env["REVIEW_BPMN_DIR"] = str(REPO / "bpmn")  # the worker deploys changed diagrams as new versions
        if svc.package == "certificates":
            env.update(self._certificates_env(base))
            env["CERTIFICATES_ATTACHMENTS_DIR"] = str(self.data_dir / "certificates-attachments")
        if svc.package == "applications":
            env["APPLICATIONS_ATTACHMENTS_DIR"] = str(self.data_dir / "attachments")
            env.update(self._pii_env("applications", "APPLICATIONS"))
        return env

    def _pii_env(self, service: str, prefix: str) -> dict[str, str]:
        """A service's personal-data keys, made once and kept in the data dir (each service has its own)."""
        from zc_db.pii import generate_key_spec

        keys_file = self.data_dir / service / "pii-keys.env"
        if not keys_file.exists():
            keys_file.parent.mkdir(parents=True, exist_ok=True)
            ring = generate_key_spec("dev1")
            index = generate_key_spec("index").split(":", 1)[1]
            keys_file.write_text(
                f"{prefix}_PII_KEYS={ring}\n{prefix}_PII_ACTIVE_KEY=dev1\n{prefix}_PII_INDEX_KEY={index}\n"
            )
            keys_file.chmod(0o600)
        return dict(line.split("=", 1) for line in keys_file.read_text().splitlines() if "=" in line)

    def _certificates_env(self, base: str) -> dict[str, str]:
        """The certificate-signing key, made once and kept in the data dir; QR codes point at this gateway."""
        from certificates.adapters.signing import generate_key_spec

        key_file = self.data_dir / "certificates" / "signing-key.env"
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            key_file.write_text(f"CERTIFICATES_SIGNING_KEY={generate_key_spec('dev1')}\n")
            key_file.chmod(0o600)
        env = dict(line.split("=", 1) for line in key_file.read_text().splitlines() if "=" in line)
        env["CERTIFICATES_PUBLIC_BASE_URL"] = base
        return env

    def _identity_env(self, base: str) -> dict[str, str]:
        """Development settings of the identity bridge: its keys are made once and kept in the data dir."""
        env = self._pii_env("identity", "IDENTITY")
        env.update(
            {
                "ZC_ENV": "dev",
                "IDENTITY_DEV_LOGIN": "true",  # one-click demo users; refused when ZC_ENV=production
                "IDENTITY_SEED_DEMO_USERS": "true",  # registered from the start (a committee names its experts)
                "IDENTITY_COOKIE_SECURE": "false",  # plain http on loopback
                "IDENTITY_PUBLIC_BASE_URL": base,
                "IDENTITY_SIGNING_KEY_FILE": str(self._signing_key()),
            }
        )
        return env

    def start_services(self) -> None:
        (self.data_dir / "logs").mkdir(parents=True, exist_ok=True)
        for svc in SERVICES:
            self.service_ports[svc.prefix] = free_port()
        for svc in SERVICES:
            self._spawn_service(svc)
            log.info("%s on 127.0.0.1:%s (log: %s)", svc.name, self.service_ports[svc.prefix], self._log_of(svc))

    def _log_of(self, svc: ServiceDef) -> Path:
        return self.data_dir / "logs" / f"{svc.name}.log"

    def _spawn_service(self, svc: ServiceDef) -> None:
        port = self.service_ports[svc.prefix]  # the same port after a restart: the gateway keeps its upstreams
        self.procs[svc.name] = spawn(
            [sys.executable, "-m", "zc_devstack.service_host", svc.package, "--port", str(port)],
            log_file=self._log_of(svc),
            env=self.service_env(svc),
        )

    def supervise(self) -> threading.Thread:
        """Watches the services, NATS and PostgreSQL: one that exits is logged at once and started again after a
        backoff (1 s, doubling to 30 s; back to 1 s once it has stayed up a minute), on the same port and data,
        so the services' connection URLs stay valid (their clients reconnect). Restarts nothing once shutdown
        begins."""
        assert self.pg is not None and self.nats is not None
        pg, nats_server = self.pg, self.nats
        # name -> (its current process, how to start it again, its log)
        watched: dict[str, tuple[Callable[[], subprocess.Popen[bytes] | None], Callable[[], None], Path]] = {
            svc.name: (
                functools.partial(self.procs.get, svc.name),
                functools.partial(self._spawn_service, svc),
                self._log_of(svc),
            )
            for svc in SERVICES
        }
        watched["NATS"] = (lambda: nats_server.proc, nats_server.launch, nats_server.log_file)
        watched["PostgreSQL"] = (lambda: pg.proc, pg.launch, pg.log_file)

        def watch() -> None:
            backoff = dict.fromkeys(watched, 1.0)
            started = dict.fromkeys(watched, time.monotonic())
            due: dict[str, float] = {}
            while not self._stopping.wait(0.5):
                now = time.monotonic()
                for name, (current, restart, log_file) in watched.items():
                    with self._procs_lock:
                        if self._stopping.is_set():
                            return
                        proc = current()
                        code = proc.poll() if proc is not None else None
                        if code is None:
                            if now - started[name] > 60:
                                backoff[name] = 1.0
                            continue
                        if name not in due:
                            log.error(
                                "%s exited (%s); restarting in %.0f s (log: %s)", name, code, backoff[name], log_file
                            )
                            due[name] = now + backoff[name]
                        elif now >= due[name]:
                            del due[name]
                            started[name] = now
                            backoff[name] = min(backoff[name] * 2, 30.0)
                            try:
                                restart()
                            except Exception:  # the old process stays the current one: logged and retried
                                log.exception("%s could not be restarted", name)
                                continue
                            log.info("%s restarted", name)
            # The kernel sends a child its parent-death signal (procs.spawn) when the *thread* that started it
            # ends: this one must outlive what it restarted, so it waits for shutdown, which holds the lock.
            with self._procs_lock:
                pass

        thread = threading.Thread(target=watch, name="supervisor", daemon=True)
        thread.start()
        return thread

    def wait_ready(self, timeout: float = 60) -> dict[str, bool]:
        deadline = time.monotonic() + timeout
        ready: dict[str, bool] = {}
        with httpx.Client(timeout=2) as client:
            while time.monotonic() < deadline:
                for svc in SERVICES:
                    proc = self.procs[svc.name]
                    if proc.poll() is not None:
                        raise RuntimeError(f"{svc.name} exited ({proc.returncode}); see {self.data_dir}/logs")
                    url = f"http://127.0.0.1:{self.service_ports[svc.prefix]}/api/{svc.prefix}/readyz"
                    with contextlib.suppress(httpx.HTTPError):
                        ready[svc.name] = client.get(url).status_code == 200
                if len(ready) == len(SERVICES) and all(ready.values()):
                    return ready
                time.sleep(0.2)
        raise TimeoutError(f"services not ready after {timeout}s: {ready}")

    def gateway(self) -> uvicorn.Server:
        upstreams = {prefix: f"http://127.0.0.1:{port}" for prefix, port in self.service_ports.items()}
        app = create_gateway(upstreams, WEB_BUNDLE)
        return uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_config=None, access_log=False))

    def shutdown(self) -> None:
        """Services first (they finish in-flight work and drain), then NATS, then PostgreSQL. The supervisor
        stops first, so what is stopped is what is running, restarted processes included."""
        with self._procs_lock:  # held throughout: the supervisor neither restarts nor ends meanwhile
            self._stopping.set()
            for proc in self.procs.values():
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for name, proc in self.procs.items():
                stop(proc, signal.SIGTERM, timeout=30)
                log.info("%s stopped", name)
            self.procs.clear()
            if self.nats is not None:
                self.nats.stop()
                log.info("NATS stopped")
            if self.pg is not None:
                self.pg.stop()
                log.info("PostgreSQL stopped")
