"""Journeys across every service on the embedded stack, through the one gateway port and the demo users'
development login only (no database access). The journey itself is `zc_devstack.journey`, the same code
`make demo` runs; here it runs on a fresh stack and every service's result is asserted."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from e2e.test_dev_stack import stop_with_ctrl_c, wait_until_running

from zc_devstack.journey import Journey
from zc_devstack.procs import free_port


class Stack:
    def __init__(self, base: str, clock_file: Path) -> None:
        self.base, self.clock_file, self.offset = base, clock_file, 0.0

    def advance(self, seconds: float) -> None:
        self.offset += seconds
        self.clock_file.write_text(str(self.offset), encoding="utf-8")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("journeys")
    port, clock_file, log = free_port(), tmp / "clock-offset", tmp / "stack.log"
    clock_file.write_text("0", encoding="utf-8")
    with open(log, "wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "zc_devstack", "run", "--data-dir", str(tmp / "data"), "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env={**os.environ, "ZC_LOG_FORMAT": "json", "ZC_CLOCK_OFFSET_FILE": str(clock_file)},
        )
        try:
            wait_until_running(proc, log)
            yield Stack(f"http://127.0.0.1:{port}", clock_file)
        finally:
            stop_with_ctrl_c(proc)


@pytest.mark.timeout(600)
def test_direct_review_from_empty_application_to_a_checked_certificate(
    stack: Stack, report_counts: Callable[[dict[str, int]], None]
) -> None:
    said: list[str] = []
    started = time.monotonic()
    journey = Journey(stack.base, advance_clock=stack.advance, say=said.append)
    outcome = journey.direct_review()
    report_counts({"steps": outcome.steps, "wall_seconds": round(time.monotonic() - started)})

    # applications: the status and the notices
    assert outcome.application_status == "已发证"
    assert {"评审通过", "证书已发放"} <= set(outcome.messages)
    # review: the trail ended, every stage passed in order
    applicant = journey.as_("applicant")
    trail = applicant.get(f"/api/review/trails/{outcome.application_id}").json()
    assert trail["status"] == "completed"
    labels = [s["label"] for s in trail["steps"]]
    assert labels[0] == "提交审核" and "timer" in [s["kind"] for s in trail["steps"]]
    # certificates: the holder's name came from the identity bridge; the public check confirms it
    certificate = outcome.certificate
    assert certificate["holder_name"] == "王小明" and certificate["holder_id_masked"].endswith("5532")
    assert certificate["qualification_name"] == "农艺师" and certificate["document_number"] == "川职改〔2026〕18号"
    assert outcome.check_by_number["result"] == "valid" and outcome.check_by_number["holder_name"] == "王**"
    assert outcome.check_by_token["result"] == "valid"
    # the steps say who acted and where the application stands, in Chinese
    assert "【申报人】提交申报 → 审核中" in said[1], said[1]
    assert any("【主管部门（二级）】主管部门审核：通过 → 审核中" in line for line in said), said
    assert any("【评审专家 3】专家评议表决：不通过" in line for line in said), said
    anonymous = httpx.get(f"{stack.base}/api/certificates/certificates/{certificate['id']}/pdf", timeout=10)
    assert anonymous.status_code == 401
