"""The committee query of Fig. 2.2.3 (direct vs entrusted, statuses, paging, the header lines), the activity
notice of Fig. 2.2.4, committee maintenance by entitled roles, and every rejection of 立即申报."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from integration.applications.conftest import Api, grant
from zc_auth import Role, ScopeType

RECEIVING = {
    "start": "2026-11-01",
    "first_submit_deadline": "2026-12-20",
    "modify_deadline": "2026-12-25",
    "unit_deadline": "2026-12-31",
}
PAST = {
    "start": "2026-07-04",
    "first_submit_deadline": "2026-07-19",
    "modify_deadline": "2026-07-21",
    "unit_deadline": "2026-07-29",
}  # the manual's example notice
NOT_STARTED = {
    "start": "2026-12-15",
    "first_submit_deadline": "2026-12-28",
    "modify_deadline": "2026-12-29",
    "unit_deadline": "2026-12-30",
}
ORGANISER = "0193a1f0-0000-7000-8000-0000000e0001"

# name -> (series, levels, scope, specialties, activity dates or None)
COMMITTEES: dict[str, tuple[str, list[str], str, list[str], dict[str, str] | None]] = {
    "四川省农业系列中级评委会": ("NONGYE", ["ZHONGJI"], "510000", [], RECEIVING),
    "四川省省本级农业中级评委会": ("NONGYE", ["ZHONGJI"], "510000-BJ", [], RECEIVING),
    "成都市农业系列中级评委会0706": ("NONGYE", ["ZHONGJI"], "510100", [], RECEIVING),
    "四川省成都市中级农业技术系列评审委员会": ("NONGYE", ["ZHONGJI"], "510100-BJ", [], PAST),
    "锦江区农业中级评委会": ("NONGYE", ["ZHONGJI"], "510104", [], RECEIVING),
    "乐山农业系统中级评委会（测试）": ("NONGYE", ["ZHONGJI"], "511100", [], RECEIVING),
    "农业专家评委会": ("NONGYE", ["ZHONGJI"], "511100", [], PAST),
    "0615测试评委会": ("NONGYE", ["ZHONGJI"], "510100", [], None),
    "四川省农业中级评委会（明年）": ("NONGYE", ["ZHONGJI"], "510000", [], NOT_STARTED),
    "成都市兽医中级评委会": ("NONGYE", ["ZHONGJI"], "510100", ["SHOUYI"], RECEIVING),
    "四川省农业高级评委会": ("NONGYE", ["FUGAO", "ZHENGGAO"], "510000", [], RECEIVING),
    "四川省工程技术中级评委会": ("GONGCHENG", ["ZHONGJI"], "510000", [], RECEIVING),
}


def activity(dates: dict[str, str]) -> dict[str, Any]:
    return {
        **dates,
        "scope": "测试",
        "phone": "1561016909",
        "review_method": "专家评审",
        "exam": "不组织",
        "interview": "partial",
        "specialty_group_vote": False,
        "achievement_templates": [{"code": "P1", "clause": "公开发表相关专业论文1篇及以上", "form": "paper"}],
        "required_materials": [{"name": "学历证书", "type": "pdf", "max_size_mb": 5, "max_count": 2, "required": True}],
    }


@pytest.fixture
async def world(api: Api) -> dict[str, str]:
    """Units at province, city and county level, a central unit, and the committees above."""
    ids: dict[str, str] = {}
    units = {"province": "510000-BJ", "city": "510100-BJ", "county": "510104", "central": "510100-BJ"}
    for i, (key, region) in enumerate(units.items()):
        r = await api.post(
            "/units",
            headers=api.admin,
            json={
                "name": f"示例{key}单位",
                "credit_code": f"91510000MA62{i:06d}",
                "region_code": region,
                "central_in_sichuan": key == "central",
            },
        )
        assert r.status_code == 201, r.text
        ids[key] = r.json()["id"]
    for name, (series, levels, scope, specialties, dates) in COMMITTEES.items():
        cid = str(uuid.uuid4())
        r = await api.put(
            f"/committees/{cid}",
            headers=api.admin,
            json={
                "name": name,
                "series": series,
                "levels": levels,
                "region_scope": scope,
                "organiser_id": ORGANISER,
                "organiser_name": "四川省农业农村厅",
                "contact_person": "测试",
                "contact_phone": "15029909099",
                "specialties": specialties,
            },
        )
        assert r.status_code == 200, r.text
        if dates:
            r = await api.put(f"/committees/{cid}/activities/2026", headers=api.admin, json=activity(dates))
            assert r.status_code == 200, r.text
        ids[name] = cid
    return ids


async def query(api: Api, unit: str, **params: Any) -> dict[str, Any]:
    base = {"unit_id": unit, "method": "SHEHUIHUA", "series": "NONGYE", "level": "ZHONGJI", "year": 2026}
    r = await api.get("/committees/query", params={**base, **params})
    assert r.status_code == 200, r.text
    return dict(r.json())


def names(page: dict[str, Any]) -> set[str]:
    return {i["name"] for i in page["items"]}


async def test_header_lines_reproduce_the_manual_for_a_city_level_unit(api: Api, world: dict[str, str]) -> None:
    body = await query(api, world["city"])
    assert body["header"] == [
        "1.您的工作单位职称业务归属地为【四川省/成都市/市(州)本级】，可直接申报开设范围为"
        "【四川省/成都市/市(州)本级、四川省/成都市、四川省、四川省】区域的评委会，申报其它区域评委会需主管部门出具委托评审函",
        "2.当前可直接申报评委会数为：【7】，可委托申报评委会数为：【3】",
    ]
    assert names(body["direct"]) == {
        "四川省农业系列中级评委会",
        "四川省省本级农业中级评委会",
        "成都市农业系列中级评委会0706",
        "四川省成都市中级农业技术系列评审委员会",
        "0615测试评委会",
        "四川省农业中级评委会（明年）",
        "成都市兽医中级评委会",
    }
    assert names(body["entrusted"]) == {"锦江区农业中级评委会", "乐山农业系统中级评委会（测试）", "农业专家评委会"}


@pytest.mark.parametrize(
    ("unit", "direct", "entrusted"),
    [
        ("province", {"四川省农业系列中级评委会", "四川省省本级农业中级评委会", "四川省农业中级评委会（明年）"}, 7),
        (
            "county",
            {
                "四川省农业系列中级评委会",
                "四川省省本级农业中级评委会",
                "成都市农业系列中级评委会0706",
                "锦江区农业中级评委会",
                "0615测试评委会",
                "四川省农业中级评委会（明年）",
                "成都市兽医中级评委会",
            },
            3,
        ),
    ],
)
async def test_direct_and_entrusted_split_follows_the_units_region(
    api: Api, world: dict[str, str], unit: str, direct: set[str], entrusted: int
) -> None:
    body = await query(api, world[unit], size=20)
    assert names(body["direct"]) == direct
    assert body["entrusted"]["total"] == entrusted


async def test_specialty_narrows_committees_that_only_cover_some_specialties(api: Api, world: dict[str, str]) -> None:
    agronomy = await query(api, world["city"], specialty="NONGXUE", size=20)
    assert "成都市兽医中级评委会" not in names(agronomy["direct"])
    vet = await query(api, world["city"], specialty="SHOUYI", size=20)
    assert "成都市兽医中级评委会" in names(vet["direct"])


async def test_work_status_follows_the_deadline_inclusive_to_the_end_of_day_in_shanghai(
    api: Api, world: dict[str, str]
) -> None:
    def status(body: dict[str, Any], name: str) -> str:
        return str(next(i for i in body["direct"]["items"] if i["name"] == name)["status"])

    body = await query(api, world["city"], size=20)
    assert status(body, "四川省农业系列中级评委会") == "材料接收中"
    assert status(body, "四川省成都市中级农业技术系列评审委员会") == "已过申报材料提交截止时间"
    assert status(body, "0615测试评委会") == "未设置评审活动"
    assert status(body, "四川省农业中级评委会（明年）") == "尚未开始接收材料"
    # receiving first, as in the manual's list; only receiving committees can be chosen
    assert body["direct"]["items"][0]["status"] == "材料接收中"
    assert all(i["selectable"] == (i["status"] == "材料接收中") for i in body["direct"]["items"])

    api.clock.now = datetime(2026, 12, 20, 15, 59, tzinfo=UTC)  # 23:59 on the deadline day in Shanghai
    assert status(await query(api, world["city"], size=20), "四川省农业系列中级评委会") == "材料接收中"
    api.clock.now = datetime(2026, 12, 20, 16, 1, tzinfo=UTC)  # 00:01 the next day in Shanghai
    assert status(await query(api, world["city"], size=20), "四川省农业系列中级评委会") == "已过申报材料提交截止时间"


async def test_lists_page_ten_at_a_time_with_running_numbers(api: Api, world: dict[str, str]) -> None:
    first = await query(api, world["province"], size=3, entrusted_page=3)
    assert first["direct"]["total"] == 3 and first["direct"]["pages"] == 1
    assert [i["no"] for i in first["entrusted"]["items"]] == [7]  # 7 entrusted: pages of 3, 3, 1
    assert first["entrusted"]["page"] == 3 and first["entrusted"]["pages"] == 3
    default = await query(api, world["province"])
    assert default["entrusted"]["size"] == 10


async def test_initial_determination_needs_no_committee(api: Api, world: dict[str, str]) -> None:
    body = await query(api, world["city"], method="RENDING")
    assert body == {
        "no_committee_needed": True,
        "message": "当前申报方式, 无需选择评委会, 可直接点击申报",
        "method": "职称认定/职称初定",
    }


async def test_activity_notice_shows_the_fields_of_the_manual(api: Api, world: dict[str, str]) -> None:
    r = await api.get(f"/committees/{world['成都市农业系列中级评委会0706']}/activities/2026")
    notice = r.json()
    assert notice["title"] == "成都市农业系列中级评委会0706评审通知"
    assert notice["个人初次提交截止时间"] == "2026-12-20" and notice["是否组织面试答辩"] == "部分面试答辩"
    assert notice["是否设专业组投票"] == "否" and notice["评审方式"] == "专家评审"
    other = [t for t in notice["achievement_templates"] if not t["counts"]]
    assert len(other) == 1 and "不计入满足政策条数" in other[0]["clause"]
    assert notice["required_materials"][0]["max_size_mb"] == 5
    assert notice["申报类别"] == ["正常申报", "破格申报", "转评申报"]  # the default, the activity sets none
    none = (await api.get(f"/committees/{world['0615测试评委会']}/activities/2026")).json()
    assert none["status"] == "未设置评审活动"


def choice(world: dict[str, str], **changes: Any) -> dict[str, Any]:
    base = {
        "unit_id": world["city"],
        "year": 2026,
        "method": "SHEHUIHUA",
        "series": "NONGYE",
        "level": "ZHONGJI",
        "specialty": "NONGXUE",
        "qualification": "NONGYE_ZHONGJI_NONGYI",
        "committee_id": world["四川省农业系列中级评委会"],
        "category": "正常申报",
    }
    return {**base, **changes}


async def test_settings_accepted_when_every_rule_holds(api: Api, world: dict[str, str]) -> None:
    r = await api.post("/application-settings/check", headers=api.applicant, json=choice(world))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["valid"] and body["catalog_version"] == 1 and body["committee"]["direct"] is True
    assert body["qualification"]["name"] == "农艺师" and body["entrustment_letter_required"] is False
    entrusted = await api.post(
        "/application-settings/check",
        headers=api.applicant,
        json=choice(world, method="WEITUO", committee_id=world["乐山农业系统中级评委会（测试）"]),
    )
    assert entrusted.status_code == 200 and entrusted.json()["entrustment_letter_required"] is True
    initial = await api.post(
        "/application-settings/check", headers=api.applicant, json=choice(world, method="RENDING", committee_id=None)
    )
    assert initial.status_code == 200 and initial.json()["committee"] is None


REJECTIONS = {
    "unregistered_unit": ({"unit_id": "0193a1f0-0000-7000-8000-000000000bad"}, "unit_id", "未在系统中注册"),
    "qualification_of_another_level": ({"qualification": "NONGYE_FUGAO_NONGYI"}, "qualification", "申报层级"),
    "qualification_of_another_specialty": ({"qualification": "NONGYE_ZHONGJI_SHOUYI"}, "qualification", "专业"),
    "specialty_of_another_series": ({"specialty": "NOT_A_SPECIALTY"}, "specialty", "不属于"),
    "direct_method_with_entrusted_committee": (
        {"committee": "乐山农业系统中级评委会（测试）"},
        "committee_id",
        "委托评审",
    ),
    "entrusted_method_with_direct_committee": ({"method": "WEITUO"}, "committee_id", "社会化评审"),
    "committee_past_deadline": (
        {"committee": "四川省成都市中级农业技术系列评审委员会"},
        "committee_id",
        "已过申报材料提交截止时间",
    ),
    "committee_without_activity": ({"committee": "0615测试评委会"}, "committee_id", "未设置评审活动"),
    "committee_not_started": ({"committee": "四川省农业中级评委会（明年）"}, "committee_id", "尚未开始接收材料"),
    "committee_of_other_levels": ({"committee": "四川省农业高级评委会"}, "committee_id", "评审范围"),
    "committee_of_other_series": ({"committee": "四川省工程技术中级评委会"}, "committee_id", "评审范围"),
    "no_committee": ({"committee_id": None}, "committee_id", "请选择申报评委会"),
    "central_method_for_ordinary_unit": ({"method": "ZHONGYANG_ZAICHUAN"}, "method", "不是中央在川单位"),
    "ordinary_method_for_central_unit": ({"unit": "central"}, "method", "中央在川单位委托评审"),
    "initial_with_committee": ({"method": "RENDING"}, "committee_id", "无需选择评委会"),
    "initial_at_senior_level": (
        {"method": "RENDING", "committee_id": None, "level": "FUGAO", "qualification": "NONGYE_FUGAO_NONGYI"},
        "level",
        "职称初定",
    ),
    "exam_only_title": (
        {"series": "KUAIJI", "level": "ZHONGJI", "specialty": "OTHER", "qualification": "KUAIJI_ZHONGJI"},
        "level",
        "以考代评",
    ),
    "year_out_of_range": ({"year": 2020}, "year", "申报年度"),
    # 申报类别: one of the activity's; 初定 is always 正常申报
    "category_not_set_by_the_activity": ({"category": "特殊申报"}, "category", "正常申报、破格申报、转评申报"),
    "initial_not_normal": (
        {
            "method": "RENDING",
            "committee_id": None,
            "level": "ZHULI",
            "qualification": "NONGYE_ZHULI_NONGYI",
            "category": "破格申报",
        },
        "category",
        "正常申报",
    ),
}


@pytest.mark.parametrize("case", list(REJECTIONS))
async def test_settings_rejected_with_field_and_chinese_reason(api: Api, world: dict[str, str], case: str) -> None:
    changes, field, reason = REJECTIONS[case]
    changes = dict(changes)
    if "committee" in changes:
        changes["committee_id"] = world[changes.pop("committee")]
    if "unit" in changes:
        changes["unit_id"] = world[changes.pop("unit")]
    r = await api.post("/application-settings/check", headers=api.applicant, json=choice(world, **changes))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["field"] == field and reason in r.json()["detail"], r.json()


async def test_settings_check_needs_login(api: Api, world: dict[str, str]) -> None:
    assert (await api.post("/application-settings/check", json=choice(world))).status_code == 401


async def test_committee_maintenance_is_limited_to_its_staff_and_organiser(api: Api, world: dict[str, str]) -> None:
    cid = world["四川省农业系列中级评委会"]
    staff = api.as_(grant(Role.COMMITTEE_STAFF, ScopeType.COMMITTEE, cid))
    assert (
        await api.put(f"/committees/{cid}/activities/2026", headers=staff, json=activity(RECEIVING))
    ).status_code == 200
    other = world["成都市农业系列中级评委会0706"]
    denied = await api.put(f"/committees/{other}/activities/2026", headers=staff, json=activity(RECEIVING))
    assert denied.status_code == 403
    applicant = await api.put(f"/committees/{cid}/activities/2026", headers=api.applicant, json=activity(RECEIVING))
    assert applicant.status_code == 403
    organiser = api.as_(grant(Role.COMMITTEE_ORGANISER, ScopeType.UNIT, ORGANISER))
    new_id = str(uuid.uuid4())
    body = {
        "name": "新评委会",
        "series": "NONGYE",
        "levels": ["ZHONGJI"],
        "region_scope": "510100",
        "organiser_id": ORGANISER,
        "organiser_name": "四川省农业农村厅",
        "contact_person": "张三",
        "contact_phone": "028-12345678",
    }
    assert (await api.put(f"/committees/{new_id}", headers=organiser, json=body)).status_code == 200
    foreign = await api.put(f"/committees/{uuid.uuid4()}", headers=organiser, json={**body, "organiser_id": "x"})
    assert foreign.status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**activity(RECEIVING), "first_submit_deadline": "2026-10-01"}, "first_submit_deadline"),
        ({**activity(RECEIVING), "start": "2025-11-01"}, "start"),
        ({**activity(RECEIVING), "phone": "电话"}, "phone"),
        ({**activity(RECEIVING), "interview": "sometimes"}, "interview"),
    ],
)
async def test_activity_rejected_when_its_fields_are_wrong(
    api: Api, world: dict[str, str], body: dict[str, Any], field: str
) -> None:
    r = await api.put(f"/committees/{world['四川省农业系列中级评委会']}/activities/2026", headers=api.admin, json=body)
    assert r.status_code == 422 and r.json()["field"] == field, r.text


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"levels": ["YUANJI", "NOPE"]}, "levels"),
        ({"series": "NOPE"}, "series"),
        ({"region_scope": "999999"}, "region_scope"),
        ({"specialties": ["BUILDING"]}, "specialties"),
    ],
)
async def test_committee_rejected_when_it_does_not_fit_the_catalog(
    api: Api, world: dict[str, str], changes: dict[str, Any], field: str
) -> None:
    body = {
        "name": "新评委会",
        "series": "NONGYE",
        "levels": ["ZHONGJI"],
        "region_scope": "510100",
        "organiser_id": ORGANISER,
        "organiser_name": "四川省农业农村厅",
        "contact_person": "张三",
        "contact_phone": "028-12345678",
        **changes,
    }
    r = await api.put(f"/committees/{uuid.uuid4()}", headers=api.admin, json=body)
    assert r.status_code == 422 and r.json()["field"] == field, r.text


async def test_the_activity_sets_the_categories_and_the_special_section(api: Api, world: dict[str, str]) -> None:
    """申报类别 values and which special section appears (由评委会预先设置) come from the review activity; the
    chosen category travels with the application, its snapshot and the submitted event."""
    cid = world["四川省农业系列中级评委会"]
    body = {**activity(RECEIVING), "categories": ["正常申报", "转评申报"], "special_section": "health"}
    assert (await api.put(f"/committees/{cid}/activities/2026", headers=api.admin, json=body)).status_code == 200
    notice = (await api.get(f"/committees/{cid}/activities/2026")).json()
    assert notice["申报类别"] == ["正常申报", "转评申报"] and notice["special_section"] == "health"
    refused = await api.post(
        "/application-settings/check", headers=api.applicant, json=choice(world, category="破格申报")
    )
    assert refused.status_code == 422 and refused.json()["field"] == "category"

    created = await api.post("/applications", headers=api.applicant, json=choice(world, category="转评申报"))
    assert created.status_code == 201, created.text
    app = created.json()
    assert app["settings"]["category"] == "转评申报"
    assert "health_info" in [s["name"] for s in app["section_list"]]  # an agricultural series, set by the committee
    card = (await api.get("/applications", headers=api.applicant)).json()["items"][0]
    assert card["settings"]["category"] == "转评申报"
