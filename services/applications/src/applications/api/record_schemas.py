"""API: the fields of 外省职称确认 (Fig. 2.7.1–2.7.2) and 专技人才统计 (§2.6; the manual lists no fields,
see docs/decisions/0010). 姓名, 证件 and 性别 come from the identity platform and are not typed in again.
A dropdown is an enumeration (domain/codes.py): 最高学历 has the same list as a section's 学历."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter

from applications.domain import codes
from zc_http import FORM

Text = Annotated[str, Field(min_length=1)]
EducationLevel = Literal[codes.EDUCATION_LEVELS]  # type: ignore[valid-type]


class OutOfProvince(BaseModel):
    model_config = FORM

    highest_education: EducationLevel = Field(description="最高学历")
    highest_education_school: Text = Field(max_length=50, description="最高学历毕业院校")
    major: Text = Field(max_length=50, description="所学专业")
    former_employer: Text = Field(max_length=50, description="原工作单位")
    current_employer: Text = Field(max_length=50, description="现工作单位")
    original_title: Text = Field(max_length=50, description="原高级职称")
    original_title_specialty: Text = Field(max_length=50, description="原高级职称专业")
    original_title_obtained: date = Field(description="原高级职称取得时间")
    original_committee: Text = Field(max_length=100, description="原高级职称评委会全称")
    proposed_series: Text = Field(max_length=40, description="拟确认高级职称系列")
    proposed_specialty: Text = Field(max_length=40, description="拟确认高级职称专业")
    proposed_title: Text = Field(max_length=60, description="拟确认高级职称名称")
    expertise: Text = Field(max_length=200, description="业务专长")
    work_since_joining: Text = Field(max_length=1000, description="到现工作单位后主要专业技术工作情况")


class TalentStats(BaseModel):
    model_config = FORM

    year: int = Field(ge=2000, le=2100, description="统计年度")
    post: Text = Field(max_length=50, description="专业技术岗位")
    post_grade: int | None = Field(default=None, ge=1, le=13, description="岗位等级（一至十三级）")
    title_name: str | None = Field(default=None, max_length=50, description="现职称")
    title_level: Literal["正高级", "副高级", "中级", "助理级", "员级", "无"] = Field(description="职称级别")
    specialty: Text = Field(max_length=50, description="从事专业")
    highest_education: EducationLevel = Field(description="最高学历")
    work_start_date: date = Field(description="参加工作时间")
    on_post: bool = Field(description="是否在岗")
    talent_category: str | None = Field(default=None, max_length=50, description="人才类别")


RECORD_MODELS: dict[str, type[BaseModel]] = {"out_of_province": OutOfProvince, "talent_stats": TalentStats}
RECORD_KINDS: dict[str, tuple[str, TypeAdapter[Any]]] = {
    "out_of_province": ("外省职称确认", TypeAdapter(OutOfProvince)),
    "talent_stats": ("专技人才统计", TypeAdapter(TalentStats)),
}
