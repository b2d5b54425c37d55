"""外省职称确认 and 专技人才统计: fill in (partial drafts allowed), submit to the unit (an event the review picks
up), the review's answer comes back with a notice; someone else's record does not exist for you."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from applications.demo_data import load
from integration.applications.conftest import Api
from integration.applications.test_review_outcomes_and_messages import deliver
from zc_auth import Role, RoleGrant, ScopeType
from zc_contracts import review_v1
from zc_db import create_engine
from zc_devstack.demo_application import JPEG, OUT_OF_PROVINCE, TALENT

UNIT = "0193a1f0-0000-7000-8000-00000000a001"
PDF = b"%PDF-1.7\n" + b"0" * 2000


async def add_files(api: Api, rec_id: str) -> dict[str, Any]:
    base = f"/records/out_of_province/{rec_id}"
    photo = await api.post(f"{base}/photo", params={"filename": "照片.jpg"}, content=JPEG, headers=api.applicant)
    assert photo.status_code == 201, photo.text
    proof = await api.post(f"{base}/proofs", params={"filename": "原证书.pdf"}, content=PDF, headers=api.applicant)
    assert proof.status_code == 201, proof.text
    return {"photo": photo.json(), "proof": proof.json()}


@pytest.fixture
async def demo(api: Api) -> Api:
    await load(api.database_url, year=2026)
    return api


async def put(api: Api, kind: str, rec_id: str, body: dict[str, Any], version: int) -> Any:
    return await api.put(f"/records/{kind}/{rec_id}", json=body, headers={**api.applicant, "If-Match": str(version)})


@pytest.mark.parametrize(("kind", "content"), [("out_of_province", OUT_OF_PROVINCE), ("talent_stats", TALENT)])
async def test_record_is_filled_in_then_submitted_to_the_unit(
    demo: Api, clean_jetstream: str, kind: str, content: dict[str, Any]
) -> None:
    api = demo
    created = await api.post(f"/records/{kind}", headers=api.applicant, json={"unit_id": UNIT})
    assert created.status_code == 201, created.text
    rec = created.json()
    assert rec["status_name"] == "未提交"
    # the record carries the registered identity: 姓名, 证件类型, 证件号码 (masked), and what the number says
    assert rec["applicant_identity"] == {
        "name": "王小明",
        "id_type": "居民身份证",
        "id_number_masked": "*****5532",
        "gender": "男",
        "birth_date": "1985-06-03",
    }
    half = dict(list(content.items())[:3])
    saved = await put(api, kind, rec["id"], half, 0)
    assert saved.status_code == 200 and saved.json()["version"] == 1  # a partial draft is fine
    incomplete = await api.post(f"/records/{kind}/{rec['id']}/submit", headers=api.applicant)
    assert incomplete.status_code == 422 and incomplete.json()["errors"][0]["reason"] == "必填项不能为空"
    assert (await put(api, kind, rec["id"], content, 0)).status_code == 409  # stale
    assert (await put(api, kind, rec["id"], content, 1)).status_code == 200
    if kind == "out_of_province":  # the photo and a proof of the original title are required
        no_photo = await api.post(f"/records/{kind}/{rec['id']}/submit", headers=api.applicant)
        assert no_photo.status_code == 422 and no_photo.json()["field"] == "photo", no_photo.text
        await add_files(api, rec["id"])
    done = await api.post(f"/records/{kind}/{rec['id']}/submit", headers=api.applicant)
    assert done.status_code == 200 and done.json()["status_name"] == "审核中"
    assert (await put(api, kind, rec["id"], content, 2)).status_code == 409  # frozen while reviewed

    engine = create_engine(api.database_url)
    try:
        async with engine.connect() as conn:
            (payload,) = (
                (
                    await conn.execute(
                        text("SELECT payload FROM outbox WHERE subject = 'applications.record.submitted.v1'")
                    )
                )
                .scalars()
                .all()
            )
    finally:
        await engine.dispose()
    data = json.loads(payload)["data"]
    assert data["kind"] == kind and data["unit_id"] == UNIT and data["department_ids"]
    assert data["region_code"] == "510100-BJ"  # the unit's region: which authorities may confirm it

    await deliver(
        api,
        clean_jetstream,
        review_v1.RecordDecided(
            record_id=rec["id"], outcome="returned", reason="请补充聘任文件", decided_at=datetime.now(UTC)
        ),
    )
    back = (await api.get(f"/records/{kind}/{rec['id']}", headers=api.applicant)).json()
    assert back["status_name"] == "已退回" and back["status_reason"] == "请补充聘任文件"
    notice = (await api.get("/messages", headers=api.applicant)).json()["items"][0]
    assert "已退回" in notice["title"] and "请补充聘任文件" in notice["body"]


async def test_bad_fields_are_refused_even_in_a_draft(demo: Api) -> None:
    api = demo
    rec = (await api.post("/records/out_of_province", headers=api.applicant, json={"unit_id": UNIT})).json()
    r = await put(api, "out_of_province", rec["id"], {"original_title": "高" * 51}, 0)
    assert r.status_code == 422 and r.json()["field"] == "original_title"
    unknown = await put(api, "out_of_province", rec["id"], {"salary": 1}, 0)
    assert unknown.status_code == 422 and unknown.json()["field"] == "salary"


async def test_records_need_a_registered_unit_and_stay_private(demo: Api) -> None:
    api = demo
    nowhere = await api.post(
        "/records/talent_stats", headers=api.applicant, json={"unit_id": "0193a1f0-0000-7000-8000-000000000bad"}
    )
    assert nowhere.status_code == 422 and nowhere.json()["field"] == "unit_id"
    rec = (await api.post("/records/talent_stats", headers=api.applicant, json={"unit_id": UNIT})).json()
    stranger = api.as_(Role.APPLICANT, subject="usr_stranger")
    assert (await api.get(f"/records/talent_stats/{rec['id']}", headers=stranger)).status_code == 404
    assert (await api.get(f"/records/out_of_province/{rec['id']}", headers=api.applicant)).status_code == 404
    assert (await api.get("/records/nonsense", headers=api.applicant)).status_code == 404


async def unit_department(api: Api) -> str:
    unit = (await api.get(f"/units/{UNIT}", headers=api.applicant)).json()
    return str(unit["department_chain"][0]["id"])


async def test_out_of_province_files_are_checked_and_read_only_by_its_reviewers(demo: Api) -> None:
    api = demo
    rec = (await api.post("/records/out_of_province", headers=api.applicant, json={"unit_id": UNIT})).json()
    base = f"/records/out_of_province/{rec['id']}"
    fake = await api.post(
        f"{base}/photo", params={"filename": "照片.jpg"}, content=b"GIF89a" + b"\0" * 99, headers=api.applicant
    )
    assert fake.status_code == 422 and fake.json()["field"] == "photo"
    big = JPEG[:-2] + b"\x00" * (500 * 1024) + b"\xff\xd9"
    over = await api.post(f"{base}/photo", content=big, headers=api.applicant)
    assert over.status_code == 413 and "500KB" in over.json()["detail"]
    exe = await api.post(
        f"{base}/proofs", params={"filename": "证书.pdf"}, content=b"MZ\x90\x00", headers=api.applicant
    )
    assert exe.status_code == 422
    files = await add_files(api, rec["id"])
    await add_files(api, rec["id"])  # a second photo replaces the first; proofs add up
    listed = (await api.get(base, headers=api.applicant)).json()["attachments"]
    assert sorted(f["kind"] for f in listed) == ["photo", "proof", "proof"]
    got = await api.get(f"{base}/attachments/{files['proof']['id']}", headers=api.applicant)
    assert got.status_code == 200 and got.content == PDF and got.headers["x-content-type-options"] == "nosniff"
    stranger = api.as_(Role.APPLICANT, subject="usr_stranger")
    assert (await api.get(f"{base}/attachments/{files['proof']['id']}", headers=stranger)).status_code == 404

    unit_reviewer = api.as_(RoleGrant(Role.UNIT_REVIEWER, ScopeType.UNIT, UNIT), subject="usr_unit")
    department = api.as_(
        RoleGrant(Role.DEPARTMENT_REVIEWER, ScopeType.DEPARTMENT, await unit_department(api)), subject="usr_dept"
    )
    elsewhere = api.as_(RoleGrant(Role.UNIT_REVIEWER, ScopeType.UNIT, "0193a1f0-0000-7000-8000-00000000a999"))
    # issue 17 item 2: authorities read only records of units in their region (the unit is in 510100-BJ)
    chengdu = api.as_(RoleGrant(Role.AUTHORITY, ScopeType.REGION, "510100"), subject="usr_cd")
    province = api.as_(RoleGrant(Role.AUTHORITY, ScopeType.REGION, "510000"), subject="usr_sc")
    foreign_authorities = [
        api.as_(RoleGrant(Role.AUTHORITY, ScopeType.REGION, region), subject=f"usr_{region}")
        for region in ("511100", "510104", "510700-BJ", "520000")  # 乐山, a 成都 district, 绵阳本级, 贵州
    ]
    review = f"/review/records/{rec['id']}"
    assert (await api.get(review, headers=unit_reviewer)).status_code == 404  # not submitted yet
    assert (await put(api, "out_of_province", rec["id"], OUT_OF_PROVINCE, 0)).status_code == 200
    assert (await api.post(f"{base}/submit", headers=api.applicant)).status_code == 200
    late = await api.post(f"{base}/proofs", params={"filename": "补充.pdf"}, content=PDF, headers=api.applicant)
    assert late.status_code == 409  # frozen while reviewed
    for reviewer in (unit_reviewer, department, chengdu, province):
        seen = await api.get(review, headers=reviewer)
        assert seen.status_code == 200 and seen.json()["content"]["original_title"] == "高级农艺师"
        assert seen.json()["applicant_identity"]["name"] == "王小明"  # whom the record is about
        proof = await api.get(f"{review}/attachments/{files['proof']['id']}", headers=reviewer)
        assert proof.status_code == 200 and proof.content == PDF
    for outsider in (elsewhere, *foreign_authorities):
        assert (await api.get(review, headers=outsider)).status_code == 404
        assert (await api.get(f"{review}/attachments/{files['proof']['id']}", headers=outsider)).status_code == 404
    assert (await api.get(review, headers=api.applicant)).status_code == 404

    engine = create_engine(api.database_url)
    try:
        async with engine.connect() as conn:
            logged = (
                (
                    await conn.execute(
                        text("SELECT actor FROM personal_data_access WHERE application_id = :r"), {"r": rec["id"]}
                    )
                )
                .scalars()
                .all()
            )
    finally:
        await engine.dispose()
    assert sorted(logged) == ["usr_cd", "usr_cd", "usr_dept", "usr_dept", "usr_sc", "usr_sc", "usr_unit", "usr_unit"]


async def test_talent_statistics_take_no_files(demo: Api) -> None:
    api = demo
    rec = (await api.post("/records/talent_stats", headers=api.applicant, json={"unit_id": UNIT})).json()
    r = await api.post(f"/records/talent_stats/{rec['id']}/photo", content=JPEG, headers=api.applicant)
    assert r.status_code == 422 and r.json()["field"] == "kind"


async def test_creating_a_record_or_an_application_needs_the_applicant_role(demo: Api) -> None:
    """Segregation of duties (issue 17, item 5): a reviewer acts as a reviewer; only the applicant role applies."""
    api = demo
    reviewer = api.as_(RoleGrant(Role.UNIT_REVIEWER, ScopeType.UNIT, UNIT), subject="usr_unit")
    for kind in ("out_of_province", "talent_stats"):
        refused = await api.post(f"/records/{kind}", headers=reviewer, json={"unit_id": UNIT})
        assert refused.status_code == 403, refused.text
    assert (await api.post("/applications", headers=reviewer, json={})).status_code == 403
    assert (await api.post("/records/talent_stats", headers=api.applicant, json={"unit_id": UNIT})).status_code == 201


async def test_my_records_page_newest_first_with_their_total(demo: Api) -> None:
    api = demo
    made = [
        (await api.post("/records/talent_stats", headers=api.applicant, json={"unit_id": UNIT})).json()["id"]
        for _ in range(3)
    ]
    await api.post("/records/out_of_province", headers=api.applicant, json={"unit_id": UNIT})  # another list

    pages = [
        (await api.get("/records/talent_stats", params={"page": n, "size": 2}, headers=api.applicant)).json()
        for n in (1, 2, 3)
    ]
    assert [(p["total"], len(p["items"])) for p in pages] == [(3, 2), (3, 1), (3, 0)]
    assert sorted(i["id"] for p in pages for i in p["items"]) == sorted(made)
    stranger = await api.get("/records/talent_stats", headers=api.as_(Role.APPLICANT, subject="usr_stranger"))
    assert stranger.json()["total"] == 0 and stranger.json()["items"] == []
    assert (await api.get("/records/talent_stats", params={"page": 0}, headers=api.applicant)).status_code == 422
