"""Domain: review committees (评委会), their yearly review activities (评审活动) and what an applicant sees."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from applications.domain.errors import DomainError

SHANGHAI = ZoneInfo("Asia/Shanghai")

RECEIVING = "材料接收中"
PAST_DEADLINE = "已过申报材料提交截止时间"
NO_ACTIVITY = "未设置评审活动"
NOT_STARTED = "尚未开始接收材料"  # not in the manual's screenshots; activities announced ahead of time
STATUS_ORDER = {RECEIVING: 0, NOT_STARTED: 1, PAST_DEADLINE: 2, NO_ACTIVITY: 3}
# 申报类别 (Fig. 2.2.1, required): each review activity sets its own list; this is the default (decision 0021).
# 职称初定 has no activity: it is always a 正常申报.
DEFAULT_CATEGORIES = ("正常申报", "破格申报", "转评申报")
INITIAL_CATEGORIES = ("正常申报",)


class InvalidActivityError(DomainError):
    code = "activity.invalid"
    status_hint = 422


@dataclass(frozen=True)
class Committee:
    id: str
    name: str
    series: str
    levels: frozenset[str]
    region_scope: str
    organiser_id: str
    organiser_name: str
    contact_person: str
    contact_phone: str
    specialties: frozenset[str]  # empty: every specialty of the series

    def covers(self, *, series: str, level: str | None, specialty: str | None) -> bool:
        if self.series != series:
            return False
        if level and level not in self.levels:
            return False
        return not (specialty and self.specialties and specialty not in self.specialties and specialty != "OTHER")


@dataclass(frozen=True)
class ActivityDates:
    start: date
    first_submit_deadline: date
    modify_deadline: date
    unit_deadline: date

    def __post_init__(self) -> None:
        if not (self.start <= self.first_submit_deadline <= self.modify_deadline <= self.unit_deadline):
            raise InvalidActivityError(
                "评审活动的时间须满足：申报开始 ≤ 个人初次提交截止 ≤ 个人修改提交截止 ≤ 各单位提交截止",
                field="first_submit_deadline",
            )


def local_today(now: datetime) -> date:
    """Deadlines are whole days in Asia/Shanghai, inclusive to 23:59:59 local time."""
    return now.astimezone(SHANGHAI).date()


def work_status(dates: ActivityDates | None, now: datetime) -> str:
    if dates is None:
        return NO_ACTIVITY
    today = local_today(now)
    if today < dates.start:
        return NOT_STARTED
    if today > dates.first_submit_deadline:
        return PAST_DEADLINE
    return RECEIVING
