"""Consumers: durable consumer name -> handler, for the subjects this service reacts to.

Each handler gets the envelope and the open transaction of the inbox record (see zc_messaging), so the
instance it starts or moves and the events it emits commit together with the inbox row.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from review.domain.errors import InstanceStateError, ProcessNotDeployedError
from review.usecases.instances import Instances
from review.usecases.transitions import Actor
from zc_contracts import Envelope, applications_v1, certificates_v1
from zc_messaging import Handler, TransientError

log = logging.getLogger(__name__)

# which process reviews what (issue #7 draws them; a missing one is retried until deployed)
PROCESS_FOR_MODE = {"review": "application_review", "initial_determination": "initial_determination"}
PROCESS_FOR_RECORD = {"out_of_province": "out_of_province_confirmation", "talent_stats": "talent_statistics"}

# variables the diagrams read before any task sets them (scripts cannot test whether a name exists)
PROCESS_DEFAULTS: dict[str, object] = {
    "resubmit_deadline": None,  # 个人修改提交截止时间 (ISO date-time) when the activity sets one
    "resubmit_working_days": 10,  # otherwise: working days after a return
    "experts": [],
    "vote_ratio": "2/3",
    "defence": False,
    "defence_at": None,
    "defence_place": None,
    "document_number": None,
    "issue_date": None,
}


def handlers(instances: Instances) -> dict[str, Handler]:
    async def on_submitted(envelope: Envelope, session: AsyncSession) -> None:
        event = applications_v1.ApplicationSubmitted.model_validate(envelope.data)
        key = str(event.application_id)
        process_key = PROCESS_FOR_MODE[event.evaluation_mode]
        try:
            if event.resubmission:
                delivered = await instances.deliver(
                    session,
                    key,
                    "resubmitted",
                    {"snapshot_version": event.snapshot_version, "submitted_at": event.submitted_at.isoformat()},
                    process_keys=[process_key],
                    actor=Actor(event.applicant_id, "applicant"),
                )
                if delivered:
                    return
                log.info("resubmission not awaited; starting if new", extra={"application_id": key})
            await instances.start(session, process_key, key, _start_data(event), cause=envelope)
        except (ProcessNotDeployedError, InstanceStateError) as exc:
            raise TransientError(exc.message) from exc

    async def on_withdraw(envelope: Envelope, session: AsyncSession) -> None:
        event = applications_v1.ApplicationWithdrawRequested.model_validate(envelope.data)
        await instances.request_withdraw(session, str(event.application_id), cause=envelope)

    async def on_record(envelope: Envelope, session: AsyncSession) -> None:
        event = applications_v1.RecordSubmitted.model_validate(envelope.data)
        data = {
            "record_id": str(event.record_id),
            "applicant_id": event.applicant_id,
            "unit_id": str(event.unit_id),
            "department_ids": [str(d) for d in event.department_ids],
            "department_id": str(event.department_ids[0]) if event.department_ids else None,
            "record_kind": event.kind,
            "authority_region": event.region_code,  # scopes the authority's confirmation
            **PROCESS_DEFAULTS,
        }
        try:
            await instances.start(session, PROCESS_FOR_RECORD[event.kind], str(event.record_id), data, cause=envelope)
        except ProcessNotDeployedError as exc:
            raise TransientError(exc.message) from exc

    async def on_verification(envelope: Envelope, session: AsyncSession) -> None:
        event = certificates_v1.VerificationRequested.model_validate(envelope.data)
        data = {
            "record_id": str(event.record_id),
            "applicant_id": event.applicant_id,
            "committee_id": str(event.committee_id) if event.committee_id else None,
            "authority_region": event.authority_region,  # 其他: no committee, the authority verifies
            "record_kind": "certificate_verification",
            **PROCESS_DEFAULTS,
        }
        try:
            await instances.start(session, "certificate_verification", str(event.record_id), data, cause=envelope)
        except ProcessNotDeployedError as exc:
            raise TransientError(exc.message) from exc

    return {
        "review__verification_requests": on_verification,
        "review__application_submissions": on_submitted,
        "review__withdraw_requests": on_withdraw,
        "review__record_submissions": on_record,
    }


def _start_data(event: applications_v1.ApplicationSubmitted) -> dict[str, object]:
    departments = [str(d) for d in event.department_ids]
    return {
        "application_id": str(event.application_id),
        "applicant_id": event.applicant_id,
        "unit_id": str(event.unit_id),
        "department_ids": departments,
        "department_id": departments[0] if departments else None,
        "committee_id": str(event.committee_id) if event.committee_id else None,
        "series_code": event.series_code,
        "level_code": event.level_code,
        "qualification_code": event.qualification_code,
        "method": event.method,
        "year": event.year,
        "evaluation_mode": event.evaluation_mode,
        "education_level": event.highest_education,  # read by 初定's eligibility table
        "work_years": event.professional_years,
        "qualification_name": event.qualification_name,  # carried to the certificate
        "specialty": event.specialty,
        "committee_name": event.committee_name,
        "entrusting_unit_name": event.entrusting_unit_name,
        "authority_region": event.authority_region,  # scopes the authority's tasks, carried to the certificate
        **PROCESS_DEFAULTS,
    }
