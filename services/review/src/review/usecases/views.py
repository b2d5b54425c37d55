"""Use cases: the stored rows the API shows (tasks, instances, history), as JSON-ready dicts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from review.usecases.ports import Row

DECISION_LABELS = {"approve": "通过", "return": "退回修改", "reject": "不通过"}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def task_view(t: Row, working_days_left: int | None = None) -> dict[str, Any]:
    return {
        "task_id": str(t["task_id"]),
        "process_key": t["process_key"],
        "business_key": t["business_key"],
        "name": t["task_name"],
        "title": t["title"],
        "role": t["role"],
        "scope_type": t["scope_type"],
        "scope_id": t["scope_id"],
        "form_key": t["form_key"],
        "decisions": [{"value": d, "label": DECISION_LABELS.get(d, d)} for d in t["decisions"]],
        "stage": t["stage"],
        "series_code": t["series_code"],
        "unit_id": t["unit_id"],
        "assignee": t["assignee"],
        "claimed_at": _iso(t["claimed_at"]),
        "created_at": _iso(t["created_at"]),
        "due_at": _iso(t["due_at"]),
        "working_days_left": working_days_left,
    }


def instance_view(i: Row) -> dict[str, Any]:
    return {
        "instance_id": str(i["id"]),
        "process_key": i["process_key"],
        "business_key": i["business_key"],
        "status": i["status"],
        "current_stage": i["current_stage"],
        "next_due_at": _iso(i["next_due_at"]),
        "error": i["error"],
        "tree_size": i["tree_size"],
        "created_at": _iso(i["created_at"]),
        "updated_at": _iso(i["updated_at"]),
    }


def history_view(h: Row) -> dict[str, Any]:
    return {
        "at": h["at"].isoformat(),
        "kind": h["kind"],
        "actor_id": h["actor_id"],
        "actor_role": h["actor_role"],
        "task_name": h["task_name"],
        "stage": h["stage"],
        "decision": h["decision"],
        "comment": h["comment"],
        "details": h["details"],
        "definition_version": h["definition_version"],
    }


def decided_view(h: Row) -> dict[str, Any]:
    """One row of 已办: a completed task as its history row kept it."""
    details = h["details"] or {}
    return {
        "task_id": str(h["task_id"]),
        "instance_id": str(h["instance_id"]),
        "process_key": h["process_key"],
        "business_key": h["business_key"],
        "title": details.get("title") or h["task_name"],
        "stage": h["stage"],
        "role": h["actor_role"],
        "decision": h["decision"],
        "decision_label": DECISION_LABELS.get(h["decision"], h["decision"]),
        "comment": h["comment"],
        "reasons": list(details.get("reasons") or []),
        "decided_at": _iso(h["at"]),
    }
