"""Unit tests, the code lists behind the dropdowns (issue 19 item 6): the standards' entries, the Chinese names of
GB/T 2659, and the sections' schemas offering exactly these values."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from applications.api.record_schemas import OutOfProvince, TalentStats
from applications.api.sections import Assessment, BasicInfo, Education, TeacherInfo
from applications.domain import codes
from applications.domain.application import EDUCATION_RANK

HAN = re.compile(r"^[\u4e00-\u9fff][\u4e00-\u9fff、·（）() \-]*$")


def test_ethnic_groups_are_the_56_of_gb_t_3304_and_its_two_further_codes() -> None:
    assert len(codes.ETHNIC_GROUPS) == 58 and len(set(codes.ETHNICITIES)) == 58
    assert [f"{n:02d}" for n in range(1, 57)] == list(codes.ETHNIC_GROUPS)[:56]
    assert codes.ETHNIC_GROUPS["01"] == "汉族" and codes.ETHNIC_GROUPS["56"] == "基诺族"
    assert all(name.endswith("族") for name in codes.ETHNICITIES[:56])
    assert codes.ETHNIC_GROUPS["97"] == "其他" and codes.ETHNIC_GROUPS["98"] == "外国血统中国籍人士"


def test_political_statuses_are_gb_t_4762_by_their_full_names() -> None:
    assert list(codes.POLITICAL_AFFILIATIONS) == [f"{n:02d}" for n in range(1, 14)]
    assert codes.POLITICAL_STATUSES[0] == "中国共产党党员" and codes.POLITICAL_STATUSES[-1] == "群众"
    assert "中共党员" not in codes.POLITICAL_STATUSES  # the short form is not a stored value


def test_nationalities_are_every_iso_3166_1_entry_in_chinese_china_first() -> None:
    assert len(codes.COUNTRIES) == 249 and len(set(codes.NATIONALITIES)) == 249
    assert codes.NATIONALITIES[0] == "中国" and codes.COUNTRIES["CN"] == "中国"
    assert all(HAN.match(name) for name in codes.NATIONALITIES), [n for n in codes.NATIONALITIES if not HAN.match(n)]
    assert (codes.COUNTRIES["TW"], codes.COUNTRIES["HK"], codes.COUNTRIES["MO"]) == ("中国台湾", "中国香港", "中国澳门")
    assert codes.COUNTRIES["US"] == "美国" and codes.COUNTRIES["KR"] == "韩国" and codes.COUNTRIES["KH"] == "柬埔寨"


def test_education_levels_are_the_ones_the_domain_ranks() -> None:
    assert set(codes.EDUCATION_LEVELS) == set(EDUCATION_RANK)
    assert list(codes.EDUCATION_LEVELS) == EDUCATION_RANK[::-1]  # highest first


def _enum(schema: dict[str, Any], name: str) -> list[Any]:
    prop = schema["properties"][name]
    (options,) = [p["enum"] for p in prop.get("anyOf", [prop]) if "enum" in p]
    return list(options)


def test_the_schemas_offer_exactly_the_code_lists() -> None:
    basic = BasicInfo.model_json_schema()
    assert _enum(basic, "nationality") == list(codes.NATIONALITIES)
    assert _enum(basic, "ethnicity") == list(codes.ETHNICITIES)
    assert _enum(basic, "political_status") == list(codes.POLITICAL_STATUSES)
    assert _enum(basic, "admin_post_level") == list(codes.ADMIN_POST_LEVELS)
    education = Education.model_json_schema()
    assert _enum(education, "degree_level") == list(codes.EDUCATION_LEVELS)
    assert _enum(education, "years") == list(codes.SCHOOLING_YEARS)
    assert _enum(Assessment.model_json_schema(), "result") == list(codes.ASSESSMENT_RESULTS)
    for record in (OutOfProvince, TalentStats):
        assert _enum(record.model_json_schema(), "highest_education") == list(codes.EDUCATION_LEVELS)
    moral = TeacherInfo.model_json_schema()["$defs"]["MoralEducation"]
    assert _enum(moral, "result") == list(codes.ASSESSMENT_RESULTS) and "result" in moral["required"]


BASIC = {
    "gender": "女",
    "mobile_phone": "13534524568",
    "birth_date": "1990-01-01",
    "ethnicity": "彝族",
    "work_start_date": "2012-07-01",
    "political_status": "九三学社社员",
    "performance_summary": "业绩",
}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ethnicity", "汉"),
        ("nationality", "China"),
        ("nationality", "台湾"),
        ("political_status", "中共党员"),
        ("admin_post_level", "处级"),
    ],
)
def test_a_value_outside_its_list_is_refused_with_the_field(field: str, value: str) -> None:
    assert BasicInfo.model_validate(BASIC).nationality == "中国"  # the default
    with pytest.raises(ValidationError) as refused:
        BasicInfo.model_validate({**BASIC, field: value})
    (error,) = refused.value.errors()
    assert error["loc"] == (field,) and error["type"] == "literal_error"


def test_schooling_years_are_whole_years_from_1_to_8() -> None:
    adapter = TypeAdapter(Education)
    row = {
        "enrolled": "2004-09-01",
        "graduated": "2008-07-01",
        "school": "四川农业大学",
        "major": "农学",
        "degree_level": "大学本科",
        "degree": "学士",
        "before_work": True,
    }
    assert adapter.validate_python({**row, "years": 8}).years == 8
    for wrong in (0, 9, 2.5):
        with pytest.raises(ValidationError):
            adapter.validate_python({**row, "years": wrong})
