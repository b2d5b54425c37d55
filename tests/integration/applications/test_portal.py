"""Issue 19 item 15: the portal — 通知公告, 政策文件 and 评审公示 read by anyone (published, not withdrawn; names
in a 评审公示 masked), published by administrators and, for their own committee, by its staff or organiser; and
the 个人操作说明 as a download."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import asyncpg
import pytest

from applications.demo_data import load
from integration.applications.conftest import Api, grant
from zc_auth import Role, ScopeType

C001 = "0193a1f0-0000-7000-8000-00000000c001"  # 成都市农业系列中级评委会0706 (organiser e001), activity 2026
C010 = "0193a1f0-0000-7000-8000-00000000c010"  # 乐山农业系统中级评委会（测试）
E001 = "0193a1f0-0000-7000-8000-00000000e001"  # 成都市农业农村局, organiser of C001
DEMO_PUBLICITY = "0193a1f0-0000-7000-8000-000000009003"


@pytest.fixture
async def demo(api: Api) -> Api:
    await load(api.database_url, year=2026)
    return api


def staff_of(api: Api, committee_id: str) -> dict[str, str]:
    return api.as_(
        grant(Role.COMMITTEE_STAFF, ScopeType.COMMITTEE, committee_id), subject=f"usr_staff_{committee_id[-4:]}"
    )


def publicity(committee_id: str = C001, **changes: Any) -> dict[str, Any]:
    return {
        "kind": "publicity",
        "title": "成都市农业系列中级评委会0706 2026年度评审通过人员公示",
        "body": "经评审委员会评审，以下人员评审通过，现予公示。\n公示期为5个工作日。",
        "publisher": "成都市农业系列中级评委会0706",
        "committee_id": committee_id,
        "year": 2026,
        "entries": [
            {"name": "张三丰", "unit": "成都市示例农业科技有限公司", "specialty": "农学", "qualification": "农艺师"},
            {"name": "李四", "unit": "成都市示例农业科技有限公司", "qualification": "农艺师"},
        ],
        **changes,
    }


def notice(**changes: Any) -> dict[str, Any]:
    return {
        "kind": "notice",
        "title": "关于做好职称评审工作的通知",
        "body": "各单位：\n请按时完成申报材料的审核推荐。",
        "publisher": "四川省人力资源和社会保障厅",
        **changes,
    }


async def publish(api: Api, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    r = await api.post("/portal/articles", headers=headers, json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def listed(api: Api, **params: Any) -> list[str]:
    r = await api.get("/portal/articles", params={"size": 50, **params})
    assert r.status_code == 200, r.text
    return [i["id"] for i in r.json()["items"]]


async def test_demo_data_fills_each_column_of_the_portal(demo: Api) -> None:
    for kind in ("notice", "policy", "publicity"):
        body = (await demo.get("/portal/articles", params={"kind": kind})).json()
        assert body["total"] >= 1 and {i["kind"] for i in body["items"]} == {kind}, body
    shown = (await demo.get(f"/portal/articles/{DEMO_PUBLICITY}")).json()
    assert shown["kind_name"] == "评审公示" and shown["committee_name"] == "0814成都市农业系列中级评委会"
    assert [e["name"] for e in shown["entries"]] == ["王**", "李*", "欧***"]


async def test_anyone_reads_what_committee_staff_published_with_names_masked(demo: Api) -> None:
    created = await publish(demo, staff_of(demo, C001), publicity())
    assert created["version"] == 1 and created["withdrawn_at"] is None
    assert created["author"] == f"user:usr_staff_{C001[-4:]}"
    assert created["id"] in await listed(demo)
    assert created["id"] in await listed(demo, kind="publicity", committee_id=C001, year=2026)
    assert created["id"] not in await listed(demo, kind="notice")
    assert created["id"] not in await listed(demo, committee_id=C010)
    r = await demo.get(f"/portal/articles/{created['id']}")  # anonymous
    assert r.status_code == 200, r.text
    article = r.json()
    assert article["title"] == publicity()["title"] and article["body"] == publicity()["body"]
    assert article["committee_name"] == "成都市农业系列中级评委会0706" and article["year"] == 2026
    assert article["entries"] == [
        {"no": 1, "name": "张**", "unit": "成都市示例农业科技有限公司", "specialty": "农学", "qualification": "农艺师"},
        {"no": 2, "name": "李*", "unit": "成都市示例农业科技有限公司", "specialty": None, "qualification": "农艺师"},
    ]
    assert "author" not in article and "withdrawn_at" not in article
    # the clear names were never stored
    conn = await asyncpg.connect(demo.database_url)
    try:
        stored = await conn.fetchval("SELECT entries::text FROM portal_articles WHERE id = $1::uuid", created["id"])
    finally:
        await conn.close()
    assert "张三丰" not in stored and "李四" not in stored and "张**" in stored


async def test_a_withdrawn_article_disappears(demo: Api) -> None:
    created = await publish(demo, demo.admin, notice())
    assert created["id"] in await listed(demo, kind="notice")
    r = await demo.post(f"/portal/articles/{created['id']}/withdraw", headers=demo.admin)
    assert r.status_code == 200 and r.json()["withdrawn_at"] is not None and r.json()["version"] == 2
    assert created["id"] not in await listed(demo, kind="notice")
    assert created["id"] not in await listed(demo)
    gone = await demo.get(f"/portal/articles/{created['id']}")
    assert gone.status_code == 404 and gone.headers["content-type"] == "application/problem+json"
    again = await demo.post(f"/portal/articles/{created['id']}/withdraw", headers=demo.admin)
    assert again.status_code == 200 and again.json()["withdrawn_at"] == r.json()["withdrawn_at"]  # no change
    revised = await demo.put(
        f"/portal/articles/{created['id']}", headers={**demo.admin, "If-Match": "2"}, json=_edit(notice())
    )
    assert revised.status_code == 409 and "撤回" in revised.json()["detail"]


def _edit(body: dict[str, Any]) -> dict[str, Any]:
    return {k: body[k] for k in ("title", "body", "publisher", "entries") if k in body}


async def test_revision_needs_the_current_version(demo: Api) -> None:
    staff = staff_of(demo, C001)
    created = await publish(demo, staff, publicity())
    path = f"/portal/articles/{created['id']}"
    changed = _edit(publicity(title="评审通过人员公示（更正）"))
    missing = await demo.put(path, headers=staff, json=changed)
    assert missing.status_code == 428 and missing.json()["field"] == "If-Match"
    stale = await demo.put(path, headers={**staff, "If-Match": "7"}, json=changed)
    assert stale.status_code == 409 and stale.json()["field"] == "If-Match"
    # sending the masked list back as it was read keeps it as it is
    changed["entries"] = [{k: e[k] for k in ("name", "unit", "specialty", "qualification")} for e in created["entries"]]
    ok = await demo.put(path, headers={**staff, "If-Match": "1"}, json=changed)
    assert ok.status_code == 200, ok.text
    assert ok.json()["version"] == 2 and ok.json()["title"] == "评审通过人员公示（更正）"
    assert [e["name"] for e in ok.json()["entries"]] == ["张**", "李*"]
    assert (await demo.get(path)).json()["title"] == "评审通过人员公示（更正）"


async def test_applicants_and_visitors_cannot_publish(demo: Api) -> None:
    applicant = await demo.post("/portal/articles", headers=demo.applicant, json=notice())
    assert applicant.status_code == 403 and applicant.headers["content-type"] == "application/problem+json"
    assert (await demo.post("/portal/articles", headers=demo.applicant, json=publicity())).status_code == 403
    assert (await demo.post("/portal/articles", json=notice())).status_code == 401
    created = await publish(demo, demo.admin, notice())
    for headers in (demo.applicant, demo.as_(grant(Role.UNIT_REVIEWER, ScopeType.UNIT, "u-1"))):
        path = f"/portal/articles/{created['id']}"
        assert (await demo.post(f"{path}/withdraw", headers=headers)).status_code == 403
        assert (await demo.put(path, headers={**headers, "If-Match": "1"}, json=_edit(notice()))).status_code == 403
    assert created["id"] in await listed(demo, kind="notice")


async def test_committee_staff_publish_only_for_their_own_committee(demo: Api) -> None:
    other = staff_of(demo, C010)
    refused = await demo.post("/portal/articles", headers=other, json=publicity(C001))
    assert refused.status_code == 403, refused.text
    province_wide = await demo.post("/portal/articles", headers=staff_of(demo, C001), json=notice())
    assert province_wide.status_code == 403  # an article of no committee: administrators only
    theirs = await publish(demo, staff_of(demo, C001), publicity())
    path = f"/portal/articles/{theirs['id']}"
    assert (await demo.post(f"{path}/withdraw", headers=other)).status_code == 403
    assert (await demo.put(path, headers={**other, "If-Match": "1"}, json=_edit(publicity()))).status_code == 403
    assert theirs["id"] in await listed(demo)
    # the organising unit (评委会组建单位) maintains its committee's activities, and so publishes for it too
    organiser = demo.as_(grant(Role.COMMITTEE_ORGANISER, ScopeType.UNIT, E001))
    policy = {**notice(kind="policy", title="评审政策文件"), "committee_id": C001, "year": 2026}
    assert (await demo.post("/portal/articles", headers=organiser, json=policy)).status_code == 201
    assert (await demo.post(f"{path}/withdraw", headers=organiser)).status_code == 200
    assert (await demo.post("/portal/articles", headers=organiser, json=publicity(C010))).status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (notice(title="标" * 101), "title"),
        (notice(title="   "), "title"),
        (notice(body="字" * 20001), "body"),
        (notice(kind="news"), "kind"),
        (notice(publisher=""), "publisher"),
        (notice(year=1999), "year"),
        (notice(extra="x"), "extra"),
        (notice(entries=publicity()["entries"]), "entries"),
        (publicity(committee_id=None), "committee_id"),
        (publicity(year=None), "year"),
        (publicity(entries=[]), "entries"),
        (publicity(year=2025), "year"),  # the committee held no review activity that year
        (publicity(committee_id="0193a1f0-0000-7000-8000-000000000bad"), "committee_id"),
        (publicity(entries=[{"name": " ", "unit": "单位", "qualification": "农艺师"}]), "entries.0.name"),
        (publicity(entries=[{"name": "张三", "qualification": "农艺师"}]), "entries.0.unit"),
    ],
)
async def test_bad_articles_are_refused_with_the_field(demo: Api, body: dict[str, Any], field: str) -> None:
    r = await demo.post("/portal/articles", headers=demo.admin, json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["field"] == field, r.json()


async def test_lists_page_newest_first(demo: Api) -> None:
    made = []
    for i in range(3):
        demo.clock.now = demo.clock.now.replace(minute=10 + i)
        made.append((await publish(demo, demo.admin, notice(title=f"分页测试{i}")))["id"])
    first = (await demo.get("/portal/articles", params={"kind": "notice", "keyword": "分页测试", "size": 2})).json()
    assert first["total"] == 3 and [i["id"] for i in first["items"]] == made[::-1][:2]
    second = (
        await demo.get("/portal/articles", params={"kind": "notice", "keyword": "分页测试", "size": 2, "page": 2})
    ).json()
    assert [i["id"] for i in second["items"]] == made[:1]
    bad = await demo.get("/portal/articles", params={"kind": "news"})
    assert bad.status_code == 422 and bad.json()["field"] == "kind"
    assert (await demo.get("/portal/articles/not-an-id")).status_code == 404


async def test_personal_guide_downloads_as_a_file(api: Api) -> None:
    r = await api.get("/portal/personal-guide")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/markdown; charset=utf-8"
    assert r.headers["content-disposition"].startswith("attachment;")
    assert f"filename*=UTF-8''{quote('个人操作说明.md')}" in r.headers["content-disposition"]
    text = r.content.decode("utf-8")
    assert text.startswith("# 四川省职称评审系统 个人操作说明")
    for step in ("个人申报设置", "选择评委会", "暂存", "撤回", "职称初定", "外省职称确认"):
        assert step in text
