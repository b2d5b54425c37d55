"""Every JSON answer of the review service has a response model (issue 19): OpenAPI lists its fields, and the
JSON is what the use cases wrote (times as isoformat, keys a dict leaves out left out)."""

from __future__ import annotations

from typing import Any

from integration.review.conftest import DEPARTMENT, HOST_TEST_BPMN, NOW, UNIT, Api
from review.main import create_app
from review.settings import Settings
from zc_auth import Role


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def test_every_json_success_response_names_its_fields() -> None:
    document = create_app(Settings.model_construct()).openapi()
    checked = 0
    for path, item in document["paths"].items():
        if path.endswith(("/healthz", "/readyz")):
            continue  # zc_http's probes, not in the web client's document
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if not status.startswith("2") or "application/json" not in response.get("content", {}):
                    continue
                schema = _resolve(document, response["content"]["application/json"]["schema"])
                where = f"{method.upper()} {path} {status}"
                if path.endswith("/tasks/counts"):  # stage → count: the stages are the diagrams'
                    assert schema["additionalProperties"] == {"type": "integer"}, where
                else:
                    assert schema.get("properties") and schema["additionalProperties"] is False, where
                checked += 1
    assert checked >= 16
    source = document["paths"]["/api/review/definitions/{process_key}/{version}/source"]["get"]
    assert list(source["responses"]["200"]["content"]) == ["application/xml"]


async def test_task_detail_answers_the_routing_as_given_and_times_as_written(api: Api) -> None:
    key = await api.start()
    task = await api.task_of(key, api.unit_reviewer())
    detail = await api.get(f"/tasks/{task['task_id']}", headers=api.unit_reviewer())
    assert detail.status_code == 200, detail.text
    instance = await api.instance(key)
    assert detail.json() == {
        "task_id": task["task_id"],
        "process_key": "host_test",
        "business_key": key,
        "name": "unit_review",
        "title": "单位审核",
        "role": "unit_reviewer",
        "scope_type": "unit",
        "scope_id": UNIT,
        "form_key": "unit_review_v1",
        "decisions": [
            {"value": "approve", "label": "通过"},
            {"value": "return", "label": "退回修改"},
            {"value": "reject", "label": "不通过"},
        ],
        "stage": "unit",
        "series_code": "GC",
        "unit_id": UNIT,
        "assignee": None,
        "claimed_at": None,
        "created_at": "2026-11-27T02:00:00+00:00",
        "due_at": "2026-12-11T16:00:00+00:00",
        "working_days_left": 10,  # 2026-11-27 (Fri) to Fri 12-11: two working weeks
        "form_schema": None,  # a decision only
        "trail": [  # what happened before this task: the submission
            {
                "at": "2026-11-27T02:00:00+00:00",
                "kind": "started",
                "label": "提交审核",
                "stage": None,
                "decision": None,
                "reason": None,
            }
        ],
        "instance_id": str(instance["id"]),
        # only what the submission gave: no null for the level, committee, year… it did not name
        "routing": {
            "application_id": key,
            "applicant_id": "usr_applicant",
            "unit_id": UNIT,
            "department_ids": [DEPARTMENT],
            "department_id": DEPARTMENT,
            "series_code": "GC",
            "qualification_code": "GC-ZJ-GCS",
        },
        "current_stage": "unit",
    }
    assert detail.json()["created_at"] == NOW.isoformat()  # as the use case wrote it: +00:00, not Z


async def test_a_valid_diagram_is_named_and_an_invalid_one_is_not(api: Api) -> None:
    designer = api.as_(Role.PROCESS_DESIGNER, subject="usr_designer")
    body = {"process_key": "host_test", "source": HOST_TEST_BPMN}
    valid = await api.post("/definitions/validate", headers=designer, json=body)
    assert valid.status_code == 200, valid.text
    assert set(valid.json()) == {"valid", "problems", "name", "user_tasks"}
    assert valid.json()["valid"] is True and valid.json()["name"] == "宿主测试流程"
    assert "unit_review" in valid.json()["user_tasks"]
    invalid = await api.post("/definitions/validate", headers=designer, json={**body, "source": "<bpmn:definitions"})
    assert invalid.status_code == 200, invalid.text
    assert set(invalid.json()) == {"valid", "problems"} and invalid.json()["valid"] is False
    assert set(invalid.json()["problems"][0]) == {"element_id", "line", "reason"}
