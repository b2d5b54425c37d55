"""bpmn/application_review through the host: direct and entrusted review, returns to the level that
returned, a return down one level, the vote ratio, defence, notice objections, a missed deadline."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from integration.review.conftest import NOW, REPO, UNIT, Api
from review.adapters.people import NatsPeopleDirectory
from review.consumers import _start_data
from zc_auth import Role, RoleGrant, ScopeType
from zc_contracts import applications_v1
from zc_messaging.connection import NatsConnection

# every test also runs with a fresh engine per step and with two engines in turn (issue 18)
pytestmark = pytest.mark.usefixtures("engine_mode")

REPO_BPMN = "bpmn/application_review/application_review.bpmn"
D1 = "0193a1f0-0000-7000-8000-00000000d001"
D2 = "0193a1f0-0000-7000-8000-00000000d002"
COMMITTEE = "0193a1f0-0000-7000-8000-00000000c001"
EXPERTS = ["usr_expert_1", "usr_expert_2", "usr_expert_3"]


class Review:
    """One application under review, driven through the HTTP API by each role in turn."""

    def __init__(self, api: Api, key: str) -> None:
        self.api, self.key = api, key

    def unit(self) -> dict[str, str]:
        return self.api.unit_reviewer()

    def dept(self, dept: str) -> dict[str, str]:
        return self.api.as_(RoleGrant(Role.DEPARTMENT_REVIEWER, ScopeType.DEPARTMENT, dept), subject=f"usr_{dept[-4:]}")

    def committee(self) -> dict[str, str]:
        return self.api.as_(RoleGrant(Role.COMMITTEE_STAFF, ScopeType.COMMITTEE, COMMITTEE), subject="usr_committee")

    def expert(self, who: str) -> dict[str, str]:
        # an expert's vote is a task for that one person (candidate_user), within their committee's grant
        return self.api.as_(RoleGrant(Role.EXPERT, ScopeType.COMMITTEE, COMMITTEE), subject=who)

    def authority(self, region: str = "510100") -> dict[str, str]:
        """The authority over the committee's region (成都市, 510100) by default."""
        return self.api.as_(RoleGrant(Role.AUTHORITY, ScopeType.REGION, region), subject=f"usr_authority_{region}")

    async def act(self, headers: dict[str, str], decision: str = "approve", **body: Any) -> dict[str, Any]:
        task = await self.api.task_of(self.key, headers)
        r = await self.api.complete(task["task_id"], headers, decision=decision, **body)
        assert r.status_code == 200, r.text
        return task

    async def pass_time(self, days: int) -> None:
        self.api.clock.now = self.api.clock.now + timedelta(days=days)
        await self.api.reviews.fire_due()

    async def events(self, kind: str) -> list[dict[str, Any]]:
        return [e.data for e in await self.api.events(self.key) if e.type == f"review.application.{kind}"]

    async def status(self) -> str:
        return str((await self.api.instance(self.key))["status"])

    async def through_departments(self) -> None:
        await self.act(self.unit())
        await self.pass_time(8)  # the unit notice (5 working days) has run out
        await self.act(self.dept(D1))
        await self.act(self.dept(D2))

    async def through_experts(self, votes: list[str], **assign: Any) -> None:
        await self.act(self.committee())  # 受理
        await self.act(self.committee(), form={"experts": EXPERTS, **assign})
        if assign.get("defence"):
            await self.act(self.committee())  # 答辩记录
        for expert, vote in zip(EXPERTS, votes, strict=True):
            await self.act(self.expert(expert), vote)


@pytest.fixture
async def start(api: Api):  # type: ignore[no-untyped-def]
    source = (REPO / REPO_BPMN).read_text(encoding="utf-8")
    await api.reviews.deploy("application_review", source, deployed_by="tests", trusted=True)

    async def go(method: str = "SHEHUIHUA", departments: tuple[str, ...] = (D1, D2)) -> Review:
        key = uuid.uuid4()
        event = applications_v1.ApplicationSubmitted(
            application_id=key,
            applicant_id="usr_applicant",
            unit_id=uuid.UUID(UNIT),
            evaluation_mode="review",
            year=2026,
            series_code="GC",
            level_code="ZJ",
            committee_id=uuid.UUID(COMMITTEE),
            method=method,
            qualification_code="GC-ZJ-GCS",
            department_ids=[uuid.UUID(d) for d in departments],
            submitted_at=datetime.now(UTC),
            authority_region="510100",  # the committee's region scope
        )
        async with api.reviews._sessions() as s, s.begin():
            await api.reviews.start(s, "application_review", str(key), _start_data(event))
        return Review(api, str(key))

    return go


async def test_direct_review_from_unit_to_issuance(api: Api, start) -> None:  # type: ignore[no-untyped-def]
    review = await start()
    await review.act(review.unit())
    assert await api.tasks(review.dept(D1)) == []  # the unit notice is running
    await review.pass_time(8)
    await review.act(review.dept(D1))
    assert await api.tasks(review.dept(D1)) == []
    await review.act(review.dept(D2))
    await review.through_experts(["approve", "approve", "reject"])  # 2 of 3: passes
    assert await api.tasks(review.authority()) == []  # the result notice is running
    await review.pass_time(8)
    # issue 17 item 2: only an authority over the committee's region sees and decides the confirmation
    for region in ("511100", "510104", "510100-BJ"):  # 乐山, a 成都 district, 成都本级
        outsider = review.authority(region)
        assert await api.tasks(outsider) == []
        (task,) = [t for t in await api.tasks(review.authority(), size=100) if t["business_key"] == review.key]
        assert (await api.complete(task["task_id"], outsider, decision="approve")).status_code == 404
    assert [t["stage"] for t in await api.tasks(review.authority("510000"))] == ["authority"]  # the province
    await review.act(review.authority())
    await review.act(review.committee(), form={"document_number": "川职改〔2026〕18号", "issue_date": "2026-12-20"})
    assert await review.status() == "completed"
    stages = [(e["stage"], e["department_id"]) for e in await review.events("stage_reached")]
    assert stages == [
        ("unit", None),
        ("department", D1),
        ("department", D2),
        ("committee", None),
        ("expert", None),
        ("authority", None),
    ]
    (approved,) = await review.events("approved")
    assert approved["issued_by"] == "authority" and approved["document_number"] == "川职改〔2026〕18号"
    assert approved["issue_date"] == "2026-12-20" and approved["committee_id"] == COMMITTEE
    assert approved["authority_region"] == "510100"  # carried to the certificate


async def test_each_expert_sees_only_their_own_vote(api: Api, start) -> None:  # type: ignore[no-untyped-def]
    review = await start(departments=())
    await review.act(review.unit())
    await review.pass_time(8)
    await review.act(review.committee())
    bad = await api.complete(
        (await api.task_of(review.key, review.committee()))["task_id"],
        review.committee(),
        decision="approve",
        form={"experts": ["usr_expert_1", "usr_expert_1", "usr_expert_2"]},
    )
    assert bad.status_code == 422 and "不能重复" in bad.json()["detail"]
    await review.act(review.committee(), form={"experts": EXPERTS})
    for expert in EXPERTS:
        mine = await api.tasks(review.expert(expert))
        assert len(mine) == 1 and mine[0]["name"] == "expert_vote"
    assert await api.tasks(review.expert("usr_someone_else")) == []


async def test_only_the_committees_own_experts_may_be_named(  # type: ignore[no-untyped-def]
    api: Api, start, directory: list[dict[str, Any]]
) -> None:
    """Issue 17 item 6: an expert of another committee, or someone who is no expert, is refused by name, and
    nothing changes; an expert's vote needs the expert grant of this committee besides being named."""
    review = await start(departments=())
    await review.act(review.unit())
    await review.pass_time(8)
    await review.act(review.committee())
    task = await api.task_of(review.key, review.committee())
    for outsider in ("usr_expert_elsewhere", "usr_applicant_2"):
        refused = await api.complete(
            task["task_id"], review.committee(), decision="approve", form={"experts": [*EXPERTS[:2], outsider]}
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["field"] == "form.experts" and outsider in refused.json()["detail"]
    assert directory[-1] == {
        "role": "expert",
        "scope_type": "committee",
        "scope_id": COMMITTEE,
        "user_ids": ["usr_expert_1", "usr_expert_2", "usr_applicant_2"],
    }
    assert (await api.task_of(review.key, review.committee()))["task_id"] == task["task_id"]  # still waiting
    await review.act(review.committee(), form={"experts": EXPERTS})
    (vote,) = await api.tasks(review.expert(EXPERTS[0]))
    other_committee = api.as_(
        RoleGrant(Role.EXPERT, ScopeType.COMMITTEE, "0193a1f0-0000-7000-8000-00000000c002"), subject=EXPERTS[0]
    )
    assert await api.tasks(other_committee) == []  # named, but without this committee's grant
    assert (await api.complete(vote["task_id"], other_committee, decision="approve")).status_code == 404


async def test_naming_experts_waits_while_the_identity_bridge_cannot_be_asked(  # type: ignore[no-untyped-def]
    api: Api, start, nats_url: str
) -> None:
    review = await start(departments=())
    await review.act(review.unit())
    await review.pass_time(8)
    await review.act(review.committee())
    task = await api.task_of(review.key, review.committee())
    api.reviews._people = NatsPeopleDirectory(NatsConnection(nats_url, name="never-started"))
    waiting = await api.complete(task["task_id"], review.committee(), decision="approve", form={"experts": EXPERTS})
    assert waiting.status_code == 503 and waiting.json()["code"] == "review.directory_unavailable", waiting.text
    assert (await api.task_of(review.key, review.committee()))["task_id"] == task["task_id"]  # nothing changed


@pytest.mark.parametrize("method", ["WEITUO", "ZHONGYANG_ZAICHUAN"])
async def test_entrusted_review_is_issued_by_the_entrusting_unit(api: Api, start, method: str) -> None:  # type: ignore[no-untyped-def]
    """委托评审 and 中央在川单位委托评审 alike: the department that wrote the 委托评审函 issues the certificate."""
    review = await start(method=method)
    await review.through_departments()
    await review.through_experts(["approve", "approve", "approve"])
    await review.pass_time(8)
    assert await api.tasks(review.authority()) == []
    assert await api.tasks(review.unit()) == []  # the department that issued the 委托评审函 issues, not the unit
    task = await review.act(review.dept(D1), form={"document_number": "成职委〔2026〕3号", "issue_date": "2026-12-21"})
    assert task["name"] == "entrusting_issue"
    (approved,) = await review.events("approved")
    assert approved["issued_by"] == "entrusting_unit"


async def test_a_return_goes_back_to_the_level_that_returned_it(api: Api, start) -> None:  # type: ignore[no-untyped-def]
    review = await start()
    await review.act(review.unit())
    await review.pass_time(8)
    await review.act(review.dept(D1))
    await review.act(review.dept(D2), "return", reasons=["业绩材料缺少佐证"])
    (returned,) = await review.events("returned")
    assert returned["stage"] == "department" and returned["reason"] == "业绩材料缺少佐证"
    async with api.reviews._sessions() as s, s.begin():
        assert await api.reviews.deliver(s, review.key, "resubmitted", {"snapshot_version": 2})
    assert await api.tasks(review.unit()) == [] and await api.tasks(review.dept(D1)) == []
    task = await review.act(review.dept(D2))
    assert task["scope_id"] == D2
    assert (await api.task_of(review.key, review.committee()))["name"] == "committee_accept"


async def test_a_return_down_one_level_needs_no_applicant(api: Api, start) -> None:  # type: ignore[no-untyped-def]
    review = await start()
    await review.act(review.unit())
    await review.pass_time(8)
    await review.act(review.dept(D1))
    await review.act(review.dept(D2), "return", reasons=["请核实推荐意见"], return_target="previous")
    assert await review.events("returned") == []
    await review.act(review.dept(D1), "return", reasons=["请单位重新审核"], return_target="previous")
    await review.act(review.unit())  # back at the unit, which approves again (a new notice runs)
    await review.pass_time(8)
    await review.act(review.dept(D1))


async def test_a_failed_vote_ends_without_the_title(api: Api, start) -> None:  # type: ignore[no-untyped-def]
    review = await start(departments=())
    await review.act(review.unit())
    await review.pass_time(8)
    await review.through_experts(["approve", "reject", "reject"])
    assert await review.status() == "completed"
    (rejected,) = await review.events("rejected")
    assert rejected["stage"] == "expert" and "赞成 1 票，共 3 票" in rejected["reason"]


async def test_defence_notice_goes_out_before_the_vote(api: Api, start) -> None:  # type: ignore[no-untyped-def]
    review = await start(departments=())
    await review.act(review.unit())
    await review.pass_time(8)
    at = "2026-12-15T09:30:00+08:00"
    await review.through_experts(["approve"] * 3, defence=True, defence_at=at, defence_place="省人才中心答辩室")
    (notice,) = await review.events("defence_notified")
    assert notice["place"] == "省人才中心答辩室"
    assert datetime.fromisoformat(notice["defence_at"]) == datetime(2026, 12, 15, 1, 30, tzinfo=UTC)


async def test_an_objection_during_the_unit_notice_sends_it_back(api: Api, start) -> None:  # type: ignore[no-untyped-def]
    review = await start()
    await review.act(review.unit())
    async with api.reviews._sessions() as s, s.begin():
        assert await api.reviews.deliver(s, review.key, "notice_objection", {"by": "同事", "reason": "业绩存疑"})
    task = await review.act(review.unit())
    assert task["name"] == "unit_review"
    await review.pass_time(8)
    assert (await api.task_of(review.key, review.dept(D1)))["name"] == "dept_review"


async def test_a_missed_resubmission_deadline_ends_the_application(api: Api, start) -> None:  # type: ignore[no-untyped-def]
    review = await start()
    await review.act(review.unit(), "return", reasons=["照片不合格"])
    await review.pass_time(10)  # 8 working days: not yet
    assert await review.status() == "running"
    await review.pass_time(7)  # 10 working days after 2026-11-27 end on 2026-12-11
    assert await review.status() == "completed"
    (rejected,) = await review.events("rejected")
    assert rejected["stage"] == "unit" and rejected["reason"] == "逾期未修改提交，申报终止"
    history = await api.history(review.key)
    assert history[-1]["kind"] == "timer"


async def test_after_a_withdrawal_a_new_submission_starts_a_new_review(api: Api, start) -> None:  # type: ignore[no-untyped-def]
    review = await start()
    async with api.reviews._sessions() as s, s.begin():
        assert await api.reviews.deliver(s, review.key, "withdraw", {})
    assert await review.status() == "completed"
    async with api.reviews._sessions() as s, s.begin():
        again = await api.reviews.start(
            s, "application_review", review.key, (await api.instance(review.key))["routing"] | _defaults()
        )
    assert again is True
    assert (await api.task_of(review.key, review.unit()))["name"] == "unit_review"


def _defaults() -> dict[str, Any]:
    from review.consumers import PROCESS_DEFAULTS

    return dict(PROCESS_DEFAULTS)


_ = NOW


async def test_a_committee_return_comes_back_to_the_committee(api: Api, start) -> None:  # type: ignore[no-untyped-def]
    review = await start(departments=())
    await review.act(review.unit())
    await review.pass_time(8)
    await review.act(review.committee(), "return", reasons=["缺少继续教育证明"])
    (returned,) = await review.events("returned")
    assert returned["stage"] == "committee"
    async with api.reviews._sessions() as s, s.begin():
        assert await api.reviews.deliver(s, review.key, "resubmitted", {})
    assert await api.tasks(review.unit()) == []
    assert (await api.task_of(review.key, review.committee()))["name"] == "committee_accept"


async def test_decided_lists_what_each_reviewer_decided_and_the_task_carries_its_form(api: Api, start) -> None:  # type: ignore[no-untyped-def]
    """已办: each reviewer's own decisions, newest first, with the task's title and reasons; a task with a form
    (组织专家评审) carries its JSON Schema for the web client to draw, one without carries none."""
    first, second = await start(departments=()), await start(departments=())
    unit_task = await api.task_of(first.key, first.unit())
    unit_detail = (await api.get(f"/tasks/{unit_task['task_id']}", headers=first.unit())).json()
    assert unit_detail["form_schema"] is None
    await first.act(first.unit(), decision="return", reasons=["学历证书不清晰"], return_target="applicant")
    await second.act(second.unit(), comment="同意推荐")
    decided = await api.get("/tasks/decided", headers=second.unit())
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert body["total"] == 2 and [d["business_key"] for d in body["items"]] == [second.key, first.key]
    newest, oldest = body["items"]
    assert (newest["decision_label"], newest["comment"], newest["stage"]) == ("通过", "同意推荐", "unit")
    assert (oldest["decision_label"], oldest["reasons"]) == ("退回修改", ["学历证书不清晰"])
    assert newest["title"] == unit_task["title"] and newest["process_key"] == "application_review"
    paged = (await api.get("/tasks/decided", params={"size": 1, "page": 2}, headers=second.unit())).json()
    assert [d["business_key"] for d in paged["items"]] == [first.key] and paged["total"] == 2
    # another reviewer decided nothing; an applicant may not ask
    assert (await api.get("/tasks/decided", headers=second.committee())).json()["total"] == 0
    applicant = api.as_(Role.APPLICANT, subject="usr_applicant")
    assert (await api.get("/tasks/decided", headers=applicant)).status_code == 403

    await second.pass_time(8)
    await second.act(second.committee())  # 受理
    assign = await api.task_of(second.key, second.committee())
    schema = (await api.get(f"/tasks/{assign['task_id']}", headers=second.committee())).json()["form_schema"]
    assert schema["properties"]["experts"]["title"] == "评审专家" and "experts" in schema["required"]
    (accepted,) = (await api.get("/tasks/decided", headers=second.committee())).json()["items"]
    assert accepted["decision_label"] == "通过" and accepted["business_key"] == second.key


async def test_the_unit_sees_its_notices_and_an_objection_sends_the_application_back(api: Api, start) -> None:  # type: ignore[no-untyped-def]
    """公示中: the unit lists its applications in their notice period (until when); an objection it registers sends
    the application back to its review, recorded with the reviewer; another unit neither sees nor objects."""
    review, other = await start(), await start()
    await review.act(review.unit())
    await other.act(other.unit())
    listed = (await api.get("/notices", headers=review.unit())).json()
    assert listed["total"] == 2 and {n["business_key"] for n in listed["items"]} == {review.key, other.key}
    assert all(n["ends_at"] for n in listed["items"])  # the timer's due time: when the notice ends
    stranger = api.unit_reviewer(subject="usr_other_unit", unit="0193a1f0-0000-7000-8000-0000000000ff")
    assert (await api.get("/notices", headers=stranger)).json()["total"] == 0
    body = {"reason": "业绩材料存疑", "raised_by": "同事"}
    refused = await api.post(f"/notices/{review.key}/objections", headers=stranger, json=body)
    assert refused.status_code == 404
    short = await api.post(f"/notices/{review.key}/objections", headers=review.unit(), json={"reason": "x"})
    assert short.status_code == 422 and short.json()["field"] == "reason"

    made = await api.post(f"/notices/{review.key}/objections", headers=review.unit(), json=body)
    assert made.status_code == 204, made.text
    assert (await api.task_of(review.key, review.unit()))["name"] == "unit_review"  # back to the unit
    history = await api.history(review.key)
    objection = next(h for h in history if h["kind"] == "message")
    assert objection["details"]["message"] == "notice_objection" and objection["actor_role"] == "unit_reviewer"
    assert [n["business_key"] for n in (await api.get("/notices", headers=review.unit())).json()["items"]] == [
        other.key
    ]
    again = await api.post(f"/notices/{review.key}/objections", headers=review.unit(), json=body)
    assert again.status_code == 404  # no longer in its notice
    applicant = api.as_(Role.APPLICANT, subject="usr_applicant")
    assert (await api.get("/notices", headers=applicant)).status_code == 403
