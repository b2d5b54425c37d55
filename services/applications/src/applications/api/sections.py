"""API: the information sections of an application; field names, required marks and length limits follow
the manual's screenshots (a "0 / 50" counter is a maximum length of 50; tests/contract/manual_fields.py holds
the manual's fields and a test compares). A dropdown is an enumeration (the code lists: domain/codes.py)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter, model_validator

from applications.domain import codes
from zc_http import FORM

Text = Annotated[str, Field(min_length=1)]

# the dropdowns: a value outside its list is refused with the field (422), and the JSON Schema has the `enum`
Nationality = Literal[codes.NATIONALITIES]  # type: ignore[valid-type]
Ethnicity = Literal[codes.ETHNICITIES]  # type: ignore[valid-type]
PoliticalStatus = Literal[codes.POLITICAL_STATUSES]  # type: ignore[valid-type]
AdminPostLevel = Literal[codes.ADMIN_POST_LEVELS]  # type: ignore[valid-type]
EducationLevel = Literal[codes.EDUCATION_LEVELS]  # type: ignore[valid-type]
SchoolingYears = Literal[codes.SCHOOLING_YEARS]  # type: ignore[valid-type]
AssessmentResult = Literal[codes.ASSESSMENT_RESULTS]  # type: ignore[valid-type]


class Section(BaseModel):
    model_config = FORM


class Entry(Section):
    """A row that may carry files (附件信息): the server gives it an id on save; send it back with every later save,
    or the row counts as new and the old row's files are deleted."""

    id: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9_-]{1,40}$", description="条目编号（保存后由系统分配，修改时原样带回）"
    )


class BasicInfo(Section):
    """个人基本信息 (Fig. 2.2.5). 姓名 and 证件号码 come from the identity platform and are not edited here."""

    former_name: str | None = Field(default=None, max_length=10, description="曾用名")
    gender: Literal["男", "女"] = Field(description="性别")
    mobile_phone: str = Field(max_length=11, pattern=r"^1\d{10}$", description="手机号码")
    contact_phone: str | None = Field(default=None, max_length=11, pattern=r"^[0-9-]{7,11}$", description="联系电话")
    birth_date: date = Field(description="出生日期")
    nationality: Nationality = Field(default="中国", description="国籍")
    ethnicity: Ethnicity = Field(description="民族")
    household_address: str | None = Field(default=None, max_length=50, description="户籍地址")
    birthplace: str | None = Field(default=None, max_length=50, description="出生地")
    email: str | None = Field(default=None, max_length=20, description="电子信箱")
    residence: str | None = Field(default=None, max_length=50, description="常住地")
    postcode: str | None = Field(default=None, max_length=20, description="邮政编码")
    admin_post: str | None = Field(default=None, max_length=20, description="行政职务")
    admin_post_level: AdminPostLevel | None = Field(default=None, description="行政职务级别")
    admin_post_since: date | None = Field(default=None, description="行政职务任职时间")
    work_start_date: date = Field(description="参加工作时间")
    political_status: PoliticalStatus = Field(description="政治面貌")
    party_post: str | None = Field(default=None, max_length=20, description="现任共产党(共青团)职务")
    party_joined: date | None = Field(default=None, description="加入共产党(共青团)时间")
    title_foreign_language: str | None = Field(default=None, max_length=10, description="职称外语情况")
    title_computer: str | None = Field(default=None, max_length=10, description="职称计算机情况")
    performance_summary: str = Field(min_length=1, max_length=2000, description="业绩综述")


class Education(Entry):
    """学历信息 (Fig. 2.2.8)."""

    enrolled: date = Field(description="入学时间")
    graduated: date = Field(description="毕业时间")
    school: Text = Field(max_length=30, description="毕业院校")
    major: Text = Field(max_length=30, description="所学专业")
    degree_level: EducationLevel = Field(description="学历")
    degree: Literal["博士", "硕士", "学士", "无"] = Field(description="学位")
    years: SchoolingYears = Field(description="学制")
    before_work: bool = Field(description="是否工作前学历")
    remark: str | None = Field(default=None, max_length=200, description="备注")

    @model_validator(mode="after")
    def _dates(self) -> Education:
        if self.graduated < self.enrolled:
            raise ValueError("毕业时间不能早于入学时间")
        return self


class Qualification(Entry):
    """资历信息 (Fig. 2.2.10)."""

    title_name: Text = Field(max_length=50, description="现职称名称")
    title_level: Literal["正高级", "副高级", "中级", "助理级", "员级"] = Field(description="现职称级别")
    title_specialty: Text = Field(max_length=50, description="现职称专业")
    issuer: Text = Field(max_length=50, description="发证单位")
    obtained: date = Field(description="现职称取得时间")
    document_no: Text = Field(max_length=50, description="职称文件文号")
    current_specialty: Text = Field(max_length=50, description="现从事专业")
    appointed_post: Text = Field(max_length=50, description="现聘任职称(岗位)")
    appointed: date = Field(description="现聘任时间")


class TitleHeld(Section):
    """取得职称职业技能等级情况."""

    name: Text = Field(max_length=50, description="职称/职业技能等级名称")
    level: Text = Field(max_length=20, description="级别")
    obtained: date = Field(description="取得时间")
    certificate_no: str | None = Field(default=None, max_length=50, description="证书编号")
    issuer: str | None = Field(default=None, max_length=50, description="发证单位")


class WorkHistory(Section):
    """工作经历 (Fig. 2.2.16); no end date means 至今."""

    start: date = Field(description="开始日期")
    end: date | None = Field(default=None, description="结束日期")
    employer: Text = Field(max_length=50, description="工作单位")
    admin_post: str | None = Field(default=None, max_length=20, description="行政职务")
    technical_post: str | None = Field(default=None, max_length=20, description="专业技术职务")
    position: str | None = Field(default=None, max_length=20, description="聘用岗位")
    content: Text = Field(max_length=500, description="工作内容")

    @model_validator(mode="after")
    def _dates(self) -> WorkHistory:
        if self.end is not None and self.end < self.start:
            raise ValueError("结束日期不能早于开始日期")
        return self


PatentType = Literal["发明专利", "实用新型专利", "外观设计专利"]


class Achievement(Entry):
    """业绩成果 (Fig. 2.2.17–2.2.19): the policy clause chosen, and that clause's form."""

    template_code: Text = Field(max_length=40, description="业绩成果类型（政策条款）")
    name: Text = Field(max_length=50, description="名称")
    completed_on: date = Field(description="发表时间/完成时间")
    category: str | None = Field(default=None, max_length=20, description="类别")
    journal: str | None = Field(default=None, max_length=50, description="刊物名称")
    journal_no: str | None = Field(default=None, max_length=50, description="刊号")
    author_rank: int | None = Field(default=None, ge=1, le=50, description="作者排名")
    words_thousands: float | None = Field(default=None, ge=0, le=10000, description="本人完成字数（千字）")
    publication_note: str | None = Field(
        default=None, max_length=200, description="出版、登载获奖或在学术会议上交流情况"
    )
    description: str | None = Field(default=None, max_length=500, description="说明")
    # the other forms' fields (项目, 获奖, 专利, 报告); which are required follows the clause's form (the activity
    # notice lists them per template as `required_fields`)
    project_level: str | None = Field(default=None, max_length=50, description="项目来源及级别")
    acceptance: str | None = Field(default=None, max_length=200, description="验收或鉴定情况")
    grantor: str | None = Field(default=None, max_length=50, description="授奖单位")
    award_grade: str | None = Field(default=None, max_length=20, description="奖励等级")
    patent_type: Literal["发明专利", "实用新型专利", "外观设计专利"] | None = Field(
        default=None, description="专利类型"
    )
    patent_no: str | None = Field(default=None, max_length=50, description="专利号")
    adopted_by: str | None = Field(default=None, max_length=50, description="采纳单位")


class SocialGroup(Section):
    """社会团体任职情况 (Fig. 2.2.21)."""

    name: Text = Field(max_length=30, description="社会团体名称")
    start: date = Field(description="开始时间")
    end: date | None = Field(default=None, description="结束时间")
    post: Text = Field(max_length=30, description="任何职务")


class ContinuingEducation(Entry):
    """继续教育 (Fig. 2.2.51)."""

    start: date = Field(description="开始时间")
    end: date = Field(description="结束时间")
    organiser: Text = Field(max_length=50, description="主办单位")
    place: Text = Field(max_length=50, description="学习地点")
    witness: str | None = Field(default=None, max_length=20, description="证明人")
    content: Text = Field(max_length=200, description="专业或主要内容")


class Assessment(Section):
    """考核情况 (Fig. 2.2.53)."""

    year: int = Field(ge=1950, le=2100, description="考核年度")
    result: AssessmentResult = Field(description="考核结果")


class Exam(Section):
    """考试信息 (经济、统计、审计等系列)."""

    name: Text = Field(max_length=50, description="考试名称")
    year: int = Field(ge=1950, le=2100, description="考试年度")
    result: Text = Field(max_length=20, description="成绩/结果")
    certificate_no: str | None = Field(default=None, max_length=50, description="证书编号")


# each section's body: the API has one route per section, so OpenAPI (and the client generated from it) has
# one schema per section
SECTION_TYPES: dict[str, Any] = {
    "basic_info": BasicInfo,
    "education": list[Education],
    "qualifications": list[Qualification],
    "titles_held": list[TitleHeld],
    "work_history": list[WorkHistory],
    "achievements": list[Achievement],
    "social_groups": list[SocialGroup],
    "continuing_education": list[ContinuingEducation],
    "assessments": list[Assessment],
    "exams": list[Exam],
}


class TeacherActivity(Entry):
    """A row of the 中小学教师 sub-tables (Fig. 2.2.30–2.2.31)."""

    start: date = Field(description="开始时间")
    end: date = Field(description="结束时间")
    result: AssessmentResult | None = Field(default=None, description="考核结果")
    content: Text = Field(max_length=200, description="工作内容")
    effect: Text = Field(max_length=200, description="成绩及效果")


class MoralEducation(TeacherActivity):
    """A row of 从事学生思想政治工作经历及考核结果 (Fig. 2.2.31): its 考核结果 is required."""

    result: AssessmentResult = Field(description="考核结果")


class TeacherInfo(Section):
    """中小学教师信息 (Fig. 2.2.29), only for that series."""

    stage: Text = Field(max_length=50, description="申报学段")
    subject: Text = Field(max_length=50, description="申报学科")
    teaching_since: date = Field(description="参加教育工作时间")
    part_time_posts: Text = Field(max_length=50, description="有何社会兼职")
    highest_degree: Text = Field(max_length=20, description="最高学历学位")
    highest_degree_obtained: date = Field(description="最高学历取得时间")
    certificate_stage: Text = Field(max_length=20, description="教师资格证学段")
    certificate_subject: Text = Field(max_length=50, description="教师资格证学科")
    rural_teacher: bool = Field(default=False, description="是否农村教师")
    head_or_frontline: bool = Field(default=False, description="班主任或一线教师")
    excellent_principal_trainee: bool = Field(default=False, description="是否新时代卓越校长培养计划学员")
    master_studio_member: bool = Field(default=False, description="是否升级名师工作室领衔人或成员")
    cloud_teaching: bool = Field(default=False, description="是否承担四川云教主播教学等相关工作")
    homework_and_visits: Text = Field(max_length=200, description="学生作业批改和家访情况")
    school_leader_post: str | None = Field(default=None, max_length=20, description="现任职务")
    as_ordinary_teacher: bool = Field(default=False, description="是否以普通教师身份申报")
    it_competence: str | None = Field(default=None, max_length=200, description="信息技术应用能力")
    moral_education: list[MoralEducation] = Field(
        default_factory=list, max_length=50, description="从事学生思想政治工作经历及考核结果"
    )
    demonstration_lessons: list[TeacherActivity] = Field(
        default_factory=list, max_length=50, description="任教后承担示范课、公开课、研究课或专题讲座情况"
    )
    rural_service: list[TeacherActivity] = Field(
        default_factory=list, max_length=50, description="在农村（薄弱、艰苦边远）学校支教或从教情况"
    )
    mentoring: list[TeacherActivity] = Field(
        default_factory=list, max_length=50, description="任职后指导、培养教师情况"
    )


class Honour(Section):
    name: Text = Field(max_length=50, description="项目名称")
    grantor: Text = Field(max_length=50, description="授权单位")
    obtained: date = Field(description="取得时间")


class HealthInfo(Section):
    """卫生技术信息 (Fig. 2.2.33), only for that series."""

    institution_level: Text = Field(max_length=20, description="所在医疗卫生机构情况（级别）")
    institution_nature: Text = Field(max_length=20, description="所在医疗卫生机构性质")
    department: Text = Field(max_length=30, description="所在科室")
    work_start_date: date | None = Field(default=None, description="参加工作时间")
    proposed_qualification: Text = Field(max_length=50, description="拟评资格")
    specialty: str | None = Field(default=None, max_length=50, description="申报专业")
    exceptional: bool = Field(description="是否破格")
    paired_support: bool = Field(default=False, description="是否对口支援")
    support_start: date | None = Field(default=None, description="开始时间")
    support_end: date | None = Field(default=None, description="终止时间")
    supported_unit: str | None = Field(default=None, max_length=50, description="受援单位")
    support_type: str | None = Field(default=None, max_length=20, description="对口支援类型")
    aid_abroad: bool = Field(description="是否援外")
    aid_tibet: bool = Field(description="是否援藏")
    aid_xinjiang: bool = Field(description="是否援疆")
    liangshan_team: bool = Field(description="是否为凉山州脱贫攻坚综合帮扶工作队队员")
    epidemic_category: str | None = Field(default=None, max_length=20, description="人员类别")
    epidemic_seniority_tilt: bool = Field(default=False, description="申报资历倾斜政策")
    epidemic_achievements_for_summary: bool = Field(default=False, description="业绩成果代替论文综述政策")
    epidemic_exam_exemption: bool = Field(default=False, description="免于参加学历破格、转岗考试政策")
    epidemic_results: str | None = Field(default=None, max_length=200, description="参加免疫防控工作成果")
    honours: list[Honour] = Field(default_factory=list, max_length=50, description="荣誉惩罚")
    incidents: str | None = Field(
        default=None, max_length=200, description="任现职以来医疗差错事故及收受红包或受行政处分情况"
    )


class WaiverClaim(Section):
    """破格条件: the applicant claims one of the waivers the committee's review activity set (评委会预先设置), says why
    it applies, and uploads the proof (条目附件 `proof`); reviewers see the claim with the condition's text."""

    waiver_code: Text = Field(max_length=40, description="破格条件（评审活动设置的条件）")
    justification: Text = Field(max_length=1000, description="破格申报理由（符合该条件的情况说明）")


class StoredWaiverClaim(WaiverClaim):
    """A 破格 claim as stored and shown: with the text of the condition claimed."""

    condition: str | None = Field(default=None, description="破格条件内容（由系统按评审活动填写）")


SECTION_TYPES["waiver"] = WaiverClaim
STORED_TYPES: dict[str, Any] = {"waiver": StoredWaiverClaim}  # a section stored with more than it is sent
SECTION_TYPES["teacher_info"] = TeacherInfo
SECTION_TYPES["health_info"] = HealthInfo
SECTION_ADAPTERS: dict[str, TypeAdapter[Any]] = {name: TypeAdapter(kind) for name, kind in SECTION_TYPES.items()}
