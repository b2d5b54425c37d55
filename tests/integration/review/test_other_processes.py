"""The other four processes of bpmn/ through the host: 职称初定 (with its eligibility table), 外省职称确认,
专技人才统计 and 证书核验; and the folder deployed idempotently."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from integration.review.conftest import REPO, UNIT, Api
from review.consumers import PROCESS_DEFAULTS
from zc_auth import Role, RoleGrant, ScopeType

# every test also runs with a fresh engine per step and with two engines in turn (issue 18)
pytestmark = pytest.mark.usefixtures("engine_mode")

D1 = "0193a1f0-0000-7000-8000-00000000d001"
COMMITTEE = "0193a1f0-0000-7000-8000-00000000c001"


@pytest.fixture
async def deployed(api: Api) -> list[dict[str, Any]]:
    return await api.reviews.deploy_directory(REPO / "bpmn")


async def start(api: Api, process: str, **data: Any) -> str:
    key = str(uuid.uuid4())
    base = {
        "applicant_id": "usr_applicant",
        "unit_id": UNIT,
        "department_ids": [D1],
        "committee_id": COMMITTEE,
        "authority_region": "510100-BJ",  # the unit's region (成都市本级)
    }
    async with api.reviews._sessions() as s, s.begin():
        await api.reviews.start(s, process, key, {**base, **PROCESS_DEFAULTS, **data})
    return key


async def act(api: Api, key: str, headers: dict[str, str], decision: str = "approve", **body: Any) -> dict[str, Any]:
    task = await api.task_of(key, headers)
    r = await api.complete(task["task_id"], headers, decision=decision, **body)
    assert r.status_code == 200, r.text
    return task


def authority(api: Api, region: str = "510100") -> dict[str, str]:
    return api.as_(RoleGrant(Role.AUTHORITY, ScopeType.REGION, region), subject=f"usr_authority_{region}")


def dept(api: Api) -> dict[str, str]:
    return api.as_(RoleGrant(Role.DEPARTMENT_REVIEWER, ScopeType.DEPARTMENT, D1), subject="usr_dept")


async def decided(api: Api, key: str) -> list[dict[str, Any]]:
    return [e.data for e in await api.events(key) if e.type == "review.record.decided"]


async def test_the_folder_deploys_once(api: Api, deployed: list[dict[str, Any]]) -> None:
    assert sorted(d["process_key"] for d in deployed) == [
        "application_review",
        "certificate_verification",
        "initial_determination",
        "out_of_province_confirmation",
        "talent_statistics",
    ]
    again = await api.reviews.deploy_directory(REPO / "bpmn")
    assert [d["id"] for d in again] == [d["id"] for d in deployed]
    assert {d["version"] for d in again} == {1}


async def test_initial_determination_shows_its_recommendation_and_issues(api: Api, deployed: Any) -> None:
    key = await start(api, "initial_determination", application_id=None, education_level="大学本科", work_years=2)
    task = await api.task_of(key, api.unit_reviewer())
    detail = (await api.get(f"/tasks/{task['task_id']}", headers=api.unit_reviewer())).json()
    assert detail["routing"]["recommended_level_name"] == "助理级"
    assert detail["routing"]["recommendation"] == "大学本科学历且工作满1年，可初定助理级"
    await act(api, key, api.unit_reviewer())
    await act(api, key, dept(api), "return", reasons=["工作年限证明不全"])
    async with api.reviews._sessions() as s, s.begin():
        assert await api.reviews.deliver(s, key, "resubmitted", {})
    await act(api, key, dept(api))  # back at the department that returned it
    assert await api.tasks(authority(api, "511100")) == []  # issue 17 item 2: another region's authority
    await act(api, key, authority(api), form={"document_number": "川人社初〔2026〕7号", "issue_date": "2026-12-01"})
    (approved,) = [e.data for e in await api.events(key) if e.type == "review.application.approved"]
    assert approved["issued_by"] == "authority" and approved["document_number"] == "川人社初〔2026〕7号"


async def test_out_of_province_confirmation(api: Api, deployed: Any) -> None:
    key = await start(api, "out_of_province_confirmation", record_id=None, record_kind="out_of_province")
    await act(api, key, api.unit_reviewer())
    await act(api, key, dept(api))
    for outsider in ("511100", "510104", "520000"):  # 乐山, a 成都 district, 贵州
        assert await api.tasks(authority(api, outsider)) == []
    await act(api, key, authority(api, "510000"))  # the province's authority reaches every region
    assert await decided(api, key) == [
        {
            "record_id": key,
            "outcome": "approved",
            "reason": None,
            "decided_at": (await decided(api, key))[0]["decided_at"],
            "kind": "out_of_province",
        }
    ]
    # a return ends the review; the resubmitted record starts a new one
    returned = await start(api, "out_of_province_confirmation", record_kind="out_of_province")
    await act(api, returned, api.unit_reviewer(), "return", reasons=["外省证书扫描件不清晰"])
    assert [(d["outcome"], d["reason"]) for d in await decided(api, returned)] == [("returned", "外省证书扫描件不清晰")]
    async with api.reviews._sessions() as s, s.begin():
        assert await api.reviews.start(
            s, "out_of_province_confirmation", returned, {"unit_id": UNIT, "department_ids": []}
        )


async def test_talent_statistics(api: Api, deployed: Any) -> None:
    accepted = await start(api, "talent_statistics", record_kind="talent_stats")
    await act(api, accepted, api.unit_reviewer())
    refused = await start(api, "talent_statistics", record_kind="talent_stats")
    await act(api, refused, api.unit_reviewer(), "reject", comment="非本单位人员")
    assert [d["outcome"] for d in await decided(api, accepted)] == ["approved"]
    assert [(d["outcome"], d["reason"]) for d in await decided(api, refused)] == [("rejected", "非本单位人员")]


async def test_certificate_verification_by_the_organising_unit(api: Api, deployed: Any) -> None:
    key = await start(api, "certificate_verification", record_kind="certificate_verification")
    organiser = api.as_(RoleGrant(Role.COMMITTEE_ORGANISER, ScopeType.COMMITTEE, COMMITTEE), subject="usr_org")
    assert await api.tasks(api.as_(RoleGrant(Role.COMMITTEE_ORGANISER, ScopeType.COMMITTEE, UNIT))) == []
    await act(api, key, organiser)
    (outcome,) = await decided(api, key)
    assert outcome["outcome"] == "approved" and outcome["kind"] == "certificate_verification"
    # records are not applications: no application stage events
    assert [e.type for e in await api.events(key)] == ["review.record.decided"]


async def test_certificate_verification_of_another_review_body_goes_to_the_authority(api: Api, deployed: Any) -> None:
    """其他: the review body is not in the committee directory, so no organising unit would see it; the provincial
    authority verifies it instead (issue 19 item 13)."""
    key = await start(
        api,
        "certificate_verification",
        record_kind="certificate_verification",
        committee_id=None,
        authority_region="510000",
    )
    organiser = api.as_(RoleGrant(Role.COMMITTEE_ORGANISER, ScopeType.COMMITTEE, COMMITTEE), subject="usr_org")
    assert await api.tasks(organiser) == []
    assert await api.tasks(authority(api, "510100")) == []  # a city's authority does not cover the province
    await act(api, key, authority(api, "510000"), "return", reasons=["请补充发证机关证明"])
    (outcome,) = await decided(api, key)
    assert (outcome["outcome"], outcome["reason"]) == ("returned", "请补充发证机关证明")


async def test_initial_determination_ends_when_the_resubmission_deadline_passes(api: Api, deployed: Any) -> None:
    key = await start(api, "initial_determination", application_id=None, education_level="博士研究生", work_years=0)
    await act(api, key, api.unit_reviewer(), "return", reasons=["学位证书不清晰"])
    api.clock.now = api.clock.now + timedelta(days=17)  # 10 working days after 2026-11-27 end on 2026-12-11
    assert await api.reviews.fire_due() == 1
    (rejected,) = [e.data for e in await api.events(key) if e.type == "review.application.rejected"]
    assert rejected["reason"] == "逾期未修改提交，申报终止" and rejected["stage"] == "unit"


@pytest.mark.parametrize(
    ("process", "reviewer"),
    [
        ("talent_statistics", "unit"),
        ("certificate_verification", "organiser"),
        ("out_of_province_confirmation", "unit"),
    ],
)
async def test_record_reviews_end_on_a_return_with_the_reason(
    api: Api, deployed: Any, process: str, reviewer: str
) -> None:
    key = await start(api, process, record_kind=process)
    headers = (
        api.as_(RoleGrant(Role.COMMITTEE_ORGANISER, ScopeType.COMMITTEE, COMMITTEE), subject="usr_org")
        if reviewer == "organiser"
        else api.unit_reviewer()
    )
    await act(api, key, headers, "return", reasons=["材料不全"])
    assert [(d["outcome"], d["reason"]) for d in await decided(api, key)] == [("returned", "材料不全")]
    assert (await api.instance(key))["status"] == "completed"
