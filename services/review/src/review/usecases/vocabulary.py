"""Use cases: the words a diagram may use where the review service reads it (lanes, user-task properties, message
names), with the labels the process designer's selects show. The validation (adapters/workflow/lint.py) checks
against the same sets, so the designer offers only what deploys."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from review.usecases.forms import FORMS
from review.usecases.outbound import INBOUND_MESSAGES, OUTBOUND_MESSAGES, STAGES
from review.usecases.views import DECISION_LABELS
from zc_auth import Role, ScopeType

# the roles a lane may name and whose holders see the lane's tasks in 我的待办 (the other roles are accepted by
# the validation but nobody would see such a task)
LANE_ROLES = {
    Role.UNIT_REVIEWER: "工作单位",
    Role.DEPARTMENT_REVIEWER: "主管部门",
    Role.COMMITTEE_STAFF: "评委会",
    Role.COMMITTEE_ORGANISER: "评委会组建单位",
    Role.EXPERT: "评审专家",
    Role.AUTHORITY: "授权管理单位（发证单位）",
}
STAGE_LABELS = {
    "unit": "单位审核",
    "department": "主管部门审核",
    "committee": "评委会",
    "expert": "专家评审",
    "authority": "授权管理单位",
}
SCOPE_LABELS = {
    ScopeType.UNIT: "工作单位",
    ScopeType.DEPARTMENT: "主管部门",
    ScopeType.COMMITTEE: "评委会",
    ScopeType.REGION: "行政区划",
}
MESSAGE_LABELS = {
    "resubmitted": "申报人修改后重新提交",
    "withdraw": "申报人撤回",
    "notice_objection": "公示期间有异议",
    "application_returned": "退回申报人修改",
    "application_approved": "评审通过",
    "application_rejected": "评审不通过",
    "application_withdrawn": "已撤回",
    "defence_notice": "答辩通知",
    "record_decided": "记录审核结果",
}
FORM_LABELS = {"assign_experts_v1": "组织专家评审", "issuance_data_v1": "发证数据"}


def _options(labels: Mapping[str, str], values: Iterable[str]) -> list[dict[str, str]]:
    return [{"value": v, "label": labels.get(v, v)} for v in sorted(values)]


def vocabulary() -> dict[str, list[dict[str, str]]]:
    """What the designer's selects offer; the order is the order of a review (unit first)."""
    return {
        "roles": [{"value": r.value, "label": label} for r, label in LANE_ROLES.items()],
        "stages": [{"value": s, "label": STAGE_LABELS.get(s, s)} for s in STAGE_LABELS if s in STAGES]
        + _options(STAGE_LABELS, STAGES - STAGE_LABELS.keys()),
        "decisions": [{"value": d, "label": label} for d, label in DECISION_LABELS.items()],
        "scope_types": [{"value": s.value, "label": label} for s, label in SCOPE_LABELS.items()],
        "inbound_messages": _options(MESSAGE_LABELS, INBOUND_MESSAGES),
        "outbound_messages": _options(MESSAGE_LABELS, OUTBOUND_MESSAGES),
        "forms": _options(FORM_LABELS, FORMS.keys()),
    }
