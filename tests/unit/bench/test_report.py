"""The benchmark report's rendering (bench/report.py): percentiles by nearest rank and the markdown tables."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))

from report import Section, Table, Target, latency_row, pct


def test_percentiles_are_nearest_rank_over_unsorted_values() -> None:
    values = [float(v) for v in range(100, 0, -1)]  # 100 … 1
    assert pct(values, 50) == 51.0
    assert pct(values, 99) == 99.0
    assert pct(values, 100) == 100.0
    assert pct([7.0], 99) == 7.0


def test_latency_row_is_in_milliseconds() -> None:
    assert latency_row([0.010, 0.020, 0.030]) == ["20", "30", "30", "30"]
    assert latency_row([0.0012]) == ["1.2", "1.2", "1.2", "1.2"]


def test_a_section_renders_its_tables_and_says_which_targets_are_not_met() -> None:
    section = Section(
        key="k",
        title="Something",
        command="make bench",
        method="How.",
        tables=[Table(["rate", "p99 (ms)"], [["50/s", "12"]])],
        targets=[Target("p99", "< 10 ms", "12 ms", False), Target("rate", "≥ 1/s", "50/s", True)],
        limits="the disk",
    )
    text = section.markdown()
    assert text.startswith("## Something")
    assert "| rate | p99 (ms) |\n|---|---:|\n| 50/s | 12 |" in text
    assert "| p99 | < 10 ms | 12 ms | **not met** |" in text
    assert "| rate | ≥ 1/s | 50/s | met |" in text
    assert "What limits it: the disk" in text
