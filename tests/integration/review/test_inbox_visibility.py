"""The inbox, its total and its stage counts show exactly the open tasks the caller may act on (may_act), each once,
however the caller's grants overlap (issue 23: the reads became one index range per grant, joined by UNION)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from integration.review.conftest import Api
from review.adapters.db.tables import open_tasks, process_definitions, process_instances
from review.usecases.tasks import may_act
from zc_auth import Principal, Role, RoleGrant, ScopeType

U1, U2 = "unit-1", "unit-2"
C1 = "committee-1"
# (name, role, scope type, scope id, for one person, stage)
TASKS = [
    ("u1", "unit_reviewer", "unit", U1, None, "unit"),
    ("u2", "unit_reviewer", "unit", U2, None, "unit"),
    ("any unit", "unit_reviewer", None, None, None, "unit"),
    ("nobody's", "unit_reviewer", "unit", None, None, "unit"),  # the routing named no unit
    ("county", "authority", "region", "510104", None, "authority"),
    ("city", "authority", "region", "510100", None, "authority"),
    ("other city", "authority", "region", "511100", None, "authority"),
    ("own-level", "authority", "region", "510100-BJ", None, "authority"),
    ("vote e1", "expert", "committee", C1, "usr_e1", "expert"),
    ("vote e2", "expert", "committee", C1, "usr_e2", "expert"),
    ("accept", "committee_staff", "committee", C1, None, "committee"),
]

UNIT_1 = RoleGrant(Role.UNIT_REVIEWER, ScopeType.UNIT, U1)
GRANTS: dict[str, list[RoleGrant]] = {
    "one unit": [UNIT_1],
    "two units": [UNIT_1, RoleGrant(Role.UNIT_REVIEWER, ScopeType.UNIT, U2)],
    "every unit and one": [RoleGrant(Role.UNIT_REVIEWER, ScopeType.GLOBAL), UNIT_1],
    "province": [RoleGrant(Role.AUTHORITY, ScopeType.REGION, "510000")],
    "province and a city in it": [
        RoleGrant(Role.AUTHORITY, ScopeType.REGION, "510000"),
        RoleGrant(Role.AUTHORITY, ScopeType.REGION, "510100"),
    ],
    "city and its own level": [
        RoleGrant(Role.AUTHORITY, ScopeType.REGION, "510100"),
        RoleGrant(Role.AUTHORITY, ScopeType.REGION, "510100-BJ"),
    ],
    "expert and staff": [
        RoleGrant(Role.EXPERT, ScopeType.COMMITTEE, C1),
        RoleGrant(Role.COMMITTEE_STAFF, ScopeType.COMMITTEE, C1),
    ],
    "unit and expert": [UNIT_1, RoleGrant(Role.EXPERT, ScopeType.COMMITTEE, C1)],
}


async def seed(api: Api) -> dict[str, dict[str, Any]]:
    """One instance per task, due one day apart in TASKS' order."""
    rows: dict[str, dict[str, Any]] = {}
    now = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    async with api.reviews._sessions() as s, s.begin():
        definition = (await s.execute(select(process_definitions.c.id).limit(1))).scalar_one()
        for n, (name, role, scope_type, scope_id, user, stage) in enumerate(TASKS):
            instance, key = uuid.uuid4(), f"inbox-{n}"
            await s.execute(
                insert(process_instances).values(
                    id=instance, definition_id=definition, process_key="host_test", business_key=key,
                    status="running", state={}, version=1, created_at=now, updated_at=now,
                )
            )  # fmt: skip
            row = {
                "task_id": uuid.uuid4(), "instance_id": instance, "process_key": "host_test", "business_key": key,
                "task_name": name, "title": name, "role": role, "scope_type": scope_type, "scope_id": scope_id,
                "candidate_user": user, "decisions": ["approve"], "stage": stage, "created_at": now,
                "due_at": now + timedelta(days=n),
            }  # fmt: skip
            await s.execute(insert(open_tasks).values(**row))
            rows[name] = row
    return rows


def principal(subject: str, grants: list[RoleGrant]) -> Principal:
    return Principal(
        subject=subject,
        session_id=None,
        roles=frozenset(grants),
        issuer="tests",
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )


@pytest.mark.parametrize("subject", ["usr_e1", "usr_other"])
async def test_each_grant_set_sees_what_it_may_act_on_once(api: Api, subject: str) -> None:
    rows = await seed(api)
    for label, grants in GRANTS.items():
        expected = [name for name, row in rows.items() if may_act(principal(subject, grants), row)]
        headers = api.as_(*grants, subject=subject)
        page = await api.get("/tasks", headers=headers, params={"size": 100, "sort": "due_at"})
        assert page.status_code == 200, page.text
        assert [t["name"] for t in page.json()["items"]] == expected, label
        assert page.json()["total"] == len(expected), label
        counts = (await api.get("/tasks/counts", headers=headers)).json()
        stages: dict[str, int] = {}
        for name in expected:
            stages[rows[name]["stage"]] = stages.get(rows[name]["stage"], 0) + 1
        assert counts == stages, label


async def test_pages_sorts_and_filters_over_overlapping_grants(api: Api) -> None:
    await seed(api)
    headers = api.as_(*GRANTS["province and a city in it"], subject="usr_authority")
    seen = []
    for page in (1, 2):
        r = await api.get(
            "/tasks", headers=headers, params={"size": 2, "page": page, "sort": "due_at", "order": "desc"}
        )
        assert r.json()["total"] == 4
        seen += [t["name"] for t in r.json()["items"]]
    assert seen == ["own-level", "other city", "city", "county"]
    past = await api.get("/tasks", headers=headers, params={"size": 2, "page": 3})
    assert past.json() == {"items": [], "total": 4, "page": 3, "size": 2}
    headers = api.as_(*GRANTS["every unit and one"], subject="usr_unit")
    r = await api.get("/tasks", headers=headers, params={"stage": "unit", "sort": "title", "order": "asc"})
    assert [t["name"] for t in r.json()["items"]] == ["any unit", "u1", "u2"]
    r = await api.get("/tasks", headers=headers, params={"stage": "expert"})
    assert r.json() == {"items": [], "total": 0, "page": 1, "size": 20}


async def test_a_caller_without_a_matching_grant_sees_nothing(api: Api) -> None:
    await seed(api)
    headers = api.as_(RoleGrant(Role.DEPARTMENT_REVIEWER, ScopeType.DEPARTMENT, "dept-9"), subject="usr_dept")
    r = await api.get("/tasks", headers=headers)
    assert r.json()["total"] == 0 and r.json()["items"] == []
    assert (await api.get("/tasks/counts", headers=headers)).json() == {}
