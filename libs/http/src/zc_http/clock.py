"""A clock the development stack can move forward, so journeys with 5-working-day notices run in minutes.

`ZC_CLOCK_OFFSET_FILE` names a file holding seconds to add to the real time; it is honoured only when
`ZC_ENV=dev`, and refused otherwise (a production clock is never adjustable).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path


class OffsetClock:
    """The real time plus the seconds in a file; the file is re-read only when it changed, because the
    clock is asked on every request and scheduler pass."""

    def __init__(self, offset_file: Path) -> None:
        self._file = offset_file
        self._stamp: tuple[int, int] | None = None
        self._seconds = 0.0

    def __call__(self) -> datetime:
        try:
            info = self._file.stat()
            stamp = (info.st_mtime_ns, info.st_size)
            if stamp != self._stamp:
                self._seconds = float(self._file.read_text(encoding="utf-8").strip() or 0)
                self._stamp = stamp
        except (FileNotFoundError, ValueError):
            self._stamp, self._seconds = None, 0.0
        return datetime.now(UTC) + timedelta(seconds=self._seconds)


def configured_clock() -> Callable[[], datetime] | None:
    """None (the real clock) unless the development stack asked for an adjustable one."""
    path = os.environ.get("ZC_CLOCK_OFFSET_FILE")
    if not path:
        return None
    if os.environ.get("ZC_ENV") != "dev":
        raise RuntimeError("ZC_CLOCK_OFFSET_FILE is honoured only with ZC_ENV=dev")
    return OffsetClock(Path(path))
