"""HTTP layer: the version an `If-Match` header names (optimistic concurrency on saves)."""

from __future__ import annotations

import re

from zc_http.problems import ProblemError

# ASCII digits only, at most 9 (a version is a PostgreSQL integer): str.isdigit() accepts "²" and "٣", and int()
# refuses more than 4,300 digits, both of which made a 500 of a malformed header.
_VERSION = re.compile(r'"?([0-9]{1,9})"?')


def if_match_version(value: str | None) -> int | None:
    """The version in `If-Match: 3` or `If-Match: "3"`; None when the header is missing or malformed."""
    if value is None:
        return None
    match = _VERSION.fullmatch(value.strip())
    return int(match.group(1)) if match else None


def required_version(value: str | None, *, code: str, detail: str = "请求须带 If-Match（当前版本号）") -> int:
    """The version a save is based on; a missing or malformed If-Match is a 428 naming the header, so a save never
    overwrites a change it has not seen."""
    version = if_match_version(value)
    if version is None:
        raise ProblemError(detail, status=428, code=code, field="If-Match")
    return version
