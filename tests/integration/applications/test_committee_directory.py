"""Issue 19 item 10: the committee directory before applying (填报说明 1, the portal's 评审委员会) — public, by
所在地区 (the territorial principle), series, level and name, paged, each committee with the year's activity;
and the name filter (查询 / 重置) of the 选择评委会 dialog."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from applications.demo_data import load
from applications.reference_data import DATA_DIR
from integration.applications.conftest import Api

DEMO = json.loads((DATA_DIR / "demo_data.json").read_text(encoding="utf-8"))
UNIT_A001 = "0193a1f0-0000-7000-8000-00000000a001"  # 成都市示例农业科技有限公司, 四川省/成都市/市(州)本级
C001 = "0193a1f0-0000-7000-8000-00000000c001"  # 成都市农业系列中级评委会0706, receiving on 2026-11-27
# what an applicant in 成都市本级 may apply to directly: its node, 成都市, 四川省 and 省本级 (docs/decisions/0009)
CHENGDU_OWN_DIRECT = {"510100-BJ", "510100", "510000", "510000-BJ"}


@pytest.fixture
async def demo(api: Api) -> Api:
    await load(api.database_url, year=2026)
    return api


async def directory(api: Api, **params: Any) -> dict[str, Any]:
    r = await api.get("/committees", params={"year": 2026, **params})
    assert r.status_code == 200, r.text
    return dict(r.json())


async def everything(api: Api, **params: Any) -> list[dict[str, Any]]:
    """Every page of a query, in order."""
    first = await directory(api, size=50, **params)
    items = list(first["items"])
    for page in range(2, first["pages"] + 1):
        items += (await directory(api, size=50, page=page, **params))["items"]
    return items


def demo_names(**match: Any) -> set[str]:
    def fits(c: dict[str, Any]) -> bool:
        return all(
            (c["region_scope"] in want)
            if key == "region_scope"
            else (want in c[key])
            if key == "levels"
            else c[key] == want
            for key, want in match.items()
        )

    return {c["name"] for c in DEMO["committees"] if fits(c)}


async def test_anyone_may_look_without_logging_in(demo: Api) -> None:
    body = await directory(demo)  # no Authorization header
    assert body["total"] == len(DEMO["committees"])
    assert body["page"] == 1 and body["size"] == 10 and len(body["items"]) == 10
    assert body["region_path"] is None and body["direct_scopes"] == []


async def test_region_lists_what_an_applicant_there_may_apply_to_directly(demo: Api) -> None:
    body = await directory(demo, region="510100-BJ", size=50)
    assert body["region_path"] == "四川省/成都市/市(州)本级"
    assert body["direct_scopes"] == ["四川省/成都市/市(州)本级", "四川省/成都市", "四川省", "四川省"]
    assert {i["name"] for i in body["items"]} == demo_names(region_scope=CHENGDU_OWN_DIRECT)
    assert body["total"] < len(DEMO["committees"])
    assert "乐山市农业技术系列中级职称评审委员会" not in {i["name"] for i in body["items"]}  # needs 委托评审


async def test_series_level_and_name_narrow_the_list(demo: Api) -> None:
    nongye = await everything(demo, series="NONGYE")
    assert {i["name"] for i in nongye} == demo_names(series="NONGYE")
    assert {i["series_name"] for i in nongye} == {"农业技术人员"}
    both = await everything(demo, series="NONGYE", region="510100-BJ")
    assert {i["name"] for i in both} == demo_names(series="NONGYE", region_scope=CHENGDU_OWN_DIRECT)
    assert 0 < len(both) < len(nongye)
    senior = await everything(demo, series="NONGYE", level="FUGAO")
    assert {i["name"] for i in senior} == demo_names(series="NONGYE", levels="FUGAO")
    assert all("FUGAO" in {lv["code"] for lv in i["levels"]} for i in senior)
    leshan = await everything(demo, keyword="乐山")
    assert leshan and all("乐山" in i["name"] for i in leshan)
    assert {i["name"] for i in leshan} == {c["name"] for c in DEMO["committees"] if "乐山" in c["name"]}
    assert await everything(demo, keyword="100%_") == []  # wildcards are taken literally


async def test_pages_add_up_to_the_total(demo: Api) -> None:
    total = len(DEMO["committees"])
    first = await directory(demo, size=7)
    assert first["total"] == total and first["pages"] == math.ceil(total / 7)
    seen: list[str] = []
    for page in range(1, first["pages"] + 1):
        body = await directory(demo, size=7, page=page)
        assert [i["no"] for i in body["items"]] == list(range((page - 1) * 7 + 1, min(page * 7, total) + 1))
        seen += [i["id"] for i in body["items"]]
    assert len(seen) == len(set(seen)) == total
    beyond = await directory(demo, size=7, page=first["pages"] + 1)
    assert beyond["items"] == [] and beyond["total"] == total


async def test_each_committee_shows_its_activity_of_the_year(demo: Api) -> None:
    items = await everything(demo)
    by_id = {i["id"]: i for i in items}
    c001 = by_id[C001]
    assert c001["status"] == "材料接收中" and c001["open"] is True
    assert c001["activity"]["year"] == 2026
    assert c001["activity"]["first_submit_deadline"] == "2026-12-20"
    assert c001["activity"]["review_method"] and c001["organiser_name"] == "成都市农业农村局"
    with_activity = {a["committee_id"] for a in DEMO["activities"]}
    without = [i for i in items if i["id"] not in with_activity]
    assert without and all(i["activity"] is None and i["status"] == "未设置评审活动" for i in without)
    # receiving first, as in the 选择评委会 dialog
    statuses = [i["status"] for i in items]
    assert statuses[: statuses.count("材料接收中")] == ["材料接收中"] * statuses.count("材料接收中")
    assert all(i["open"] == (i["status"] == "材料接收中") for i in items)
    next_year = await everything(demo, year=2027)
    assert all(i["activity"] is None for i in next_year)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"region": "999999"}, "region"),
        ({"region": "510100-XX"}, "region"),
        ({"region": "5" * 21}, "region"),
        ({"series": "NOPE"}, "series"),
        ({"level": "NOPE"}, "level"),
        ({"size": 51}, "size"),
        ({"page": 0}, "page"),
    ],
)
async def test_bad_filters_are_refused_with_the_field(demo: Api, params: dict[str, Any], field: str) -> None:
    r = await demo.get("/committees", params=params)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["field"] == field, r.json()


async def test_committee_dialog_filters_by_name(demo: Api) -> None:
    base = {"unit_id": UNIT_A001, "method": "SHEHUIHUA", "series": "NONGYE", "level": "ZHONGJI", "year": 2026}
    everyone = (await demo.get("/committees/query", params={**base, "size": 50})).json()
    found = (await demo.get("/committees/query", params={**base, "keyword": "0706"})).json()
    assert [i["name"] for i in found["direct"]["items"]] == ["成都市农业系列中级评委会0706"]
    assert found["entrusted"]["total"] == 0
    assert found["header"][1] == "2.当前可直接申报评委会数为：【1】，可委托申报评委会数为：【0】"
    leshan = (await demo.get("/committees/query", params={**base, "keyword": "乐山"})).json()
    assert leshan["entrusted"]["total"] >= 1 and leshan["direct"]["total"] < everyone["direct"]["total"]
    reset = (await demo.get("/committees/query", params={**base, "keyword": "", "size": 50})).json()  # 重置
    assert reset["direct"]["total"] == everyone["direct"]["total"]
