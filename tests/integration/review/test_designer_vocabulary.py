"""What the process designer's selects offer (roles, stages, decisions, scopes, messages, forms) and the DMN tables
a version was deployed with: designers only, and every offered value is one the validation accepts."""

from __future__ import annotations

from typing import Any

from integration.review.conftest import HOST_TEST_BPMN, REPO, Api
from zc_auth import Role


def designer(api: Api) -> dict[str, str]:
    return api.as_(Role.PROCESS_DESIGNER, subject="usr_designer")


def values(vocabulary: dict[str, Any], key: str) -> list[str]:
    return [option["value"] for option in vocabulary[key]]


async def vocabulary(api: Api) -> dict[str, Any]:
    r = await api.get("/definitions/vocabulary", headers=designer(api))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def problems(api: Api, source: str) -> list[str]:
    r = await api.post(
        "/definitions/validate", headers=designer(api), json={"process_key": "host_test", "source": source}
    )
    assert r.status_code == 200, r.text
    return [p["reason"] for p in r.json()["problems"]]


async def test_every_offered_value_passes_the_validation_and_others_do_not(api: Api) -> None:
    offered = await vocabulary(api)
    assert all(option["label"] for options in offered.values() for option in options)  # a Chinese label each
    assert values(offered, "roles")[0] == "unit_reviewer"
    assert "applicant" not in values(offered, "roles")  # nobody would see an applicant lane's task
    for role in values(offered, "roles"):
        assert await problems(api, HOST_TEST_BPMN.replace('name="unit_reviewer"', f'name="{role}"')) == [], role
    assert any("不是已知角色" in p for p in await problems(api, HOST_TEST_BPMN.replace('"unit_reviewer"', '"单位"')))
    assert values(offered, "decisions") == ["approve", "return", "reject"]
    assert set(values(offered, "stages")) == {"unit", "department", "committee", "expert", "authority"}
    assert set(values(offered, "scope_types")) == {"unit", "department", "committee", "region"}
    assert set(values(offered, "forms")) == {"assign_experts_v1", "issuance_data_v1"}
    for name in values(offered, "outbound_messages"):
        source = HOST_TEST_BPMN.replace('name="application_withdrawn"', f'name="{name}"')
        assert not [p for p in await problems(api, source) if "消息" in p], name
    assert set(values(offered, "inbound_messages")) == {"resubmitted", "withdraw", "notice_objection"}
    for name in values(offered, "inbound_messages"):
        source = HOST_TEST_BPMN.replace('name="withdraw"', f'name="{name}"')
        assert not [p for p in await problems(api, source) if "消息" in p], name
    refused = await problems(api, HOST_TEST_BPMN.replace('name="withdraw"', 'name="send_sms"'))
    assert any("不是已知的流入消息" in p for p in refused)


async def test_only_designers_read_the_vocabulary(api: Api) -> None:
    assert (await api.get("/definitions/vocabulary", headers=api.unit_reviewer())).status_code == 403
    assert (await api.get("/definitions/vocabulary")).status_code == 401
    assert (await api.get("/definitions/vocabulary", headers=api.operator)).status_code == 200


async def test_a_version_gives_back_the_dmn_tables_it_was_deployed_with(api: Api) -> None:
    await api.reviews.deploy_directory(REPO / "bpmn")
    dmn = (REPO / "bpmn/initial_determination/initial_determination.dmn").read_text(encoding="utf-8")
    r = await api.get("/definitions/initial_determination/1/decisions", headers=designer(api))
    assert r.status_code == 200, r.text
    assert r.json() == {"process_key": "initial_determination", "version": 1, "tables": [dmn]}
    none = await api.get("/definitions/application_review/1/decisions", headers=designer(api))
    assert none.status_code == 200 and none.json()["tables"] == []
    missing = await api.get("/definitions/initial_determination/9/decisions", headers=designer(api))
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    refused = await api.get("/definitions/initial_determination/1/decisions", headers=api.unit_reviewer())
    assert refused.status_code == 403

    # what the designer sends back when it deploys a changed diagram: the same tables, a new version
    source = (REPO / "bpmn/initial_determination/initial_determination.bpmn").read_text(encoding="utf-8")
    changed = source.replace('name="dueIn" value="10"', 'name="dueIn" value="12"', 1)
    assert changed != source
    admin = api.as_(Role.ADMIN, subject="usr_admin")
    body = {"process_key": "initial_determination", "source": changed, "decisions": r.json()["tables"]}
    deployed = await api.post("/definitions", headers=admin, json={**body, "trusted": True})
    assert deployed.status_code == 201, deployed.text
    assert deployed.json()["version"] == 2
    again = await api.get("/definitions/initial_determination/2/decisions", headers=designer(api))
    assert again.json()["tables"] == [dmn]
