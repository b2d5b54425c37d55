"""What a review activity decides for the applications made under it: the 申报类别 offered and the special
section (中小学教师 / 卫生技术信息, "由评委会预先设置"), with the series' rule as the default."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from applications.domain.committees import ActivityDates
from applications.usecases.ports import Activity
from applications.usecases.reference import activity_categories, special_section

DAY = date(2026, 12, 1)


def activity(**notice: Any) -> Activity:
    return Activity("a", "c", 2026, ActivityDates(DAY, DAY, DAY, DAY), notice, [], [], [])


@pytest.mark.parametrize(
    ("setting", "by_series", "shown"),
    [
        (None, "teacher", "teacher"),  # unset: the series decides
        (None, None, None),
        ("health", None, "health"),  # the committee adds 卫生技术信息 to a series without it
        ("health", "teacher", "health"),
        ("none", "teacher", None),  # or removes the series' own
    ],
)
def test_the_special_section_is_the_activitys_when_set(setting: str | None, by_series: str | None, shown: Any) -> None:
    assert special_section(activity(special_section=setting), by_series) == shown


def test_categories_default_to_the_three_kinds_and_follow_the_activity() -> None:
    assert activity_categories(activity()) == ["正常申报", "破格申报", "转评申报"]
    assert activity_categories(activity(categories=["正常申报"])) == ["正常申报"]
