"""Unit tests, applications reference data: catalogue, Sichuan region tree and demo province are consistent."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

DATA_DIR = Path(__file__).resolve().parents[3] / "services/applications/src/applications/reference_data"
LEVEL_CODES = {"ZHENGGAO", "FUGAO", "ZHONGJI", "ZHULI", "YUANJI"}
EXAM_MODES = {"review_only", "exam_plus_review", "exam_only"}
ID_PATTERN = re.compile(r"^0193a1f0-0000-7000-8000-[0-9a-f]{12}$")
PREFECTURES = {
    "510100", "510300", "510400", "510500", "510600", "510700", "510800", "510900", "511000", "511100", "511300",
    "511400", "511500", "511600", "511700", "511800", "511900", "512000", "513200", "513300", "513400",
}  # fmt: skip
TODAY = date(2026, 11, 27)


def _load(name: str) -> dict[str, Any]:
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


def _ref(suffix: str) -> str:
    return f"0193a1f0-0000-7000-8000-{suffix}"


@pytest.fixture(scope="module")
def catalog() -> dict[str, Any]:
    return _load("catalog.json")


@pytest.fixture(scope="module")
def regions() -> dict[str, Any]:
    return _load("regions.json")


@pytest.fixture(scope="module")
def demo() -> dict[str, Any]:
    return _load("demo_data.json")


def _walk(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for node in nodes:
        out.append(node)
        out.extend(_walk(node.get("children", [])))
    return out


# ---------------------------------------------------------------- catalog.json


def test_catalog_levels(catalog: dict[str, Any]) -> None:
    assert {lv["code"] for lv in catalog["levels"]} == LEVEL_CODES
    assert sorted(lv["rank"] for lv in catalog["levels"]) == [1, 2, 3, 4, 5]


def test_catalog_has_27_series_with_unique_codes(catalog: dict[str, Any]) -> None:
    series = catalog["series"]
    assert len(series) == 27
    assert len({s["code"] for s in series}) == 27
    assert len({s["name"] for s in series}) == 27
    assert all(re.fullmatch(r"[A-Z][A-Z_]*", s["code"]) for s in series)


def test_catalog_special_sections(catalog: dict[str, Any]) -> None:
    sections = {s["name"]: s["special_section"] for s in catalog["series"] if s["special_section"]}
    assert sections == {"中小学教师": "teacher", "卫生技术人员": "health"}


def test_catalog_levels_and_exam_modes_valid(catalog: dict[str, Any]) -> None:
    for s in catalog["series"]:
        level_codes = [lv["level"] for lv in s["levels"]]
        assert len(level_codes) == len(set(level_codes)), s["code"]
        for lv in s["levels"]:
            assert lv["level"] in LEVEL_CODES
            assert lv["exam_mode"] in EXAM_MODES
            assert isinstance(lv["exam_record_required"], bool)
            assert lv["qualifications"], (s["code"], lv["level"])
            if lv["exam_mode"] == "exam_only":
                assert lv["exam_record_required"], (s["code"], lv["level"])


def test_catalog_qualification_codes_unique(catalog: dict[str, Any]) -> None:
    codes = [q["code"] for s in catalog["series"] for lv in s["levels"] for q in lv["qualifications"]]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"[A-Z0-9_]+", c) for c in codes)


def test_catalog_specialties_and_narrowing(catalog: dict[str, Any]) -> None:
    for s in catalog["series"]:
        codes = [sp["code"] for sp in s["specialties"]]
        assert len(codes) == len(set(codes)), s["code"]
        assert "OTHER" in codes, s["code"]
        assert len(codes) >= 3, s["code"]
        for lv in s["levels"]:
            for q in lv["qualifications"]:
                for sp in q.get("specialties", []):
                    assert sp in codes, (s["code"], q["code"], sp)


def test_catalog_known_exam_modes(catalog: dict[str, Any]) -> None:
    modes = {(s["name"], lv["level"]): lv["exam_mode"] for s in catalog["series"] for lv in s["levels"]}
    assert modes[("会计人员", "ZHONGJI")] == "exam_only"
    assert modes[("会计人员", "FUGAO")] == "exam_plus_review"
    assert modes[("会计人员", "ZHENGGAO")] == "review_only"
    assert modes[("农业技术人员", "ZHONGJI")] == "review_only"


# ---------------------------------------------------------------- regions.json


def test_regions_tree(regions: dict[str, Any]) -> None:
    (province,) = regions["regions"]
    assert province["code"] == "510000"
    children = {c["code"]: c for c in province["children"]}
    assert children["510000-BJ"]["kind"] == "province_own"
    prefectures = [c for c in province["children"] if c["kind"] == "prefecture"]
    assert {p["code"] for p in prefectures} == PREFECTURES
    for p in prefectures:
        kinds = [c["kind"] for c in p["children"]]
        assert f"{p['code']}-BJ" in {c["code"] for c in p["children"]}, p["name"]
        assert kinds.count("prefecture_own") == 1
        assert kinds.count("county") >= 3, p["name"]
        for c in p["children"]:
            if c["kind"] == "county":
                assert re.fullmatch(r"51\d{4}", c["code"]) and c["code"][:4] == p["code"][:4], c


def test_region_codes_unique_and_county_total(regions: dict[str, Any]) -> None:
    nodes = _walk(regions["regions"])
    codes = [n["code"] for n in nodes]
    assert len(codes) == len(set(codes))
    counties = [n for n in nodes if n["kind"] == "county"]
    assert 170 <= len(counties) <= 190


# ---------------------------------------------------------------- demo_data.json


def test_demo_required_ids(demo: dict[str, Any]) -> None:
    units = {u["id"]: u for u in demo["units"]}
    departments = {d["id"]: d for d in demo["departments"]}
    committees = {c["id"]: c for c in demo["committees"]}
    unit = units[_ref("00000000a001")]
    assert unit["name"] == "成都市示例农业科技有限公司"
    assert unit["region"] == "510100-BJ"
    assert unit["department_chain"] == [_ref("00000000d001"), _ref("00000000d002")]
    assert departments[_ref("00000000d001")]["name"] == "成都市农业农村局"
    assert departments[_ref("00000000d002")]["region"] == "510000-BJ"
    committee = committees[_ref("00000000c001")]
    assert committee["name"] == "成都市农业系列中级评委会0706"
    assert (committee["series"], committee["levels"], committee["region_scope"]) == ("NONGYE", ["ZHONGJI"], "510100")
    assert committee["organiser"]["id"] == _ref("00000000e001")
    assert _ref("00000000f001") in {a["id"] for a in demo["authorities"]}


def test_demo_ids_well_formed_and_unique(demo: dict[str, Any]) -> None:
    ids = [x["id"] for key in ("departments", "organisers", "authorities", "units", "committees", "activities")
           for x in demo[key]]  # fmt: skip
    assert len(ids) == len(set(ids))
    assert all(ID_PATTERN.match(i) for i in ids)


def test_demo_references_resolve(demo: dict[str, Any], catalog: dict[str, Any], regions: dict[str, Any]) -> None:
    region_codes = {n["code"] for n in _walk(regions["regions"])}
    departments = {d["id"] for d in demo["departments"]}
    organisers = {o["id"] for o in demo["organisers"]}
    authorities = {a["id"] for a in demo["authorities"]}
    series = {s["code"]: s for s in catalog["series"]}
    for d in demo["departments"]:
        assert d["region"] in region_codes, d
    for u in demo["units"]:
        assert u["region"] in region_codes, u["name"]
        assert all(d in departments for d in u["department_chain"]), u["name"]
        assert re.fullmatch(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-Z]{9}[0-9A-HJ-NPQRTUWXY]", u["credit_code"])
    for c in demo["committees"]:
        s = series[c["series"]]
        assert set(c["levels"]) <= {lv["level"] for lv in s["levels"]}, c["name"]
        assert c["region_scope"] in region_codes, c["name"]
        assert set(c["specialties"]) <= {sp["code"] for sp in s["specialties"]}, c["name"]
        assert c["organiser"]["id"] in organisers
        assert c["authorising_unit"]["id"] in authorities
    committee_ids = {c["id"] for c in demo["committees"]}
    assert all(a["committee_id"] in committee_ids for a in demo["activities"])


def test_demo_activity_dates_and_templates(demo: dict[str, Any]) -> None:
    for a in demo["activities"]:
        keys = ("start", "first_submit_deadline", "modify_deadline", "unit_deadline")
        days = [date.fromisoformat(a[k]) for k in keys]
        assert days == sorted(days), a["id"]
        assert a["year"] == days[0].year
        others = [t for t in a["achievement_templates"] if t["code"] == "OTHER"]
        assert len(others) == 1 and others[0]["counts"] is False and others[0]["form"] == "generic", a["id"]
        assert all(t["counts"] for t in a["achievement_templates"] if t["code"] != "OTHER")
        assert len({t["code"] for t in a["achievement_templates"]}) == len(a["achievement_templates"])
        assert a["interview"] in {"all", "partial", "none"}
        assert a["exam"] in {"组织", "不组织"}
        for m in a["required_materials"]:
            assert m["type"] in {"pdf", "image", "any"} and m["max_count"] >= 1 and m["max_size_mb"] > 0


def test_demo_activity_statuses(demo: dict[str, Any]) -> None:
    statuses = set()
    for a in demo["activities"]:
        start, deadline = date.fromisoformat(a["start"]), date.fromisoformat(a["first_submit_deadline"])
        statuses.add("not_started" if TODAY < start else "receiving" if TODAY <= deadline else "closed")
    assert statuses == {"not_started", "receiving", "closed"}
    with_activity = {a["committee_id"] for a in demo["activities"]}
    assert any(c["id"] not in with_activity for c in demo["committees"])


def test_demo_articles(demo: dict[str, Any]) -> None:
    articles = demo["articles"]
    assert {a["kind"] for a in articles} == {"notice", "policy", "publicity"}
    ids = [a["id"] for a in articles]
    assert len(ids) == len(set(ids)) and all(ID_PATTERN.match(i) for i in ids)
    others = {x["id"] for key in ("departments", "organisers", "authorities", "units", "committees", "activities")
              for x in demo[key]}  # fmt: skip
    assert not others & set(ids)
    held = {(a["committee_id"], a["year"]) for a in demo["activities"]}
    committees = {c["id"] for c in demo["committees"]}
    for a in articles:
        assert 1 <= len(a["title"]) <= 100 and 1 <= len(a["body"]) <= 20000, a["id"]
        assert a["committee_id"] is None or a["committee_id"] in committees, a["id"]
        if a["kind"] == "publicity":
            assert (a["committee_id"], a["year"]) in held, a["id"]  # the result of an activity that took place
            assert a["entries"] and all(e["name"] and e["unit"] and e["qualification"] for e in a["entries"])
        else:
            assert a["entries"] == [], a["id"]
