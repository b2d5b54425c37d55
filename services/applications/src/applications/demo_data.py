"""Demo data for the embedded default (`make run`): a realistic province of units, departments, committees,
this year's review activities and a few portal articles. Idempotent: rows that exist are left as they are."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert

from applications.adapters.db.tables import committees, departments, portal_articles, review_activities, units
from applications.domain.committees import SHANGHAI
from applications.domain.portal import mask_name
from applications.reference_data import load_demo_data
from zc_db import create_engine


async def load(database_url: str, *, year: int | None = None) -> dict[str, int]:
    """`year` (default: this year in Asia/Shanghai) moves every activity to that year, same month and day,
    so the demo never goes stale."""
    year = year or datetime.now(SHANGHAI).year
    data = load_demo_data()
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            for d in data["departments"]:
                await conn.execute(
                    insert(departments)
                    .values(id=uuid.UUID(d["id"]), name=d["name"], region_code=d["region"])
                    .on_conflict_do_nothing()
                )
            for u in data["units"]:
                await conn.execute(
                    insert(units)
                    .values(
                        id=uuid.UUID(u["id"]),
                        name=u["name"],
                        credit_code=u["credit_code"],
                        region_code=u["region"],
                        department_chain=u["department_chain"],
                        central_in_sichuan=u["central_in_sichuan"],
                    )
                    .on_conflict_do_nothing()
                )
            for c in data["committees"]:
                await conn.execute(
                    insert(committees)
                    .values(
                        id=uuid.UUID(c["id"]),
                        name=c["name"],
                        series=c["series"],
                        levels=c["levels"],
                        region_scope=c["region_scope"],
                        organiser_id=c["organiser"]["id"],
                        organiser_name=c["organiser"]["name"],
                        contact_person=c["contact_person"],
                        contact_phone=c["contact_phone"],
                        specialties=c.get("specialties", []),
                    )
                    .on_conflict_do_nothing()
                )
            for a in data["activities"]:
                await conn.execute(
                    insert(review_activities)
                    .values(
                        id=uuid.UUID(a["id"]),
                        committee_id=uuid.UUID(a["committee_id"]),
                        year=year or a["year"],
                        start_date=_day(a["start"], year),
                        first_submit_deadline=_day(a["first_submit_deadline"], year),
                        modify_deadline=_day(a["modify_deadline"], year),
                        unit_deadline=_day(a["unit_deadline"], year),
                        notice=_notice(a),
                        achievement_templates=a["achievement_templates"],
                        waivers=a["waivers"],
                        required_materials=a["required_materials"],
                        updated_by="demo-data",
                    )
                    .on_conflict_do_nothing()
                )
            for p in data["articles"]:
                published = _moment(p["published_at"], year)
                await conn.execute(
                    insert(portal_articles)
                    .values(
                        id=uuid.UUID(p["id"]),
                        kind=p["kind"],
                        title=_this_year(p["title"], year),
                        body=_this_year(p["body"], year),
                        publisher=p["publisher"],
                        committee_id=uuid.UUID(p["committee_id"]) if p["committee_id"] else None,
                        year=year + (p["year"] - 2026) if p["year"] else None,
                        entries=[{**e, "name": mask_name(e["name"])} for e in p["entries"]],
                        published_at=published,
                        author="demo-data",
                        updated_at=published,
                        updated_by="demo-data",
                    )
                    .on_conflict_do_nothing()
                )
    finally:
        await engine.dispose()
    return {k: len(data[k]) for k in ("departments", "units", "committees", "activities", "articles")}


def _day(value: str, year: int | None) -> date:
    d = date.fromisoformat(value)
    return d.replace(year=year + (d.year - 2026)) if year else d


def _moment(value: str, year: int) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment.replace(year=year + (moment.year - 2026))


def _this_year(text: str, year: int) -> str:
    """A title that names the demo's year names the year the demo runs in."""
    return text.replace("2026年度", f"{year}年度")


def _notice(a: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "scope",
        "phone",
        "review_method",
        "exam",
        "interview",
        "specialty_group_vote",
        "policy_documents",
        "schedule",
    )
    return {k: a[k] for k in keys if k in a}
