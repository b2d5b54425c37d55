"""API: response bodies of the certificates service, so OpenAPI (and the web client generated from it) knows
every field. The use cases still build dicts; FastAPI validates each against its model and serialises it.

Response models forbid extra keys: a key a use case adds without a field here fails the tests instead of being
dropped silently. Titles are the labels a user sees."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from certificates.usecases.verifications import HistoricalCertificate
from zc_http import IsoDateTime, Paged, draft_of

# times: IsoDateTime keeps the isoformat() text the use cases write ("+00:00", where pydantic would write "Z")

RESPONSE = ConfigDict(extra="forbid")

# the fields of 证书核验, each optional while a draft (the full form decides at submission)
HistoricalCertificateDraft = draft_of(HistoricalCertificate)


# -- 我的证书 -------------------------------------------------------------------------------------------------


class Certificate(BaseModel):
    """A certificate as its holder (or an authority) sees it: 我的证书, 证书详情, after 撤销."""

    model_config = RESPONSE

    id: UUID
    certificate_no: str = Field(title="证书编号")
    holder_name: str = Field(title="持证人姓名")
    holder_id_masked: str = Field(title="证件号码（脱敏）")
    qualification_code: str = Field(title="资格代码")
    qualification_name: str | None = Field(title="资格名称")
    series_code: str = Field(title="职称系列")
    level_code: str = Field(title="职称层级")
    specialty: str | None = Field(title="专业")
    committee_name: str | None = Field(title="评审组织")
    evaluation_method: str | None = Field(title="评价方式")
    document_number: str | None = Field(title="批准文号")
    issue_date: date = Field(title="发证日期")
    issuing_authority: str = Field(title="发证单位")
    source: Literal["issued", "verified", "out_of_province"]
    source_name: str = Field(title="证书来源")
    status: Literal["valid", "revoked"]
    status_name: str = Field(title="证书状态")
    revoke_reason: str | None = Field(title="撤销原因")
    check_url: str = Field(title="证书查询地址", description="电子证书上二维码指向的证书查询地址")


class CertificateList(Paged):
    model_config = RESPONSE

    items: list[Certificate] = Field(title="我的证书")


class ManagedCertificates(Paged):
    model_config = RESPONSE

    items: list[Certificate] = Field(title="证书管理")


# -- 证书查询 (public, masked) --------------------------------------------------------------------------------


class PublicCheckFound(BaseModel):
    """证书查询: a certificate was found; the holder's name and ID number are masked."""

    model_config = RESPONSE

    result: Literal["valid", "revoked", "tampered"]
    result_name: str = Field(title="查询结果")
    signature_valid: bool = Field(title="数据签名校验通过")
    certificate_no: str = Field(title="证书编号")
    holder_name: str = Field(title="持证人姓名（脱敏）")
    holder_id_masked: str = Field(title="证件号码（脱敏）")
    qualification_name: str = Field(title="资格名称")
    issue_date: date = Field(title="发证日期")
    issuing_authority: str = Field(title="发证单位")
    revoke_reason: str | None = Field(title="撤销原因")


class PublicCheckNotFound(BaseModel):
    """证书查询: no such certificate, or the name does not match (answered alike)."""

    model_config = RESPONSE

    result: Literal["not_found"]
    result_name: str = Field(title="查询结果")


PublicCheck = Annotated[PublicCheckFound | PublicCheckNotFound, Field(discriminator="result")]


# -- 证书核验 -------------------------------------------------------------------------------------------------


class SocialInsuranceRecord(BaseModel):
    """One record as the social-insurance source gives it. The source's shape is not ours: keys it leaves out
    stay out (the routes drop unset fields) and keys it adds are kept."""

    model_config = ConfigDict(extra="allow")

    payer: str | None = Field(default=None, title="参保单位")
    insurance: str | None = Field(default=None, title="险种")
    status: str | None = Field(default=None, title="参保状态")
    start: str | None = Field(default=None, title="参保开始时间")
    end: str | None = Field(default=None, title="参保结束时间")
    payment: str | None = Field(default=None, title="缴费状态")


class SocialInsurance(BaseModel):
    """同步社保数据: the records, from which source, and when."""

    model_config = RESPONSE

    records: list[SocialInsuranceRecord] = Field(title="社保参保信息")
    source: str = Field(title="数据来源")
    fetched_at: IsoDateTime = Field(title="同步时间")


class VerificationAttachment(BaseModel):
    """上传相关附件材料: one file (its bytes are downloaded separately)."""

    model_config = RESPONSE

    id: UUID
    filename: str = Field(title="文件名")
    content_type: str = Field(title="文件类型")
    size: int = Field(title="文件大小（字节）")
    sha256: str


class Verification(BaseModel):
    """证书核验: a record as the applicant's list shows it."""

    model_config = RESPONSE

    id: UUID
    committee_id: UUID | None = Field(description="证书上的评审组织（评委会名录中的评委会；“其他”时为空）")
    committee_name: str | None = Field(default=None, title="评审组织")
    committee_specialties: list[str] = Field(
        default_factory=list, title="可选专业", description="该评委会评审的专业（职称目录）；没有的选“其他”"
    )
    status: Literal["draft", "submitted", "approved", "returned", "rejected"]
    status_name: str = Field(title="核验状态")
    status_reason: str | None = Field(title="审核意见")
    content: HistoricalCertificateDraft = Field(title="证书信息")  # type: ignore[valid-type]  # made by draft_of
    version: int = Field(description="当前版本号：修改时以 If-Match 发送")
    submitted_at: IsoDateTime | None = Field(title="提交时间")


class VerificationList(Paged):
    model_config = RESPONSE

    items: list[Verification] = Field(title="证书核验记录")


class VerificationDetail(Verification):
    """证书核验: a record with its social-insurance data and attachments."""

    social_insurance: SocialInsurance | None = Field(title="社保参保信息")
    attachments: list[VerificationAttachment] = Field(title="相关附件材料")


class ReviewedVerification(VerificationDetail):
    """证书核验 as its reviewer (the committee's organising unit) sees it."""

    applicant_id: str = Field(description="申请人（用户标识）")
