"""Contracts: certificates service events, major version 1. Additive changes only within v1."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from pydantic import Field

from zc_contracts.envelope import EventPayload
from zc_contracts.registry import register


@register
class CertificateIssued(EventPayload):
    """A certificate was issued (exactly once per approved application)."""

    event_type: ClassVar[str] = "certificates.certificate.issued"
    version: ClassVar[int] = 1

    certificate_id: UUID
    certificate_no: str
    holder_id: str
    application_id: UUID | None = None
    issued_at: datetime


@register
class CertificateRevoked(EventPayload):
    """The authority revoked a certificate; it shows as revoked everywhere from now on."""

    event_type: ClassVar[str] = "certificates.certificate.revoked"
    version: ClassVar[int] = 1

    certificate_id: UUID
    certificate_no: str
    holder_id: str
    reason: str = Field(max_length=500)
    revoked_at: datetime


@register
class CertificateVerified(EventPayload):
    """证书核验 passed: the historical certificate is listed under 我的证书, marked as verified."""

    event_type: ClassVar[str] = "certificates.certificate.verified"
    version: ClassVar[int] = 1

    certificate_id: UUID
    certificate_no: str
    holder_id: str
    verification_id: UUID
    verified_at: datetime


@register
class VerificationRequested(EventPayload):
    """An applicant submitted a historical certificate for 证书核验; the review service runs
    certificate_verification and answers with review.record.decided.v1 (kind certificate_verification)."""

    event_type: ClassVar[str] = "certificates.verification.requested"
    version: ClassVar[int] = 1

    record_id: UUID
    applicant_id: str
    # the committee whose organising unit verifies it; None (其他, a review body not in the directory, within
    # v1): the authority of `authority_region` verifies it
    committee_id: UUID | None = Field(default=None, description="the committee whose organising unit verifies it")
    submitted_at: datetime
    authority_region: str | None = Field(default=None, max_length=20)
