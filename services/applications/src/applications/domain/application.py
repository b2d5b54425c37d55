"""Domain: an application (申报) — its sections, its life cycle (§2.2.2) and what submission requires."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from applications.domain.errors import DomainError

DRAFT, SUBMITTED, RETURNED, ABANDONED = "draft", "submitted", "returned", "abandoned"
WITHDRAWN = "withdrawn"  # 撤回 granted: editable again, and the first-submission deadline applies
APPROVED, REJECTED, CERTIFIED = "approved", "rejected", "certified"
STATUS_NAMES = {
    DRAFT: "未提交",
    SUBMITTED: "审核中",
    WITHDRAWN: "已撤回",
    RETURNED: "已退回",
    ABANDONED: "已作废",
    APPROVED: "通过",
    REJECTED: "未通过",
    CERTIFIED: "已发证",
}
EDITABLE = frozenset({DRAFT, WITHDRAWN, RETURNED})

# Sections of 申报评审 (§2.2.1.1.2) and the smaller set of 职称初定 (§2.2.1.2.2).
REVIEW_SECTIONS = (
    "basic_info",
    "social_insurance",
    "education",
    "qualifications",
    "titles_held",
    "provincial_certificates",
    "work_history",
    "achievements",
    "waiver",
    "social_groups",
    "continuing_education",
    "assessments",
    "exams",
)
INITIAL_SECTIONS = (
    "basic_info",
    "social_insurance",
    "education",
    "qualifications",
    "titles_held",
    "provincial_certificates",
    "work_history",
    "continuing_education",
    "assessments",
)
# 个人信息 (§2.3) keeps everything but the committee-specific achievements and 破格 claim
PROFILE_SECTIONS = tuple(n for n in REVIEW_SECTIONS if n not in ("achievements", "waiver", "social_insurance"))
# Filled only from their external source (社保 fetched, 省职业资格证书 同步), never typed in.
SOURCED_SECTIONS = frozenset({"social_insurance", "provincial_certificates"})
SECTION_NAMES = {
    "basic_info": "个人基本信息",
    "social_insurance": "社保参保信息",
    "provincial_certificates": "省职业资格证书信息",
    "education": "学历信息",
    "qualifications": "资历信息",
    "titles_held": "取得职称职业技能等级情况",
    "work_history": "工作经历",
    "achievements": "业绩成果",
    "waiver": "破格条件",
    "social_groups": "社会团体任职情况",
    "continuing_education": "继续教育",
    "assessments": "考核情况",
    "exams": "考试信息",
    "teacher_info": "中小学教师信息",
    "health_info": "卫生技术信息",
}


class ApplicationError(DomainError):
    code = "application.invalid"
    status_hint = 422


class ApplicationNotFoundError(DomainError):
    code = "application.not_found"
    status_hint = 404


class MessageNotFoundError(DomainError):
    code = "message.not_found"
    status_hint = 404


class ApplicationStateError(DomainError):
    code = "application.state_conflict"
    status_hint = 409


class NotAllowedError(DomainError):
    code = "auth.forbidden"
    status_hint = 403


class StaleSectionError(DomainError):
    code = "application.section_changed"
    status_hint = 409


@dataclass(frozen=True)
class Requirements:
    """What this application must contain before it can be submitted."""

    sections: tuple[str, ...]
    exam_record_required: bool
    counting_templates: frozenset[str]  # the committee's policy clauses that count (empty: none demanded)


SPECIAL_SECTIONS = {"teacher": "teacher_info", "health": "health_info"}  # by the series' special section


def allowed_sections(initial: bool, special: str | None = None) -> tuple[str, ...]:
    """初定 has the smaller set (§2.2.1.2.2); 中小学教师 and 卫生技术 series add their own section."""
    if initial:
        return INITIAL_SECTIONS
    extra = SPECIAL_SECTIONS.get(special or "")
    return (*REVIEW_SECTIONS, extra) if extra else REVIEW_SECTIONS


def check_editable(status: str) -> None:
    if status not in EDITABLE:
        raise ApplicationStateError("申报已提交，所有信息无法修改；如需修改请撤回（单位尚未审核）或等待审核单位退回")


def missing_for_submission(sections: Mapping[str, Any], req: Requirements) -> list[tuple[str, str]]:
    """(section, reason) for everything still missing; empty when the application may be submitted."""
    missing: list[tuple[str, str]] = []
    for name in ("basic_info", "education", "work_history", "assessments", "teacher_info", "health_info"):
        if name in req.sections and not sections.get(name):
            missing.append((name, f"请填写{SECTION_NAMES[name]}"))
    if req.exam_record_required and not sections.get("exams"):
        missing.append(("exams", "所申报层级须填写考试信息"))
    if req.counting_templates and "achievements" in req.sections:
        counted = [a for a in sections.get("achievements") or [] if a.get("template_code") in req.counting_templates]
        if not counted:
            missing.append(("achievements", "请至少填写一项符合评委会政策要求的业绩成果（其他业绩成果不计入）"))
    return missing


def check_locked_work_history(new: list[dict[str, Any]], passed: list[dict[str, Any]]) -> None:
    """After a first successful title, the jobs it was judged on that had ended stay as they were; only the
    current job (no end date) may change (§2.2.1.1.2 item 7)."""
    locked = [entry for entry in passed if entry.get("end")]
    for entry in locked:
        if entry not in new:
            raise ApplicationError("申报人首次申报职称并通过后，之前任职的工作经历内容不可更改", field="work_history")


class ExternalSourceError(DomainError):
    code = "external.unavailable"
    status_hint = 503


STAGE_NAMES = {
    "unit": "工作单位审核",
    "department": "主管部门审核",
    "committee": "评委会审核",
    "expert": "专家评审",
    "authority": "授权管理单位确认",
}


def reviewer_may_read(
    stages: list[dict[str, Any]],
    *,
    unit_id: str,
    committee_id: str | None,
    reviewer: str,
    may: Callable[[str, str, str], bool],
) -> bool:
    """Reviewers read an application once it reached their stage, within their org scope, never otherwise.
    An expert reads only an application whose panel names them (not every application of their committee).
    `may(role, scope_type, scope_id)` answers from the caller's grants."""
    if may("unit_reviewer", "unit", unit_id):
        return True  # the unit is the first stage: from submission on
    for reached in stages:
        stage, department = reached.get("stage"), reached.get("department_id")
        if stage == "department" and department and may("department_reviewer", "department", str(department)):
            return True
        if stage in ("committee", "expert") and committee_id and may("committee_staff", "committee", committee_id):
            return True
        if stage == "expert" and committee_id and reviewer in (reached.get("experts") or ()):
            if may("expert", "committee", committee_id):
                return True
        region = reached.get("authority_region")
        # the authority that confirms the result (`may` answers for the regions above it too)
        if stage == "authority" and region and may("authority", "region", region):
            return True
    return False


def reviewer_may_read_record(
    kind: str,
    *,
    unit_id: str,
    department_ids: list[str],
    region_code: str | None,
    may: Callable[[str, str, str], bool],
) -> bool:
    """A submitted personal record is read by its unit's reviewers; a 外省职称确认 also by the competent
    departments above the unit and by the authorities whose region holds the unit, the levels its review
    passes through."""
    if may("unit_reviewer", "unit", unit_id):
        return True
    if kind != "out_of_province":
        return False
    if any(may("department_reviewer", "department", d) for d in department_ids):
        return True
    return region_code is not None and may("authority", "region", region_code)


EDUCATION_RANK = ["其他", "高中", "中等专科", "大学专科", "大学本科", "硕士研究生", "博士研究生"]


def education_and_years(sections: dict[str, Any], today: date) -> tuple[str | None, int | None]:
    """The highest 学历 and the whole years of work in 工作经历 (overlaps counted once), for 初定's table."""
    levels = [e.get("degree_level") for e in sections.get("education") or [] if e.get("degree_level") in EDUCATION_RANK]
    highest = max(levels, key=EDUCATION_RANK.index) if levels else None
    spans = sorted(
        (date.fromisoformat(w["start"]), date.fromisoformat(w["end"]) if w.get("end") else today)
        for w in sections.get("work_history") or []
        if w.get("start")
    )
    if not spans:
        return highest, None
    days, (cur_start, cur_end) = 0, spans[0]
    for start, end in spans[1:]:
        if start > cur_end:
            days += (cur_end - cur_start).days
            cur_start, cur_end = start, end
        else:
            cur_end = max(cur_end, end)
    days += (cur_end - cur_start).days
    return highest, int(days // 365.25)
