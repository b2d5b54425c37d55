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
        stack.supervise()
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
    p_demo = sub.add_parser("demo", help="drive the 申报评审 journey through a running `make run` stack")
    p_demo.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"the stack's port (default {DEFAULT_PORT})")
    p_demo.add_argument("--data-dir", type=Path, default=REPO / ".data")
    p_chaos = sub.add_parser("chaos", help="the crash matrix: load while processes are killed, then reconcile")
    p_chaos.add_argument("--journeys", type=int, default=10, help="full 申报评审, one after another (at most 14)")
    p_chaos.add_argument("--records", type=int, default=90, help="外省职称确认 and 专技人才统计 records")
    p_chaos.add_argument("--fault-every", type=float, default=8.0, help="mean seconds between faults")
    p_chaos.add_argument("--no-infra-faults", action="store_true", help="kill services only, not NATS/PostgreSQL")
    p_chaos.add_argument("--seed", type=int, default=18)
    p_chaos.add_argument("--max-faults", type=int, default=30)
    p_chaos.add_argument("--data-dir", type=Path, default=REPO / ".data-chaos", help="wiped first")
    p_chaos.add_argument("--report", type=Path, help="write the reconciliation table (Markdown) here")
    p_openapi = sub.add_parser("openapi", help="write web/openapi.json, the merged OpenAPI of the four services")
    p_openapi.add_argument("--check", action="store_true", help="fail when the committed file is stale")
    args = parser.parse_args()
    if args.command == "openapi":
        from zc_devstack.openapi_export import export

        raise SystemExit(export(args.check))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if args.command == "demo":
        raise SystemExit(demo(args.data_dir.resolve(), args.port))
    if args.command == "chaos":
        raise SystemExit(chaos(args))
    raise SystemExit(run(args.data_dir.resolve(), args.port))


def demo(data_dir: Path, port: int) -> int:
    """Each step in Chinese with the acting role and the resulting status; the stack's clock is moved
    forward for the two 公示 periods and put back at the end, and each run takes a demo applicant who has no
    application yet, so the demo runs again and again on the same data."""
    import httpx

    from zc_devstack.journey import Journey
    from zc_devstack.stack import clock_offset_file

    base = f"http://127.0.0.1:{port}"
    try:
        httpx.get(f"{base}/api/review/readyz", timeout=5).raise_for_status()
    except httpx.HTTPError:
        sys.stderr.write(f"没有找到运行中的系统（{base}）。请先在另一个终端运行 make run。\n")
        return 1
    offset_file = clock_offset_file(data_dir)

    def advance(seconds: float) -> None:
        current = float(offset_file.read_text().strip() or 0) if offset_file.exists() else 0.0
        offset_file.write_text(str(current + seconds))

    def say(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    applicant = _fresh_demo_applicant(base)
    if applicant is None:
        sys.stderr.write("每位演示申报人都已有本年度的申报。请停止系统、运行 make clean-data 后再试。\n")
        return 1
    say(f"职称申报评审演示（直接评审，演示申报人 {applicant}）：")
    started = time.monotonic()
    before = offset_file.read_text() if offset_file.exists() else "0"
    try:
        outcome = Journey(base, advance_clock=advance, say=say, applicant=applicant).direct_review()
    finally:
        offset_file.write_text(before)  # the clock as it was: the next run meets the activity still open
    number = outcome.certificate["certificate_no"]
    say(f"完成：{outcome.steps} 步，用时 {time.monotonic() - started:.1f} 秒；证书编号 {number}，")
    say(f"公开查询结果：{outcome.check_by_number['result_name']}。")
    return 0 if outcome.check_by_number.get("result") == "valid" else 2


def _fresh_demo_applicant(base: str) -> str | None:
    """The first demo applicant without an application (each may hold one per title and year)."""
    import httpx

    from identity_bridge.demo_users import DEMO_USERS

    for user in DEMO_USERS:
        if not user.key.startswith("applicant"):
            continue
        with httpx.Client(base_url=base, timeout=30) as client:
            client.post(f"/api/identity/dev/login/{user.key}", params={"return_to": "/"})
            mine = client.get("/api/applications/applications")
            if mine.status_code == 200 and not mine.json()["items"]:
                return user.key
    return None


def chaos(args: argparse.Namespace) -> int:
    import shutil

    from zc_devstack.chaos import ChaosPlan, report, run_chaos

    shutil.rmtree(args.data_dir, ignore_errors=True)
    plan = ChaosPlan(
        args.journeys, args.records, args.fault_every, not args.no_infra_faults, args.seed, args.max_faults
    )
    started = time.monotonic()
    table, ledger = run_chaos(args.data_dir.resolve(), plan)
    text = report(plan, table, ledger, time.monotonic() - started)
    sys.stdout.write(text)
    if args.report:
        args.report.write_text(text, encoding="utf-8")
    return 0 if not table_anomalies(table) else 1


def table_anomalies(table: dict[str, int]) -> list[str]:
    from zc_devstack.chaos import ANOMALIES

    return [name for name in ANOMALIES if table.get(name)]


if __name__ == "__main__":
    main()
