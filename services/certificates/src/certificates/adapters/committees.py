"""Adapters: which committee a 证书核验 names — asked of the applications service, which keeps the committee
directory (`rpc.applications.committee.v1`, NATS request-reply: public reference data, nothing stored there)."""

from __future__ import annotations

from typing import Any

from certificates.domain.errors import DirectoryUnavailableError
from zc_messaging.connection import NatsConnection
from zc_messaging.requests import RequestFailedError, request_json

COMMITTEE_SUBJECT = "rpc.applications.committee.v1"


class NatsCommitteeDirectory:
    def __init__(self, nats: NatsConnection, *, timeout: float = 3.0) -> None:
        self._nats = nats
        self._timeout = timeout

    async def committee(self, committee_id: str) -> dict[str, Any] | None:
        """The committee's name, series and specialties; None when the directory has no such committee."""
        try:
            return await request_json(
                self._nats, COMMITTEE_SUBJECT, {"committee_id": committee_id}, timeout=self._timeout
            )
        except RequestFailedError as exc:
            if str(exc) == "not_found":
                return None
            raise DirectoryUnavailableError("评委会名录暂时无法查询，请稍后再试（已填写的内容不受影响）") from exc
