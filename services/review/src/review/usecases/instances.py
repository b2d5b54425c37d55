"""Use cases: events in — start an instance once per business key, deliver a message to it, and 撤回.

Called by the consumers inside the inbox record's transaction, so the instance moves together with the inbox row.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from review.domain.errors import InstanceStateError, ProcessNotDeployedError
from review.usecases.host import WorkflowHost
from review.usecases.ports import NotWaitingError
from review.usecases.transitions import SOURCE, Actor, Step, TransitionWriter, history_row
from zc_contracts import Envelope, make_envelope, review_v1
from zc_db import MessagingTables
from zc_messaging import add_to_outbox

WITHDRAW_REFUSED = "工作单位已审核，不能撤回"

# the start data kept with the instance (its `routing`): read by its task rows, the task detail and its events
ROUTING_KEYS = {
    "application_id",
    "record_id",
    "applicant_id",
    "unit_id",
    "department_ids",
    "department_id",
    "committee_id",
    "series_code",
    "level_code",
    "qualification_code",
    "method",
    "year",
    "evaluation_mode",
    "record_kind",
    "education_level",
    "work_years",
    "qualification_name",
    "specialty",
    "committee_name",
    "entrusting_unit_name",
}


class Instances:
    def __init__(self, host: WorkflowHost, transitions: TransitionWriter, outbox: MessagingTables) -> None:
        self._host = host
        self._transitions = transitions
        self._outbox = outbox

    async def start(
        self,
        session: AsyncSession,
        process_key: str,
        business_key: str,
        data: Mapping[str, Any],
        *,
        cause: Envelope | None = None,
    ) -> bool:
        """Start once per (process, business key); False when it already runs (a duplicate submission)."""
        store = self._host.store(session)
        latest = await store.latest_definition(process_key)
        if latest is None:
            raise ProcessNotDeployedError(f"流程 {process_key} 尚未部署")
        version, definition = await self._host.definition(store, latest["id"])
        now = self._host.now()
        routing = {k: v for k, v in data.items() if k in ROUTING_KEYS}
        if cause is not None:
            routing["correlation_id"] = str(cause.correlation_id or cause.id)
        instance = {
            "id": uuid.uuid4(),
            "definition_id": latest["id"],
            "process_key": process_key,
            "business_key": business_key,
            "status": "running",
            "state": {},
            "version": 0,
            "routing": routing,
            "created_at": now,
            "updated_at": now,
        }
        if not await store.insert_instance(instance):
            return False
        result = self._host.engine.start(definition, data, now=now)
        step = Step("started", Actor.system("event"), details={"data": data})
        await self._transitions.save(session, store, instance, version, result, step)
        return True

    async def deliver(
        self,
        session: AsyncSession,
        business_key: str,
        message: str,
        payload: Mapping[str, Any],
        *,
        process_keys: Sequence[str] | None = None,
        actor: Actor | None = None,
    ) -> bool:
        """Deliver a message to the instance of `business_key`; False when it does not wait for it."""
        store = self._host.store(session)
        instance = await store.instance_by_business_key(business_key, process_keys=process_keys, lock=True)
        if instance is not None and instance["status"] == "suspended":
            raise InstanceStateError("流程实例已挂起，恢复后再投递")  # the consumer retries later
        if instance is None or instance["status"] != "running":
            return False
        version, definition = await self._host.definition(store, instance["definition_id"])
        try:
            result = self._host.engine.deliver_message(
                definition, instance["state"], message, payload, now=self._host.now()
            )
        except NotWaitingError:
            return False
        step = Step("message", actor or Actor.system("event"), details={"message": message})
        await self._transitions.save(session, store, instance, version, result, step)
        return True

    async def request_withdraw(self, session: AsyncSession, business_key: str, *, cause: Envelope) -> bool:
        """撤回 is granted only while the unit has not decided: the process must still wait for `withdraw`."""
        accepted = await self.deliver(session, business_key, "withdraw", {}, actor=Actor.system("applicant-withdraw"))
        if not accepted:
            instance = await self._host.store(session).instance_by_business_key(business_key)
            refused = review_v1.WithdrawRefused(
                application_id=UUID(business_key), reason=WITHDRAW_REFUSED, refused_at=self._host.now()
            )
            await add_to_outbox(
                session, self._outbox, make_envelope(refused, source=SOURCE, subject_id=business_key, causation=cause)
            )
            if instance is not None:
                step = Step("withdraw_refused", Actor.system("applicant-withdraw"))
                await self._host.store(session).append_history([history_row(instance, step, self._host.now(), None)])
        return accepted
