"""Domain: the business calendar — working days in mainland China, as data loaded per year.

A working day is Monday–Friday that is not a statutory holiday, plus the weekend days declared as
working days (调休上班). The State Council publishes each year's schedule in November, so years are data
files an operator can add (`REVIEW_CALENDAR_DIR`) without a release; a date outside the loaded years is
a clear error, never a guess.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from review.domain.errors import DomainError

BEIJING = ZoneInfo("Asia/Shanghai")


class CalendarGapError(DomainError):
    code = "review.calendar_year_missing"
    status_hint = 409

    def __init__(self, year: int) -> None:
        super().__init__(f"工作日历缺少 {year} 年的节假日安排，请运维人员导入后重试")
        self.year = year


@dataclass(frozen=True)
class BusinessCalendar:
    holidays: frozenset[date]
    adjusted_working_days: frozenset[date]
    years: frozenset[int]

    @classmethod
    def from_documents(cls, documents: list[dict[str, object]]) -> BusinessCalendar:
        holidays: set[date] = set()
        working: set[date] = set()
        years: set[int] = set()
        for doc in documents:
            year = int(str(doc["year"]))
            years.add(year)
            for first, last, _name in doc["holidays"]:  # type: ignore[attr-defined]
                day, end = date.fromisoformat(first), date.fromisoformat(last)
                while day <= end:
                    holidays.add(day)
                    day += timedelta(days=1)
            working.update(date.fromisoformat(d) for d in doc["adjusted_working_days"])  # type: ignore[attr-defined]
        return cls(frozenset(holidays), frozenset(working), frozenset(years))

    @classmethod
    def load(cls, extra_dir: Path | None = None) -> BusinessCalendar:
        """The bundled years plus any `cn-YYYY.json` in `extra_dir` (a later file for a year wins)."""
        docs: dict[int, dict[str, object]] = {}
        bundled = resources.files("review.domain") / "calendars"
        for entry in sorted(bundled.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".json"):
                doc = json.loads(entry.read_text(encoding="utf-8"))
                docs[int(doc["year"])] = doc
        if extra_dir is not None and extra_dir.is_dir():
            for path in sorted(extra_dir.glob("cn-*.json")):
                doc = json.loads(path.read_text(encoding="utf-8"))
                docs[int(doc["year"])] = doc
        return cls.from_documents(list(docs.values()))

    def is_working_day(self, day: date) -> bool:
        if day.year not in self.years:
            raise CalendarGapError(day.year)
        if day in self.adjusted_working_days:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def working_days_left(self, now: datetime, due: datetime) -> int:
        """Working days from `now` to `due`, as a deadline shows them: while there is time, the working days
        after today up to the due time's day (0 on that day itself); once past it, minus the working days
        after that day up to today (0 on a weekend just after a Friday deadline)."""
        last = (due - timedelta(microseconds=1)).astimezone(BEIJING).date()  # a due at 24:00 ends the day before
        today = now.astimezone(BEIJING).date()
        if now < due:
            return self._count_working_days(today, last)
        return -self._count_working_days(last, today)

    def _count_working_days(self, after: date, until: date) -> int:
        """Working days d with after < d <= until."""
        count, day = 0, after
        while day < until:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The end (24:00 Beijing time) of the `days`-th working day after `start`'s day.

        The start day itself never counts: a notice published at 16:00 on a Friday with 5 working days
        runs to the end of the next Friday (when no holiday intervenes).
        """
        if days < 1:
            raise ValueError("days must be at least 1")
        day = start.astimezone(BEIJING).date()
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return datetime.combine(day + timedelta(days=1), time(0), BEIJING)
