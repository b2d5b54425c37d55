"""Domain: 个人申报设置 — evaluation methods and which committees a unit's applicant may choose."""

from __future__ import annotations

from dataclasses import dataclass

from applications.domain.errors import DomainError

# 评价方式 (catalog.json evaluation_methods)
SOCIAL = "SHEHUIHUA"  # 社会化评审: a committee whose scope covers the unit's region
ENTRUSTED = "WEITUO"  # 委托评审: a committee outside it, with the competent department's 委托评审函
CENTRAL = "ZHONGYANG_ZAICHUAN"  # 中央在川单位委托评审
INITIAL = "RENDING"  # 职称认定 / 职称初定: no committee
METHOD_NAMES = {
    SOCIAL: "社会化评审",
    ENTRUSTED: "委托评审",
    CENTRAL: "中央在川单位委托评审",
    INITIAL: "职称认定/职称初定",
}

# The guidance of Fig. 2.2.1, shown above the settings form.
GUIDANCE = (
    "申报（认定类）职称的人员请选择职称认定；中央在川单位人员请选择中央在川单位委托评审；"
    "所申报的评委会的评审范围不包括本人所在地区的请选择委托评审；申报（评审类）职称的人员请选择社会化评审。"
)
NO_COMMITTEE_NEEDED = "当前申报方式, 无需选择评委会, 可直接点击申报"


class SettingsRejectedError(DomainError):
    code = "application_settings.rejected"
    status_hint = 422


@dataclass(frozen=True)
class MethodRule:
    needs_committee: bool
    direct: bool | None  # True: committee must be direct; False: must be entrusted; None: either
    needs_entrustment_letter: bool


def method_rule(method: str, *, central_unit: bool) -> MethodRule:
    """The server-side form of the guidance above."""
    if method not in METHOD_NAMES:
        raise SettingsRejectedError("评价方式不正确", field="method")
    if central_unit and method in (SOCIAL, ENTRUSTED):
        raise SettingsRejectedError("中央在川单位人员请选择“中央在川单位委托评审”", field="method")
    if not central_unit and method == CENTRAL:
        raise SettingsRejectedError("所选工作单位不是中央在川单位，不能选择“中央在川单位委托评审”", field="method")
    if method == INITIAL:
        return MethodRule(needs_committee=False, direct=None, needs_entrustment_letter=False)
    if method == SOCIAL:
        return MethodRule(needs_committee=True, direct=True, needs_entrustment_letter=False)
    if method == ENTRUSTED:
        return MethodRule(needs_committee=True, direct=False, needs_entrustment_letter=True)
    return MethodRule(needs_committee=True, direct=None, needs_entrustment_letter=True)
