"""Use cases: 我的消息 (§2.5), and what the review service's decisions do to an application (status + notice)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from applications.domain.application import (
    APPROVED,
    CERTIFIED,
    REJECTED,
    RETURNED,
    STAGE_NAMES,
    SUBMITTED,
    WITHDRAWN,
    ApplicationNotFoundError,
    MessageNotFoundError,
    NotAllowedError,
)
from applications.usecases.ports import ApplicationStore, MessageStore
from zc_contracts import Envelope, certificates_v1, parse_payload, review_v1

KINDS = {"unit": "单位消息", "defence": "答辩消息", "complaint": "投诉反馈", "system": "系统通知"}


class MessageService:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        store: Callable[[AsyncSession], MessageStore],
        applications: Callable[[AsyncSession], ApplicationStore],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = sessions
        self._store = store
        self._applications = applications
        self._clock = clock

    async def inbox(self, recipient: str, *, unread_only: bool, page: int, size: int) -> dict[str, Any]:
        async with self._sessions() as s:
            rows, total, unread = await self._store(s).page(
                recipient, unread_only=unread_only, offset=(page - 1) * size, limit=size
            )
        items = [
            {
                "id": str(r["id"]),
                "kind": r["kind"],
                "kind_name": KINDS.get(r["kind"], r["kind"]),
                "sender": r["sender_name"],
                "title": r["title"],
                "body": r["body"],
                "application_id": str(r["application_id"]) if r["application_id"] else None,
                "created_at": r["created_at"].isoformat(),
                "read": r["read_at"] is not None,
            }
            for r in rows
        ]
        return {"items": items, "total": total, "unread": unread, "page": page, "size": size}

    async def mark_read(self, recipient: str, message_id: str | None) -> int:
        """How many were unread; a message that is not the caller's is not found (as for any other object)."""
        async with self._sessions() as s, s.begin():
            store = self._store(s)
            marked = await store.mark_read(recipient, message_id, now=self._clock())
            if message_id is not None and not marked and not await store.holds(recipient, message_id):
                raise MessageNotFoundError("消息不存在")
            return marked

    async def send_from_unit(
        self,
        *,
        sender_unit: str,
        sender_name: str,
        allowed: Callable[[str], bool],
        application_id: str,
        kind: str,
        title: str,
        body: str,
    ) -> None:
        """A unit writes to an applicant about an application submitted to it."""
        async with self._sessions() as s, s.begin():
            row = await self._applications(s).get(application_id)
            if row is None or str(row["unit_id"]) != sender_unit or row["status"] == "draft":
                raise ApplicationNotFoundError("申报不存在")
            if not allowed(sender_unit):
                raise NotAllowedError("当前账号无权以该单位名义发送消息")
            await self._store(s).add(
                {
                    "recipient": row["applicant_id"],
                    "kind": kind,
                    "sender_name": sender_name,
                    "title": title,
                    "body": body,
                    "application_id": row["id"],
                }
            )


async def apply_review_outcome(envelope: Envelope, *, store: MessageStore, now: datetime) -> None:
    """Consumer: the review service returned or approved an application (runs in the inbox transaction)."""
    payload = parse_payload(envelope)
    if isinstance(payload, review_v1.ApplicationReturned):
        row = await store.set_status(
            str(payload.application_id), expected=(SUBMITTED,), status=RETURNED, reason=payload.reason, now=now
        )
        title, body = "申报已退回", f"您的申报已被退回，请按要求修改后在规定时间内重新提交。退回原因：{payload.reason}"
    elif isinstance(payload, review_v1.ApplicationApproved):
        app_id = str(payload.application_id)
        row = await store.set_status(app_id, expected=(SUBMITTED,), status=APPROVED, reason=None, now=now)
        if row is None:  # the certificate came first: keep 已发证, still tell the applicant it passed
            row = await store.set_status(app_id, expected=(CERTIFIED,), status=CERTIFIED, reason=None, now=now)
        title, body = "评审通过", "您的职称申报已通过评审。"
    elif isinstance(payload, review_v1.StageReached):
        await store.reach_stage(
            str(payload.application_id),
            {
                "stage": payload.stage,
                "department_id": str(payload.department_id) if payload.department_id else None,
                **({"experts": payload.experts} if payload.experts is not None else {}),
                **({"authority_region": payload.authority_region} if payload.authority_region else {}),
            },
            now=now,
        )
        await store.add_trail(
            str(payload.application_id),
            {
                "at": now.isoformat(),
                "action": f"进入{STAGE_NAMES[payload.stage]}",
                "stage": payload.stage,
                "note": None,
            },
        )
        return
    elif isinstance(payload, review_v1.ApplicationRejected):
        # a missed resubmission deadline ends a returned application too
        row = await store.set_status(
            str(payload.application_id), expected=(SUBMITTED, RETURNED), status=REJECTED, reason=payload.reason, now=now
        )
        title, body = "评审未通过", "您的职称申报未通过评审。" + (f"原因：{payload.reason}" if payload.reason else "")
    elif isinstance(payload, review_v1.DefenceNotified):
        row = await store.set_status(
            str(payload.application_id), expected=(SUBMITTED,), status=SUBMITTED, reason=None, now=now
        )
        at = payload.defence_at.astimezone(ZoneInfo("Asia/Shanghai"))
        title, body = "答辩通知", f"请于 {at:%Y年%m月%d日 %H:%M}（北京时间）到 {payload.place} 参加答辩。"
    elif isinstance(payload, certificates_v1.CertificateIssued):
        if payload.application_id is None:
            return
        # the certificate may arrive before the approval (two streams, no order between them)
        row = await store.set_status(
            str(payload.application_id), expected=(SUBMITTED, APPROVED), status=CERTIFIED, reason=None, now=now
        )
        title, body = "证书已发放", f"您的职称证书已发放，证书编号：{payload.certificate_no}。可在“我的证书”中下载。"
    elif isinstance(payload, review_v1.ApplicationWithdrawn):
        row = await store.set_status(
            str(payload.application_id), expected=(SUBMITTED,), status=WITHDRAWN, reason="申报人已撤回", now=now
        )
        title, body = "撤回成功", "您的申报已撤回，可修改后在规定时间内重新提交。"
    elif isinstance(payload, review_v1.WithdrawRefused):
        row = await store.set_status(
            str(payload.application_id), expected=(SUBMITTED,), status=SUBMITTED, reason=None, now=now
        )
        title, body = "撤回未成功", f"撤回申请未通过：{payload.reason}。如需修改，请联系审核单位退回。"
    else:
        return
    if row is not None:
        stage = getattr(payload, "stage", None)
        await store.add_trail(
            str(row["id"]),
            {"at": now.isoformat(), "action": title, "stage": stage, "note": getattr(payload, "reason", None)},
        )
        await store.add(
            {
                "recipient": row["applicant_id"],
                "kind": "system",
                "sender_name": "职称评审系统",
                "title": title,
                "body": body,
                "application_id": row["id"],
                "event_id": envelope.id,
            }
        )
