"""The version an If-Match header names: ASCII digits only, and small enough for an integer column."""

from __future__ import annotations

import pytest

from zc_http import if_match_version


@pytest.mark.parametrize(
    ("header", "version"), [("3", 3), ('"3"', 3), (" 12 ", 12), ("0", 0), ("999999999", 999999999)]
)
def test_a_well_formed_version(header: str, version: int) -> None:
    assert if_match_version(header) == version


@pytest.mark.parametrize("header", [None, "", "*", 'W/"3"', "²", "٣", "-1", "1.0", "1234567890", "9" * 5000])
def test_a_malformed_or_oversized_version_is_none_not_an_error(header: str | None) -> None:
    # "²" and "٣" passed str.isdigit() and then broke int(); 5,000 digits broke int()'s digit limit (500s)
    assert if_match_version(header) is None
