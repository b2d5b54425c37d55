"""Issue 18 item 6, the short version of `make chaos`: a full 申报评审 (its expert votes meet a review process
started after 组织专家评审 made them), records with their reviews, and services killed at random moments; then
the reconciliation from the databases and NATS must find nothing lost, doubled, stuck or unsent."""

from __future__ import annotations

from pathlib import Path

import pytest

from zc_devstack.chaos import ANOMALIES, ChaosPlan, run_chaos


@pytest.mark.timeout(900)
def test_a_short_crash_matrix_loses_doubles_and_strands_nothing(tmp_path: Path, report_counts) -> None:
    table, ledger = run_chaos(
        tmp_path, ChaosPlan(journeys=1, records=6, fault_every=5.0, infra_faults=True, seed=7, max_faults=6)
    )
    report_counts({**table, "faults": sum(ledger.faults.values()), "resent": ledger.resent})
    assert ledger.client_failures == []
    assert ledger.faults["review"] >= 1 and sum(ledger.faults.values()) >= 4, ledger.faults
    assert table["submissions"] == 7 and table["approvals"] == 3 and table["decisions"] >= 20, table
    assert {name: table[name] for name in ANOMALIES} == dict.fromkeys(ANOMALIES, 0)
