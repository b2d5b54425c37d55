"""`python -m zc_devstack run`: what `make run` starts. Ctrl-C stops everything it started."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from pathlib import Path

import uvicorn

from zc_devstack.procs import free_port, port_is_free
from zc_devstack.stack import REPO, SERVICES, Stack

log = logging.getLogger("zc_devstack")

DEFAULT_PORT = 8000


def _announce_when_listening(server: uvicorn.Server, port: int, data_dir: Path) -> None:
    """Say where to go only once the gateway really accepts connections."""
    while not server.started:
        if server.should_exit:
            return
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    lines = [f"Zhicheng is running: {base}/"]
    lines += [f"  {s.name:<16} {base}/api/{s.prefix}/readyz   docs: {base}/api/{s.prefix}/docs" for s in SERVICES]
    lines += [f"  development login (demo users of every role): {base}/api/identity/dev/login"]
    lines += [f"  data: {data_dir}   logs: {data_dir}/logs   Ctrl-C stops everything"]
    sys.stderr.write("\n".join(lines) + "\n")


def run(data_dir: Path, port: int | None) -> int:
    if port is None:
        port = free_port(DEFAULT_PORT)
        if port != DEFAULT_PORT:
            log.warning("port %s is taken; serving on %s instead", DEFAULT_PORT, port)
    elif not port_is_free(port):
        log.error("port %s is taken: stop what uses it, or choose another (make run ARGS='--port N')", port)
        return 1
    stack = Stack(data_dir=data_dir, port=port)

    def _terminate(_sig: int, _frame: object) -> None:
        raise KeyboardInterrupt  # SIGTERM ends the run like Ctrl-C does

    signal.signal(signal.SIGTERM, _terminate)
    try:
        stack.start_infra()
        stack.prepare()
        stack.start_services()
        stack.wait_ready()
        server = stack.gateway()
        threading.Thread(target=_announce_when_listening, args=(server, port, data_dir), daemon=True).start()
        server.run()  # returns on Ctrl-C / SIGTERM
    except KeyboardInterrupt:
        pass
    finally:
        stack.shutdown()
        sys.stderr.write("Zhicheng stopped; nothing left running.\n")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m zc_devstack")
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="start the whole system on one port")
    p_run.add_argument("--port", type=int, help=f"gateway port (default {DEFAULT_PORT}, or a free one if taken)")
    p_run.add_argument("--data-dir", type=Path, default=REPO / ".data")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    raise SystemExit(run(args.data_dir.resolve(), args.port))


if __name__ == "__main__":
    main()
