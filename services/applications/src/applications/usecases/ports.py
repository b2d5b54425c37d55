"""Use cases: the ports of the applications use cases (implemented in adapters/)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from applications.domain.catalog import Catalog
from applications.domain.committees import ActivityDates, Committee
from applications.domain.regions import RegionTree


@dataclass(frozen=True)
class Unit:
    id: str
    name: str
    credit_code: str
    region_code: str
    department_chain: tuple[dict[str, str], ...]  # [{"id", "name", "region"}], nearest first
    central_in_sichuan: bool


@dataclass(frozen=True)
class Activity:
    id: str
    committee_id: str
    year: int
    dates: ActivityDates
    notice: dict[str, Any]
    achievement_templates: list[dict[str, Any]]
    waivers: list[dict[str, Any]]
    required_materials: list[dict[str, Any]]


class ReferenceStore(Protocol):
    """Reads and writes of the reference data inside the caller's transaction."""

    async def latest_catalog(self) -> Catalog | None: ...
    async def catalog_version(self, version: int) -> dict[str, Any] | None: ...
    async def add_catalog_version(self, document: dict[str, Any], *, by: str) -> int: ...
    async def region_tree(self) -> RegionTree: ...
    async def search_units(self, keyword: str, *, offset: int, limit: int) -> tuple[list[Unit], int]: ...
    async def unit(self, unit_id: str) -> Unit | None: ...
    async def add_unit(self, unit: Unit) -> None: ...
    async def committees_of_series(self, series: str) -> list[Committee]: ...
    async def committee(self, committee_id: str) -> Committee | None: ...
    async def save_committee(self, committee: Committee) -> None: ...
    async def activities(self, committee_ids: list[str], year: int) -> dict[str, Activity]: ...
    async def save_activity(self, activity: Activity, *, by: str) -> None: ...


class ApplicationStore(Protocol):
    """Reads and writes of applications inside the caller's transaction."""

    async def insert(self, values: dict[str, Any]) -> str | None: ...
    async def get(self, app_id: str, *, lock: bool = False) -> dict[str, Any] | None: ...
    async def list_for(self, applicant_id: str) -> list[dict[str, Any]]: ...
    async def update(self, app_id: str, values: dict[str, Any], *, now: Any) -> None: ...
    async def add_snapshot(self, app_id: str, version: int, content: dict[str, Any]) -> None: ...
    async def snapshot(self, app_id: str, version: int) -> dict[str, Any] | None: ...
