"""API: response bodies of the applications service, so OpenAPI (and the web client generated from it) knows
every field. The use cases still build dicts; FastAPI validates each against its model and serialises it.

Response models forbid extra keys: a key a use case adds without a field here fails the tests instead of being
dropped silently. Titles are the labels a user sees; times keep the isoformat() text the use cases write
(`zc_http.IsoDateTime`).

Open by nature, and so `dict[str, Any]`:
- an application's (and a snapshot's, and 个人信息's) `sections`: each section as it was saved — phone numbers
  sealed and shown masked, records 同步 from a source carry their `source_record`, 社保 is what the source gave,
  and a frozen snapshot keeps what the form was when it was submitted; none matches its section's form exactly;
- the records an external source (社保, 学历, 省职业资格证书) gives: the source's shape, not ours."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from applications.api.record_schemas import OutOfProvince, TalentStats
from applications.domain.files import ACCEPTED
from zc_http import IsoDateTime, Paged, draft_of

RESPONSE = ConfigDict(extra="forbid")

Method = Literal["SHEHUIHUA", "WEITUO", "ZHONGYANG_ZAICHUAN", "RENDING"]

# a record's content as far as it has been filled in (its kind's fields, each optional while a draft); the models are
# made at run time by draft_of, so a type checker is shown the dict the use cases build
if TYPE_CHECKING:
    RecordContent = dict[str, Any]
else:
    RecordContent = draft_of(OutOfProvince) | draft_of(TalentStats)


# -- files -----------------------------------------------------------------------------------------------------


class Attachment(BaseModel):
    """An uploaded file (its bytes are downloaded separately)."""

    model_config = RESPONSE

    id: str
    kind: str = Field(description="附件类型（photo、material、entrustment_letter、entry、proof）")
    material_name: str | None = Field(title="材料名称")
    section: str | None = Field(default=None, title="所属信息项（条目附件）")
    entry_id: str | None = Field(default=None, title="所属条目编号或附件材料位置（条目附件）")
    filename: str = Field(title="文件名")
    content_type: str = Field(title="文件类型")
    size: int = Field(title="文件大小（字节）")
    sha256: str


class AttachmentList(BaseModel):
    model_config = RESPONSE

    items: list[Attachment] = Field(title="附件")


# -- 我的申报 ---------------------------------------------------------------------------------------------------


class ApplicationSettings(BaseModel):
    """个人申报设置 as checked at 立即申报 and kept with the application."""

    model_config = RESPONSE

    unit_id: str = Field(description="工作单位")
    unit_name: str = Field(title="工作单位")
    method: Method = Field(description="评价方式")
    method_name: str = Field(title="评价方式")
    series: str = Field(description="申报系列（编码）")
    level: str = Field(description="申报层级（编码）")
    specialty: str = Field(title="申报职称专业")
    qualification: str = Field(description="申报资格名称（编码）")
    qualification_name: str = Field(title="申报职称")
    series_name: str | None = Field(default=None, title="申报系列")
    level_name: str | None = Field(default=None, title="申报等级")
    specialty_name: str | None = Field(default=None, title="申报专业")
    category: str | None = Field(default=None, title="申报类别")
    catalog_version: int = Field(description="职称目录版本")
    exam_record_required: bool = Field(title="须有考试记录")
    special_section: str | None = Field(description="系列专属信息项")
    committee_id: str | None = Field(description="申报评委会")
    committee_name: str | None = Field(title="申报评委会")
    entrustment_letter_required: bool = Field(title="须上传委托评审函")


class RegisteredIdentity(BaseModel):
    """The applicant as the identity platform registered them (not editable in the form)."""

    model_config = RESPONSE

    name: str = Field(title="姓名")
    id_type: str = Field(title="证件类型")
    id_number_masked: str = Field(title="证件号码")
    gender: Literal["男", "女"] | None = Field(default=None, title="性别（由证件号码确定）")
    birth_date: date | None = Field(default=None, title="出生日期（由证件号码确定）")


class TrailEntry(BaseModel):
    """审核流程: one step. A step has only the keys it was written with (提交 its version, a review outcome its
    stage and note)."""

    model_config = RESPONSE

    at: IsoDateTime = Field(title="时间")
    action: str = Field(title="操作")
    version: int | None = Field(default=None, title="申报材料版本")
    stage: str | None = Field(default=None, description="环节（unit、department、committee、expert、authority）")
    note: str | None = Field(default=None, title="说明")


class ApplicationSummary(BaseModel):
    """我的申报: an application as the list shows it."""

    model_config = RESPONSE

    id: str
    year: int = Field(title="申报年度")
    status: Literal["draft", "submitted", "withdrawn", "returned", "abandoned", "approved", "rejected", "certified"]
    status_name: str = Field(title="申报状态")
    status_reason: str | None = Field(title="退回或未通过原因")
    settings: ApplicationSettings = Field(title="申报设置")
    title: str = Field(title="申报名称")
    snapshot_version: int = Field(description="最近提交的申报材料版本（未提交为 0）")
    submitted_at: IsoDateTime | None = Field(title="提交时间")
    withdraw_requested: bool = Field(title="已申请撤回")
    trail: list[TrailEntry] = Field(title="审核流程")
    stage: str | None = Field(description="审核中的当前环节（unit、department、committee、expert、authority）")
    applicant_identity: RegisteredIdentity | None = Field(
        default=None, title="申报人（统一身份认证登记的身份）", description="暂时无法获取时为空，提交时必须已知"
    )


class ApplicationList(Paged):
    model_config = RESPONSE

    items: list[ApplicationSummary] = Field(title="我的申报")


class SectionEntry(BaseModel):
    model_config = RESPONSE

    name: str = Field(description="信息项标识")
    title: str = Field(title="信息项")


class ApplicationDetail(ApplicationSummary):
    """申报详情 (继续申报): the application with its sections; phone numbers masked unless revealed."""

    sections: dict[str, Any] = Field(
        title="申报信息", description="信息项标识 → 已保存的内容（手机号码等已脱敏；同步的记录带来源标识）"
    )
    section_versions: dict[str, int] = Field(description="信息项标识 → 当前版本号（保存时以 If-Match 发送）")
    section_list: list[SectionEntry] = Field(title="信息项")


class SavedSection(BaseModel):
    """暂存 / 同步: the section's new version (send it as If-Match with the next save)."""

    model_config = RESPONSE

    section: str = Field(description="信息项标识")
    version: int = Field(description="当前版本号")


class Profile(BaseModel):
    """个人信息: the sections kept for the next application; phone numbers masked."""

    model_config = RESPONSE

    sections: dict[str, Any] = Field(title="个人信息", description="信息项标识 → 已保存的内容（手机号码等已脱敏）")
    section_versions: dict[str, int] = Field(description="信息项标识 → 当前版本号（保存时以 If-Match 发送）")


class Snapshot(BaseModel):
    """已提交的申报材料: frozen at 提交; phone numbers masked. Snapshots frozen before attachments were kept have
    none (the key is absent)."""

    model_config = RESPONSE

    settings: ApplicationSettings = Field(title="申报设置")
    sections: dict[str, Any] = Field(title="申报信息", description="信息项标识 → 提交时的内容（手机号码等已脱敏）")
    section_titles: dict[str, str] = Field(title="信息项名称", description="信息项标识 → 名称")
    submitted_at: IsoDateTime = Field(title="提交时间")
    applicant_id: str = Field(description="申报人（用户标识）")
    applicant: RegisteredIdentity | None = Field(
        default=None, title="申报人", description="姓名、证件类型和脱敏的证件号码（此前提交的版本没有）"
    )
    year: int = Field(title="申报年度")
    version: int = Field(title="申报材料版本")
    attachments: list[Attachment] | None = Field(default=None, title="附件")


# -- external sources ------------------------------------------------------------------------------------------


class ApplicationSocialInsurance(BaseModel):
    """社保参保信息: fetched from the source when opened."""

    model_config = RESPONSE

    source: str = Field(title="数据来源")
    fetched_at: IsoDateTime = Field(title="获取时间")
    records: list[dict[str, Any]] = Field(title="社保参保信息", description="数据源给出的记录（按数据源的格式）")


class ExternalRecords(BaseModel):
    """可同步的学历 / 省职业资格证书记录, as the source gives them (each with its `record_id`)."""

    model_config = RESPONSE

    source: str = Field(title="数据来源")
    records: list[dict[str, Any]] = Field(title="记录", description="数据源给出的记录（按数据源的格式）")


# -- 外省职称确认 / 专技人才统计 ------------------------------------------------------------------------------------


class PersonalRecord(BaseModel):
    """A record (外省职称确认 or 专技人才统计) as its applicant's list shows it."""

    model_config = RESPONSE

    id: str
    kind: Literal["out_of_province", "talent_stats"]
    kind_name: str = Field(title="记录类型")
    unit_id: str = Field(description="现工作单位")
    status: Literal["draft", "submitted", "approved", "returned", "rejected"]
    status_name: str = Field(title="审核状态")
    status_reason: str | None = Field(title="审核意见")
    content: RecordContent = Field(title="填写信息")
    version: int = Field(description="当前版本号：修改时以 If-Match 发送")
    submitted_at: IsoDateTime | None = Field(title="提交时间")
    applicant_identity: RegisteredIdentity | None = Field(
        default=None, title="申报人（统一身份认证登记的身份）", description="姓名、证件类型、脱敏的证件号码"
    )


class PersonalRecordList(Paged):
    model_config = RESPONSE

    items: list[PersonalRecord] = Field(title="我的记录")


class PersonalRecordDetail(PersonalRecord):
    """记录详情: the record with its files."""

    attachments: list[Attachment] = Field(title="附件")


class ReviewedRecord(PersonalRecordDetail):
    """A submitted record as its reviewer sees it."""

    applicant_id: str = Field(description="申请人（用户标识）")


# -- 我的消息 ---------------------------------------------------------------------------------------------------


class Message(BaseModel):
    model_config = RESPONSE

    id: str
    kind: Literal["unit", "defence", "complaint", "system"]
    kind_name: str = Field(title="消息类型")
    sender: str = Field(title="发送单位")
    title: str = Field(title="标题")
    body: str = Field(title="内容")
    application_id: str | None = Field(description="相关申报")
    created_at: IsoDateTime = Field(title="发送时间")
    read: bool = Field(title="已读")


class MessagePage(Paged):
    model_config = RESPONSE

    items: list[Message] = Field(title="我的消息")
    unread: int = Field(title="未读")


class MarkedRead(BaseModel):
    model_config = RESPONSE

    marked: int = Field(title="标记已读的条数")


class MessageSent(BaseModel):
    model_config = RESPONSE

    status: Literal["sent"] = Field(title="发送结果")


# -- 职称目录 -----------------------------------------------------------------------------------------------------


class CodeName(BaseModel):
    model_config = RESPONSE

    code: str = Field(description="编码")
    name: str = Field(title="名称")


class SeriesLevel(BaseModel):
    model_config = RESPONSE

    level: str = Field(description="层级编码")
    exam_mode: str = Field(title="评价方式", description="评审、考评结合或以考代评（exam_only）")
    exam_record_required: bool = Field(title="须有考试记录")


class CatalogSeriesView(BaseModel):
    model_config = RESPONSE

    code: str = Field(description="系列编码")
    name: str = Field(title="系列名称")
    special_section: str | None = Field(title="专属信息项")
    levels: list[SeriesLevel] = Field(title="各层级的评价方式")


class CatalogView(BaseModel):
    """职称目录 (current version): levels (highest first), series, evaluation methods and the form's guidance."""

    model_config = RESPONSE

    version: int = Field(title="目录版本")
    levels: list[CodeName] = Field(title="层级")
    series: list[CatalogSeriesView] = Field(title="系列")
    evaluation_methods: list[CodeName] = Field(title="评价方式")
    guidance: str = Field(title="填写说明")


class QualificationOption(CodeName):
    level: str = Field(description="层级编码")


class Cascade(BaseModel):
    """申报系列 / 层级 / 专业 / 资格名称联动: what may still be chosen given the other choices."""

    model_config = RESPONSE

    catalog_version: int = Field(title="目录版本")
    series: list[CodeName] = Field(title="申报系列")
    levels: list[CodeName] = Field(title="申报层级")
    specialties: list[CodeName] = Field(title="申报职称专业")
    qualifications: list[QualificationOption] = Field(title="申报资格名称")


class CatalogVersion(BaseModel):
    model_config = RESPONSE

    version: int = Field(title="目录版本")


# -- regions, units --------------------------------------------------------------------------------------------


class RegionNode(BaseModel):
    """职称业务归属地: a region with the regions under it."""

    model_config = RESPONSE

    code: str = Field(description="行政区划代码")
    name: str = Field(title="名称")
    kind: str = Field(description="类型")
    path: str = Field(title="职称业务归属地", description="如 四川省/成都市/市(州)本级")
    children: list[RegionNode] = Field(title="下级")


class Department(BaseModel):
    model_config = RESPONSE

    id: str
    name: str = Field(title="主管部门")
    region: str = Field(description="所在行政区划代码")


class UnitView(BaseModel):
    """A registered 工作单位 with its competent departments (nearest first)."""

    model_config = RESPONSE

    id: str
    name: str = Field(title="单位名称")
    credit_code: str = Field(title="统一社会信用代码")
    region_code: str = Field(description="职称业务归属地（行政区划代码）")
    department_chain: list[Department] = Field(title="主管部门（由近及远）")
    central_in_sichuan: bool = Field(title="中央在川单位")


class UnitPage(Paged):
    model_config = RESPONSE

    items: list[UnitView] = Field(title="工作单位")


# -- committees and their activities ---------------------------------------------------------------------------


class Saved(BaseModel):
    """The identifier of what was saved (a committee, a review activity)."""

    model_config = RESPONSE

    id: str


class CommitteeRow(BaseModel):
    """选择评委会: one committee of the list."""

    model_config = RESPONSE

    no: int = Field(title="序号")
    id: str
    name: str = Field(title="评委会名称")
    series_name: str = Field(title="评审系列")
    region_path: str = Field(title="评审区域范围")
    contact_phone: str = Field(title="联系电话")
    contact_person: str = Field(title="联系人")
    status: str = Field(title="工作状态")
    selectable: bool = Field(description="可以选择（材料接收中）")
    direct: bool = Field(description="可直接申报（否则须委托评审）")
    activity_id: str | None = Field(description="评审活动")


class CommitteePage(Paged):
    model_config = RESPONSE

    items: list[CommitteeRow] = Field(title="评委会")
    pages: int = Field(title="总页数")


class QueryUnit(BaseModel):
    model_config = RESPONSE

    id: str
    name: str = Field(title="工作单位")
    region_path: str = Field(title="职称业务归属地")


class CommitteeQuery(BaseModel):
    """选择评委会: those the applicant may apply to directly, and those only by 委托评审."""

    model_config = RESPONSE

    no_committee_needed: Literal[False]
    header: list[str] = Field(title="提示")
    year: int = Field(title="申报年度")
    unit: QueryUnit = Field(title="工作单位")
    direct: CommitteePage = Field(title="可直接申报评委会")
    entrusted: CommitteePage = Field(title="可委托申报评委会")


class NoCommitteeNeeded(BaseModel):
    """The chosen evaluation method needs no committee."""

    model_config = RESPONSE

    no_committee_needed: Literal[True]
    message: str = Field(title="提示")
    method: str = Field(title="评价方式")


class ActivitySummary(BaseModel):
    """The year's review activity of a committee as the directory shows it (the whole 评审通知 is its own route)."""

    model_config = RESPONSE

    id: str = Field(description="评审活动")
    year: int = Field(title="年度")
    start: date = Field(title="申报开始时间")
    first_submit_deadline: date = Field(title="个人初次提交截止时间")
    modify_deadline: date = Field(title="个人修改提交截止时间")
    unit_deadline: date = Field(title="各单位提交截止时间")
    review_method: str = Field(title="评审方式")
    phone: str = Field(title="咨询电话")


class DirectoryCommittee(BaseModel):
    """评审委员会: one committee of the directory, with its work status and the year's activity."""

    model_config = RESPONSE

    no: int = Field(title="序号")
    id: str
    name: str = Field(title="评委会名称")
    series: str = Field(description="评审系列（编码）")
    series_name: str = Field(title="评审系列")
    levels: list[CodeName] = Field(title="评审层级", description="由高到低")
    region_code: str = Field(description="评审区域范围（行政区划代码）")
    region_path: str = Field(title="评审区域范围")
    organiser_name: str = Field(title="组建单位")
    contact_person: str = Field(title="评委会联系人")
    contact_phone: str = Field(title="联系电话")
    status: str = Field(title="工作状态")
    open: bool = Field(title="材料接收中", description="本年度评审活动正在接收申报材料")
    activity: ActivitySummary | None = Field(title="评审活动", description="所查年度的评审活动；未设置为空")


class CommitteeDirectory(BaseModel):
    """评审委员会 (填报说明 1): committees by 所在地区, series, level and name, before applying."""

    model_config = RESPONSE

    year: int = Field(title="年度")
    region_path: str | None = Field(title="所在地区", description="按地区查询时为所选地区")
    direct_scopes: list[str] = Field(
        title="可直接申报开设范围", description="按地区查询时：该地区可直接申报的评审区域范围（属地原则）"
    )
    items: list[DirectoryCommittee] = Field(title="评委会")
    total: int = Field(title="总数")
    page: int = Field(title="页码")
    size: int = Field(title="每页条数")
    pages: int = Field(title="总页数")


class AchievementTemplate(BaseModel):
    """业绩成果 type a committee accepts (its clause of the policy)."""

    model_config = RESPONSE

    code: str = Field(description="类型编码")
    clause: str = Field(title="政策条款")
    form: Literal["paper", "project", "award", "patent", "report", "generic"] = Field(
        default="generic", description="填写格式"
    )
    counts: bool = Field(default=True, title="计入满足政策条数")
    required_fields: list[str] | None = Field(
        default=None, title="必填项", description="该格式除名称、时间外的必填字段（业绩成果的字段名）"
    )


class WaiverCondition(BaseModel):
    model_config = RESPONSE

    code: str = Field(description="条件编码")
    condition: str = Field(title="破格条件")


class RequiredMaterialView(BaseModel):
    model_config = RESPONSE

    name: str = Field(title="材料名称")
    type: Literal["pdf", "image", "any"] = Field(default="pdf", title="材料类型")
    max_size_mb: int | float = Field(title="最大材料大小 (M)")  # as saved: 10 stays 10, not 10.0
    max_count: int = Field(title="上传数量")
    required: bool = Field(default=False, title="必传")


class ActivityNotice(BaseModel):
    """评审通知 (Fig. 2.2.4): the keys of what the applicant reads are the labels the manual shows."""

    model_config = RESPONSE

    title: str = Field(title="标题")
    committee_id: str = Field(description="评委会")
    year: int = Field(title="年度")
    status: str = Field(title="工作状态")
    scope: str = Field(alias="申报范围", title="申报范围")
    start: date = Field(alias="申报开始时间", title="申报开始时间")
    first_submit_deadline: date = Field(alias="个人初次提交截止时间", title="个人初次提交截止时间")
    modify_deadline: date = Field(alias="个人修改提交截止时间", title="个人修改提交截止时间")
    unit_deadline: date = Field(alias="各单位提交截止时间", title="各单位提交截止时间")
    phone: str = Field(alias="咨询电话", title="咨询电话")
    review_method: str = Field(alias="评审方式", title="评审方式")
    exam: str = Field(alias="评委会组织考试", title="评委会组织考试")
    interview: str = Field(alias="是否组织面试答辩", title="是否组织面试答辩")
    specialty_group_vote: str = Field(alias="是否设专业组投票", title="是否设专业组投票")
    policy_documents: list[dict[str, Any]] = Field(
        alias="政策文件", title="政策文件", description="评委会设置的政策文件（如标题与地址）"
    )
    schedule: list[dict[str, Any]] = Field(
        alias="评审活动安排", title="评审活动安排", description="评委会设置的活动安排（如日期与事项）"
    )
    achievement_templates: list[AchievementTemplate] = Field(title="业绩成果类型")
    waivers: list[WaiverCondition] = Field(title="破格条件")
    required_materials: list[RequiredMaterialView] = Field(title="需求材料")
    categories: list[str] = Field(alias="申报类别", title="申报类别")
    special_section: Literal["teacher", "health", "none"] | None = Field(
        default=None, description="专属信息项（评委会预先设置；为空时按申报系列）"
    )


class NoActivity(BaseModel):
    """评审通知: the committee has set no review activity for the year."""

    model_config = RESPONSE

    committee: str = Field(title="评委会")
    year: int = Field(title="年度")
    status: Literal["未设置评审活动"] = Field(title="工作状态")


# -- 立即申报: the settings check --------------------------------------------------------------------------------


class CheckedUnit(BaseModel):
    model_config = RESPONSE

    id: str
    name: str = Field(title="工作单位")


class CheckedCommittee(BaseModel):
    model_config = RESPONSE

    id: str
    name: str = Field(title="申报评委会")
    direct: bool = Field(description="可直接申报（否则为委托评审）")


class SettingsChecked(BaseModel):
    """个人申报设置 passed the check. 职称初定 needs no committee (and says so); otherwise the committee and its
    review activity."""

    model_config = RESPONSE

    valid: Literal[True] = Field(title="校验通过")
    catalog_version: int = Field(description="职称目录版本")
    unit: CheckedUnit = Field(title="工作单位")
    method: Method = Field(description="评价方式")
    method_name: str = Field(title="评价方式")
    year: int = Field(title="申报年度")
    qualification: CodeName = Field(title="申报资格名称")
    series_name: str = Field(title="申报系列")
    level_name: str = Field(title="申报等级")
    specialty_name: str | None = Field(title="申报专业")
    category: str = Field(title="申报类别")
    exam_mode: str = Field(title="评价方式（考评）")
    exam_record_required: bool = Field(title="须有考试记录")
    special_section: str | None = Field(description="系列专属信息项")
    entrustment_letter_required: bool = Field(title="须上传委托评审函")
    committee: CheckedCommittee | None = Field(title="申报评委会")
    message: str | None = Field(default=None, title="提示")
    activity_id: str | None = Field(default=None, description="评审活动")


# -- downloads -------------------------------------------------------------------------------------------------

# a file download: its bytes, as uploaded (a photo is JPG; materials and proofs JPG, PNG or PDF)
FILE: dict[str, Any] = {
    "response_class": StreamingResponse,
    "responses": {200: {"content": {t: {} for t in sorted(ACCEPTED["any"])}, "description": "附件（JPG、PNG 或 PDF）"}},
}
