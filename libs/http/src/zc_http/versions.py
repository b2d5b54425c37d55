"""HTTP layer: the version an `If-Match` header names (optimistic concurrency on saves)."""

from __future__ import annotations

import re

# ASCII digits only, at most 9 (a version is a PostgreSQL integer): str.isdigit() accepts "²" and "٣", and int()
# refuses more than 4,300 digits, both of which made a 500 of a malformed header.
_VERSION = re.compile(r'"?([0-9]{1,9})"?')


def if_match_version(value: str | None) -> int | None:
    """The version in `If-Match: 3` or `If-Match: "3"`; None when the header is missing or malformed."""
    if value is None:
        return None
    match = _VERSION.fullmatch(value.strip())
    return int(match.group(1)) if match else None
