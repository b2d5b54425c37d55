"""Hostile diagrams through the review API (issue 16): a designer, and an admin who trusts the diagram, are both
refused with a problem naming the element and the line; a hostile definition stored before the sandbox existed
runs into an instance error that operators see, and nothing executes."""

from __future__ import annotations

from xml.sax.saxutils import escape

import pytest
from unit.review.test_hostile_diagrams import ATTACKS, MARKER, diagram

from integration.review.conftest import HOST_TEST_BPMN, Api
from zc_auth import Role

CASES = [
    ("sequence_flow_condition", "format_walk"),
    ("pre_script", "import"),
    ("service_task_parameter", "subclasses_walk"),
    ("mi_cardinality", "frame_walk"),
    ("timer_expression", "eval"),
    ("dmn_output_entry", "open"),
    ("message_payload", "getattr"),
]


@pytest.mark.parametrize(("site", "attack"), CASES, ids=[f"{s}-{a}" for s, a in CASES])
async def test_designer_and_admin_are_refused_with_element_and_line(api: Api, site: str, attack: str) -> None:
    source, decisions, ids = diagram(site, attack)
    body = {"process_key": "hostile", "source": source, "decisions": decisions}
    designer = api.as_(Role.PROCESS_DESIGNER, subject="usr_designer")
    admin = api.as_(Role.PROCESS_DESIGNER, Role.ADMIN, subject="usr_admin")
    for headers, trusted in ((designer, False), (admin, True)):
        checked = await api.post("/definitions/validate", headers=headers, json={**body, "trusted": trusted})
        assert checked.status_code == 200
        result = checked.json()
        assert result["valid"] is False
        assert any(p["element_id"] in ids and isinstance(p["line"], int) for p in result["problems"]), result

        deployed = await api.post("/definitions", headers=headers, json={**body, "trusted": trusted})
        assert deployed.status_code == 422, deployed.text
        assert deployed.headers["content-type"].startswith("application/problem+json")
        problem = deployed.json()
        assert problem["field"] == "source" and "元素" in problem["detail"] and "行" in problem["detail"]
    listed = (await api.get("/definitions", headers=designer)).json()["items"]
    assert "hostile" not in {d["process_key"] for d in listed}
    assert not MARKER.exists()


async def test_a_hostile_definition_stored_before_the_sandbox_errors_instead_of_running(api: Api) -> None:
    hostile = HOST_TEST_BPMN.replace('decision == "return"', escape(ATTACKS["import"]), 1)
    assert hostile != HOST_TEST_BPMN
    reviews = api.reviews
    # what the old validation admitted: stored straight away, as a row written before this change would be
    parsed = reviews._engine.parse("host_test", hostile)
    await reviews._insert_definition("host_test", hostile, parsed, "legacy", True)
    key = await api.start()
    task = await api.task_of(key, api.unit_reviewer())
    done = await api.complete(task["task_id"], api.unit_reviewer(), decision="approve", comment="同意")
    assert done.status_code == 200, done.text

    instance = await api.instance(key)
    assert instance["status"] == "error"
    assert "拒绝执行" in instance["error"] and "__import__" in instance["error"]
    seen = await api.get(f"/operator/instances/{instance['id']}", headers=api.operator)
    assert seen.status_code == 200 and "拒绝执行" in seen.json()["error"]
    # a retry evaluates the same text again: still refused, still nothing runs
    retried = await api.post(
        f"/operator/instances/{instance['id']}/retry", headers=api.operator, json={"reason": "再试一次"}
    )
    assert retried.status_code == 200
    assert (await api.instance(key))["status"] == "error"
    assert not MARKER.exists()
