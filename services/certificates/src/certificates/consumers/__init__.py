"""Consumers: durable consumer name -> handler, for the subjects this service reacts to.

Each handler gets the envelope and the open transaction of the inbox record (see zc_messaging), so the
certificate, its number and its event commit together with the inbox row.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from certificates.domain.errors import HolderUnavailableError
from certificates.usecases.certificates import CertificateService
from certificates.usecases.verifications import VerificationService
from zc_contracts import Envelope
from zc_messaging import Handler, TransientError


def handlers(certificates: CertificateService, verifications: VerificationService) -> dict[str, Handler]:
    async def on_approved(envelope: Envelope, session: AsyncSession) -> None:
        try:
            await certificates.issue_for_approval(session, envelope)
        except HolderUnavailableError as exc:  # the identity bridge is away: try again later
            raise TransientError(exc.message) from exc

    async def on_record_decided(envelope: Envelope, session: AsyncSession) -> None:
        try:
            await verifications.apply_decision(session, envelope)  # 证书核验
            await certificates.record_confirmed_title(session, envelope)  # 外省职称确认
        except HolderUnavailableError as exc:
            raise TransientError(exc.message) from exc

    async def on_record_submitted(envelope: Envelope, session: AsyncSession) -> None:
        await certificates.keep_confirmation_request(session, envelope)

    return {
        "certificates__review_approved": on_approved,
        "certificates__record_outcomes": on_record_decided,
        "certificates__record_submissions": on_record_submitted,
    }
