"""Process design through the API: validation (hostile XML, our lint rules, XSD), versions, download, diff,
and migrating running instances with a dry run first."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from typing import Any

import pytest

from integration.review.conftest import HOST_TEST_BPMN, NOW, REPO, Api
from zc_auth import Role

DESIGNER_BODY = {"process_key": "host_test"}


def designer(api: Api) -> dict[str, str]:
    return api.as_(Role.PROCESS_DESIGNER, subject="usr_designer")


async def validate(api: Api, source: str, **extra: Any) -> dict[str, Any]:
    r = await api.post(
        "/definitions/validate", headers=designer(api), json={**DESIGNER_BODY, "source": source, **extra}
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def reasons(result: dict[str, Any]) -> list[str]:
    return [p["reason"] for p in result["problems"]]


BAD = {
    "malformed": ("<bpmn:definitions", "不是合法的 XML"),
    "xxe": (
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>',
        "DTD 或实体",
    ),
    "billion_laughs": (
        '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><l>&b;</l>',
        "DTD 或实体",
    ),
    "huge": ("<d>" + "x" * (2 * 1024 * 1024) + "</d>", "2 MB"),
    "unknown_role": (HOST_TEST_BPMN.replace('name="unit_reviewer"', 'name="boss"'), "不是已知角色"),
    "no_form": (HOST_TEST_BPMN.replace('name="formKey" value="unit_review_v1"', 'name="form" value="x"'), "缺少表单"),
    "bad_decision": (HOST_TEST_BPMN.replace("approve,return,reject", "approve,maybe", 1), "未知的审核结论"),
    "bad_timer": (
        HOST_TEST_BPMN.replace("working_days_later(5)", '"P5X"').replace("timeDate", "timeDuration"),
        "ISO 8601",
    ),
    "unknown_message": (HOST_TEST_BPMN.replace('name="application_returned"', 'name="send_sms"'), "不是已知的流出消息"),
    "call": (HOST_TEST_BPMN.replace('decision == "return"', 'open("/etc/passwd") and True', 1), "不能调用 open"),
    "dunder": (HOST_TEST_BPMN.replace('decision == "reject"', "().__class__", 1), "内部属性"),
    "xsd": (
        HOST_TEST_BPMN.replace("<bpmn:startEvent", "<bpmn:bogusEvent").replace(
            "</bpmn:startEvent", "</bpmn:bogusEvent"
        ),
        "校验失败",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
async def test_a_bad_diagram_is_refused_with_where_and_why(api: Api, case: str) -> None:
    source, reason = BAD[case]
    if case == "huge":  # refused before anything reads it
        r = await api.post("/definitions/validate", headers=designer(api), json={**DESIGNER_BODY, "source": source})
        assert r.status_code == 422 and r.json()["field"] == "source"
        return
    result = await validate(api, source)
    assert result["valid"] is False
    assert any(reason in r for r in reasons(result)), reasons(result)
    deployed = await api.post("/definitions", headers=designer(api), json={**DESIGNER_BODY, "source": source})
    assert deployed.status_code == 422, deployed.text
    assert deployed.headers["content-type"].startswith("application/problem+json")
    assert deployed.json()["field"] == "source"


async def test_problems_name_the_element_and_line(api: Api) -> None:
    result = await validate(api, HOST_TEST_BPMN.replace('name="formKey" value="unit_review_v1"', 'name="f" value="x"'))
    (problem,) = result["problems"]
    assert problem["element_id"] == "unit_review" and problem["line"] == 26
    xsd = await validate(api, BAD["xsd"][0])
    assert xsd["problems"][0]["line"] == 22


async def test_scripts_need_an_admin_to_trust_the_diagram(api: Api) -> None:
    source = (REPO / "bpmn/application_review/application_review.bpmn").read_text(encoding="utf-8")
    body = {"process_key": "application_review", "source": source}
    untrusted = await api.post("/definitions/validate", headers=designer(api), json=body)
    assert "脚本任务需要管理员将流程标记为可信后才能部署" in reasons(untrusted.json())
    refused = await api.post("/definitions", headers=designer(api), json={**body, "trusted": True})
    assert refused.status_code == 403
    admin = api.as_(Role.PROCESS_DESIGNER, Role.ADMIN, subject="usr_admin")
    ok = await api.post("/definitions", headers=admin, json={**body, "trusted": True})
    assert ok.status_code == 201 and ok.json()["trusted"] is True
    assert (await api.post("/definitions/validate", headers=api.unit_reviewer(), json=body)).status_code == 403


# v2: a qualification check after the unit notice; the department task renamed
V2 = (
    HOST_TEST_BPMN.replace(
        '<bpmn:sequenceFlow id="f_notice_done" sourceRef="unit_notice" targetRef="dept_review" />',
        """<bpmn:sequenceFlow id="f_notice_done" sourceRef="unit_notice" targetRef="qualification_check" />
    <bpmn:userTask id="qualification_check" name="资格复核">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formKey" value="qualification_check_v1" />
          <spiffworkflow:property name="decisions" value="approve" />
          <spiffworkflow:property name="stage" value="unit" />
          <spiffworkflow:property name="scope" value="unit:unit_id" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f_check_done" sourceRef="qualification_check" targetRef="dept_review" />""",
    )
    .replace(
        '<bpmn:userTask id="dept_review" name="主管部门审核">',
        '<bpmn:userTask id="dept_review" name="主管部门审核（新）">',
    )
    .replace(
        "<bpmn:flowNodeRef>unit_review</bpmn:flowNodeRef>",
        "<bpmn:flowNodeRef>unit_review</bpmn:flowNodeRef><bpmn:flowNodeRef>qualification_check</bpmn:flowNodeRef>",
    )
)
# v3: the department task is gone
V3 = V2.replace(
    '<bpmn:sequenceFlow id="f_check_done" sourceRef="qualification_check" targetRef="dept_review" />',
    '<bpmn:sequenceFlow id="f_check_done" sourceRef="qualification_check" targetRef="end_approved" />',
)
V3 = V3[: V3.index('    <bpmn:userTask id="dept_review"')] + V3[V3.index('    <bpmn:sequenceFlow id="f_dept_done"') :]
V3 = V3.replace('<bpmn:sequenceFlow id="f_dept_done" sourceRef="dept_review" targetRef="gw_dept" />', "").replace(
    "<bpmn:flowNodeRef>dept_review</bpmn:flowNodeRef>", ""
)
V3 = V3.replace('<bpmn:exclusiveGateway id="gw_dept" default="f_dept_approve" />', "")
for flow in ("f_dept_approve", "f_dept_return", "f_dept_reject"):
    start = V3.index(f'<bpmn:sequenceFlow id="{flow}"')
    end = (
        V3.index("</bpmn:sequenceFlow>", start) + len("</bpmn:sequenceFlow>")
        if "conditionExpression" in V3[start : V3.index("/>", start) + 2] or V3[V3.index(">", start) - 1] != "/"
        else V3.index("/>", start) + 2
    )
    V3 = V3[:start] + V3[end:]
V3 = V3.replace('<bpmn:lane id="lane_department" name="department_reviewer">\n        \n      </bpmn:lane>', "")


async def test_versions_download_and_diff(api: Api) -> None:
    again = await api.post("/definitions", headers=designer(api), json={**DESIGNER_BODY, "source": HOST_TEST_BPMN})
    assert again.status_code == 201 and again.json()["version"] == 1  # same text: same version
    v2 = await api.post("/definitions", headers=designer(api), json={**DESIGNER_BODY, "source": V2})
    assert v2.status_code == 201, v2.text
    assert v2.json()["version"] == 2 and v2.json()["deployed_by"] == "usr_designer"
    listed = (await api.get("/definitions", headers=designer(api))).json()["items"]
    assert [(d["process_key"], d["version"]) for d in listed] == [("host_test", 1), ("host_test", 2)]
    download = await api.get("/definitions/host_test/2/source", headers=designer(api))
    assert download.status_code == 200 and download.text == V2
    assert download.headers["content-disposition"] == 'attachment; filename="host_test-v2.bpmn"'
    assert download.headers["x-content-type-options"] == "nosniff"
    diff = (
        await api.get("/definitions/host_test/diff", headers=designer(api), params={"from_version": 1, "to_version": 2})
    ).json()
    assert [a["id"] for a in diff["added"]] == ["qualification_check"]
    assert diff["removed"] == []
    changed = {c["id"]: c["attributes"] for c in diff["changed"]}
    assert "bpmn_name" in changed["dept_review"] and "unit_notice" in changed


async def test_migration_dry_run_then_move_the_safe_instances(api: Api) -> None:
    at_unit = await api.start()
    in_notice = await api.start()
    at_department = await api.start()
    for key in (in_notice, at_department):
        task = await api.task_of(key, api.unit_reviewer())
        assert (await api.complete(task["task_id"], api.unit_reviewer(), decision="approve")).status_code == 200
    api.clock.now = NOW + timedelta(days=8)
    await api.reviews.fire_due()  # both notices end; now both are at the department
    in_notice_late = await api.start()
    task = await api.task_of(in_notice_late, api.unit_reviewer())
    await api.complete(task["task_id"], api.unit_reviewer(), decision="approve")
    for source in (V2, V3):
        r = await api.post("/definitions", headers=designer(api), json={**DESIGNER_BODY, "source": source})
        assert r.status_code == 201, r.text

    body = {"from_version": 1, "to_version": 3, "reason": "删除主管部门环节"}
    dry = (await api.post("/definitions/host_test/migrations", headers=designer(api), json=body)).json()
    assert dry["dry_run"] is True
    by_key = {i["business_key"]: i for i in dry["instances"]}
    assert by_key[at_department]["safe"] is False and "主管部门审核" in by_key[at_department]["reasons"][0]
    assert by_key[at_unit]["safe"] is True and by_key[at_unit]["reset_tasks"] == ["单位审核"], by_key[at_unit][
        "reasons"
    ]
    assert by_key[in_notice_late]["kept_timers"] == ["单位公示（5个工作日）"]
    assert all(not i["migrated"] for i in dry["instances"])

    real = (
        await api.post(
            "/definitions/host_test/migrations", headers=designer(api), json={**body, "to_version": 2, "dry_run": False}
        )
    ).json()
    assert {i["business_key"]: i["migrated"] for i in real["instances"]} == {
        at_unit: True,
        in_notice: True,
        at_department: True,
        in_notice_late: True,
    }
    # the late notice keeps its due time and then meets the new step
    due = (await api.instance(in_notice_late))["next_due_at"]
    assert due is not None and due.isoformat() == "2026-12-11T16:00:00+00:00"  # kept, not restarted
    api.clock.now = due + timedelta(seconds=1)
    await api.reviews.fire_due()
    assert (await api.task_of(in_notice_late, api.unit_reviewer()))["name"] == "qualification_check"
    # the claimed-nothing unit task is the same task, now on v2
    task = await api.task_of(at_unit, api.unit_reviewer())
    assert (await api.complete(task["task_id"], api.unit_reviewer(), decision="approve")).status_code == 200
    moved = [h for h in await api.history(at_unit) if h["kind"] == "migrated"]
    assert moved[0]["details"] == {"from_version": 1, "to_version": 2} and moved[0]["definition_version"] == 2
    assert moved[0]["actor_id"] == "usr_designer" and moved[0]["comment"] == "删除主管部门环节"


async def test_validation_runs_off_the_event_loop(api: Api) -> None:
    """A big diagram's validation must not stop the service answering others (issue 17, item 8): the engine's
    validation is held in its thread until a health check has been answered."""
    engine = api.reviews._engine
    started, release = threading.Event(), threading.Event()
    original = engine.validate

    def held(*args: Any, **kwargs: Any) -> Any:
        started.set()
        release.wait(10)
        return original(*args, **kwargs)

    engine.validate = held  # type: ignore[method-assign]
    try:
        validating = asyncio.create_task(validate(api, HOST_TEST_BPMN))
        assert await asyncio.to_thread(started.wait, 10)
        health = await api.client.get("/api/review/healthz")
        assert health.status_code == 200
        assert not validating.done()  # answered while the validation still runs
        release.set()
        assert (await validating)["valid"] is True
    finally:
        release.set()
        engine.validate = original  # type: ignore[method-assign]


async def test_a_version_beyond_the_integer_column_is_a_422_not_a_500(api: Api) -> None:
    r = await api.get("/definitions/host_test/3000000000/source", headers=designer(api))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
