"""Use cases: the applicant's registered identity, asked of the identity bridge (which audits every question) —
for the application form and for the 外省职称确认 / 专技人才统计 records."""

from __future__ import annotations

from typing import Any

from applications.domain.application import ExternalSourceError
from applications.domain.identity import registered_identity
from applications.usecases.ports import PersonResolver, SourceUnavailableError

UNAVAILABLE = "证件信息暂时无法从统一身份认证平台获取，请稍后再试；已填写的信息不受影响"


class RegisteredIdentities:
    def __init__(self, people: PersonResolver | None) -> None:
        self._people = people

    async def of(self, applicant: str, *, purpose: str, required: bool) -> dict[str, Any] | None:
        """Name, ID type, masked number (and what the number says); the full number is used here and dropped.
        Unavailable: None, or a 503 when the caller cannot go on without it."""
        try:
            if self._people is None:
                raise SourceUnavailableError("no identity bridge")
            person = await self._people.person(applicant, purpose=purpose)
        except SourceUnavailableError:
            if required:
                raise ExternalSourceError(UNAVAILABLE) from None
            return None
        return registered_identity(name=person.name, id_type=person.id_type, id_number=person.id_number)
