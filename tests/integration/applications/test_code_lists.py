"""Issue 19 item 6, through the API: a dropdown's value outside its code list (民族, 国籍, 政治面貌, 学制,
最高学历 …) is refused with 422 naming the field, in an application, in 个人信息 and in a record."""

from __future__ import annotations

from typing import Any

import pytest

from applications.demo_data import load
from integration.applications.conftest import Api
from zc_devstack.demo_application import OUT_OF_PROVINCE, SECTIONS, UNIT, settings

INITIAL = settings(None, method="RENDING", level="ZHULI", qualification="NONGYE_ZHULI_NONGYI")


@pytest.fixture
async def demo(api: Api) -> Api:
    await load(api.database_url, year=2026)
    return api


async def _draft(api: Api) -> str:
    created = await api.post("/applications", headers=api.applicant, json=INITIAL)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def _put(api: Api, path: str, body: Any, version: int = 0) -> Any:
    return await api.put(path, json=body, headers={**api.applicant, "If-Match": str(version)})


@pytest.mark.parametrize(
    ("name", "body", "field"),
    [
        ("basic_info", {**SECTIONS["basic_info"], "ethnicity": "火星族"}, "ethnicity"),
        ("basic_info", {**SECTIONS["basic_info"], "nationality": "China"}, "nationality"),
        ("basic_info", {**SECTIONS["basic_info"], "political_status": "中共党员"}, "political_status"),
        ("basic_info", {**SECTIONS["basic_info"], "admin_post_level": "处级"}, "admin_post_level"),
        ("education", [{**SECTIONS["education"][0], "years": 9}], "0.years"),
        ("education", [{**SECTIONS["education"][0], "degree_level": "本科"}], "0.degree_level"),
    ],
)
async def test_a_value_outside_the_code_list_is_a_422_naming_the_field(
    demo: Api, name: str, body: Any, field: str
) -> None:
    api = demo
    app_id = await _draft(api)
    refused = await _put(api, f"/applications/{app_id}/sections/{name}", body)
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["field"] == field and problem["detail"] == f"{field}：取值不在允许范围内", problem
    in_profile = await _put(api, f"/profile/sections/{name}", body)
    assert in_profile.status_code == 422 and in_profile.json()["field"] == field
    # the demo applicant's values are on the lists
    assert (await _put(api, f"/applications/{app_id}/sections/{name}", SECTIONS[name])).status_code == 200


async def test_a_record_refuses_a_highest_education_outside_the_list(demo: Api) -> None:
    api = demo
    created = await api.post("/records/out_of_province", headers=api.applicant, json={"unit_id": UNIT})
    assert created.status_code == 201, created.text
    path = f"/records/out_of_province/{created.json()['id']}"
    refused = await _put(api, path, {**OUT_OF_PROVINCE, "highest_education": "研究生"})
    assert refused.status_code == 422 and refused.json()["field"] == "highest_education", refused.text
    assert (await _put(api, path, OUT_OF_PROVINCE)).status_code == 200
