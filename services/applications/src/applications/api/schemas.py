"""API: request bodies of the applications service (field limits follow the manual's counters)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from applications.domain.committees import DEFAULT_CATEGORIES

Method = Literal["SHEHUIHUA", "WEITUO", "ZHONGYANG_ZAICHUAN", "RENDING"]


class SettingsCheck(BaseModel):
    """个人申报设置, as submitted with 立即申报."""

    model_config = ConfigDict(extra="forbid")

    unit_id: str = Field(min_length=1, max_length=64, description="工作单位")
    year: int = Field(ge=2000, le=2100, description="申报年度")
    method: Method = Field(description="评价方式")
    series: str = Field(min_length=1, max_length=40, description="申报系列")
    level: str = Field(min_length=1, max_length=20, description="申报层级")
    specialty: str = Field(min_length=1, max_length=40, description="申报职称专业")
    qualification: str = Field(min_length=1, max_length=60, description="申报资格名称")
    committee_id: str | None = Field(default=None, max_length=64, description="申报评委会")
    category: str = Field(
        min_length=1, max_length=20, description="申报类别（评审活动设置的类别，如正常申报、破格申报、转评申报）"
    )


class UnitCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=100)
    credit_code: str = Field(
        pattern=r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$", description="统一社会信用代码"
    )
    region_code: str = Field(min_length=6, max_length=20)
    department_ids: list[str] = Field(default_factory=list, max_length=5)
    central_in_sichuan: bool = False


class CommitteeWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=100, description="评委会名称")
    series: str = Field(min_length=1, max_length=40)
    levels: list[str] = Field(min_length=1, max_length=5)
    region_scope: str = Field(min_length=6, max_length=20, description="评审区域范围")
    organiser_id: str = Field(min_length=1, max_length=64, description="组建单位")
    organiser_name: str = Field(min_length=2, max_length=100)
    contact_person: str = Field(min_length=1, max_length=30)
    contact_phone: str = Field(pattern=r"^[0-9-]{7,20}$", description="联系电话")
    specialties: list[str] = Field(default_factory=list, max_length=100)


class Template(BaseModel):
    code: str = Field(min_length=1, max_length=40)
    clause: str = Field(min_length=1, max_length=1000)
    form: Literal["paper", "project", "award", "patent", "report", "generic"] = "generic"
    counts: bool = True


class Waiver(BaseModel):
    code: str = Field(min_length=1, max_length=40)
    condition: str = Field(min_length=1, max_length=1000)


class RequiredMaterial(BaseModel):
    name: str = Field(min_length=1, max_length=50, description="材料名称")
    type: Literal["pdf", "image", "any"] = "pdf"
    max_size_mb: float = Field(gt=0, le=100, description="最大材料大小 (M)")
    max_count: int = Field(ge=1, le=50, description="上传数量")
    required: bool = False


class ActivityWrite(BaseModel):
    """评审活动 (Fig. 2.2.4) with its 业绩成果 templates, 破格 conditions and 需求材料 (Fig. 2.2.34)."""

    model_config = ConfigDict(extra="forbid")

    scope: str = Field(min_length=1, max_length=500, description="申报范围")
    start: date = Field(description="申报开始时间")
    first_submit_deadline: date = Field(description="个人初次提交截止时间")
    modify_deadline: date = Field(description="个人修改提交截止时间")
    unit_deadline: date = Field(description="各单位提交截止时间")
    phone: str = Field(pattern=r"^[0-9-]{7,20}$", description="咨询电话")
    review_method: str = Field(min_length=1, max_length=50, description="评审方式")
    exam: Literal["组织", "不组织"] = "不组织"
    interview: Literal["all", "partial", "none"] = "none"
    specialty_group_vote: bool = False
    policy_documents: list[dict[str, Any]] = Field(default_factory=list, max_length=20)
    schedule: list[dict[str, Any]] = Field(default_factory=list, max_length=50)
    achievement_templates: list[Template] = Field(default_factory=list, max_length=50)
    waivers: list[Waiver] = Field(default_factory=list, max_length=50)
    required_materials: list[RequiredMaterial] = Field(default_factory=list, max_length=50)
    categories: list[Annotated[str, Field(min_length=1, max_length=20)]] = Field(
        default_factory=lambda: list(DEFAULT_CATEGORIES), min_length=1, max_length=10, description="申报类别"
    )
    special_section: Literal["teacher", "health", "none"] | None = Field(
        default=None,
        description="专属信息项（由评委会预先设置）：teacher 中小学教师信息，health 卫生技术信息，none 不填写；"
        "不设置时按申报系列",
    )


# --- a new version of the 职称目录 (admins): the document's shape; the domain checks its references --------------
class _CatalogPart(BaseModel):
    model_config = ConfigDict(extra="allow")  # what a later catalog adds is kept with the version


class CatalogLevel(_CatalogPart):
    code: str = Field(min_length=1, max_length=20, title="层级编码")
    name: str = Field(min_length=1, max_length=20, title="层级名称")
    rank: int = Field(ge=0, le=20, title="排序（越高越高级）")


class CatalogQualification(_CatalogPart):
    code: str = Field(min_length=1, max_length=60, title="资格名称编码")
    name: str = Field(min_length=1, max_length=60, title="资格名称")
    specialties: list[str] | None = Field(default=None, title="限定专业（编码）")


class CatalogLevelRule(_CatalogPart):
    level: str = Field(min_length=1, max_length=20, title="层级编码")
    exam_mode: str = Field(min_length=1, max_length=30, title="评价方式")
    exam_record_required: bool = Field(default=False, title="须有考试记录")
    qualifications: list[CatalogQualification] = Field(default_factory=list, title="资格名称")


class CatalogSpecialty(_CatalogPart):
    code: str = Field(min_length=1, max_length=40, title="专业编码")
    name: str = Field(min_length=1, max_length=60, title="专业名称")


class CatalogSeries(_CatalogPart):
    code: str = Field(min_length=1, max_length=40, title="系列编码")
    name: str = Field(min_length=1, max_length=60, title="系列名称")
    special_section: str | None = Field(default=None, max_length=40, title="专属信息项")
    specialties: list[CatalogSpecialty] = Field(default_factory=list, title="专业")
    levels: list[CatalogLevelRule] = Field(title="各层级的评价方式与资格名称")


class CatalogDocument(_CatalogPart):
    levels: list[CatalogLevel] = Field(min_length=1, title="层级")
    series: list[CatalogSeries] = Field(min_length=1, title="系列")
    initial_determination_levels: list[str] | None = Field(default=None, title="可初定的层级")
