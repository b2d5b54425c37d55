"""The port to the government data sources, and who the person is in their terms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class SourceUnavailableError(Exception):
    """A government source (or the lookup of the person) did not answer; what the caller saves still saves."""


class ExternalRegistry(Protocol):
    """Social insurance (社保), national education records (学信网) and provincial vocational certificates,
    each looked up for a person given by their internal subject. The embedded default uses a demo registry,
    production an HTTP client of the province's data-sharing gateway."""

    name: str

    async def social_insurance(self, subject: str) -> list[dict[str, Any]]: ...
    async def education(self, subject: str) -> list[dict[str, Any]]: ...
    async def vocational_certificates(self, subject: str) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class Person:
    """Who a subject is for the government sources: keyed by ID number, which only the identity bridge keeps."""

    name: str
    id_type: str
    id_number: str

    def __repr__(self) -> str:  # never in logs or tracebacks
        return f"Person(id_type={self.id_type!r}, id_number='***')"


class PersonResolver(Protocol):
    async def person(self, subject: str, *, purpose: str) -> Person: ...
