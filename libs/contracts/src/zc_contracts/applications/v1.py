"""Contracts: applications service events, major version 1. Additive changes only within v1."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from zc_contracts.envelope import EventPayload
from zc_contracts.registry import register

EvaluationMode = Literal["review", "initial_determination"]  # 申报评审 / 职称初定


@register
class ApplicationSubmitted(EventPayload):
    """An applicant submitted (or re-submitted after a return) an application to their work unit."""

    event_type: ClassVar[str] = "applications.application.submitted"
    version: ClassVar[int] = 1

    application_id: UUID
    applicant_id: str = Field(description="internal user id (never an ID-card number)")
    unit_id: UUID
    evaluation_mode: EvaluationMode
    year: int = Field(ge=2000, le=2100)
    series_code: str
    level_code: str
    committee_id: UUID | None = None
    resubmission: bool = False
    submitted_at: datetime
    # routing for the review (added within v1; consumers must tolerate their absence)
    method: str | None = None  # SHEHUIHUA | WEITUO | ZHONGYANG_ZAICHUAN | RENDING
    qualification_code: str | None = None
    department_ids: list[UUID] = Field(default_factory=list, description="competent departments, nearest first")
    snapshot_version: int | None = None
    # what 初定's eligibility table reads (added within v1): the highest 学历 and whole years of work
    highest_education: str | None = Field(default=None, description="最高学历, e.g. 大学本科")
    professional_years: int | None = Field(default=None, ge=0, description="工作年限（整年）")
    # names for the certificate (added within v1)
    qualification_name: str | None = None
    specialty: str | None = None
    committee_name: str | None = None
    # 委托评审: the competent department that issued the 委托评审函 and will issue the certificate
    entrusting_unit_name: str | None = None
    # whose authority confirms and issues (added within v1): a GB/T 2260 region code, the committee's region
    # scope or, without a committee (初定), the unit's region; authority grants are checked against it
    authority_region: str | None = Field(default=None, max_length=20)
    # 申报类别 as chosen in 个人申报设置 (added within v1), e.g. 正常申报, 破格申报
    category: str | None = Field(default=None, max_length=20)


@register
class ApplicationWithdrawRequested(EventPayload):
    """The applicant asks to withdraw a submitted application; the review service decides (only while the
    unit has not acted) and answers with review.application.withdrawn / withdraw_refused."""

    event_type: ClassVar[str] = "applications.application.withdraw_requested"
    version: ClassVar[int] = 1

    application_id: UUID
    requested_at: datetime


class OutOfProvinceTitle(BaseModel):
    """What a 外省职称确认 asks to confirm (no personal data beyond the title itself)."""

    original_title: str
    original_title_specialty: str
    original_title_obtained: date
    original_committee: str
    proposed_series: str
    proposed_specialty: str
    proposed_title: str


@register
class RecordSubmitted(EventPayload):
    """A person submitted a 外省职称确认 or 专技人才统计 record to their unit for review."""

    event_type: ClassVar[str] = "applications.record.submitted"
    version: ClassVar[int] = 1

    record_id: UUID
    kind: Literal["out_of_province", "talent_stats"]
    applicant_id: str
    unit_id: UUID
    department_ids: list[UUID] = Field(default_factory=list)
    submitted_at: datetime
    # 外省职称确认 only (added within v1): the title to confirm, recorded as a certificate when approved
    confirmed_title: OutOfProvinceTitle | None = None
    # the unit's region (added within v1): which authorities may read and confirm it
    region_code: str | None = Field(default=None, max_length=20)
