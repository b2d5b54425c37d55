"""Domain: the forms of 业绩成果. A committee's policy clause (评审活动的业绩成果类型) names the form its entries are
filled in (Fig. 2.2.19 shows 论文著作); each form has its own required fields beyond 名称 and 时间."""

from __future__ import annotations

from typing import Any

from applications.domain.errors import DomainError

# form -> (Chinese name, required fields in the order the form shows them)
FORMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "paper": ("论文著作", ("category", "journal", "journal_no", "author_rank", "words_thousands")),
    "project": ("项目", ("project_level", "author_rank", "acceptance")),
    "award": ("获奖", ("grantor", "award_grade", "author_rank")),
    "patent": ("专利", ("patent_type", "patent_no", "author_rank")),
    "report": ("报告、方案", ("adopted_by",)),
    "generic": ("其他业绩成果", ()),
}
LABELS = {
    "category": "类别",
    "journal": "刊物名称",
    "journal_no": "刊号",
    "author_rank": "作者排名",
    "words_thousands": "本人完成字数",
    "project_level": "项目来源及级别",
    "acceptance": "验收或鉴定情况",
    "grantor": "授奖单位",
    "award_grade": "奖励等级",
    "patent_type": "专利类型",
    "patent_no": "专利号",
    "adopted_by": "采纳单位",
}


class AchievementFormError(DomainError):
    code = "application.invalid"
    status_hint = 422


def required_fields(form: str) -> tuple[str, ...]:
    return FORMS.get(form, FORMS["generic"])[1]


def check_form(index: int, entry: dict[str, Any], form: str) -> None:
    """Every field the template's form requires is filled; the error names the first missing one."""
    for field in required_fields(form):
        if entry.get(field) in (None, ""):
            name = FORMS.get(form, FORMS["generic"])[0]
            raise AchievementFormError(f"{name}须填写“{LABELS[field]}”", field=f"{index}.{field}")
