"""API: request bodies of the identity bridge."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

RoleName = Literal[
    "applicant",
    "unit_reviewer",
    "department_reviewer",
    "committee_staff",
    "committee_organiser",
    "expert",
    "authority",
    "process_designer",
    "operator",
    "admin",
]
ScopeTypeName = Literal["global", "unit", "department", "committee", "region"]


class GrantChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: RoleName
    scope_type: ScopeTypeName
    scope_id: str | None = Field(default=None, max_length=100)


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    audiences: list[str] | None = Field(default=None, max_length=10)
