"""An application from empty to submitted — 申报评审 and 初定 — with every section, and the rejections:
late submission, edit after submit, someone else's id, a stale section, missing required sections."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from applications.demo_data import load
from integration.applications.conftest import Api
from zc_auth import Role
from zc_db import create_engine
from zc_devstack.demo_application import PDF, SECTIONS, UNIT, settings
from zc_devstack.demo_application import paper as demo_paper


async def first_receiving_committee(api: Api) -> tuple[str, dict[str, Any]]:
    r = await api.get(
        "/committees/query",
        params={"unit_id": UNIT, "method": "SHEHUIHUA", "series": "NONGYE", "level": "ZHONGJI", "year": 2026},
    )
    item = next(i for i in r.json()["direct"]["items"] if i["selectable"])
    notice = (await api.get(f"/committees/{item['id']}/activities/2026")).json()
    return item["id"], notice


async def save(api: Api, app_id: str, name: str, body: Any, version: int = 0, headers: Any = None) -> Any:
    return await api.put(
        f"/applications/{app_id}/sections/{name}",
        json=body,
        headers={**(headers or api.applicant), "If-Match": str(version)},
    )


INITIAL = settings(None, method="RENDING", level="ZHULI", qualification="NONGYE_ZHULI_NONGYI")


async def new_initial(api: Api) -> dict[str, Any]:
    """A fresh 职称初定 draft (助理级 农艺师) for the demo unit."""
    r = await api.post("/applications", headers=api.applicant, json=INITIAL)
    assert r.status_code == 201, r.text
    return dict(r.json())


@pytest.fixture
async def demo(api: Api) -> Api:
    await load(api.database_url, year=2026)
    return api


async def test_review_application_goes_from_empty_to_submitted_with_every_section(demo: Api) -> None:
    api = demo
    committee_id, notice = await first_receiving_committee(api)
    created = await api.post("/applications", headers=api.applicant, json=settings(committee_id))
    assert created.status_code == 201, created.text
    app = created.json()
    assert app["status_name"] == "未提交" and app["settings"]["qualification_name"] == "农艺师"
    assert len(app["section_list"]) == 13  # with 破格条件
    # 我的申报's card (Fig. 2.2.55): "{year}年度 - {series}", then 申报等级 / 申报专业 / 申报职称 by name
    (card,) = (await api.get("/applications", headers=api.applicant)).json()["items"]
    assert card["title"] == "2026年度 - 农业技术人员"
    names = card["settings"]
    assert (names["level_name"], names["specialty_name"], names["qualification_name"]) == (
        "中级",
        "农业机械化",
        "农艺师",
    )
    assert card["status_name"] == "未提交"

    # 暂存 with partial data is fine; 提交 says what is missing
    assert (await save(api, app["id"], "basic_info", SECTIONS["basic_info"])).status_code == 200
    early = await api.post(f"/applications/{app['id']}/submit", headers=api.applicant)
    assert early.status_code == 422 and early.json()["field"] == "education"

    for name, body in SECTIONS.items():
        if name == "basic_info":
            continue
        r = await save(api, app["id"], name, body)
        assert r.status_code == 200, (name, r.text)
    missing = await api.post(f"/applications/{app['id']}/submit", headers=api.applicant)
    assert missing.status_code == 422 and missing.json()["field"] == "achievements"

    counting = next(t for t in notice["achievement_templates"] if t["counts"] and t["form"] == "paper")
    other = next(t for t in notice["achievement_templates"] if not t["counts"])
    only_other = [{"template_code": other["code"], "name": "推广总结", "completed_on": "2024-05-01"}]
    assert (await save(api, app["id"], "achievements", only_other)).status_code == 200
    still = await api.post(f"/applications/{app['id']}/submit", headers=api.applicant)
    assert still.status_code == 422 and "不计入" in still.json()["detail"]  # the "other" clause does not count
    paper = demo_paper(counting["code"])
    assert (await save(api, app["id"], "achievements", [paper, *only_other], version=1)).status_code == 200

    no_materials = await api.post(f"/applications/{app['id']}/submit", headers=api.applicant)
    assert no_materials.status_code == 422 and no_materials.json()["field"] == "materials"
    for material in notice["required_materials"]:
        if material["required"]:
            r = await api.post(
                f"/applications/{app['id']}/materials",
                headers=api.applicant,
                params={"material": material["name"], "filename": f"{material['name']}.pdf"},
                content=PDF,
            )
            assert r.status_code == 201, r.text

    submitted = await api.post(f"/applications/{app['id']}/submit", headers=api.applicant)
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status_name"] == "审核中" and submitted.json()["snapshot_version"] == 1

    snapshot = (await api.get(f"/applications/{app['id']}/snapshots/1", headers=api.applicant)).json()
    assert snapshot["sections"]["achievements"][0]["journal"] == "四川农业科技"
    assert {f["material_name"] for f in snapshot["attachments"]} == {
        m["name"] for m in notice["required_materials"] if m["required"]
    }
    mine = (await api.get("/applications", headers=api.applicant)).json()["items"]
    assert [a["status_name"] for a in mine] == ["审核中"]

    # the event the review needs left through the outbox, in the same transaction as the submission
    engine = create_engine(api.database_url)
    try:
        async with engine.connect() as conn:
            (payload,) = (
                (
                    await conn.execute(
                        text("SELECT payload FROM outbox WHERE subject = 'applications.application.submitted.v1'")
                    )
                )
                .scalars()
                .all()
            )
            region_scope = (
                await conn.execute(text("SELECT region_scope FROM committees WHERE id = :c"), {"c": committee_id})
            ).scalar_one()
            with pytest.raises(Exception, match="immutable"):
                await conn.execute(text("UPDATE application_snapshots SET content = '{}'"))
    finally:
        await engine.dispose()
    data = json.loads(payload)["data"]
    assert data["application_id"] == app["id"] and data["committee_id"] == committee_id
    assert data["method"] == "SHEHUIHUA" and data["department_ids"] and data["unit_id"] == UNIT
    assert data["authority_region"] == region_scope  # the committee's authority confirms (issue 17 item 2)
    assert data["category"] == "正常申报"  # 申报类别 travels with the application (issue 19 item 2)
    snap = (await api.get(f"/applications/{app['id']}/snapshots/1", headers=api.applicant)).json()
    assert snap["settings"]["category"] == "正常申报" and snap["applicant"]["id_number_masked"] == "*****5532"


async def test_initial_determination_has_the_smaller_set_and_no_committee(demo: Api) -> None:
    api = demo
    r = await api.post(
        "/applications",
        headers=api.applicant,
        json=settings(None, method="RENDING", level="ZHULI", qualification="NONGYE_ZHULI_NONGYI"),
    )
    assert r.status_code == 201, r.text
    app = r.json()
    assert {s["name"] for s in app["section_list"]} == {
        "basic_info",
        "social_insurance",
        "provincial_certificates",
        "education",
        "qualifications",
        "titles_held",
        "work_history",
        "continuing_education",
        "assessments",
    }
    refused = await save(api, app["id"], "achievements", [])
    assert refused.status_code == 422 and refused.json()["field"] == "section"
    for name in ("basic_info", "education", "work_history", "assessments", "continuing_education"):
        assert (await save(api, app["id"], name, SECTIONS[name])).status_code == 200
    done = await api.post(f"/applications/{app['id']}/submit", headers=api.applicant)
    assert done.status_code == 200, done.text
    assert done.json()["settings"]["committee_id"] is None


async def test_submitted_application_cannot_be_edited_or_abandoned(demo: Api) -> None:
    api = demo
    app = await new_initial(api)
    for name in ("basic_info", "education", "work_history", "assessments"):
        await save(api, app["id"], name, SECTIONS[name])
    assert (await api.post(f"/applications/{app['id']}/submit", headers=api.applicant)).status_code == 200
    edit = await save(api, app["id"], "basic_info", SECTIONS["basic_info"], version=1)
    assert edit.status_code == 409 and "撤回" in edit.json()["detail"]
    assert (await api.post(f"/applications/{app['id']}/abandon", headers=api.applicant)).status_code == 409
    assert (await api.post(f"/applications/{app['id']}/submit", headers=api.applicant)).status_code == 409


async def test_late_submission_is_refused(demo: Api) -> None:
    api = demo
    committee_id, notice = await first_receiving_committee(api)
    app = (await api.post("/applications", headers=api.applicant, json=settings(committee_id))).json()
    deadline = notice["个人初次提交截止时间"]
    api.clock.now = datetime.fromisoformat(deadline + "T16:30:00+00:00")  # 00:30 the next day in Shanghai
    r = await api.post(f"/applications/{app['id']}/submit", headers=api.applicant)
    assert r.status_code == 422 and r.json()["field"] == "deadline" and deadline in r.json()["detail"]
    api.clock.now = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


async def test_someone_elses_application_does_not_exist_for_you(demo: Api) -> None:
    api = demo
    app = await new_initial(api)
    stranger = api.as_(Role.APPLICANT, subject="usr_stranger")
    for call in (
        api.get(f"/applications/{app['id']}", headers=stranger),
        save(api, app["id"], "basic_info", SECTIONS["basic_info"], headers=stranger),
        api.post(f"/applications/{app['id']}/submit", headers=stranger),
        api.post(f"/applications/{app['id']}/abandon", headers=stranger),
        api.get(f"/applications/{app['id']}/snapshots/1", headers=stranger),
        api.get("/applications/not-a-uuid", headers=stranger),
    ):
        r = await call
        assert r.status_code == 404, r.text
    assert (await api.get("/applications", headers=stranger)).json()["items"] == []


async def test_stale_section_save_gets_409_and_keeps_the_saved_data(demo: Api) -> None:
    api = demo
    app = await new_initial(api)
    assert (await save(api, app["id"], "education", SECTIONS["education"])).json()["version"] == 1
    other_window = await save(api, app["id"], "education", [], version=0)
    assert other_window.status_code == 409 and other_window.json()["code"] == "application.section_changed"
    no_version = await api.put(f"/applications/{app['id']}/sections/education", json=[], headers=api.applicant)
    assert no_version.status_code == 428
    kept = (await api.get(f"/applications/{app['id']}", headers=api.applicant)).json()
    assert kept["sections"]["education"][0]["school"] == "四川农业大学"


@pytest.mark.parametrize(
    ("name", "body", "field"),
    [
        ("education", [{**SECTIONS["education"][0], "school": "校" * 31}], "0.school"),
        ("work_history", [{**SECTIONS["work_history"][0], "content": ""}], "0.content"),
        ("work_history", [{**SECTIONS["work_history"][0], "end": "2000-01-01"}], "0"),
        ("assessments", [{"year": 2025, "result": "很好"}], "0.result"),
        ("basic_info", {**SECTIONS["basic_info"], "former_name": "名" * 11}, "former_name"),
        ("basic_info", {**SECTIONS["basic_info"], "unknown": 1}, "unknown"),
    ],
)
async def test_bad_section_content_is_refused_with_the_field(demo: Api, name: str, body: Any, field: str) -> None:
    api = demo
    app = await new_initial(api)
    r = await save(api, app["id"], name, body)
    assert r.status_code == 422 and r.json()["field"] == field, r.text


async def test_one_live_application_per_title_and_abandon_frees_it(demo: Api) -> None:
    api = demo
    body = INITIAL
    first = (await api.post("/applications", headers=api.applicant, json=body)).json()
    again = await api.post("/applications", headers=api.applicant, json=body)
    assert again.status_code == 409 and "继续申报" in again.json()["detail"]
    assert (await api.post(f"/applications/{first['id']}/abandon", headers=api.applicant)).status_code == 204
    assert (await api.post("/applications", headers=api.applicant, json=body)).status_code == 201


async def test_phone_numbers_are_encrypted_at_rest_masked_by_default_and_revealed_with_a_record(demo: Api) -> None:
    api = demo
    app = await new_initial(api)
    assert (await save(api, app["id"], "basic_info", SECTIONS["basic_info"])).status_code == 200
    shown = (await api.get(f"/applications/{app['id']}", headers=api.applicant)).json()["sections"]["basic_info"]
    assert shown["mobile_phone"] == "135****4568" and shown["contact_phone"] == "188****8888"
    clear = (await api.get(f"/applications/{app['id']}", headers=api.applicant, params={"reveal": True})).json()
    assert clear["sections"]["basic_info"]["mobile_phone"] == "13534524568"
    engine = create_engine(api.database_url)
    try:
        async with engine.connect() as conn:
            stored = (await conn.execute(text("SELECT sections::text FROM applications"))).scalar_one()
            logged = (await conn.execute(text("SELECT count(*) FROM personal_data_access"))).scalar_one()
    finally:
        await engine.dispose()
    assert "13534524568" not in stored and "18888888888" not in stored
    assert logged == 1


async def test_profile_is_kept_between_applications_and_copied_into_a_new_one(demo: Api) -> None:
    api = demo
    put = await api.put(
        "/profile/sections/education", json=SECTIONS["education"], headers={**api.applicant, "If-Match": "0"}
    )
    assert put.status_code == 200 and put.json()["version"] == 1
    stale = await api.put("/profile/sections/education", json=[], headers={**api.applicant, "If-Match": "0"})
    assert stale.status_code == 409
    no_achievements = await api.put(
        "/profile/sections/achievements", json=[], headers={**api.applicant, "If-Match": "0"}
    )
    assert no_achievements.status_code == 404  # 个人信息 has no 业绩成果: there is no such route
    app = await new_initial(api)
    assert app["sections"]["education"][0]["school"] == "四川农业大学" and app["section_versions"] == {"education": 1}
    # saving in the application can keep the change in the profile too
    r = await api.put(
        f"/applications/{app['id']}/sections/basic_info",
        json=SECTIONS["basic_info"],
        params={"update_profile": True},
        headers={**api.applicant, "If-Match": "0"},
    )
    assert r.status_code == 200
    profile = (await api.get("/profile", headers=api.applicant)).json()
    assert profile["sections"]["basic_info"]["mobile_phone"] == "135****4568"
    assert profile["section_versions"] == {"education": 1, "basic_info": 1}
    # the applicant's own form shows them in clear, and the read is recorded
    shown = (await api.get("/profile", params={"reveal": True}, headers=api.applicant)).json()
    assert shown["sections"]["basic_info"]["mobile_phone"] == "13534524568"
    engine = create_engine(api.database_url)
    try:
        async with engine.connect() as conn:
            reads = (
                await conn.execute(text("SELECT actor, fields FROM personal_data_access WHERE application_id IS NULL"))
            ).all()
    finally:
        await engine.dispose()
    assert [(r.actor, r.fields) for r in reads] == [
        ("usr_applicant", ["profile.mobile_phone", "profile.contact_phone"])
    ]
    other = (await api.get("/profile", headers=api.as_(Role.APPLICANT, subject="usr_other"))).json()
    assert other == {"sections": {}, "section_versions": {}}


TEACHER = {
    "stage": "初中",
    "subject": "语文",
    "teaching_since": "2010-09-01",
    "part_time_posts": "无",
    "highest_degree": "硕士",
    "highest_degree_obtained": "2010-07-01",
    "certificate_stage": "初级中学",
    "certificate_subject": "语文",
    "homework_and_visits": "每周批改作业，每学期家访全班学生。",
    "moral_education": [
        {
            "start": "2015-09-01",
            "end": "2018-07-01",
            "result": "优秀",
            "content": "班主任",
            "effect": "班级获评优秀班集体",
        }
    ],
}


async def test_teacher_series_has_its_own_section_and_needs_it(demo: Api) -> None:
    api = demo
    r = await api.get(
        "/committees/query",
        params={"unit_id": UNIT, "method": "SHEHUIHUA", "series": "ZHONGXIAOXUE", "level": "FUGAO", "year": 2026},
    )
    committee = next(i for i in r.json()["direct"]["items"] if i["selectable"])
    body = {
        **settings(committee["id"], level="FUGAO", qualification="ZHONGXIAOXUE_FUGAO"),
        "series": "ZHONGXIAOXUE",
        "specialty": "YUWEN",
    }
    app = (await api.post("/applications", headers=api.applicant, json=body)).json()
    assert "teacher_info" in {s["name"] for s in app["section_list"]}
    for name in ("basic_info", "education", "work_history", "assessments"):
        await save(api, app["id"], name, SECTIONS[name])
    missing = await api.post(f"/applications/{app['id']}/submit", headers=api.applicant)
    assert missing.status_code == 422 and missing.json()["field"] == "teacher_info"
    bad = await save(api, app["id"], "teacher_info", {**TEACHER, "homework_and_visits": "字" * 201})
    assert bad.status_code == 422 and bad.json()["field"] == "homework_and_visits"
    assert (await save(api, app["id"], "teacher_info", TEACHER)).status_code == 200

    other = await new_initial(api)
    refused = await save(api, other["id"], "teacher_info", TEACHER)
    assert refused.status_code == 422 and refused.json()["field"] == "section"


HEALTH = {
    "institution_level": "三级甲等",
    "institution_nature": "公立医院",
    "department": "心血管内科",
    "work_start_date": "2008-07-01",
    "proposed_qualification": "副主任医师",
    "specialty": "内科",
    "exceptional": False,
    "paired_support": True,
    "support_start": "2021-03-01",
    "support_end": "2022-02-28",
    "supported_unit": "凉山州某县人民医院",
    "support_type": "组团式帮扶",
    "aid_abroad": False,
    "aid_tibet": False,
    "aid_xinjiang": False,
    "liangshan_team": True,
    "honours": [{"name": "优秀援凉医生", "grantor": "凉山州卫生健康委员会", "obtained": "2022-03-15"}],
    "incidents": "无",
}


async def new_health_application(api: Api) -> dict[str, Any]:
    """A 副主任医师 (卫生系列, 副高级) draft under the first committee receiving it."""
    r = await api.get(
        "/committees/query",
        params={"unit_id": UNIT, "method": "SHEHUIHUA", "series": "WEISHENG", "level": "FUGAO", "year": 2026},
    )
    committee = next(i for i in r.json()["direct"]["items"] if i["selectable"])
    body = {
        **settings(committee["id"], level="FUGAO", qualification="WEISHENG_FUGAO_YI"),
        "series": "WEISHENG",
        "specialty": "NEIKE",
    }
    created = await api.post("/applications", headers=api.applicant, json=body)
    assert created.status_code == 201, created.text
    return dict(created.json())


async def test_health_series_has_its_own_section_and_needs_it(demo: Api) -> None:
    api = demo
    app = await new_health_application(api)
    names = {s["name"] for s in app["section_list"]}
    assert "health_info" in names and "teacher_info" not in names
    for name in ("basic_info", "education", "work_history", "assessments"):
        await save(api, app["id"], name, SECTIONS[name])
    missing = await api.post(f"/applications/{app['id']}/submit", headers=api.applicant)
    assert missing.status_code == 422 and missing.json()["field"] == "health_info"
    bad = await save(api, app["id"], "health_info", {**HEALTH, "department": "科" * 31})
    assert bad.status_code == 422 and bad.json()["field"] == "department"
    no_flag = await save(api, app["id"], "health_info", {k: v for k, v in HEALTH.items() if k != "aid_tibet"})
    assert no_flag.status_code == 422 and no_flag.json()["field"] == "aid_tibet"
    saved = await save(api, app["id"], "health_info", HEALTH)
    assert saved.status_code == 200, saved.text
    back = (await api.get(f"/applications/{app['id']}", headers=api.applicant)).json()
    assert back["sections"]["health_info"]["honours"][0]["name"] == "优秀援凉医生"
    refused = await save(api, (await new_initial(api))["id"], "health_info", HEALTH)
    assert refused.status_code == 422 and refused.json()["field"] == "section"


async def test_health_front_line_items_the_letter_template_and_its_upload(demo: Api) -> None:
    """卫生技术信息 → 抗疫一线医务人员情况: the three policy items, 推荐函 模板下载 and 推荐信上传."""
    import io

    from docx import Document

    api = demo
    template = await api.get("/templates/recommendation-letter")  # public: a blank form
    assert template.status_code == 200
    assert template.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument")
    assert "filename*=UTF-8''" in template.headers["content-disposition"]
    text = "\n".join(p.text for p in Document(io.BytesIO(template.content)).paragraphs)
    assert "一线医务人员职称申报推荐函" in text and "盖章" in text

    app = await new_health_application(api)
    letter_url = f"/applications/{app['id']}/sections/health_info/entries/recommendation_letter/attachments"
    early = await api.post(letter_url, files={"file": ("推荐函.pdf", PDF)}, headers=api.applicant)
    assert early.status_code == 422 and early.json()["field"] == "entry_id"  # the section is saved first
    front_line = {
        **HEALTH,
        "epidemic_category": "一线医务人员",
        "epidemic_seniority_tilt": True,
        "epidemic_achievements_for_summary": True,
        "epidemic_exam_exemption": False,
    }
    assert (await save(api, app["id"], "health_info", front_line)).status_code == 200
    up = await api.post(letter_url, files={"file": ("推荐函.pdf", PDF)}, headers=api.applicant)
    assert up.status_code == 201 and up.json()["material_name"] == "一线医务人员职称申报推荐函"
    kept = (await api.get(f"/applications/{app['id']}", headers=api.applicant)).json()["sections"]["health_info"]
    assert kept["epidemic_seniority_tilt"] is True and kept["epidemic_exam_exemption"] is False


async def test_my_applications_page_with_their_total_and_leave_out_the_abandoned(demo: Api) -> None:
    api = demo
    abandoned = await new_initial(api)
    assert (await api.post(f"/applications/{abandoned['id']}/abandon", headers=api.applicant)).status_code == 204
    kept = [await new_initial(api)]
    for specialty in ("SHOUYI", "XUMU"):
        body = settings(None, method="RENDING", level="ZHULI", qualification=f"NONGYE_ZHULI_{specialty}")
        body["specialty"] = specialty
        r = await api.post("/applications", headers=api.applicant, json=body)
        assert r.status_code == 201, r.text
        kept.append(r.json())

    pages = [
        (await api.get("/applications", params={"page": n, "size": 2}, headers=api.applicant)).json() for n in (1, 2)
    ]
    assert [(p["total"], p["page"], p["size"], len(p["items"])) for p in pages] == [(3, 1, 2, 2), (3, 2, 2, 1)]
    listed = [item["id"] for p in pages for item in p["items"]]
    assert sorted(listed) == sorted(a["id"] for a in kept) and abandoned["id"] not in listed
    # another applicant's list is empty; a size beyond the limit is refused on its parameter
    other = await api.get("/applications", headers=api.as_(Role.APPLICANT, subject="usr_applicant2"))
    assert other.json() | {"items": []} == {"items": [], "total": 0, "page": 1, "size": 10}
    too_big = await api.get("/applications", params={"size": 51}, headers=api.applicant)
    assert too_big.status_code == 422 and "size" in too_big.text
