"""Contracts: review service events, major version 1. Additive changes only within v1."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field

from zc_contracts.envelope import EventPayload
from zc_contracts.registry import register


@register
class ApplicationReturned(EventPayload):
    """A reviewer returned the application to the applicant (or a lower level) for modification."""

    event_type: ClassVar[str] = "review.application.returned"
    version: ClassVar[int] = 1

    application_id: UUID
    stage: str = Field(description="review stage that returned it, e.g. unit, department, committee")
    reason: str = Field(max_length=500)
    returned_at: datetime


@register
class ApplicationApproved(EventPayload):
    """The last review stage approved the application; the authority may now issue a certificate."""

    event_type: ClassVar[str] = "review.application.approved"
    version: ClassVar[int] = 1

    application_id: UUID
    applicant_id: str
    qualification_code: str
    approved_at: datetime
    # issuance data (added within v1; consumers must tolerate their absence)
    issued_by: Literal["authority", "entrusting_unit"] | None = Field(
        default=None, description="direct review: the authority; 委托评审: the entrusting unit"
    )
    document_number: str | None = Field(default=None, max_length=50, description="批准文号")
    issue_date: date | None = None
    series_code: str | None = None
    level_code: str | None = None
    committee_id: UUID | None = None
    unit_id: UUID | None = None
    method: str | None = None
    qualification_name: str | None = None
    specialty: str | None = None
    committee_name: str | None = None
    issuer_name: str | None = None  # who issues, when not the authority (委托评审: the entrusting unit)
    authority_region: str | None = Field(default=None, max_length=20, description="授权管理单位所辖区域")


@register
class ApplicationWithdrawn(EventPayload):
    """The withdrawal was accepted: the application is back with the applicant, editable."""

    event_type: ClassVar[str] = "review.application.withdrawn"
    version: ClassVar[int] = 1

    application_id: UUID
    withdrawn_at: datetime


@register
class WithdrawRefused(EventPayload):
    """The withdrawal came too late: the unit has already acted on the application."""

    event_type: ClassVar[str] = "review.application.withdraw_refused"
    version: ClassVar[int] = 1

    application_id: UUID
    reason: str = Field(max_length=200)
    refused_at: datetime


@register
class RecordDecided(EventPayload):
    """The review of a 外省职称确认 or 专技人才统计 record ended (or sent it back)."""

    event_type: ClassVar[str] = "review.record.decided"
    version: ClassVar[int] = 1

    record_id: UUID
    outcome: Literal["approved", "returned", "rejected"]
    reason: str | None = Field(default=None, max_length=500)
    decided_at: datetime
    # which review (added within v1): out_of_province | talent_stats | certificate_verification
    kind: str | None = None


@register
class StageReached(EventPayload):
    """An application moved to the next review stage (工作单位 → 主管部门 … → 评委会 → 专家)."""

    event_type: ClassVar[str] = "review.application.stage_reached"
    version: ClassVar[int] = 1

    application_id: UUID
    stage: Literal["unit", "department", "committee", "expert", "authority"]
    department_id: UUID | None = None  # which 主管部门 level, for the department stage
    reached_at: datetime
    # the expert stage (added within v1): the experts named for this application, who alone may read it
    experts: list[str] | None = Field(default=None, max_length=25)
    # the authority stage (added within v1): the region whose authority confirms, and so may read it
    authority_region: str | None = Field(default=None, max_length=20)


@register
class ApplicationRejected(EventPayload):
    """The review ended without the title (未通过)."""

    event_type: ClassVar[str] = "review.application.rejected"
    version: ClassVar[int] = 1

    application_id: UUID
    stage: str = Field(description="stage that decided, e.g. committee")
    reason: str | None = Field(default=None, max_length=500)
    rejected_at: datetime


@register
class DefenceNotified(EventPayload):
    """The committee scheduled the applicant's defence (答辩): time and place for the notice."""

    event_type: ClassVar[str] = "review.application.defence_notified"
    version: ClassVar[int] = 1

    application_id: UUID
    defence_at: datetime
    place: str = Field(max_length=100)
    notified_at: datetime
