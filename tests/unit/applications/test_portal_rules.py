"""The portal's rules (applications.domain.portal, docs/decisions/0020): how a 评审公示 masks a name, and what
each kind of article must and must not carry."""

from __future__ import annotations

import pytest

from applications.domain.portal import ArticleRejectedError, check_article, mask_name


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("张三丰", "张**"),
        ("欧阳娜娜", "欧***"),
        ("张", "张"),
        (" 李四 ", "李*"),
        ("买买提·艾力", "买*****"),
    ],
)
def test_a_name_keeps_only_its_first_character(name: str, masked: str) -> None:
    assert mask_name(name) == masked


@pytest.mark.parametrize("name", ["张三", "欧阳娜娜", "张", "王小明"])
def test_masking_a_masked_name_changes_nothing(name: str) -> None:
    assert mask_name(mask_name(name)) == mask_name(name)


def test_a_publicity_is_a_committees_for_a_year_and_lists_people() -> None:
    check_article(kind="publicity", committee_id="c-1", year=2026, entries=3)
    for missing, field in (
        ({"committee_id": None}, "committee_id"),
        ({"year": None}, "year"),
        ({"entries": 0}, "entries"),
    ):
        args = {"kind": "publicity", "committee_id": "c-1", "year": 2026, "entries": 3, **missing}
        with pytest.raises(ArticleRejectedError) as refused:
            check_article(**args)  # type: ignore[arg-type]
        assert refused.value.field == field


@pytest.mark.parametrize("kind", ["notice", "policy"])
def test_notices_and_policies_list_nobody(kind: str) -> None:
    check_article(kind=kind, committee_id=None, year=None, entries=0)
    check_article(kind=kind, committee_id="c-1", year=2026, entries=0)
    with pytest.raises(ArticleRejectedError) as refused:
        check_article(kind=kind, committee_id=None, year=None, entries=1)
    assert refused.value.field == "entries"
