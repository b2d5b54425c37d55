"""Adapters: reads and writes of the reference data (catalog, regions, units, committees, activities)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from applications.adapters.db.tables import (
    catalog_versions,
    committees,
    departments,
    regions,
    review_activities,
    units,
)
from applications.domain.catalog import Catalog
from applications.domain.committees import ActivityDates, Committee
from applications.domain.regions import Region, RegionTree
from applications.usecases.ports import Activity, Unit


def contains_pattern(keyword: str) -> str:
    """A LIKE pattern matching `keyword` anywhere, its wildcards taken literally (escape character \\)."""
    return "%" + keyword.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class SqlReferenceStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    # --- catalog -----------------------------------------------------------------------------------
    async def latest_catalog(self) -> Catalog | None:
        row = (
            await self._s.execute(
                select(catalog_versions.c.version, catalog_versions.c.document)
                .order_by(catalog_versions.c.version.desc())
                .limit(1)
            )
        ).first()
        return Catalog.from_document(row.version, row.document) if row else None

    async def latest_catalog_version(self) -> int | None:
        version = (await self._s.execute(select(func.max(catalog_versions.c.version)))).scalar()
        return int(version) if version is not None else None

    async def catalog_version(self, version: int) -> dict[str, Any] | None:
        row = (
            await self._s.execute(select(catalog_versions.c.document).where(catalog_versions.c.version == version))
        ).first()
        return dict(row.document) if row else None

    async def add_catalog_version(self, document: dict[str, Any], *, by: str) -> int:
        # serialised by the table's primary key: two concurrent saves cannot both take the same number
        latest = (await self._s.execute(select(func.max(catalog_versions.c.version)))).scalar() or 0
        version = int(latest) + 1
        await self._s.execute(insert(catalog_versions).values(version=version, document=document, created_by=by))
        return version

    # --- regions -----------------------------------------------------------------------------------
    async def region_tree(self) -> RegionTree:
        rows = await self._s.execute(select(regions))
        return RegionTree(Region(r.code, r.name, r.kind, r.parent_code, r.display_path) for r in rows)

    # --- units -------------------------------------------------------------------------------------
    async def search_units(self, keyword: str, *, offset: int, limit: int) -> tuple[list[Unit], int]:
        where = or_(units.c.name.ilike(contains_pattern(keyword), escape="\\"), units.c.credit_code == keyword.upper())
        total = (await self._s.execute(select(func.count()).select_from(units).where(where))).scalar_one()
        rows = (
            await self._s.execute(
                select(units).where(where).order_by(units.c.name, units.c.id).offset(offset).limit(limit)
            )
        ).all()
        return [await self._unit(r) for r in rows], int(total)

    async def unit(self, unit_id: str) -> Unit | None:
        try:
            key = uuid.UUID(unit_id)
        except ValueError:
            return None
        row = (await self._s.execute(select(units).where(units.c.id == key))).first()
        return await self._unit(row) if row else None

    async def _unit(self, row: Any) -> Unit:
        ids = [uuid.UUID(i) for i in row.department_chain]
        found = (
            {r.id: r for r in await self._s.execute(select(departments).where(departments.c.id.in_(ids)))}
            if ids
            else {}
        )
        chain = tuple({"id": str(i), "name": found[i].name, "region": found[i].region_code} for i in ids if i in found)
        return Unit(str(row.id), row.name, row.credit_code, row.region_code, chain, row.central_in_sichuan)

    async def add_unit(self, unit: Unit) -> None:
        await self._s.execute(
            insert(units).values(
                id=uuid.UUID(unit.id),
                name=unit.name,
                credit_code=unit.credit_code,
                region_code=unit.region_code,
                department_chain=[d["id"] for d in unit.department_chain],
                central_in_sichuan=unit.central_in_sichuan,
            )
        )

    # --- committees and activities -----------------------------------------------------------------
    @staticmethod
    def _committee(r: Any) -> Committee:
        return Committee(
            id=str(r.id),
            name=r.name,
            series=r.series,
            levels=frozenset(r.levels),
            region_scope=r.region_scope,
            organiser_id=r.organiser_id,
            organiser_name=r.organiser_name,
            contact_person=r.contact_person,
            contact_phone=r.contact_phone,
            specialties=frozenset(r.specialties),
        )

    async def committees_of_series(self, series: str) -> list[Committee]:
        rows = await self._s.execute(select(committees).where(committees.c.series == series))
        return [self._committee(r) for r in rows]

    async def find_committees(
        self, *, series: str | None, level: str | None, scopes: list[str] | None, keyword: str | None
    ) -> list[Committee]:
        where: list[Any] = []
        if series:
            where.append(committees.c.series == series)
        if level:
            where.append(committees.c.levels.contains([level]))
        if scopes is not None:
            where.append(committees.c.region_scope.in_(scopes))
        if keyword:
            where.append(committees.c.name.ilike(contains_pattern(keyword), escape="\\"))
        rows = await self._s.execute(select(committees).where(*where).order_by(committees.c.name, committees.c.id))
        return [self._committee(r) for r in rows]

    async def committee(self, committee_id: str) -> Committee | None:
        try:
            key = uuid.UUID(committee_id)
        except ValueError:
            return None
        row = (await self._s.execute(select(committees).where(committees.c.id == key))).first()
        return self._committee(row) if row else None

    async def save_committee(self, committee: Committee) -> None:
        values = {
            "name": committee.name,
            "series": committee.series,
            "levels": sorted(committee.levels),
            "region_scope": committee.region_scope,
            "organiser_id": committee.organiser_id,
            "organiser_name": committee.organiser_name,
            "contact_person": committee.contact_person,
            "contact_phone": committee.contact_phone,
            "specialties": sorted(committee.specialties),
        }
        await self._s.execute(
            pg_insert(committees)
            .values(id=uuid.UUID(committee.id), **values)
            .on_conflict_do_update(index_elements=[committees.c.id], set_={**values, "updated_at": func.now()})
        )

    async def activities(self, committee_ids: list[str], year: int) -> dict[str, Activity]:
        if not committee_ids:
            return {}
        rows = await self._s.execute(
            select(review_activities).where(
                review_activities.c.committee_id.in_([uuid.UUID(i) for i in committee_ids]),
                review_activities.c.year == year,
            )
        )
        out = {}
        for r in rows:
            out[str(r.committee_id)] = Activity(
                id=str(r.id),
                committee_id=str(r.committee_id),
                year=r.year,
                dates=ActivityDates(r.start_date, r.first_submit_deadline, r.modify_deadline, r.unit_deadline),
                notice=dict(r.notice),
                achievement_templates=list(r.achievement_templates),
                waivers=list(r.waivers),
                required_materials=list(r.required_materials),
            )
        return out

    async def save_activity(self, activity: Activity, *, by: str) -> None:
        values = {
            "start_date": activity.dates.start,
            "first_submit_deadline": activity.dates.first_submit_deadline,
            "modify_deadline": activity.dates.modify_deadline,
            "unit_deadline": activity.dates.unit_deadline,
            "notice": activity.notice,
            "achievement_templates": activity.achievement_templates,
            "waivers": activity.waivers,
            "required_materials": activity.required_materials,
            "updated_by": by,
        }
        await self._s.execute(
            pg_insert(review_activities)
            .values(
                id=uuid.UUID(activity.id), committee_id=uuid.UUID(activity.committee_id), year=activity.year, **values
            )
            .on_conflict_do_update(
                constraint="uq_review_activities_committee_id", set_={**values, "updated_at": func.now()}
            )
        )
