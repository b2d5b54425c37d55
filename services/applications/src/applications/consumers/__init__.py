"""Consumers: durable consumer name -> handler, for the subjects this service reacts to.

Each handler gets the envelope and the open transaction of the inbox record (see zc_messaging).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from applications.usecases.messages import apply_review_outcome
from applications.usecases.ports import ApplicationStore, MessageStore
from applications.usecases.records import apply_record_outcome
from zc_contracts import Envelope
from zc_messaging import Handler


def handlers(
    message_store: Callable[[AsyncSession], MessageStore], application_store: Callable[[AsyncSession], ApplicationStore]
) -> dict[str, Handler]:
    async def on_review_outcome(envelope: Envelope, session: AsyncSession) -> None:
        await apply_review_outcome(envelope, store=message_store(session), now=datetime.now(UTC))

    async def on_record_outcome(envelope: Envelope, session: AsyncSession) -> None:
        await apply_record_outcome(envelope, records=application_store(session), messages=message_store(session))

    return {
        "applications__review_outcomes": on_review_outcome,
        "applications__record_outcomes": on_record_outcome,
        "applications__certificates_issued": on_review_outcome,  # 已发证 is one more status change + notice
    }
