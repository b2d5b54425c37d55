"""Use cases: what a process throws, turned into the versioned events other services consume.

A BPMN message the process throws and nobody inside it catches is named here; its payload (the
diagram's `messagePayload`) is merged over the instance's variables. An unknown name is a process
fault, so the instance errors instead of publishing something nobody declared.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from review.domain.errors import DomainError
from zc_contracts import EventPayload
from zc_contracts.review import v1 as review_v1

STAGES = {"unit", "department", "committee", "expert", "authority"}  # what StageReached may say
# the message names a diagram may throw (turned into events below) and wait for (delivered by the host)
OUTBOUND_MESSAGES = frozenset(
    {
        "application_returned",
        "application_approved",
        "application_rejected",
        "application_withdrawn",
        "defence_notice",
        "record_decided",
    }
)
INBOUND_MESSAGES = frozenset({"resubmitted", "withdraw", "notice_objection"})


class UnknownOutboundMessageError(DomainError):
    code = "review.unknown_outbound_message"
    status_hint = 500


def _text(value: Any, limit: int) -> str | None:
    return str(value)[:limit] if value not in (None, "") else None


def outbound_payload(name: str, business_key: str, data: Mapping[str, Any], now: datetime) -> EventPayload:
    stage = str(data.get("stage") or "unit")
    reason = _text(data.get("reason") or data.get("comment"), 500)
    match name:
        case "application_returned":
            return review_v1.ApplicationReturned(
                application_id=UUID(business_key), stage=stage, reason=reason or "退回修改", returned_at=now
            )
        case "application_approved":
            return review_v1.ApplicationApproved(
                application_id=UUID(business_key),
                applicant_id=str(data.get("applicant_id") or ""),
                qualification_code=str(data.get("qualification_code") or ""),
                approved_at=now,
                issued_by=data.get("issued_by"),
                document_number=data.get("document_number"),
                issue_date=data.get("issue_date"),
                series_code=data.get("series_code"),
                level_code=data.get("level_code"),
                committee_id=data.get("committee_id"),
                unit_id=data.get("unit_id"),
                method=data.get("method"),
                qualification_name=data.get("qualification_name"),
                specialty=data.get("specialty"),
                committee_name=data.get("committee_name"),
                issuer_name=data.get("entrusting_unit_name") if data.get("issued_by") == "entrusting_unit" else None,
                authority_region=data.get("authority_region"),
            )
        case "defence_notice":
            return review_v1.DefenceNotified(
                application_id=UUID(business_key),
                defence_at=data["defence_at"],
                place=str(data.get("place") or ""),
                notified_at=now,
            )
        case "application_rejected":
            return review_v1.ApplicationRejected(
                application_id=UUID(business_key), stage=stage, reason=reason, rejected_at=now
            )
        case "application_withdrawn":
            return review_v1.ApplicationWithdrawn(application_id=UUID(business_key), withdrawn_at=now)
        case "record_decided":
            return review_v1.RecordDecided(
                record_id=UUID(business_key),
                outcome=data.get("outcome", "approved"),
                reason=reason,
                decided_at=now,
                kind=data.get("record_kind"),
            )
    raise UnknownOutboundMessageError(f"流程抛出了未声明的消息 {name}")


def stage_reached(business_key: str, stage: str, data: Mapping[str, Any], now: datetime) -> EventPayload | None:
    if stage not in STAGES:
        return None
    department = data.get("department_id") if stage == "department" else None
    return review_v1.StageReached(
        application_id=UUID(business_key),
        stage=stage,  # type: ignore[arg-type]  # checked against STAGES above
        department_id=UUID(str(department)) if department else None,
        reached_at=now,
        experts=[str(e) for e in data.get("experts") or []] if stage == "expert" else None,
        authority_region=str(data["authority_region"])
        if stage == "authority" and data.get("authority_region")
        else None,
    )
