"""What every benchmark returns and how `make bench` (bench/run_all.py) writes it into docs/benchmarks.md.

A benchmark module offers `run(quick: bool = False) -> Section` and, run as a script, prints
`section.markdown()`. Figures that have a target say so in `targets`, measured beside their reference in the
same run (the machines are noisy): the report's first table gathers every target of every section.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field


def pct(values: list[float], p: float) -> float:
    """The p-th percentile by nearest rank (values in any order, at least one)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}" if seconds < 0.01 else f"{seconds * 1000:.0f}"


def latency_row(values: list[float]) -> list[str]:
    """p50 / p95 / p99 / max in milliseconds, for a table row."""
    return [ms(statistics.median(values)), ms(pct(values, 95)), ms(pct(values, 99)), ms(max(values))]


@dataclass
class Target:
    what: str
    target: str
    measured: str
    met: bool | None  # None: reported, no pass/fail

    def cells(self) -> list[str]:
        verdict = "—" if self.met is None else ("met" if self.met else "**not met**")
        return [self.what, self.target, self.measured, verdict]


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]

    def markdown(self) -> str:
        align = ["---"] + ["---:"] * (len(self.headers) - 1)
        lines = ["| " + " | ".join(self.headers) + " |", "|" + "|".join(align) + "|"]
        lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in self.rows]
        return "\n".join(lines)


@dataclass
class Section:
    key: str
    title: str
    command: str
    method: str  # how it is measured, one paragraph
    tables: list[Table] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    limits: str = ""  # what limits the figure
    details: list[str] = field(default_factory=list)  # further markdown (query plans, profiles)
    seconds: float = 0.0  # how long the benchmark ran

    def markdown(self, level: int = 2) -> str:
        parts = [f"{'#' * level} {self.title}", f"Command: `{self.command}`", self.method]
        parts += [table.markdown() for table in self.tables]
        if self.targets:
            parts.append(Table(["figure", "target", "measured", ""], [t.cells() for t in self.targets]).markdown())
        if self.limits:
            parts.append(f"What limits it: {self.limits}")
        parts += self.details
        if self.seconds:
            parts.append(f"_Ran in {self.seconds:.0f} s._")
        return "\n\n".join(part for part in parts if part)
