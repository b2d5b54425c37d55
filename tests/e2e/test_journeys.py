"""Journeys across every service on the embedded stack, through the one gateway port and the demo users'
development login only (no database access): 申报评审 (direct review) from an empty application to a
certificate the public check confirms. The stack's clock is moved forward for the 5-working-day notices."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from e2e.test_dev_stack import stop_with_ctrl_c, wait_until_running

from integration.applications.test_application_lifecycle import PDF, SECTIONS, settings
from zc_devstack.procs import free_port

DAY = 24 * 3600
DEMO_COMMITTEE = "0193a1f0-0000-7000-8000-00000000c001"


class Stack:
    def __init__(self, base: str, clock_file: Path) -> None:
        self.base = base
        self.clock_file = clock_file
        self.offset = 0.0

    def advance(self, days: float) -> None:
        """Move every service's clock forward (the review scheduler picks due timers up within a second)."""
        self.offset += days * DAY
        self.clock_file.write_text(str(self.offset), encoding="utf-8")

    def login(self, who: str) -> httpx.Client:
        client = httpx.Client(base_url=self.base, timeout=30)
        r = client.post(f"/api/identity/dev/login/{who}?return_to=/")
        assert r.status_code == 303, r.text
        return client


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("journeys")
    port, clock_file, log = free_port(), tmp / "clock-offset", tmp / "stack.log"
    clock_file.write_text("0", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "zc_devstack", "run", "--data-dir", str(tmp / "data"), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=open(log, "wb"),  # the process owns it until it ends
        env={**os.environ, "ZC_LOG_FORMAT": "json", "ZC_CLOCK_OFFSET_FILE": str(clock_file)},
    )
    try:
        wait_until_running(proc, log)
        yield Stack(f"http://127.0.0.1:{port}", clock_file)
    finally:
        stop_with_ctrl_c(proc)


def eventually(probe: Callable[[], Any], what: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = probe()
        if result:
            return result
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def task_for(client: httpx.Client, key: str, what: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        r = client.get("/api/review/tasks", params={"size": 100})
        assert r.status_code == 200, r.text
        return next((t for t in r.json()["items"] if t["business_key"] == key), None)

    return dict(eventually(probe, what))


def act(client: httpx.Client, key: str, what: str, decision: str = "approve", **body: Any) -> dict[str, Any]:
    task = task_for(client, key, what)
    r = client.post(f"/api/review/tasks/{task['task_id']}/complete", json={"decision": decision, **body})
    assert r.status_code == 200, (what, r.text)
    return task


def fill_and_submit(applicant: httpx.Client) -> str:
    """The applicant's part: the cascade, every section, the committee's materials, 提交."""
    unit = "0193a1f0-0000-7000-8000-00000000a001"
    query = {"unit_id": unit, "method": "SHEHUIHUA", "series": "NONGYE", "level": "ZHONGJI", "year": 2026}
    committees = applicant.get("/api/applications/committees/query", params=query).json()
    # the demo committee, whose staff and experts are demo users
    committee = next(i for i in committees["direct"]["items"] if i["id"] == DEMO_COMMITTEE and i["selectable"])
    notice = applicant.get(f"/api/applications/committees/{committee['id']}/activities/2026").json()
    created = applicant.post("/api/applications/applications", json=settings(committee["id"]))
    assert created.status_code == 201, created.text
    app_id = created.json()["id"]
    for name, body in SECTIONS.items():
        r = applicant.put(
            f"/api/applications/applications/{app_id}/sections/{name}", json=body, headers={"If-Match": "0"}
        )
        assert r.status_code == 200, (name, r.text)
    counting = next(t for t in notice["achievement_templates"] if t["counts"])
    paper = {
        "template_code": counting["code"],
        "name": "丘陵山区农机化路径研究",
        "completed_on": "2024-03-01",
        "category": "论文",
        "journal": "四川农业科技",
        "journal_no": "CN51-1117/S",
        "author_rank": 1,
        "words_thousands": 6.5,
    }
    r = applicant.put(
        f"/api/applications/applications/{app_id}/sections/achievements", json=[paper], headers={"If-Match": "0"}
    )
    assert r.status_code == 200, r.text
    for material in notice["required_materials"]:
        if material["required"]:
            r = applicant.post(
                f"/api/applications/applications/{app_id}/materials",
                params={"material": material["name"], "filename": f"{material['name']}.pdf"},
                content=PDF,
            )
            assert r.status_code == 201, r.text
    submitted = applicant.post(f"/api/applications/applications/{app_id}/submit")
    assert submitted.status_code == 200, submitted.text
    return str(app_id)


@pytest.mark.timeout(600)
def test_direct_review_from_empty_application_to_a_checked_certificate(
    stack: Stack, report_counts: Callable[[dict[str, int]], None]
) -> None:
    started = time.monotonic()
    applicant = stack.login("applicant")
    app_id = fill_and_submit(applicant)

    unit = stack.login("unit_reviewer")
    act(unit, app_id, "单位审核", comment="同意推荐")
    stack.advance(8)  # the unit's 公示 (5 working days) runs out
    act(stack.login("department_reviewer"), app_id, "主管部门审核（一级）")
    act(stack.login("department_reviewer2"), app_id, "主管部门审核（二级）")
    committee = stack.login("committee_staff")
    act(committee, app_id, "评委会受理")
    experts = {who: stack.login(who) for who in ("expert", "expert2", "expert3")}
    expert_ids = [c.get("/api/identity/session").json()["user_id"] for c in experts.values()]
    act(committee, app_id, "组织专家评审", form={"experts": expert_ids})
    for (who, client), vote in zip(experts.items(), ("approve", "approve", "reject"), strict=True):
        act(client, app_id, f"专家表决 {who}", vote)  # 2 of 3: passes
    stack.advance(8)  # the result 公示 runs out
    act(stack.login("authority"), app_id, "授权管理单位确认")
    act(committee, app_id, "提交发证数据", form={"document_number": "成职改〔2026〕12号", "issue_date": "2026-12-28"})

    def my_certificate() -> dict[str, Any] | None:
        items = applicant.get("/api/certificates/certificates/mine").json()["items"]
        return items[0] if items else None

    certificate = eventually(my_certificate, "the certificate")
    assert certificate["holder_name"] == "王小明" and certificate["holder_id_masked"].endswith("5532")
    assert certificate["qualification_name"] == "农艺师" and certificate["document_number"] == "成职改〔2026〕12号"

    def certified() -> bool:
        apps = applicant.get("/api/applications/applications").json()["items"]
        return any(a["id"] == app_id and a["status_name"] == "已发证" for a in apps)

    eventually(certified, "已发证 in 我的申报")
    titles = [m["title"] for m in applicant.get("/api/applications/messages").json()["items"]]
    assert "证书已发放" in titles and "评审通过" in titles

    pdf = applicant.get(f"/api/certificates/certificates/{certificate['id']}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    anonymous = httpx.Client(base_url=stack.base, timeout=10)
    by_number = anonymous.get(
        "/api/certificates/public/check", params={"number": certificate["certificate_no"], "name": "王小明"}
    ).json()
    assert by_number["result"] == "valid" and by_number["holder_name"] == "王**"
    token = certificate["check_url"].rsplit("/", 1)[1]
    assert anonymous.get(f"/api/certificates/public/check/{token}").json()["result"] == "valid"

    trail = applicant.get(f"/api/review/trails/{app_id}").json()
    assert trail["status"] == "completed"
    report_counts({"wall_seconds": round(time.monotonic() - started)})  # listed in make test's summary
