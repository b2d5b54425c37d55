"""Use cases: 公示 as the unit sees it — its applications in their notice period (until when), and an objection
registered during the period, which sends the application back to the unit's review (the diagram's
`notice_objection` message)."""

from __future__ import annotations

from typing import Any

from review.domain.errors import NotFoundError
from review.usecases.host import WorkflowHost
from review.usecases.instances import Instances
from review.usecases.transitions import Actor
from zc_auth import Principal, Role, ScopeType

OBJECTION = "notice_objection"


def _units(principal: Principal) -> list[str]:
    return sorted(
        str(scope) for kind, scope in principal.scopes_for(Role.UNIT_REVIEWER) if kind == ScopeType.UNIT and scope
    )


class Notices:
    def __init__(self, host: WorkflowHost, instances: Instances) -> None:
        self._host = host
        self._instances = instances

    async def in_notice(self, principal: Principal, *, page: int, size: int) -> dict[str, Any]:
        """公示中: the caller's units' applications whose notice is running, with the time it ends."""
        async with self._host.sessions() as s:
            rows, total = await self._host.store(s).awaiting_message(
                OBJECTION, _units(principal), limit=size, offset=(page - 1) * size
            )
        items = [
            {
                "instance_id": str(r["id"]),
                "process_key": r["process_key"],
                "business_key": r["business_key"],
                "unit_id": r["routing"].get("unit_id"),
                "qualification_name": r["routing"].get("qualification_name"),
                "ends_at": r["next_due_at"].isoformat() if r["next_due_at"] else None,
                "since": r["updated_at"].isoformat(),
            }
            for r in rows
        ]
        return {"items": items, "total": total, "page": page, "size": size}

    async def object(self, principal: Principal, business_key: str, *, reason: str, raised_by: str | None) -> None:
        """登记异议: only the unit whose notice it is, only while the notice runs; recorded in the history with
        the reviewer who registered it."""
        units = _units(principal)
        async with self._host.sessions() as s, s.begin():
            instance = await self._host.store(s).instance_by_business_key(business_key)
            unit = instance["routing"].get("unit_id") if instance else None
            if instance is None or unit not in units:
                raise NotFoundError("没有该申报的公示")
            actor = Actor(principal.subject, Role.UNIT_REVIEWER.value, ScopeType.UNIT.value, unit)
            payload = {"reason": reason, "by": raised_by or ""}
            if not await self._instances.deliver(s, business_key, OBJECTION, payload, actor=actor):
                raise NotFoundError("该申报不在公示期内")
