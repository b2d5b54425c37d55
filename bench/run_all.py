"""`make bench`: every benchmark of the system in one run, printed as it goes and written to docs/benchmarks.md.

Run: `make bench` (or `.venv/bin/python bench/run_all.py [--quick] [--only MODULE,…] [--out PATH]`). Each module
below offers `run(quick) -> Section` (bench/report.py); `--quick` shrinks every size for a smoke run and does not
write the report unless `--out` is given. A benchmark that raises is reported as failed and the run exits 1.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from report import Section, Table  # noqa: E402

# (module, function) in the order they run: the quick in-process ones first, the whole stack last
BENCHMARKS: list[tuple[str, str]] = [
    ("review_host", "run"),
    ("big_inbox", "run"),
    ("applications_routes", "run"),
    ("mixed_load", "run_all"),  # one stack: submit → inbox, the mixed load, memory
]


def machine() -> Table:
    cpu = "?"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    rows = [
        ["date", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")],
        ["commit", head.stdout.strip() or "?"],
        ["CPU", f"{cpu}, {os.cpu_count()} logical cores (affinity: {len(os.sched_getaffinity(0))})"],
        ["memory", f"{psutil.virtual_memory().total / 2**30:.1f} GiB"],
        ["system", f"{platform.system()} {platform.release()}, Python {platform.python_version()}"],
        ["load average at start", " / ".join(f"{x:.2f}" for x in os.getloadavg())],
    ]
    return Table(["", ""], rows)


def collect(only: set[str] | None, quick: bool) -> tuple[list[Section], list[str]]:
    sections: list[Section] = []
    failures: list[str] = []
    for module_name, function in BENCHMARKS:
        if only and module_name not in only:
            continue
        module = importlib.import_module(module_name)
        run: Callable[[bool], Section | list[Section]] = getattr(module, function)
        started = time.perf_counter()
        try:
            result = run(quick)
        except Exception:  # a broken benchmark is reported, the others still run
            failures.append(f"{module_name}: {traceback.format_exc()}")
            print(f"\n{module_name} FAILED:\n{traceback.format_exc()}", flush=True)
            continue
        produced = result if isinstance(result, list) else [result]
        elapsed = time.perf_counter() - started
        for section in produced:
            section.seconds = section.seconds or elapsed / len(produced)
            sections.append(section)
            print("\n" + section.markdown(), flush=True)
    return sections, failures


def report(sections: list[Section], failures: list[str], total: float, quick: bool) -> str:
    targets = [[section.title, *target.cells()] for section in sections for target in section.targets]
    parts = [
        "# Benchmarks",
        "Written by `make bench` (`bench/run_all.py`); every figure below comes from that one run on the machine "
        "described here. The machine is shared and noisy: figures are compared with their reference measured in "
        "the same run, never with another run's. Each section names the command that reproduces it alone."
        + (" **Quick run: sizes shrunk, not the figures the targets are about.**" if quick else ""),
        "## Machine",
        machine().markdown(),
        "## Targets",
        Table(["benchmark", "figure", "target", "measured", ""], targets).markdown(),
        f"Whole run: {total / 60:.1f} minutes.",
    ]
    parts += [section.markdown(level=2) for section in sections]
    if failures:
        parts += ["## Failed", *[f"```\n{failure}\n```" for failure in failures]]
    return "\n\n".join(parts) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench/run_all.py")
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    parser.add_argument("--only", help="comma-separated module names (e.g. big_inbox,review_host)")
    parser.add_argument("--out", type=Path, help="where to write the report (default docs/benchmarks.md)")
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else None
    out = args.out or (None if args.quick else REPO / "docs" / "benchmarks.md")
    started = time.perf_counter()
    sections, failures = collect(only, args.quick)
    total = time.perf_counter() - started
    if out:
        out.write_text(report(sections, failures, total, args.quick), encoding="utf-8")
        print(f"\nwrote {out} ({total / 60:.1f} minutes)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
