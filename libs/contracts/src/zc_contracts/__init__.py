"""Contracts: event envelope, versioned payload models and their registry. No I/O here."""

from zc_contracts import applications, certificates, identity, review  # noqa: F401  (registers models)
from zc_contracts.applications import v1 as applications_v1
from zc_contracts.certificates import v1 as certificates_v1
from zc_contracts.envelope import Envelope, EventPayload, make_envelope, new_event_id, subject_for
from zc_contracts.identity import v1 as identity_v1
from zc_contracts.registry import UnknownEventError, all_models, model_for, parse_payload, register
from zc_contracts.review import v1 as review_v1

__all__ = [
    "Envelope",
    "EventPayload",
    "UnknownEventError",
    "all_models",
    "applications_v1",
    "certificates_v1",
    "identity_v1",
    "make_envelope",
    "model_for",
    "new_event_id",
    "parse_payload",
    "register",
    "review_v1",
    "subject_for",
]
