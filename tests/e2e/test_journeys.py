"""Journeys across every service on the embedded stack, through the one gateway port and the demo users'
development login only (no database access). The journey itself is `zc_devstack.journey`, the same code
`make demo` runs; here it runs on a fresh stack and every service's result is asserted."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from e2e.test_dev_stack import stop_with_ctrl_c, wait_until_running

from integration.applications.test_records import JPEG, OUT_OF_PROVINCE, PDF, TALENT
from integration.certificates.test_verifications import HISTORICAL
from zc_devstack.demo_application import SECTIONS, UNIT, paper, settings
from zc_devstack.journey import DEMO_COMMITTEE, Journey
from zc_devstack.procs import free_port
from zc_devstack.stack import clock_offset_file
from zc_messaging import TOPOLOGY


class Stack:
    def __init__(self, base: str, clock_file: Path, nats_url: str) -> None:
        self.base, self.clock_file, self.offset, self.nats_url = base, clock_file, 0.0, nats_url
        self.data_dir, self.port = clock_file.parent, int(base.rsplit(":", 1)[1])

    def advance(self, seconds: float) -> None:
        self.offset += seconds
        self.clock_file.write_text(str(self.offset), encoding="utf-8")

    def journey(self, said: list[str] | None = None, *, applicant: str = "applicant") -> Journey:
        """Each journey has its own demo applicant and starts on the real date (the working-day calendar
        holds 2026 only)."""
        self.offset = 0.0
        self.clock_file.write_text("0", encoding="utf-8")
        sink = said if said is not None else []
        return Journey(self.base, advance_clock=self.advance, say=sink.append, applicant=applicant)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("journeys")
    # the clock file `make run` and `make demo` use (the data directory's), so `make demo` can run on this stack
    data = tmp / "data"
    data.mkdir()
    port, clock_file, log = free_port(), clock_offset_file(data), tmp / "stack.log"
    clock_file.write_text("0", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "ZC_CLOCK_OFFSET_FILE"}
    with open(log, "wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "zc_devstack", "run", "--data-dir", str(data), "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env={**env, "ZC_LOG_FORMAT": "json"},
        )
        try:
            wait_until_running(proc, log)
            nats_port = re.search(r"NATS JetStream on 127\.0\.0\.1:(\d+)", log.read_text()).group(1)  # type: ignore[union-attr]
            yield Stack(f"http://127.0.0.1:{port}", clock_file, f"nats://127.0.0.1:{nats_port}")
        finally:
            stop_with_ctrl_c(proc)


async def _jetstream(nats_url: str) -> dict[str, int]:
    """What the streams hold and what every durable consumer has left to do (NATS, not any database)."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        state = {"events": 0, "dead_letters": 0, "pending": 0, "redelivered": 0}
        for stream in TOPOLOGY.streams:
            info = await js.stream_info(stream.name)
            state["dead_letters" if stream.name == "DLQ" else "events"] += info.state.messages
        for consumer in TOPOLOGY.consumers:
            info = await js.consumer_info(consumer.stream, consumer.durable)
            state["pending"] += info.num_pending + info.num_ack_pending
            state["redelivered"] += info.num_redelivered
        return state
    finally:
        await nc.close()


@pytest.fixture
def events_handled_once(stack: Stack, report_counts: Callable[[dict[str, int]], None]) -> Iterator[None]:
    """Around each journey: the events it produced, and that every one was handled once — each consumer
    drained, nothing redelivered, nothing dead-lettered."""
    before = asyncio.run(_jetstream(stack.nats_url))
    started = time.monotonic()
    yield
    deadline = time.monotonic() + 30
    after = asyncio.run(_jetstream(stack.nats_url))
    while after["pending"] and time.monotonic() < deadline:
        time.sleep(0.3)
        after = asyncio.run(_jetstream(stack.nats_url))
    report_counts(
        {
            "wall_seconds": round(time.monotonic() - started),
            "events": after["events"] - before["events"],
            "redelivered": after["redelivered"] - before["redelivered"],
        }
    )
    assert after["pending"] == 0, after
    assert after["redelivered"] == before["redelivered"], (before, after)
    assert after["dead_letters"] == 0, after


@pytest.mark.timeout(600)
@pytest.mark.usefixtures("events_handled_once")
def test_direct_review_from_empty_application_to_a_checked_certificate(stack: Stack) -> None:
    said: list[str] = []
    journey = stack.journey(said)
    outcome = journey.direct_review()

    # applications: the status and the notices
    assert outcome.application_status == "已发证"
    assert {"评审通过", "证书已发放"} <= set(outcome.messages)
    # review: the trail ended, every stage passed in order
    applicant = journey.as_(journey.applicant)
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


def application(journey: Journey) -> dict[str, Any]:
    apps = journey.as_(journey.applicant).get("/api/applications/applications").json()["items"]
    return dict(next(a for a in apps if a["id"] == journey.outcome.application_id))


def messages(journey: Journey) -> list[dict[str, Any]]:
    return list(journey.as_(journey.applicant).get("/api/applications/messages").json()["items"])


def through_departments(journey: Journey) -> None:
    journey.act("unit_reviewer", "工作单位", "单位审核推荐")
    journey.pass_days(8, "单位公示期满")
    journey.act("department_reviewer", "主管部门（一级）", "主管部门审核")
    journey.act("department_reviewer2", "主管部门（二级）", "主管部门审核")


@pytest.mark.usefixtures("events_handled_once")
@pytest.mark.timeout(300)
def test_a_department_return_is_edited_resubmitted_and_goes_on(stack: Stack) -> None:
    journey = stack.journey(applicant="applicant2")
    journey.submit()
    journey.act("unit_reviewer", "工作单位", "单位审核推荐")
    journey.pass_days(8, "单位公示期满")
    journey.act("department_reviewer", "主管部门（一级）", "主管部门审核", "return", reasons=["业绩证明材料不清晰"])
    returned = journey.eventually(lambda: application(journey)["status_name"] == "已退回", "已退回")
    assert returned
    notice = next(m for m in messages(journey) if m["title"] == "申报已退回")
    assert "业绩证明材料不清晰" in notice["body"]
    applicant, app_id = journey.as_(journey.applicant), journey.outcome.application_id
    detail = applicant.get(f"/api/applications/applications/{app_id}").json()
    version = detail["section_versions"]["basic_info"]
    edited = {**SECTIONS["basic_info"], "performance_summary": "补充：近三年农机推广项目的验收证明已上传。"}
    r = applicant.put(
        f"/api/applications/applications/{app_id}/sections/basic_info", json=edited, headers={"If-Match": str(version)}
    )
    assert r.status_code == 200, r.text
    assert applicant.post(f"/api/applications/applications/{app_id}/submit").status_code == 200
    # back to the department that returned it, not to the unit
    journey.act("department_reviewer", "主管部门（一级）", "主管部门审核")
    journey.act("department_reviewer2", "主管部门（二级）", "主管部门审核")
    trail = applicant.get(f"/api/review/trails/{app_id}").json()
    assert [s["reason"] for s in trail["steps"] if s["decision"] == "return"] == ["业绩证明材料不清晰"]
    assert "申报人修改后重新提交" in [s["label"] for s in trail["steps"]]


@pytest.mark.usefixtures("events_handled_once")
@pytest.mark.timeout(300)
def test_a_failed_vote_ends_as_not_passed_with_the_reason(stack: Stack) -> None:
    journey = stack.journey(applicant="applicant3")
    journey.submit()
    through_departments(journey)
    journey.act("committee_staff", "评委会", "受理")
    experts = ("expert", "expert2", "expert3")
    ids = [journey.as_(who).get("/api/identity/session").json()["user_id"] for who in experts]
    journey.act("committee_staff", "评委会", "组织专家评审", form={"experts": ids})
    for who, vote in zip(experts, ("approve", "reject", "reject"), strict=True):
        journey.act(who, "评审专家", "评议表决", vote)
    failed = journey.eventually(lambda: application(journey)["status_name"] == "未通过", "未通过")
    assert failed
    assert "赞成 1 票，共 3 票" in (application(journey)["status_reason"] or "")
    assert "评审未通过" in [m["title"] for m in messages(journey)]
    assert journey.as_(journey.applicant).get("/api/certificates/certificates/mine").json()["items"] == []


@pytest.mark.usefixtures("events_handled_once")
@pytest.mark.timeout(300)
def test_withdraw_before_the_unit_acts_is_granted_and_after_is_refused(stack: Stack) -> None:
    journey = stack.journey(applicant="applicant4")
    journey.submit()
    applicant, app_id = journey.as_(journey.applicant), journey.outcome.application_id
    journey.task_for("unit_reviewer", app_id, "单位待办")
    assert applicant.post(f"/api/applications/applications/{app_id}/withdraw").status_code == 200
    journey.eventually(lambda: application(journey)["status_name"] == "已撤回", "撤回成功")
    assert "撤回成功" in [m["title"] for m in messages(journey)]
    assert applicant.post(f"/api/applications/applications/{app_id}/submit").status_code == 200
    journey.act("unit_reviewer", "工作单位", "单位审核推荐")
    assert applicant.post(f"/api/applications/applications/{app_id}/withdraw").status_code == 200
    journey.eventually(lambda: "撤回未成功" in [m["title"] for m in messages(journey)], "撤回未成功")
    assert application(journey)["status_name"].startswith("审核中")


@pytest.mark.usefixtures("events_handled_once")
@pytest.mark.timeout(300)
def test_initial_determination_is_issued_by_the_authority(stack: Stack) -> None:
    journey = stack.journey(applicant="applicant5")
    applicant = journey.as_(journey.applicant)
    created = applicant.post(
        "/api/applications/applications",
        json=settings(None, method="RENDING", level="ZHULI", qualification="NONGYE_ZHULI_NONGYI"),
    )
    assert created.status_code == 201, created.text
    app_id = journey.outcome.application_id = created.json()["id"]
    for name in ("basic_info", "education", "work_history", "assessments", "continuing_education"):
        r = applicant.put(
            f"/api/applications/applications/{app_id}/sections/{name}", json=SECTIONS[name], headers={"If-Match": "0"}
        )
        assert r.status_code == 200, r.text
    assert applicant.post(f"/api/applications/applications/{app_id}/submit").status_code == 200
    unit_task = journey.task_for("unit_reviewer", app_id, "初定的单位待办")
    detail = journey.as_("unit_reviewer").get(f"/api/review/tasks/{unit_task['task_id']}").json()
    # 大学本科 and 18 years of work (2008 to now): the table recommends 助理级
    assert detail["routing"]["recommended_level_name"] == "助理级"
    journey.act("unit_reviewer", "工作单位", "单位审核")
    journey.act("department_reviewer", "主管部门（一级）", "主管部门审核")
    journey.act("department_reviewer2", "主管部门（二级）", "主管部门审核")
    journey.act(
        "authority",
        "授权管理单位",
        "审核发证",
        form={"document_number": "成人社初〔2026〕9号", "issue_date": "2026-12-01"},
    )
    journey.collect()
    assert journey.outcome.application_status == "已发证"
    assert journey.outcome.certificate["qualification_name"] == "助理农艺师"
    assert journey.outcome.check_by_number["result"] == "valid"


@pytest.mark.usefixtures("events_handled_once")
@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    ("kind", "content", "reviewers"),
    [
        ("talent_stats", TALENT, ["unit_reviewer"]),
        (
            "out_of_province",
            OUT_OF_PROVINCE,
            ["unit_reviewer", "department_reviewer", "department_reviewer2", "authority"],
        ),
    ],
)
def test_records_go_through_their_review(
    stack: Stack, kind: str, content: dict[str, Any], reviewers: list[str]
) -> None:
    journey = stack.journey(applicant="applicant7")
    applicant = journey.as_(journey.applicant)
    record = applicant.post(f"/api/applications/records/{kind}", json={"unit_id": UNIT}).json()
    r = applicant.put(f"/api/applications/records/{kind}/{record['id']}", json=content, headers={"If-Match": "0"})
    assert r.status_code == 200, r.text
    if kind == "out_of_province":  # the photo and a proof of the original title
        base = f"/api/applications/records/{kind}/{record['id']}"
        assert applicant.post(f"{base}/photo", content=JPEG).status_code == 201
        assert applicant.post(f"{base}/proofs", params={"filename": "原证书.pdf"}, content=PDF).status_code == 201
    assert applicant.post(f"/api/applications/records/{kind}/{record['id']}/submit").status_code == 200
    journey.outcome.application_id = record["id"]
    for who in reviewers:
        seen = journey.as_(who).get(f"/api/applications/review/records/{record['id']}")
        assert seen.status_code == 200 and seen.json()["content"] == content, who
        act_on_record(journey, who, record["id"])

    def approved() -> bool:
        mine = applicant.get(f"/api/applications/records/{kind}").json()["items"]
        return any(r["id"] == record["id"] and r["status_name"] == "审核通过" for r in mine)

    journey.eventually(approved, "审核通过")
    if kind == "out_of_province":  # the confirmed title is recorded under 我的证书

        def confirmed() -> bool:
            items = applicant.get("/api/certificates/certificates/mine").json()["items"]
            return any(c["source"] == "out_of_province" and c["qualification_name"] == "高级农艺师" for c in items)

        journey.eventually(confirmed, "外省职称确认的证书")


def act_on_record(journey: Journey, who: str, key: str) -> None:
    found = journey.task_for(who, key, f"{who} 的待办")
    r = journey.as_(who).post(f"/api/review/tasks/{found['task_id']}/complete", json={"decision": "approve"})
    assert r.status_code == 200, r.text


@pytest.mark.usefixtures("events_handled_once")
@pytest.mark.timeout(300)
def test_a_missed_resubmission_deadline_ends_the_application(stack: Stack) -> None:
    journey = stack.journey(applicant="applicant6")
    journey.submit()
    journey.act("unit_reviewer", "工作单位", "单位审核推荐", "return", reasons=["照片不合格"])
    journey.eventually(lambda: application(journey)["status_name"] == "已退回", "已退回")
    journey.pass_days(17, "个人修改提交截止（10 个工作日）")
    ended = journey.eventually(lambda: application(journey)["status_name"] == "未通过", "未通过")
    assert ended and application(journey)["status_reason"] == "逾期未修改提交，申报终止"


@pytest.mark.usefixtures("events_handled_once")
@pytest.mark.timeout(300)
def test_certificate_verification_lists_a_verified_certificate(stack: Stack) -> None:
    journey = stack.journey(applicant="applicant7")
    applicant = journey.as_(journey.applicant)
    created = applicant.post("/api/certificates/verifications", json={"committee_id": DEMO_COMMITTEE})
    assert created.status_code == 201, created.text
    vid = created.json()["id"]
    r = applicant.put(f"/api/certificates/verifications/{vid}", json=HISTORICAL, headers={"If-Match": "0"})
    assert r.status_code == 200, r.text
    base = f"/api/certificates/verifications/{vid}"
    assert applicant.post(f"{base}/social-insurance/sync").status_code == 200  # 同步社保数据
    assert applicant.post(f"{base}/attachments", params={"filename": "职称证书.pdf"}, content=PDF).status_code == 201
    assert applicant.post(f"/api/certificates/verifications/{vid}/submit").status_code == 200
    seen = journey.as_("committee_organiser").get(f"/api/certificates/review/verifications/{vid}")
    assert seen.status_code == 200 and seen.json()["attachments"] and seen.json()["social_insurance"]["records"]
    act_on_record(journey, "committee_organiser", vid)

    def verified() -> dict[str, Any] | None:
        items = applicant.get("/api/certificates/certificates/mine").json()["items"]
        return next((c for c in items if c["source"] == "verified"), None)

    certificate = journey.eventually(verified, "核验通过的证书")
    assert certificate["certificate_no"] == HISTORICAL["certificate_no"] and certificate["holder_name"] == "吴佳琪"
    record = applicant.get("/api/certificates/verifications").json()["items"][0]
    assert record["status_name"] == "核验通过"


@pytest.mark.usefixtures("events_handled_once")
@pytest.mark.timeout(300)
def test_entrusted_review_is_issued_by_the_department_that_entrusted_it(stack: Stack) -> None:
    journey = stack.journey(applicant="applicant8")
    outcome = journey.entrusted_review()
    assert outcome.application_status == "已发证"
    assert outcome.certificate["issuing_authority"] == "成都市农业农村局"  # the letter's issuer, by name
    assert outcome.certificate["document_number"] == "成农委评〔2026〕5号"
    assert outcome.certificate["evaluation_method"] == "委托评审"
    assert outcome.check_by_number["result"] == "valid"


@pytest.mark.timeout(300)
def test_the_form_carries_files_a_waiver_and_the_registered_identity_and_abandon_removes_them(stack: Stack) -> None:
    """Issue 19 items 1, 3, 5 and 11 through the gateway: entries' files and a 破格 claim with its proof reach the
    unit reviewer with the applicant's registered identity; 废弃 takes the information and the files away."""
    journey = stack.journey(applicant="applicant9")
    applicant, unit = journey.as_("applicant9"), journey.as_("unit_reviewer")
    notice = applicant.get(f"/api/applications/committees/{DEMO_COMMITTEE}/activities/2026").json()
    created = applicant.post("/api/applications/applications", json=settings(DEMO_COMMITTEE))
    assert created.status_code == 201, created.text
    app = created.json()
    base = f"/api/applications/applications/{app['id']}"
    # 5: who applies, as the identity platform registered them
    assert app["applicant_identity"] == {
        "name": "郑浩然",
        "id_type": "居民身份证",
        "id_number_masked": "*****3530",
        "gender": "男",
        "birth_date": "1988-04-12",
    }
    # the whole form in one 暂存; the entries come back with their ids
    paper_clause = next(t for t in notice["achievement_templates"] if t["counts"] and t["form"] == "paper")
    form = {name: {"version": 0, "content": body} for name, body in SECTIONS.items()}
    form["achievements"] = {"version": 0, "content": [paper(paper_clause["code"])]}
    waiver = notice["waivers"][0]
    form["waiver"] = {"version": 0, "content": {"waiver_code": waiver["code"], "justification": "获省农技推广奖。"}}
    saved = applicant.put(f"{base}/sections", json=form)
    assert saved.status_code == 200, saved.text
    (degree,) = saved.json()["education"]["content"]
    (article,) = saved.json()["achievements"]["content"]

    # 1: files on entries, as multipart/form-data
    def upload(section: str, entry: str, name: str) -> dict[str, Any]:
        r = applicant.post(f"{base}/sections/{section}/entries/{entry}/attachments", files={"file": (name, PDF)})
        assert r.status_code == 201, r.text
        return dict(r.json())

    diploma = upload("education", degree["id"], "学位证.pdf")
    upload("achievements", article["id"], "论文首页.pdf")
    proof = upload("waiver", "proof", "获奖证书.pdf")  # 3: the claim's proof
    for material in notice["required_materials"]:
        if material["required"]:
            r = applicant.post(
                f"{base}/materials", params={"material": material["name"]}, files={"file": ("m.pdf", PDF)}
            )
            assert r.status_code == 201, r.text
    assert applicant.post(f"{base}/submit").status_code == 200

    seen = unit.get(f"/api/applications/review/applications/{app['id']}")
    assert seen.status_code == 200, seen.text
    view = seen.json()
    assert view["applicant"]["name"] == "郑浩然" and view["applicant"]["id_number_masked"] == "*****3530"
    assert view["sections"]["waiver"]["condition"] == waiver["condition"]
    assert {(f["section"], f["filename"]) for f in view["attachments"]} >= {
        ("education", "学位证.pdf"),
        ("achievements", "论文首页.pdf"),
        ("waiver", "获奖证书.pdf"),
    }
    for file in (diploma, proof):
        got = unit.get(f"/api/applications/review/applications/{app['id']}/attachments/{file['id']}")
        assert got.status_code == 200 and got.content == PDF
    stranger = journey.as_("applicant3")
    assert stranger.get(f"{base}/attachments/{diploma['id']}").status_code == 404

    # 11: another applicant's draft with files, abandoned: its information and files are gone
    other = journey.as_("applicant10")
    draft = other.post("/api/applications/applications", json=settings(DEMO_COMMITTEE)).json()
    draft_base = f"/api/applications/applications/{draft['id']}"
    (entry,) = other.put(
        f"{draft_base}/sections/education", json=SECTIONS["education"], headers={"If-Match": "0"}
    ).json()["content"]
    kept = other.post(
        f"{draft_base}/sections/education/entries/{entry['id']}/attachments", files={"file": ("a.pdf", PDF)}
    )
    assert kept.status_code == 201
    assert other.post(f"{draft_base}/abandon").status_code == 204
    gone = other.get(draft_base).json()
    assert gone["status"] == "abandoned" and gone["sections"] == {} and gone["trail"][-1]["action"] == "废弃"
    assert other.get(f"{draft_base}/attachments").json()["items"] == []
    assert other.get(f"{draft_base}/attachments/{kept.json()['id']}").status_code == 404


@pytest.mark.timeout(600)
def test_make_demo_runs_again_and_again_on_the_same_data(stack: Stack) -> None:
    """Issue 19 item 18: each `make demo` takes a demo applicant without an application and puts the clock back,
    so a second run on the same data (the activity's deadline not passed, no duplicate application) succeeds."""
    stack.clock_file.write_text("0", encoding="utf-8")
    demo = [sys.executable, "-m", "zc_devstack", "demo", "--data-dir", str(stack.data_dir), "--port", str(stack.port)]
    applicants = []
    for _ in range(2):
        run = subprocess.run(demo, capture_output=True, text=True, timeout=300, check=False)
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
        assert "公开查询结果" in run.stdout
        applicants.append(re.search(r"演示申报人 (\w+)", run.stdout).group(1))  # type: ignore[union-attr]
        assert stack.clock_file.read_text(encoding="utf-8") == "0"  # the clock as it was
    assert applicants[0] != applicants[1]
