"""Use cases: the forms some tasks carry besides the decision, keyed by the task's form key.

Validated here (not in BPMN scripts); what passes becomes process variables of the same names.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from review.domain.errors import DomainError


class FormError(DomainError):
    code = "review.invalid_form"
    status_hint = 422


class AssignExperts(BaseModel):
    """组织专家评审: the panel, and whether this applicant defends (答辩)."""

    model_config = ConfigDict(extra="forbid")

    experts: list[str] = Field(min_length=3, max_length=25, title="评审专家", description="评审专家（用户标识）")
    vote_ratio: str = Field(
        default="2/3", pattern=r"^[1-9]\d*/[1-9]\d*$", title="通过比例", description="通过所需赞成票比例"
    )
    defence: bool = Field(default=False, title="是否答辩")
    defence_at: datetime | None = Field(default=None, title="答辩时间")
    defence_place: str | None = Field(default=None, max_length=100, title="答辩地点")

    @model_validator(mode="after")
    def _check(self) -> AssignExperts:
        if len(set(self.experts)) != len(self.experts):
            raise ValueError("评审专家不能重复")
        if self.defence and (self.defence_at is None or not self.defence_place):
            raise ValueError("需要答辩时必须填写答辩时间和地点")
        return self


class IssuanceData(BaseModel):
    """提交发证数据 / 委托单位发证."""

    model_config = ConfigDict(extra="forbid")

    document_number: str = Field(min_length=1, max_length=50, title="批准文号")
    issue_date: date = Field(title="发证日期")


FORMS: dict[str, type[BaseModel]] = {"assign_experts_v1": AssignExperts, "issuance_data_v1": IssuanceData}

# Fields that name people, and the role each named person must hold in the task's own scope (the experts of
# an application's panel: experts of the committee that reviews it). Checked with the identity bridge.
PEOPLE_FIELDS: dict[str, tuple[str, str, str]] = {"assign_experts_v1": ("experts", "expert", "评审专家")}


def validate_form(form_key: str | None, decision: str, form: dict[str, Any]) -> dict[str, Any]:
    """The variables a completion adds. Forms matter only when approving; other forms carry no fields."""
    model = FORMS.get(form_key or "")
    if model is None or decision != "approve":
        if form:
            raise FormError("该环节无需填写表单", field="form")
        return {}
    try:
        return model.model_validate(form).model_dump(mode="json")
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = str(first.get("ctx", {}).get("error") or first["msg"]).removeprefix("Value error, ")
        raise FormError(f"表单填写有误：{message}", field=f"form.{where}" if where else "form") from exc


def form_schema(form_key: str | None) -> dict[str, Any] | None:
    """The JSON Schema of a task's form (what the web client draws), or None for a task with a decision only."""
    model = FORMS.get(form_key or "")
    return model.model_json_schema() if model else None
