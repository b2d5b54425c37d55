"""The workflow host on real PostgreSQL: start, inbox, complete, conflicts, idempotency, messages, withdraw."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from integration.review.conftest import OTHER_UNIT, UNIT, Api, reviewer_principal
from review.adapters.db.instance_store import SqlInstanceStore
from review.usecases.ports import TransitionWrite
from review.usecases.reviews import Reviews as ReviewService
from review.usecases.tasks import Decision
from zc_auth import Role
from zc_contracts import Envelope, applications_v1, make_envelope


async def test_the_same_submission_twice_starts_one_instance(api: Api) -> None:
    key = await api.start()
    async with api.reviews._sessions() as s, s.begin():
        again = await api.reviews.start(s, "host_test", key, {"unit_id": UNIT})
    assert again is False
    tasks = await api.tasks(api.unit_reviewer())
    assert [t["name"] for t in tasks if t["business_key"] == key] == ["unit_review"]
    task = tasks[0]
    assert task["title"] == "单位审核"
    assert task["form_key"] == "unit_review_v1"
    assert [d["label"] for d in task["decisions"]] == ["通过", "退回修改", "不通过"]
    assert task["scope_type"] == "unit" and task["scope_id"] == UNIT
    # due in 10 working days from Friday 2026-11-27: the end of Friday 2026-12-11, Beijing time
    assert task["due_at"] == "2026-12-11T16:00:00+00:00"
    # the stage change went out through the outbox
    assert [(e.type, e.data["stage"]) for e in await api.events(key)] == [("review.application.stage_reached", "unit")]


async def test_the_inbox_shows_only_the_reviewers_scope(api: Api) -> None:
    key = await api.start()
    assert await api.tasks(api.unit_reviewer(unit=OTHER_UNIT)) == []
    assert await api.tasks(api.department_reviewer) == []
    task = await api.task_of(key, api.unit_reviewer())
    other = await api.get(f"/tasks/{task['task_id']}", headers=api.unit_reviewer(unit=OTHER_UNIT))
    assert other.status_code == 404
    applicant = await api.get("/tasks", headers=api.as_(Role.APPLICANT))
    assert applicant.status_code == 403
    counts = await api.get("/tasks/counts", headers=api.unit_reviewer())
    assert counts.json() == {"unit": 1}


async def test_complete_validates_the_decision(api: Api) -> None:
    key = await api.start()
    task = await api.task_of(key, api.unit_reviewer())
    bad = await api.complete(task["task_id"], api.unit_reviewer(), decision="maybe")
    assert bad.status_code == 422
    problem = bad.json()
    assert problem["errors"][0]["field"] == "decision" if "errors" in problem else "只能选择" in problem["detail"]
    no_reason = await api.complete(task["task_id"], api.unit_reviewer(), decision="return")
    assert no_reason.status_code == 422 and "退回原因" in no_reason.text
    ok = await api.complete(task["task_id"], api.unit_reviewer(), decision="approve", comment="同意推荐")
    assert ok.status_code == 200, ok.text
    inst = await api.instance(key)
    assert inst["status"] == "running" and inst["current_stage"] == "unit"
    # the notice runs 5 working days: to the end of Friday 2026-12-04 in Beijing
    assert inst["next_due_at"].isoformat() == "2026-12-04T16:00:00+00:00"
    assert await api.tasks(api.unit_reviewer()) == []
    decided = [h for h in await api.history(key) if h["kind"] == "task_completed"]
    assert [(h["actor_id"], h["actor_role"], h["decision"], h["comment"]) for h in decided] == [
        ("usr_unit", "unit_reviewer", "approve", "同意推荐")
    ]


async def test_two_reviewers_completing_the_same_task_one_wins(api: Api) -> None:
    key = await api.start()
    task = await api.task_of(key, api.unit_reviewer())
    a, b = api.unit_reviewer("usr_a"), api.unit_reviewer("usr_b")
    results = await asyncio.gather(
        api.complete(task["task_id"], a, decision="approve"),
        api.complete(task["task_id"], b, decision="reject", comment="不符合条件"),
    )
    assert sorted(r.status_code for r in results) == [200, 409]
    loser = next(r for r in results if r.status_code == 409)
    assert loser.headers["content-type"].startswith("application/problem+json")
    assert "已被处理" in loser.json()["detail"]
    assert len([h for h in await api.history(key) if h["kind"] == "task_completed"]) == 1


async def test_a_retried_completion_returns_the_first_answer(api: Api) -> None:
    key = await api.start()
    task = await api.task_of(key, api.unit_reviewer())
    headers = {**api.unit_reviewer(), "Idempotency-Key": "click-1"}
    first = await api.complete(task["task_id"], headers, decision="approve")
    second = await api.complete(task["task_id"], headers, decision="approve")
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert len([h for h in await api.history(key) if h["kind"] == "task_completed"]) == 1
    # without the key, the retry is a conflict (the task is done)
    third = await api.complete(task["task_id"], api.unit_reviewer(), decision="approve")
    assert third.status_code == 409


async def test_claim_makes_the_task_the_claimants(api: Api) -> None:
    key = await api.start()
    task = await api.task_of(key, api.unit_reviewer())
    claimed = await api.post(f"/tasks/{task['task_id']}/claim", headers=api.unit_reviewer("usr_a"))
    assert claimed.status_code == 200 and claimed.json()["assignee"] == "usr_a"
    taken = await api.post(f"/tasks/{task['task_id']}/claim", headers=api.unit_reviewer("usr_b"))
    assert taken.status_code == 409
    blocked = await api.complete(task["task_id"], api.unit_reviewer("usr_b"), decision="approve")
    assert blocked.status_code == 409 and "认领" in blocked.json()["detail"]
    mine = await api.tasks(api.unit_reviewer("usr_a"), mine=True)
    assert [t["task_id"] for t in mine] == [task["task_id"]]
    released = await api.post(f"/tasks/{task['task_id']}/unclaim", headers=api.unit_reviewer("usr_a"))
    assert released.status_code == 200 and released.json()["assignee"] is None
    done = await api.complete(task["task_id"], api.unit_reviewer("usr_b"), decision="approve")
    assert done.status_code == 200


async def test_return_resubmit_and_the_applicants_trail(api: Api) -> None:
    key = await api.start()
    task = await api.task_of(key, api.unit_reviewer())
    r = await api.complete(
        task["task_id"], api.unit_reviewer(), decision="return", reasons=["缺少论文原件", "学历证书不清晰"]
    )
    assert r.status_code == 200
    returned = [e for e in await api.events(key) if e.type == "review.application.returned"]
    assert [(e.data["stage"], e.data["reason"]) for e in returned] == [("unit", "缺少论文原件；学历证书不清晰")]
    assert await api.tasks(api.unit_reviewer()) == []
    assert await api.deliver(key, "withdraw") is False  # not waiting for it while returned
    assert await api.deliver(key, "resubmitted", {"snapshot_version": 2}) is True
    again = await api.task_of(key, api.unit_reviewer())
    assert again["task_id"] != task["task_id"]
    trail = await api.get(f"/trails/{key}", headers=api.as_(Role.APPLICANT, subject="usr_applicant"))
    assert trail.status_code == 200, trail.text
    body = trail.json()
    assert body["current_stage"] == "unit"
    assert [s["label"] for s in body["steps"]] == ["提交审核", "单位审核：退回修改", "申报人修改后重新提交"]
    assert body["steps"][1]["reason"] == "缺少论文原件；学历证书不清晰"
    assert body["current_tasks"][0]["due_at"] is not None
    stranger = await api.get(f"/trails/{key}", headers=api.as_(Role.APPLICANT, subject="usr_other"))
    assert stranger.status_code == 404


async def test_withdraw_is_accepted_before_the_unit_acts_and_refused_after(api: Api) -> None:
    early = await api.start()
    async with api.reviews._sessions() as s, s.begin():
        cause = _cause(early)
        assert await api.reviews.request_withdraw(s, early, cause=cause) is True
    assert (await api.instance(early))["status"] == "completed"
    assert [e.type for e in await api.events(early)][-1] == "review.application.withdrawn"
    assert await api.tasks(api.unit_reviewer()) == []

    late = await api.start()
    task = await api.task_of(late, api.unit_reviewer())
    assert (await api.complete(task["task_id"], api.unit_reviewer(), decision="approve")).status_code == 200
    async with api.reviews._sessions() as s, s.begin():
        assert await api.reviews.request_withdraw(s, late, cause=_cause(late)) is False
    refused = [e for e in await api.events(late) if e.type == "review.application.withdraw_refused"]
    assert len(refused) == 1 and refused[0].data["reason"] == "工作单位已审核，不能撤回"
    assert (await api.instance(late))["status"] == "running"


async def test_a_return_loop_of_1000_keeps_the_state_flat(api: Api) -> None:
    key = await api.start()
    reviews: ReviewService = api.reviews
    sizes = []
    reviewer = reviewer_principal("usr_unit", Role.UNIT_REVIEWER, UNIT)
    for i in range(1000):
        async with reviews._sessions() as s:
            inst = await SqlInstanceStore(s).instance_by_business_key(key)
            assert inst is not None
            (task,) = await SqlInstanceStore(s).tasks_of(inst["id"])
        await reviews.complete(reviewer, task["task_id"], Decision("return", f"第{i + 1}次退回"), idempotency_key=None)
        assert await api.deliver(key, "resubmitted", {"round": i + 1})
        sizes.append((await api.instance(key))["tree_size"])
    # compaction starts once the active point is deep enough; from then on the state does not grow
    assert max(sizes[20:]) == max(sizes[-20:]) < 40, "the engine state must not grow with the number of returns"
    returned = [e for e in await api.events(key) if e.type == "review.application.returned"]
    assert len(returned) == 1000 and returned[-1].data["reason"] == "第1000次退回"
    # the last round still runs to the end: approve, notice, department
    task = await api.task_of(key, api.unit_reviewer())
    assert (await api.complete(task["task_id"], api.unit_reviewer(), decision="approve")).status_code == 200


def _cause(key: str) -> Envelope:
    payload = applications_v1.ApplicationWithdrawRequested(
        application_id=uuid.UUID(key), requested_at=datetime.now(UTC)
    )
    return make_envelope(payload, source="applications", subject_id=key)


async def test_a_batch_save_writes_nothing_for_an_instance_whose_version_moved_on(api: Api) -> None:
    """save_transitions (one statement for a scheduler pass): a stale write leaves its instance, open tasks
    and history untouched; the others in the same statement are saved."""
    stale_key, fresh_key = await api.start(), await api.start()
    stale, fresh = await api.instance(stale_key), await api.instance(fresh_key)
    now = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)

    def write(instance: dict[str, Any], version: int) -> TransitionWrite:
        values = {k: instance[k] for k in ("state", "status", "next_due_at", "waiting", "current_stage", "error")}
        values |= {"tree_size": 99, "updated_at": now}
        note = {"instance_id": instance["id"], "at": now, "kind": "batch_test", "details": {}}
        return TransitionWrite(instance["id"], version, values, set(), [], [note])

    async with api.reviews._sessions() as s, s.begin():
        created = await SqlInstanceStore(s).save_transitions(
            [write(stale, stale["version"] - 1), write(fresh, fresh["version"])]
        )
    assert created == [None, set()]
    assert (await api.instance(stale_key))["version"] == stale["version"]
    assert (await api.instance(stale_key))["tree_size"] != 99
    assert [h["kind"] for h in await api.history(stale_key)] == ["started"]
    # the stale one kept its open task; the fresh one's write says it has none left
    assert [t["business_key"] for t in await api.tasks(api.unit_reviewer())] == [stale_key]
    assert (await api.instance(fresh_key))["version"] == fresh["version"] + 1
    assert [h["kind"] for h in await api.history(fresh_key)] == ["started", "batch_test"]


async def test_nobody_decides_on_their_own_application(api: Api) -> None:
    """Segregation of duties (issue 17, item 5): a unit reviewer who is also the applicant cannot claim or decide
    their own application's task; a colleague of the same unit can."""
    key = await api.start(applicant_id="usr_unit")
    own = api.unit_reviewer(subject="usr_unit")
    task = await api.task_of(key, own)
    claimed = await api.post(f"/tasks/{task['task_id']}/claim", headers=own)
    assert claimed.status_code == 403 and "本人" in claimed.json()["detail"]
    decided = await api.complete(task["task_id"], own, decision="approve", comment="自己通过")
    assert decided.status_code == 403, decided.text
    assert (await api.instance(key))["current_stage"] == "unit"
    colleague = api.unit_reviewer(subject="usr_colleague")
    assert (await api.complete(task["task_id"], colleague, decision="approve", comment="同意")).status_code == 200
