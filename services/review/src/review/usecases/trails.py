"""Use cases: the applicant's trail — the stages passed, the current stage and its due date, the return reasons."""

from __future__ import annotations

from typing import Any

from review.domain.errors import NotFoundError
from review.usecases.host import WorkflowHost
from review.usecases.operations import OPERATOR_ROLES
from review.usecases.ports import Row
from review.usecases.views import DECISION_LABELS
from zc_auth import Principal

KIND_LABELS = {
    "started": "提交审核",
    "message": "收到申报人操作",
    "timer": "公示期满",
    "cancelled": "流程终止",
}


def trail_label(h: Row) -> str:
    if h["kind"] == "task_completed":
        # the task's title (单位审核推荐) where the history kept it; older rows have only the element id
        title = (h["details"] or {}).get("title") or h["task_name"]
        return f"{title}：{DECISION_LABELS.get(h['decision'] or '', h['decision'] or '')}"
    if h["kind"] == "message" and h["details"].get("message") == "resubmitted":
        return "申报人修改后重新提交"
    if h["kind"] == "message" and h["details"].get("message") == "withdraw":
        return "申报人撤回"
    return KIND_LABELS.get(h["kind"], h["kind"])


def trail_steps(events: list[Row]) -> list[dict[str, Any]]:
    """The steps of an instance a person follows (the applicant, and the reviewers in 任务详情): decisions,
    messages, timers, start and end; with the reason of a return or a refusal."""
    return [
        {
            "at": h["at"].isoformat(),
            "kind": h["kind"],
            "label": trail_label(h),
            "stage": h["stage"],
            "decision": h["decision"],
            "reason": h["comment"] if h["decision"] in ("return", "reject") else None,
        }
        for h in events
        if h["kind"] in ("task_completed", "message", "timer", "started", "cancelled")
    ]


class Trails:
    def __init__(self, host: WorkflowHost) -> None:
        self._host = host

    async def trail(self, principal: Principal, business_key: str) -> dict[str, Any]:
        """The applicant's view: stages passed, the current stage and its due date, return reasons."""
        async with self._host.sessions() as s:
            store = self._host.store(s)
            instance = await store.instance_by_business_key(business_key)
            if instance is None or not self._may_follow(principal, instance):
                raise NotFoundError("没有该申报的审核记录")
            events = await store.history_of(instance["id"])
            tasks = await store.tasks_of(instance["id"])
        steps = trail_steps(events)
        return {
            "business_key": business_key,
            "process_key": instance["process_key"],
            "status": instance["status"],
            "current_stage": instance["current_stage"],
            "current_tasks": [
                {"title": t["title"], "stage": t["stage"], "due_at": t["due_at"].isoformat() if t["due_at"] else None}
                for t in tasks
            ],
            # what and until when; where in the diagram (element_id, token_at) is the operator console's business
            "waiting": [{k: w.get(k) for k in ("kind", "name", "due_at")} for w in instance["waiting"]],
            "steps": steps,
        }

    @staticmethod
    def _may_follow(principal: Principal, instance: Row) -> bool:
        if instance["routing"].get("applicant_id") == principal.subject:
            return True
        return principal.has_any_role(*OPERATOR_ROLES)
