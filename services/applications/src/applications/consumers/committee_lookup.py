"""Consumers: answers the certificates service's question "which committee is this?" (证书核验 names its
committee from the directory), NATS request-reply on `rpc.applications.committee.v1`.

Ask `{"committee_id": …}`; answer the committee's name, series, organising unit and the specialties it reviews
(names from the catalog), or `{"error": "not_found"}`. Public reference data: nothing personal is asked or told.
"""

from __future__ import annotations

import uuid
from typing import Any

from applications.usecases.reference import NotFoundError, ReferenceService
from zc_messaging.connection import NatsConnection
from zc_messaging.requests import serve_json

COMMITTEE_SUBJECT = "rpc.applications.committee.v1"


def committee_answer(reference: ReferenceService) -> Any:
    async def answer(ask: dict[str, Any]) -> dict[str, Any]:
        committee_id = str(uuid.UUID(str(ask["committee_id"])))  # a malformed id is a bad request
        try:
            committee = await reference.committee(committee_id)
        except NotFoundError:
            return {"error": "not_found"}
        catalog = await reference.catalog()
        series = catalog.get_series(committee.series)
        specialties = [
            sp.name
            for sp in (series.specialties if series else ())
            if not committee.specialties or sp.code in committee.specialties
        ]
        return {
            "id": committee.id,
            "name": committee.name,
            "series": committee.series,
            "series_name": series.name if series else committee.series,
            "region_scope": committee.region_scope,
            "organiser_name": committee.organiser_name,
            "specialties": specialties,
        }

    return answer


async def serve_committee_lookups(nats: NatsConnection, reference: ReferenceService) -> None:
    """Runs until cancelled; every API replica answers in one queue group."""
    await serve_json(nats, {COMMITTEE_SUBJECT: committee_answer(reference)}, queue="applications")
