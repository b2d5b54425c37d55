"""A clock the development stack can move forward, so journeys with 5-working-day notices run in minutes.

`ZC_CLOCK_OFFSET_FILE` names a file holding seconds to add to the real time; it is honoured only when
`ZC_ENV=dev`, and refused otherwise (a production clock is never adjustable).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path


def configured_clock() -> Callable[[], datetime] | None:
    """None (the real clock) unless the development stack asked for an adjustable one."""
    path = os.environ.get("ZC_CLOCK_OFFSET_FILE")
    if not path:
        return None
    if os.environ.get("ZC_ENV") != "dev":
        raise RuntimeError("ZC_CLOCK_OFFSET_FILE is honoured only with ZC_ENV=dev")
    offset_file = Path(path)

    def now() -> datetime:
        try:
            seconds = float(offset_file.read_text(encoding="utf-8").strip() or 0)
        except (FileNotFoundError, ValueError):
            seconds = 0.0
        return datetime.now(UTC) + timedelta(seconds=seconds)

    return now
