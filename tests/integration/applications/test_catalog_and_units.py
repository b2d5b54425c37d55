"""The title catalog and its cascade, the region tree, and the unit picker."""

from __future__ import annotations

from integration.applications.conftest import Api


def codes(items: list[dict[str, str]]) -> set[str]:
    return {i["code"] for i in items}


async def test_catalog_lists_every_series_with_levels_and_exam_modes(api: Api) -> None:
    r = await api.get("/catalog")
    assert r.status_code == 200
    body = r.json()
    assert body["version"] == 1 and len(body["series"]) == 27
    kuaiji = next(s for s in body["series"] if s["name"] == "会计人员")
    modes = {lv["level"]: lv["exam_mode"] for lv in kuaiji["levels"]}
    assert modes["ZHONGJI"] == "exam_only" and modes["FUGAO"] == "exam_plus_review"
    assert [lv["name"] for lv in body["levels"]] == ["正高级", "副高级", "中级", "助理级", "员级"]
    assert "社会化评审" in body["guidance"]


async def test_cascade_narrows_each_choice_by_the_others(api: Api) -> None:
    everything = (await api.get("/catalog/cascade")).json()
    with_titles = [s for s in (await api.get("/catalog")).json()["series"] if s["levels"]]
    assert 20 <= len(everything["series"]) == len(with_titles)  # a series without any title name cannot be chosen

    nongye = (await api.get("/catalog/cascade", params={"series": "NONGYE"})).json()
    assert codes(nongye["series"]) == codes(everything["series"])  # a choice never hides its own alternatives
    assert codes(nongye["levels"]) == {"ZHENGGAO", "FUGAO", "ZHONGJI", "ZHULI", "YUANJI"}
    assert "SHOUYI" in codes(nongye["specialties"])
    assert all(q["code"].startswith("NONGYE") for q in nongye["qualifications"])

    zhongji = (await api.get("/catalog/cascade", params={"series": "NONGYE", "level": "ZHONGJI"})).json()
    assert {q["name"] for q in zhongji["qualifications"]} >= {"农艺师", "畜牧师", "兽医师"}
    assert all(q["level"] == "ZHONGJI" for q in zhongji["qualifications"])

    # the qualification narrows the specialty and the specialty narrows the qualification
    vet = await api.get("/catalog/cascade", params={"series": "NONGYE", "qualification": "NONGYE_ZHONGJI_SHOUYI"})
    assert codes(vet.json()["specialties"]) == {"SHOUYI", "OTHER"}
    assert codes(vet.json()["levels"]) == {"ZHONGJI"}
    by_specialty = (await api.get("/catalog/cascade", params={"series": "NONGYE", "specialty": "JIXIEHUA"})).json()
    names = {q["name"] for q in by_specialty["qualifications"]}
    assert "农艺师" in names and "兽医师" not in names

    # choosing a level alone narrows the series to those that have it
    yuanji = (await api.get("/catalog/cascade", params={"level": "YUANJI"})).json()
    assert "KUAIJI" not in codes(yuanji["series"]) and "NONGYE" in codes(yuanji["series"])


async def test_starting_over_gives_every_option_back(api: Api) -> None:
    params = {"series": "NONGYE", "qualification": "NONGYE_ZHONGJI_SHOUYI"}
    narrowed = (await api.get("/catalog/cascade", params=params)).json()
    full = (await api.get("/catalog/cascade")).json()
    assert codes(narrowed["specialties"]) == {"SHOUYI", "OTHER"} and codes(narrowed["levels"]) == {"ZHONGJI"}
    assert len(full["specialties"]) > 50 and len(full["levels"]) == 5


async def test_regions_form_a_tree_of_21_prefectures_with_their_own_level(api: Api) -> None:
    (province,) = (await api.get("/regions")).json()
    assert province["name"] == "四川省" and province["code"] == "510000"
    prefectures = [c for c in province["children"] if c["kind"] == "prefecture"]
    assert len(prefectures) == 21
    chengdu = next(p for p in prefectures if p["code"] == "510100")
    assert chengdu["children"][0]["path"] == "四川省/成都市/市(州)本级"
    assert any(c["path"] == "四川省/成都市/锦江区" for c in chengdu["children"])
    assert province["children"][0]["kind"] == "province_own" and province["children"][0]["path"] == "四川省"


async def test_unit_search_pages_by_keyword_and_only_registered_units_exist(api: Api) -> None:
    for i in range(12):
        r = await api.post(
            "/units",
            headers=api.admin,
            json={
                "name": f"成都测试农业科技有限公司{i:02d}",
                "credit_code": f"91510100MA6C{i:06d}",
                "region_code": "510100-BJ",
            },
        )
        assert r.status_code == 201, r.text
    first = (await api.get("/units", params={"keyword": "测试农业"})).json()
    assert first["total"] == 12 and len(first["items"]) == 10 and first["page"] == 1
    second = (await api.get("/units", params={"keyword": "测试农业", "page": 2})).json()
    assert len(second["items"]) == 2
    assert {u["id"] for u in first["items"]}.isdisjoint({u["id"] for u in second["items"]})
    assert (await api.get("/units", params={"keyword": "不存在的单位"})).json()["total"] == 0
    wild = (await api.get("/units", params={"keyword": "%"})).json()
    assert wild["total"] == 0  # the keyword is literal text, not a pattern

    missing = await api.get("/units/0193a1f0-0000-7000-8000-000000000bad")
    assert missing.status_code == 422 and missing.json()["field"] == "unit_id"
    assert "未在系统中注册" in missing.json()["detail"]


async def test_unit_registration_is_for_admins_and_validates_the_credit_code(api: Api) -> None:
    body = {"name": "某单位", "credit_code": "91510100MA6C000001", "region_code": "510100-BJ"}
    assert (await api.post("/units", headers=api.applicant, json=body)).status_code == 403
    bad = await api.post("/units", headers=api.admin, json={**body, "credit_code": "123"})
    assert bad.status_code == 422 and bad.json()["field"] == "credit_code"
    nowhere = await api.post("/units", headers=api.admin, json={**body, "region_code": "999999"})
    assert nowhere.status_code == 422 and nowhere.json()["field"] == "region_code"


async def test_catalog_versions_keep_the_old_entries(api: Api) -> None:
    v1 = (await api.get("/catalog/versions/1")).json()
    v1["series"] = [s for s in v1["series"] if s["code"] != "CHUANBO"]
    assert (await api.put("/catalog", headers=api.applicant, json=v1)).status_code == 403
    r = await api.put("/catalog", headers=api.admin, json=v1)
    assert r.status_code == 201 and r.json() == {"version": 2}
    assert (await api.get("/catalog")).json()["version"] == 2
    assert any(s["code"] == "CHUANBO" for s in (await api.get("/catalog/versions/1")).json()["series"])
    broken = await api.put("/catalog", headers=api.admin, json={"levels": [], "series": [{"name": "x"}]})
    assert broken.status_code == 422 and broken.json()["code"] == "validation_failed"  # the shape, by field
    assert {e["field"] for e in broken.json()["errors"]} >= {"levels", "series.0.code", "series.0.levels"}
    unknown_level = {**v1, "series": [{**v1["series"][0], "levels": [{"level": "NOPE", "exam_mode": "review_only"}]}]}
    refused = await api.put("/catalog", headers=api.admin, json=unknown_level)
    assert refused.status_code == 422 and refused.json()["code"] == "catalog.invalid"  # its references
