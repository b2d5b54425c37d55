"""Use cases: operators' work on instances — search them, explain why one waits, and retry / suspend / resume /
cancel one (each action audited in its history with who and why)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from review.domain.errors import DomainError, InstanceStateError, NotFoundError, TaskConflictError
from review.usecases.host import WorkflowHost
from review.usecases.ports import Row
from review.usecases.transitions import Actor, Step, TransitionWriter, history_row
from review.usecases.views import history_view, instance_view, task_view
from zc_auth import Principal, Role

OPERATOR_ROLES = (Role.OPERATOR, Role.ADMIN)


class Operations:
    def __init__(self, host: WorkflowHost, transitions: TransitionWriter) -> None:
        self._host = host
        self._transitions = transitions

    async def search(
        self,
        *,
        status: str | None,
        process_key: str | None,
        business_key: str | None,
        unchanged_since: datetime | None = None,
        page: int,
        size: int,
    ) -> dict[str, Any]:
        async with self._host.sessions() as s:
            rows, total = await self._host.store(s).search_instances(
                status=status,
                process_key=process_key,
                business_key=business_key,
                unchanged_since=unchanged_since,
                limit=size,
                offset=(page - 1) * size,
            )
        return {"items": [self._instance(r) for r in rows], "total": total, "page": page, "size": size}

    async def explain(self, instance_id: UUID) -> dict[str, Any]:
        """Why is this instance waiting? Its open tasks, the messages it waits for, its timers, its error; and
        for its diagram, where its tokens are and the path they took."""
        async with self._host.sessions() as s:
            store = self._host.store(s)
            instance = await store.instance(instance_id)
            if instance is None:
                raise NotFoundError("流程实例不存在")
            tasks = await store.tasks_of(instance_id)
            events = await store.history_of(instance_id)
            version, _ = await self._host.definition(store, instance["definition_id"])
        now = self._host.now()
        waiting = instance["waiting"]
        timers = [
            {
                "kind": w["kind"],
                "name": w["name"],
                "due_at": w["due_at"],
                "element_id": w.get("element_id"),  # absent in rows written before it was recorded
                "deadline": self._deadline(now, datetime.fromisoformat(w["due_at"]) if w["due_at"] else None),
            }
            for w in waiting
            if w["kind"] == "timer"
        ]
        running = instance["status"] not in ("completed", "cancelled")
        # the tasks, and each awaited event with what holds its token (an event-based gateway before it); rows
        # written before these were recorded have neither
        active = [t["task_name"] for t in tasks]
        active += [e for w in waiting for e in (w.get("token_at"), w.get("element_id")) if e]
        return {
            **self._instance(instance),
            "definition_version": version,
            "open_tasks": [task_view(t, _days_left(self._deadline(now, t["due_at"]))) for t in tasks],
            "waiting_messages": [w["name"] for w in waiting if w["kind"] == "message"],
            "timers": timers,
            "history": [history_view(h) for h in events],
            "active_elements": list(dict.fromkeys(active)) if running else [],
            "passed_elements": _passed(events),
        }

    def _instance(self, row: Row) -> dict[str, Any]:
        return {**instance_view(row), "next_due": self._deadline(self._host.now(), row["next_due_at"])}

    def _deadline(self, now: datetime, due: datetime | None) -> dict[str, Any] | None:
        if due is None:
            return None
        try:
            left = self._transitions.calendar.working_days_left(now, due)
        except DomainError:  # the calendar lacks a year: no count rather than a wrong one
            return None
        return {"working_days_left": left, "overdue": now >= due}

    async def operate(self, principal: Principal, instance_id: UUID, action: str, reason: str) -> dict[str, Any]:
        """retry | suspend | resume | cancel — each audited in the history with who and why."""
        async with self._host.sessions() as s, s.begin():
            store = self._host.store(s)
            instance = await store.instance(instance_id, lock=True)
            if instance is None:
                raise NotFoundError("流程实例不存在")
            actor = Actor(principal.subject, Role.OPERATOR.value)
            step = Step(action, actor, comment=reason)
            status = instance["status"]
            now = self._host.now()
            if action == "retry":
                if status not in ("error", "stalled"):
                    raise InstanceStateError("只有出错或停滞的流程实例可以重试")
                version, definition = await self._host.definition(store, instance["definition_id"])
                result = self._host.engine.retry(definition, instance["state"], now=now)
                saved = await self._transitions.save(s, store, instance, version, result, step)
                return self._instance(saved)
            status_moves = {"suspend": ("running", "suspended"), "resume": ("suspended", "running")}
            if action == "cancel":
                if status in ("completed", "cancelled"):
                    raise InstanceStateError("流程实例已结束")
                new_status = "cancelled"
            elif action in status_moves:
                before, new_status = status_moves[action]
                if status != before:
                    raise InstanceStateError(f"流程实例当前状态为 {status}，不能执行该操作")
            else:
                raise NotFoundError("不支持的操作")
            # suspend / resume / cancel run no engine step: only the status changes, so no transition is written
            values: dict[str, Any] = {"status": new_status, "updated_at": now}
            if new_status == "cancelled":  # it waits for nothing any more (the trail and the console say so)
                values.update(waiting=[], next_due_at=None)
            if not await store.save_instance(instance["id"], instance["version"], values):
                raise TaskConflictError("流程实例已被并发修改，请重试")
            if new_status == "cancelled":
                await store.sync_tasks(instance["id"], set(), [])
            version, _ = await self._host.definition(store, instance["definition_id"])
            await store.append_history([history_row(instance, step, now, version)])
            return self._instance({**instance, **values})


def _days_left(deadline: dict[str, Any] | None) -> int | None:
    return deadline["working_days_left"] if deadline else None


def _passed(events: list[Row]) -> list[str]:
    """The elements the instance passed, in the order first reached: each step's record of them, or, for steps
    recorded before that was kept, the task it completed."""
    passed: dict[str, None] = {}
    for h in events:
        details = h["details"] or {}
        named = details.get("passed") or ([h["task_name"]] if h["kind"] == "task_completed" and h["task_name"] else [])
        passed.update(dict.fromkeys(named))
    return list(passed)
