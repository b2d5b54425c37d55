"""Timers with an injected clock (and across a restart), two schedulers firing exactly once, operator endpoints."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from integration.review.conftest import NOW, Api, review_settings
from review.adapters.db.tables import history
from review.bootstrap import build_reviews
from review.domain.calendar import BusinessCalendar
from review.scheduler import run_scheduler
from review.usecases.tasks import Decision
from zc_auth import Principal, Role, RoleGrant, ScopeType
from zc_db import create_engine, create_session_factory

NOTICE_ENDS = NOW.replace(day=4, month=12, hour=16)  # end of Friday 2026-12-04 in Beijing


async def approve_at_unit(api: Api, key: str) -> None:
    task = await api.task_of(key, api.unit_reviewer())
    r = await api.complete(task["task_id"], api.unit_reviewer(), decision="approve")
    assert r.status_code == 200, r.text


async def test_the_notice_timer_fires_when_the_clock_reaches_it(api: Api) -> None:
    key = await api.start()
    await approve_at_unit(api, key)
    api.clock.now = NOTICE_ENDS - timedelta(seconds=1)
    assert await api.reviews.fire_due() == 0
    assert await api.tasks(api.department_reviewer) == []
    api.clock.now = NOTICE_ENDS + timedelta(seconds=1)
    assert await api.reviews.fire_due() == 1
    task = await api.task_of(key, api.department_reviewer)
    assert task["name"] == "dept_review" and task["stage"] == "department"
    inst = await api.instance(key)
    assert inst["next_due_at"] is None and inst["current_stage"] == "department"
    reached = [e.data["stage"] for e in await api.events(key) if e.type == "review.application.stage_reached"]
    assert reached == ["unit", "department"]
    done = await api.complete(task["task_id"], api.department_reviewer, decision="approve")
    assert done.status_code == 200
    assert (await api.instance(key))["status"] == "completed"
    approved = [e for e in await api.events(key) if e.type == "review.application.approved"]
    assert len(approved) == 1 and approved[0].data["qualification_code"] == "GC-ZJ-GCS"


async def test_a_timer_survives_a_restart(api: Api, nats_url: str) -> None:
    key = await api.start()
    await approve_at_unit(api, key)
    # a new process: fresh engine, no cached specs, its own clock past the due time
    engine = create_engine(api.database_url)
    try:
        later = NOTICE_ENDS + timedelta(minutes=5)
        restarted = build_reviews(
            review_settings(api.database_url, nats_url), create_session_factory(engine), clock=lambda: later
        )
        assert await restarted.fire_due() == 1
        assert await restarted.fire_due() == 0
    finally:
        await engine.dispose()
    task = await api.task_of(key, api.department_reviewer)
    assert task["name"] == "dept_review"


async def test_two_schedulers_fire_every_timer_exactly_once(api: Api, nats_url: str) -> None:
    keys = [await api.start() for _ in range(60)]
    for key in keys:
        await approve_at_unit(api, key)
    later = NOTICE_ENDS + timedelta(seconds=1)
    engines = [create_engine(api.database_url) for _ in range(2)]
    try:
        schedulers = [
            build_reviews(review_settings(api.database_url, nats_url), create_session_factory(e), clock=lambda: later)
            for e in engines
        ]

        # each replica runs the worker's scheduler loop
        counts = [0, 0]
        stop = asyncio.Event()
        for i, scheduler in enumerate(schedulers):
            fire = scheduler.fire_due

            async def counting(*, limit: int, i: int = i, fire: Any = fire) -> int:
                fired = await fire(limit=limit)
                counts[i] += fired
                if sum(counts) >= 60:
                    stop.set()
                return fired

            scheduler.fire_due = counting  # type: ignore[method-assign]

        loops = [run_scheduler(s, stop, poll_seconds=0.05, batch=7) for s in schedulers]
        await asyncio.wait_for(asyncio.gather(*loops), timeout=120)
    finally:
        for e in engines:
            await e.dispose()
    assert sum(counts) == 60
    assert all(c > 0 for c in counts), f"both replicas should share the work: {counts}"
    async with api.reviews._sessions() as s:
        fired = (
            await s.execute(
                select(history.c.instance_id, func.count())
                .where(history.c.kind == "timer")
                .group_by(history.c.instance_id)
            )
        ).all()
    assert len(fired) == 60 and {n for _, n in fired} == {1}
    assert len(await api.tasks(api.department_reviewer, size=100)) == 60


async def test_operators_see_why_an_instance_waits_and_suspend_resume_cancel(api: Api) -> None:
    key = await api.start()
    await approve_at_unit(api, key)
    inst = await api.instance(key)
    found = await api.get("/operator/instances", headers=api.operator, params={"business_key": key})
    assert found.status_code == 200 and found.json()["total"] == 1
    why = (await api.get(f"/operator/instances/{inst['id']}", headers=api.operator)).json()
    assert why["open_tasks"] == [] and why["waiting_messages"] == []
    assert [(t["name"], t["due_at"]) for t in why["timers"]] == [("单位公示（5个工作日）", "2026-12-04T16:00:00+00:00")]
    assert [h["kind"] for h in why["history"]] == ["started", "task_completed"]
    forbidden = await api.get(f"/operator/instances/{inst['id']}", headers=api.unit_reviewer())
    assert forbidden.status_code == 403

    suspended = await api.post(
        f"/operator/instances/{inst['id']}/suspend", headers=api.operator, json={"reason": "核查举报"}
    )
    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended"
    api.clock.now = NOTICE_ENDS + timedelta(seconds=1)
    assert await api.reviews.fire_due() == 0  # a suspended instance's timers wait
    resumed = await api.post(
        f"/operator/instances/{inst['id']}/resume", headers=api.operator, json={"reason": "核查完毕"}
    )
    assert resumed.json()["status"] == "running"
    assert await api.reviews.fire_due() == 1
    task = await api.task_of(key, api.department_reviewer)
    cancelled = await api.post(
        f"/operator/instances/{inst['id']}/cancel", headers=api.operator, json={"reason": "重复申报"}
    )
    assert cancelled.json()["status"] == "cancelled"
    assert (await api.complete(task["task_id"], api.department_reviewer, decision="approve")).status_code in (404, 409)
    audit = [(h["kind"], h["actor_id"], h["comment"]) for h in await api.history(key) if h["actor_id"] == "usr_ops"]
    assert audit == [
        ("suspend", "usr_ops", "核查举报"),
        ("resume", "usr_ops", "核查完毕"),
        ("cancel", "usr_ops", "重复申报"),
    ]
    bad = await api.post(f"/operator/instances/{inst['id']}/resume", headers=api.operator, json={"reason": "再试"})
    assert bad.status_code == 409


async def test_the_operator_console_gets_the_diagram_marks_and_the_working_days_left(api: Api) -> None:
    """Issue 21: what the console draws (where the tokens are, the path taken, the element of each timer), the
    working days left by the service's clock, and the search for instances waiting since a given time."""
    key = await api.start()
    started_at = api.clock.now
    task = await api.task_of(key, api.unit_reviewer())
    instance_id = (await api.instance(key))["id"]
    why = (await api.get(f"/operator/instances/{instance_id}", headers=api.operator)).json()
    # the task, and the withdraw message its boundary event waits for
    assert why["active_elements"] == ["unit_review", "withdraw_received"] and why["waiting_messages"] == ["withdraw"]
    assert why["passed_elements"] == ["start", "merge_unit"]
    # dueIn 10 working days from Friday 2026-11-27: to Friday 2026-12-11, all ten still to go
    assert [(t["name"], t["working_days_left"]) for t in why["open_tasks"]] == [("unit_review", 10)]
    assert why["timers"] == [] and why["next_due"] is None
    r = await api.complete(
        task["task_id"], api.unit_reviewer(), decision="return", comment="请补充", reasons=["缺证明"]
    )
    assert r.status_code == 200, r.text
    assert await api.deliver(key, "resubmitted")
    api.clock.now = NOW + timedelta(hours=1)  # Friday 11:00 in Beijing
    await approve_at_unit(api, key)
    inst = await api.instance(key)

    why = (await api.get(f"/operator/instances/{inst['id']}", headers=api.operator)).json()
    assert why["active_elements"] == ["unit_notice"]
    # each element once, in the order first reached; the withdraw boundary event was never taken
    assert why["passed_elements"] == [
        "start",
        "merge_unit",
        "unit_review",
        "gw_unit",
        "returned",
        "wait_resubmission",
    ]
    assert why["timers"] == [
        {
            "kind": "timer",
            "name": "单位公示（5个工作日）",
            "due_at": "2026-12-04T16:00:00+00:00",
            "element_id": "unit_notice",
            "deadline": {"working_days_left": 5, "overdue": False},
        }
    ]
    assert why["next_due"] == {"working_days_left": 5, "overdue": False}

    # by the service's clock: Tuesday after the due Friday, two working days overdue (and the timer suspended)
    suspended = await api.post(
        f"/operator/instances/{inst['id']}/suspend", headers=api.operator, json={"reason": "核查"}
    )
    assert suspended.json()["next_due"] == {"working_days_left": 5, "overdue": False}
    api.clock.now = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)
    why = (await api.get(f"/operator/instances/{inst['id']}", headers=api.operator)).json()
    assert why["status"] == "suspended" and why["active_elements"] == ["unit_notice"]
    assert why["timers"][0]["deadline"] == {"working_days_left": -2, "overdue": True}

    # an open task's deadline: the department's review once the notice is over
    await api.post(f"/operator/instances/{inst['id']}/resume", headers=api.operator, json={"reason": "核查完毕"})
    assert await api.reviews.fire_due() == 1
    why = (await api.get(f"/operator/instances/{inst['id']}", headers=api.operator)).json()
    assert why["active_elements"] == ["dept_review"] and why["passed_elements"][-1] == "unit_notice"
    assert [(t["name"], t["working_days_left"]) for t in why["open_tasks"]] == [("dept_review", None)]  # no dueIn
    unit_task = next(h for h in why["history"] if h["kind"] == "task_completed")
    assert unit_task["details"]["passed"] == ["unit_review", "gw_unit", "returned"]

    # waiting since: unchanged since a time at or after its last change
    changed = datetime.fromisoformat(why["updated_at"])
    params = {"business_key": key, "waiting_since": changed.isoformat()}
    found = await api.get("/operator/instances", headers=api.operator, params=params)
    assert found.status_code == 200 and found.json()["total"] == 1
    params["waiting_since"] = (changed - timedelta(seconds=1)).isoformat()
    assert (await api.get("/operator/instances", headers=api.operator, params=params)).json()["total"] == 0
    params["waiting_since"] = started_at.replace(tzinfo=None).isoformat()  # a time without its zone is refused
    assert (await api.get("/operator/instances", headers=api.operator, params=params)).status_code == 422

    # terminated during its 公示: it waits for nothing any more, and its timer never fires
    api.clock.now = NOW
    other = await api.start()
    await approve_at_unit(api, other)
    other_id = (await api.instance(other))["id"]
    r = await api.post(f"/operator/instances/{other_id}/cancel", headers=api.operator, json={"reason": "重复申报"})
    assert r.json()["status"] == "cancelled" and r.json()["next_due"] is None
    why = (await api.get(f"/operator/instances/{other_id}", headers=api.operator)).json()
    assert why["timers"] == [] and why["waiting_messages"] == [] and why["active_elements"] == []
    api.clock.now = NOTICE_ENDS + timedelta(seconds=1)
    assert await api.reviews.fire_due() == 0


async def test_an_errored_instance_is_listed_and_retried_after_the_cause_is_fixed(
    api: Api, nats_url: str, tmp_path: Path
) -> None:
    key = await api.start()
    # approved on 2026-12-28: five working days reach into 2027, whose calendar is not loaded yet
    api.clock.now = NOW.replace(month=12, day=28)
    await approve_at_unit(api, key)
    inst = await api.instance(key)
    assert inst["status"] == "error" and "2027" in inst["error"]
    errored = (await api.get("/operator/instances", headers=api.operator, params={"status": "error"})).json()
    assert [i["business_key"] for i in errored["items"]] == [key]
    # an operator loads 2027 (here: a made-up schedule) and retries, on a replica that reads it
    (tmp_path / "cn-2027.json").write_text(
        json.dumps({"year": 2027, "holidays": [["2027-01-01", "2027-01-01", "元旦"]], "adjusted_working_days": []}),
        encoding="utf-8",
    )
    engine = create_engine(api.database_url)
    try:
        fixed = build_reviews(
            review_settings(api.database_url, nats_url, calendar_dir=tmp_path),
            create_session_factory(engine),
            clock=lambda: NOW.replace(month=12, day=28, hour=3),
        )
        from integration.review.conftest import reviewer_principal
        from zc_auth import Role

        ops = reviewer_principal("usr_ops", Role.UNIT_REVIEWER, "x")
        retried = await fixed.operate(ops, inst["id"], "retry", "已导入2027年日历")
    finally:
        await engine.dispose()
    assert retried["status"] == "running"
    # Mon 28 Dec + 5 working days (Tue, Wed, Thu, Mon 4 Jan, Tue 5 Jan; 1 Jan is a holiday) -> end of 5 Jan
    assert retried["next_due_at"] == "2027-01-05T16:00:00+00:00"
    kinds = [h["kind"] for h in await api.history(key)]
    assert kinds == ["started", "task_completed", "error", "retry"]


async def test_a_stalled_instance_is_flagged_in_one_pass_and_retry_moves_it_on(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 18: an instance with no open task, timer or awaited message is shown to operators as stalled, and a
    retry runs its step again. Made on purpose: the expert votes are completed by engines without the multi-
    instance wiring (as before the fix), so the step never closes."""
    from unit.review.test_calendar_and_engine import MI_VOTES

    from review.adapters.workflow import spiff
    from support.engines import RestartingEngine

    reviews = api.reviews
    await reviews.deploy("votes", MI_VOTES, deployed_by="tests", trusted=True)
    fixed_engine = reviews._engine
    monkeypatch.setattr(spiff, "_wire_loops", lambda process: None)
    reviews._engine = RestartingEngine(BusinessCalendar.load(), "fresh")
    key = str(uuid.uuid4())
    async with reviews._sessions() as s, s.begin():
        await reviews.start(s, "votes", key, {"experts": ["e1", "e2", "e3"], "votes": [], "applicant_id": "usr_a"})
    instance = await api.instance(key)
    for expert in ("e1", "e2", "e3"):
        principal = Principal(
            subject=expert,
            session_id=None,
            roles=frozenset({RoleGrant(Role.EXPERT, ScopeType.GLOBAL, None)}),
            issuer="tests",
            expires_at=datetime.now(UTC) + timedelta(hours=1),
        )
        (task,) = [t for t in await reviews_tasks(api, instance["id"]) if t["candidate_user"] == expert]
        await reviews.complete(principal, task["task_id"], Decision("approve"), idempotency_key=None)
    stuck = await api.instance(key)
    assert stuck["status"] == "running" and stuck["waiting"] == [] and await reviews_tasks(api, stuck["id"]) == []

    assert await reviews.flag_stalled() == 1  # one scheduler pass
    flagged = (await api.get("/operator/instances", headers=api.operator, params={"status": "stalled"})).json()
    assert [i["business_key"] for i in flagged["items"]] == [key]
    assert "停滞" in flagged["items"][0]["error"]
    assert await reviews.flag_stalled() == 0  # flagged once

    monkeypatch.undo()
    reviews._engine = fixed_engine
    retried = await api.post(
        f"/operator/instances/{stuck['id']}/retry", headers=api.operator, json={"reason": "合并已完成的表决"}
    )
    assert retried.status_code == 200, retried.text
    done = await api.instance(key)
    assert done["status"] == "completed", done["error"]


async def reviews_tasks(api: Api, instance_id: Any) -> list[dict[str, Any]]:
    async with api.reviews._sessions() as s:
        return [dict(t) for t in await api.reviews._store(s).tasks_of(instance_id)]
