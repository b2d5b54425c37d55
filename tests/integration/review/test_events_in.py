"""Events in over real JetStream: a submission starts one review however often it arrives; withdraw answers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from integration.review.conftest import HOST_TEST_BPMN, REPO, UNIT, Api
from review.adapters.db.tables import messaging
from review.consumers import handlers
from support.consume import consume as run_consumer
from zc_auth import Role, RoleGrant, ScopeType
from zc_contracts import EventPayload, applications_v1, certificates_v1, make_envelope

COMMITTEE = "0193a1f0-0000-7000-8000-00000000c001"


async def consume(api: Api, nats_url: str, durable: str, *payloads: EventPayload, repeat_first: bool = False) -> None:
    """Publish application events and let the review worker's own consumer handle them."""
    envelopes = [make_envelope(p, source=p.subject().split(".")[0], subject_id=str(uuid.uuid4())) for p in payloads]
    if repeat_first:
        envelopes.insert(1, envelopes[0])  # a relay re-publish: same event id
    await run_consumer(
        nats_url,
        api.database_url,
        durable=durable,
        handler=handlers(api.reviews)[durable],
        tables=messaging,
        messages=[(e, str(e.id)) for e in envelopes],
    )


def submitted(app_id: uuid.UUID, *, resubmission: bool = False) -> applications_v1.ApplicationSubmitted:
    return applications_v1.ApplicationSubmitted(
        application_id=app_id,
        applicant_id="usr_applicant",
        unit_id=uuid.UUID(UNIT),
        evaluation_mode="review",
        year=2026,
        series_code="GC",
        level_code="ZJ",
        qualification_code="GC-ZJ-GCS",
        resubmission=resubmission,
        submitted_at=datetime.now(UTC),
    )


async def deploy_as_application_review(api: Api) -> None:
    source = HOST_TEST_BPMN.replace('id="host_test"', 'id="application_review"')
    await api.reviews.deploy("application_review", source, deployed_by="tests")


async def test_a_submission_delivered_twice_starts_one_review(api: Api, clean_jetstream: str) -> None:
    await deploy_as_application_review(api)
    app_id = uuid.uuid4()
    # the same event re-published (JetStream drops it) and a second submission event (the host ignores it)
    await consume(
        api, clean_jetstream, "review__application_submissions", submitted(app_id), submitted(app_id), repeat_first=True
    )
    inst = await api.instance(str(app_id))
    assert inst["process_key"] == "application_review" and inst["routing"]["unit_id"] == UNIT
    task = await api.task_of(str(app_id), api.unit_reviewer())
    assert task["series_code"] == "GC"
    assert [e.type for e in await api.events(str(app_id))] == ["review.application.stage_reached"]


async def test_withdraw_requested_over_the_wire_is_granted_before_the_unit_acts(api: Api, clean_jetstream: str) -> None:
    await deploy_as_application_review(api)
    app_id = uuid.uuid4()
    await consume(api, clean_jetstream, "review__application_submissions", submitted(app_id))
    ask = applications_v1.ApplicationWithdrawRequested(application_id=app_id, requested_at=datetime.now(UTC))
    await consume(api, clean_jetstream, "review__withdraw_requests", ask)
    withdrawn = [e for e in await api.events(str(app_id)) if e.type == "review.application.withdrawn"]
    assert len(withdrawn) == 1
    assert withdrawn[0].correlation_id is not None
    assert (await api.instance(str(app_id)))["status"] == "completed"


async def test_a_verification_request_starts_certificate_verification(api: Api, clean_jetstream: str) -> None:
    await api.reviews.deploy_directory(REPO / "bpmn")
    record = uuid.uuid4()
    ask = certificates_v1.VerificationRequested(
        record_id=record,
        applicant_id="usr_applicant",
        committee_id=uuid.UUID(COMMITTEE),
        submitted_at=datetime.now(UTC),
    )
    await consume(api, clean_jetstream, "review__verification_requests", ask)
    inst = await api.instance(str(record))
    assert (
        inst["process_key"] == "certificate_verification"
        and inst["routing"]["record_kind"] == "certificate_verification"
    )
    organiser = api.as_(RoleGrant(Role.COMMITTEE_ORGANISER, ScopeType.COMMITTEE, COMMITTEE), subject="usr_org")
    assert (await api.task_of(str(record), organiser))["name"] == "organiser_review"
