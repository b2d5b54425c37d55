"""The reviewer's inbox with 10,000 open tasks in scope (issue 21): how long 我的待办 takes to show its first page
in Chromium, and the two API calls behind it, beside the same for a reviewer with 20 tasks, in one run.

Run: `make bench-workbench` (or `.venv/bin/python bench/workbench_inbox.py [N]`). It starts `make run`'s stack on a
fresh data directory, adds N open unit-review tasks (and their instances) for the demo unit straight into the
review database (making 10,000 applications through the API would take most of an hour and measure something
else), signs in as 工作单位审核人 in Chromium and times: navigation start → the first row and "共 N 件" shown.
The comparison reviewer is the other unit's (unit_reviewer2) with 20 tasks made the same way. Figures are
medians and maxima of repeated loads; the machine is shared, so compare the two columns, not runs.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx
from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from e2e.browser import FLAGS  # noqa: E402
from e2e.test_dev_stack import stop_with_ctrl_c, wait_until_running  # noqa: E402

from zc_devstack.procs import free_port  # noqa: E402

UNIT = "0193a1f0-0000-7000-8000-00000000a001"  # the demo unit (工作单位审核人)
OTHER_UNIT = "0193a1f0-0000-7000-8000-00000000a003"  # unit_reviewer2's (省建筑设计院)
LOADS = 12


SEED = """
WITH definition AS (SELECT id FROM process_definitions WHERE process_key = 'application_review'
                    ORDER BY version DESC LIMIT 1),
made AS (
  INSERT INTO process_instances (id, definition_id, process_key, business_key, status, state, version,
                                 current_stage, waiting, routing, tree_size, created_at, updated_at)
  SELECT gen_random_uuid(), definition.id, 'application_review', gen_random_uuid()::text, 'running', '{}'::jsonb, 1,
         'unit', '[]'::jsonb, jsonb_build_object('unit_id', $1::text, 'qualification_name', '农艺师'), 0,
         now() - (n || ' minutes')::interval, now()
  FROM definition, generate_series(1, $2::int) AS n
  RETURNING id, business_key, created_at
)
INSERT INTO open_tasks (task_id, instance_id, process_key, business_key, task_name, title, role, scope_type,
                        scope_id, candidate_group, decisions, stage, series_code, unit_id, created_at, due_at)
SELECT gen_random_uuid(), id, 'application_review', business_key, 'unit_review', '单位审核推荐', 'unit_reviewer',
       'unit', $1::text, 'unit_reviewer@unit:' || $1::text, '["approve", "return", "reject"]'::jsonb, 'unit',
       'NONGYE', $1::text, created_at, created_at + interval '14 days'
FROM made
"""


def postgres_port(data_dir: Path) -> int:
    """The embedded server's port, from its postmaster.pid (4th line)."""
    return int((data_dir / "postgres" / "pgdata" / "postmaster.pid").read_text().splitlines()[3])


async def seed(port: int, unit: str, n: int) -> None:
    conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{port}/zc_review")
    try:
        await conn.execute(SEED, unit, n)
        await conn.execute("ANALYZE open_tasks; ANALYZE process_instances")
    finally:
        await conn.close()


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def api_times(base: str, who: str, rounds: int = 60) -> list[float]:
    """GET /tasks (first page) + /tasks/counts, as the inbox asks them, one after the other."""
    with httpx.Client(base_url=base, timeout=60, headers={"X-Requested-With": "zhicheng"}) as client:
        assert client.post(f"/api/identity/dev/login/{who}", params={"return_to": "/"}).status_code == 303
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            page = client.get("/api/review/tasks", params={"page": 1, "size": 20, "sort": "due_at"})
            counts = client.get("/api/review/tasks/counts")
            times.append(time.perf_counter() - start)
            assert page.status_code == 200 and counts.status_code == 200
        return times


def render_times(base: str, label: str, expected: int) -> list[float]:
    """Navigation start → the first row and 共 N 件 visible, over repeated loads of 我的待办."""
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=FLAGS)
        try:
            page = browser.new_context(base_url=base, locale="zh-CN").new_page()
            page.goto("/api/identity/dev/login?return_to=/workbench/tasks")
            page.get_by_role("button", name=label, exact=True).click()
            page.locator(".el-table__row").first.wait_for()
            times = []
            for _ in range(LOADS):
                start = time.perf_counter()
                page.goto("/workbench/tasks")
                page.locator(".el-table__row").first.wait_for()
                page.get_by_text(f"我的待办（共 {expected} 件）").wait_for()
                times.append(time.perf_counter() - start)
            return times
        finally:
            browser.close()


def main(n: int) -> None:
    data = Path(tempfile.mkdtemp(prefix="zc-bench-inbox-"))
    port = free_port()
    log = data / "stack.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "zc_devstack", "run", "--data-dir", str(data / "data"), "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
    try:
        wait_until_running(proc, log)
        base = f"http://127.0.0.1:{port}"
        pg = postgres_port(data / "data")
        started = time.perf_counter()
        asyncio.run(seed(pg, UNIT, n))
        asyncio.run(seed(pg, OTHER_UNIT, 20))
        print(f"seeded {n} + 20 open tasks in {time.perf_counter() - started:.1f} s")
        rows = []
        for who, label, count in (
            ("unit_reviewer2", "工作单位审核人（省建筑设计院）", 20),
            ("unit_reviewer", "工作单位审核人", n),
        ):
            api = api_times(base, who)
            render = render_times(base, label, count)
            rows.append((count, api, render))
        print()
        print("| open tasks in scope | API p50 (ms) | API p99 (ms) | first page shown, median (ms) | max (ms) |")
        print("|---:|---:|---:|---:|---:|")
        for count, api, render in rows:
            print(
                f"| {count:,} | {statistics.median(api) * 1000:.0f} | {pct(api, 99) * 1000:.0f} "
                f"| {statistics.median(render) * 1000:.0f} | {max(render) * 1000:.0f} |"
            )
        big = rows[-1][2]
        print(
            f"\ntarget: first page < 1000 ms with {n:,} tasks — median {statistics.median(big) * 1000:.0f} ms, "
            f"max {max(big) * 1000:.0f} ms: {'met' if max(big) < 1 else 'NOT met'}"
        )
    finally:
        stop_with_ctrl_c(proc)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
