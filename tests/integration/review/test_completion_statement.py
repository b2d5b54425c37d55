"""A task completion writes in one autocommit statement (issue 23): its state, task rows, history, outbox rows and
the command's stored answer all land together, or — when the instance moved on between the read and the write —
none of them does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import func, select, text, update

from integration.review.conftest import Api
from review.adapters.db.tables import command_results, messaging, open_tasks, process_instances


async def counts(api: Api, key: str) -> dict[str, int]:
    inst = await api.instance(key)
    async with api.reviews._sessions() as s:

        async def n(q: Any) -> int:
            return int((await s.execute(q)).scalar_one())

        return {
            "version": inst["version"],
            "history": await n(text("SELECT count(*) FROM history WHERE instance_id = :i").bindparams(i=inst["id"])),
            "tasks": await n(select(func.count()).where(open_tasks.c.instance_id == inst["id"])),
            "outbox": await n(select(func.count()).select_from(messaging.outbox)),
            "answers": await n(select(func.count()).select_from(command_results)),
        }


async def bump_version(api: Api, key: str) -> None:
    """A concurrent writer: the instance moves on."""
    async with api.reviews._sessions() as s, s.begin():
        await s.execute(
            update(process_instances)
            .where(process_instances.c.business_key == key)
            .values(version=process_instances.c.version + 1)
        )


def moving_on_after_the_read(opener: Any, api: Api, key: str) -> Any:
    """The completion path, with a concurrent writer that bumps the version right after the completion's read."""

    @asynccontextmanager
    async def opening(sessions: Any) -> AsyncIterator[Any]:
        async with opener(sessions) as db:
            read = db.read

            async def read_then_move_on(*args: Any) -> Any:
                found = await read(*args)
                await bump_version(api, key)
                return found

            db.read = read_then_move_on
            yield db

    return opening


async def test_a_completion_that_finds_the_version_moved_on_writes_nothing(api: Api) -> None:
    key = await api.start()
    task = await api.task_of(key, api.unit_reviewer())
    opener = api.reviews.tasks._completions
    api.reviews.tasks._completions = moving_on_after_the_read(opener, api, key)
    before = await counts(api, key)
    headers = {**api.unit_reviewer(), "Idempotency-Key": "lost-race"}
    r = await api.complete(task["task_id"], headers, decision="return", comment="缺少材料")
    assert r.status_code == 409, r.text
    after = await counts(api, key)
    # only the concurrent writer's bump: no task rows changed, no history, no event, no stored answer
    assert after == {**before, "version": before["version"] + 1}
    assert (await api.task_of(key, api.unit_reviewer()))["task_id"] == task["task_id"]

    # without the interference the same request goes through, and everything lands together
    api.reviews.tasks._completions = opener
    ok = await api.complete(task["task_id"], headers, decision="return", comment="缺少材料")
    assert ok.status_code == 200, ok.text
    done = await counts(api, key)
    assert done["version"] == after["version"] + 1
    assert done["history"] == after["history"] + 1
    assert done["answers"] == after["answers"] + 1
    assert done["outbox"] == after["outbox"] + 1  # the returned application's event, in the same statement
    assert [e.type for e in await api.events(key)][-1] == "review.application.returned"
    # a retry with the key gets the stored answer; nothing more is written
    again = await api.complete(task["task_id"], headers, decision="return", comment="缺少材料")
    assert again.status_code == 200 and again.json() == ok.json()
    assert await counts(api, key) == done


async def test_the_stored_answer_and_the_event_carry_the_request(api: Api) -> None:
    key = await api.start()
    task = await api.task_of(key, api.unit_reviewer())
    headers = {**api.unit_reviewer(), "Idempotency-Key": "k-1"}
    ok = await api.complete(task["task_id"], headers, decision="return", reasons=["缺少学历证书"])
    assert ok.status_code == 200, ok.text
    async with api.reviews._sessions() as s:
        stored = (
            (await s.execute(select(command_results).where(command_results.c.idempotency_key == "k-1")))
            .mappings()
            .one()
        )
        headers_row = (await s.execute(select(messaging.outbox.c.headers))).scalars().all()
    assert stored["actor_id"] == "usr_unit" and stored["command"] == "complete_task"
    assert stored["status_code"] == 200 and stored["response"] == ok.json()
    assert all(isinstance(h, dict) for h in headers_row)
    inst = await api.instance(key)
    assert inst["status"] == "running" and inst["version"] == 2
