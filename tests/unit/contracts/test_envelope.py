"""Contracts: envelope, subject naming, registry and tolerant reading."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from zc_contracts import (
    Envelope,
    UnknownEventError,
    all_models,
    applications_v1,
    make_envelope,
    model_for,
    parse_payload,
    subject_for,
)
from zc_contracts.envelope import SUBJECT_RE


def _submitted() -> applications_v1.ApplicationSubmitted:
    return applications_v1.ApplicationSubmitted(
        application_id=uuid.uuid4(),
        applicant_id="u-1",
        unit_id=uuid.uuid4(),
        evaluation_mode="review",
        year=2026,
        series_code="engineering",
        level_code="intermediate",
        submitted_at=datetime.now(UTC),
    )


def test_every_registered_subject_follows_producer_aggregate_event_version() -> None:
    models = all_models()
    assert models, "contracts must register their payload models"
    for model in models:
        m = SUBJECT_RE.match(model.subject())
        assert m is not None, model.subject()
        assert m["producer"] in {"applications", "review", "certificates", "identity"}


def test_subject_for_rejects_names_when_not_three_lowercase_parts() -> None:
    with pytest.raises(ValueError):
        subject_for("Applications.submitted", 1)
    with pytest.raises(ValueError):
        subject_for("applications.application.submitted.extra", 1)


def test_envelope_round_trips_through_bytes_when_made_from_a_payload() -> None:
    env = make_envelope(_submitted(), source="applications", subject_id="a-1")
    again = Envelope.from_bytes(env.to_bytes())
    assert again == env
    assert env.subject == "applications.application.submitted.v1"
    assert env.correlation_id == env.id and env.causation_id is None
    assert env.id.version == 7  # time-ordered ids


def test_follow_up_event_inherits_correlation_and_names_its_cause() -> None:
    first = make_envelope(_submitted(), source="applications", subject_id="a-1")
    follow = make_envelope(
        applications_v1.ApplicationWithdrawRequested(application_id=uuid.uuid4(), requested_at=datetime.now(UTC)),
        source="applications",
        subject_id="a-1",
        causation=first,
    )
    assert follow.correlation_id == first.id
    assert follow.causation_id == first.id


def test_producer_rejects_unknown_field_but_consumer_ignores_it_when_added_later() -> None:
    data = _submitted().model_dump(mode="json")
    with pytest.raises(ValidationError):
        applications_v1.ApplicationSubmitted.model_validate({**data, "new_optional_field": 1})
    env = Envelope(
        type="applications.application.submitted",
        version=1,
        source="applications",
        subject_id="a",
        data={**data, "new_optional_field": 1},
    )
    payload = parse_payload(env)
    assert isinstance(payload, applications_v1.ApplicationSubmitted)
    assert str(payload.application_id) == data["application_id"]


def test_parse_payload_fails_when_event_version_is_unknown() -> None:
    env = Envelope(type="applications.application.submitted", version=9, source="x", subject_id="a", data={})
    with pytest.raises(UnknownEventError):
        parse_payload(env)
    with pytest.raises(UnknownEventError):
        model_for("nobody.thing.happened", 1)


def test_payload_rejects_invalid_values_when_producing() -> None:
    with pytest.raises(ValidationError):
        applications_v1.ApplicationSubmitted.model_validate(
            {**_submitted().model_dump(mode="json"), "evaluation_mode": "lottery"}
        )
