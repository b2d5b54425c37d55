"""The demo province `make run` loads, and the manual's own example on it."""

from __future__ import annotations

from typing import Any

from applications.demo_data import load
from integration.applications.conftest import Api

UNIT_A001 = "0193a1f0-0000-7000-8000-00000000a001"  # 成都市示例农业科技有限公司, 四川省/成都市/市(州)本级


async def test_demo_data_loads_twice_without_change(api: Api) -> None:
    first = await load(api.database_url, year=2026)
    assert first["units"] >= 10 and first["committees"] >= 30
    assert await load(api.database_url, year=2026) == first  # idempotent


async def test_manual_example_unit_gets_the_manuals_header_lines(api: Api) -> None:
    await load(api.database_url, year=2026)
    unit = (await api.get(f"/units/{UNIT_A001}")).json()
    assert unit["name"] == "成都市示例农业科技有限公司"
    r = await api.get(
        "/committees/query",
        params={
            "unit_id": UNIT_A001,
            "method": "SHEHUIHUA",
            "series": "NONGYE",
            "level": "ZHONGJI",
            "year": 2026,
        },
    )
    body: dict[str, Any] = r.json()
    direct, entrusted = body["direct"]["total"], body["entrusted"]["total"]
    assert body["header"] == [
        "1.您的工作单位职称业务归属地为【四川省/成都市/市(州)本级】，可直接申报开设范围为"
        "【四川省/成都市/市(州)本级、四川省/成都市、四川省、四川省】区域的评委会，申报其它区域评委会需主管部门出具委托评审函",
        f"2.当前可直接申报评委会数为：【{direct}】，可委托申报评委会数为：【{entrusted}】",
    ]
    assert direct >= 3 and entrusted >= 2
    assert "四川省/乐山市" in {i["region_path"] for i in body["entrusted"]["items"]}
    assert "成都市农业系列中级评委会0706" in {i["name"] for i in body["direct"]["items"]}
    assert any(i["status"] == "材料接收中" for i in body["direct"]["items"])
    found = (await api.get("/units", params={"keyword": "示例农业"})).json()
    assert UNIT_A001 in {u["id"] for u in found["items"]}
