"""The review service's decisions reach the application (returned → edit → resubmit; approved) through the
real consumer, with notices in 我的消息; units write to applicants; unread counts and mark read."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from applications.adapters.db.application_store import SqlApplicationStore
from applications.adapters.db.message_store import SqlMessageStore
from applications.adapters.db.tables import messaging
from applications.consumers import handlers
from applications.demo_data import load
from integration.applications.conftest import Api, grant
from integration.applications.test_application_lifecycle import INITIAL, SECTIONS, UNIT, save, settings
from integration.applications.test_attachments import JPEG
from support.consume import consume
from zc_auth import Role, ScopeType
from zc_contracts import certificates_v1, make_envelope, review_v1
from zc_db import create_engine


async def submitted_application(api: Api) -> dict[str, Any]:
    await load(api.database_url, year=2026)
    app = (await api.post("/applications", headers=api.applicant, json=INITIAL)).json()
    for name in ("basic_info", "education", "work_history", "assessments"):
        assert (await save(api, app["id"], name, SECTIONS[name])).status_code == 200
    r = await api.post(f"/applications/{app['id']}/submit", headers=api.applicant)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def deliver(api: Api, nats_url: str, *payloads: Any) -> None:
    """Publish review events and let the applications worker's own consumer apply them."""
    envelopes = [
        make_envelope(
            p, source=p.subject().split(".")[0], subject_id=str(getattr(p, "application_id", None) or p.record_id)
        )
        for p in payloads
    ]
    subject = payloads[0].subject()
    if subject.startswith("review.record."):
        durable = "applications__record_outcomes"
    elif subject.startswith("certificates."):
        durable = "applications__certificates_issued"
    else:
        durable = "applications__review_outcomes"
    await consume(
        nats_url,
        api.database_url,
        durable=durable,
        handler=handlers(SqlMessageStore, SqlApplicationStore)[durable],
        tables=messaging,
        messages=[(e, str(e.id)) for e in envelopes],
    )


async def test_returned_application_can_be_edited_and_resubmitted_with_a_new_snapshot(
    api: Api, clean_jetstream: str
) -> None:
    app = await submitted_application(api)
    now = datetime.now(UTC)
    await deliver(
        api,
        clean_jetstream,
        review_v1.ApplicationReturned(
            application_id=app["id"], stage="unit", reason="学历证书扫描件不清晰", returned_at=now
        ),
    )
    back = (await api.get(f"/applications/{app['id']}", headers=api.applicant)).json()
    assert back["status_name"] == "已退回" and back["status_reason"] == "学历证书扫描件不清晰"
    inbox = (await api.get("/messages", headers=api.applicant)).json()
    assert inbox["unread"] == 1 and "学历证书扫描件不清晰" in inbox["items"][0]["body"]
    assert inbox["items"][0]["kind_name"] == "系统通知"

    assert (await save(api, app["id"], "education", SECTIONS["education"], version=1)).status_code == 200
    again = await api.post(f"/applications/{app['id']}/submit", headers=api.applicant)
    assert again.status_code == 200 and again.json()["snapshot_version"] == 2
    engine = create_engine(api.database_url)
    try:
        async with engine.connect() as conn:
            payloads = (
                (
                    await conn.execute(
                        text(
                            "SELECT payload FROM outbox WHERE subject = 'applications.application.submitted.v1' "
                            "ORDER BY created_at"
                        )
                    )
                )
                .scalars()
                .all()
            )
    finally:
        await engine.dispose()
    assert [json.loads(p)["data"]["resubmission"] for p in payloads] == [False, True]

    await deliver(
        api,
        clean_jetstream,
        review_v1.ApplicationApproved(
            application_id=app["id"],
            applicant_id="usr_applicant",
            qualification_code="NONGYE_ZHULI_NONGYI",
            approved_at=now,
        ),
    )
    final = (await api.get(f"/applications/{app['id']}", headers=api.applicant)).json()
    assert final["status_name"] == "通过"
    # 审核流程: what happened and why, for 我的申报
    assert [(t["action"], t.get("stage"), t.get("note")) for t in final["trail"]] == [
        ("提交", None, None),
        ("申报已退回", "unit", "学历证书扫描件不清晰"),
        ("重新提交", None, None),
        ("评审通过", None, None),
    ]
    # each step keeps the keys it was written with (the response model adds none)
    assert [sorted(t) for t in final["trail"]] == [
        ["action", "at", "version"],
        ["action", "at", "note", "stage"],
        ["action", "at", "version"],
        ["action", "at", "note", "stage"],
    ]
    assert (await api.get("/messages", headers=api.applicant)).json()["unread"] == 2


async def test_resubmission_after_the_modify_deadline_is_refused(api: Api, clean_jetstream: str) -> None:
    await load(api.database_url, year=2026)
    r = await api.get(
        "/committees/query",
        params={"unit_id": UNIT, "method": "SHEHUIHUA", "series": "NONGYE", "level": "ZHONGJI", "year": 2026},
    )
    committee = next(i for i in r.json()["direct"]["items"] if i["selectable"])
    notice = (await api.get(f"/committees/{committee['id']}/activities/2026")).json()
    app = (await api.post("/applications", headers=api.applicant, json=settings(committee["id"]))).json()
    engine = create_engine(api.database_url)
    try:  # a returned application, as the consumer leaves it
        async with engine.begin() as conn:
            await conn.execute(text(f"UPDATE applications SET status = 'returned' WHERE id = '{app['id']}'"))
    finally:
        await engine.dispose()
    api.clock.now = datetime.fromisoformat(notice["个人修改提交截止时间"] + "T16:30:00+00:00")
    late = await api.post(f"/applications/{app['id']}/submit", headers=api.applicant)
    assert late.status_code == 422 and "个人修改提交截止时间" in late.json()["detail"]


async def test_units_write_to_their_applicants_and_read_marks_are_kept(api: Api) -> None:
    app = await submitted_application(api)
    unit_reviewer = api.as_(grant(Role.UNIT_REVIEWER, ScopeType.UNIT, UNIT), subject="usr_unit")
    body = {
        "application_id": app["id"],
        "kind": "defence",
        "title": "答辩通知",
        "body": "请于12月5日参加答辩。",
        "sender_name": "成都市示例农业科技有限公司",
    }
    sent = await api.post(f"/units/{UNIT}/messages", headers=unit_reviewer, json=body)
    assert sent.status_code == 201, sent.text
    other_unit = api.as_(grant(Role.UNIT_REVIEWER, ScopeType.UNIT, "0193a1f0-0000-7000-8000-00000000a002"))
    assert (await api.post(f"/units/{UNIT}/messages", headers=other_unit, json=body)).status_code == 403
    wrong_unit = await api.post("/units/0193a1f0-0000-7000-8000-00000000a002/messages", headers=other_unit, json=body)
    assert wrong_unit.status_code == 404  # not this unit's application
    too_long = await api.post(f"/units/{UNIT}/messages", headers=unit_reviewer, json={**body, "title": "题" * 51})
    assert too_long.status_code == 422 and too_long.json()["field"] == "title"

    inbox = (await api.get("/messages", headers=api.applicant)).json()
    assert inbox["unread"] == 1 and inbox["items"][0]["kind_name"] == "答辩消息"
    msg_id = inbox["items"][0]["id"]
    assert (await api.get("/messages", headers=unit_reviewer)).json()["total"] == 0  # not theirs
    foreign = await api.post(f"/messages/{msg_id}/read", headers=unit_reviewer)
    assert foreign.status_code == 404 and foreign.json()["code"] == "message.not_found"  # was a 200: not theirs
    assert (await api.post(f"/messages/{msg_id}/read", headers=api.applicant)).json() == {"marked": 1}
    assert (await api.post(f"/messages/{msg_id}/read", headers=api.applicant)).json() == {"marked": 0}  # again
    after = (await api.get("/messages", headers=api.applicant, params={"unread_only": True})).json()
    assert after["unread"] == 0 and after["items"] == []


@pytest.mark.parametrize("status", ["draft"])
async def test_units_cannot_write_about_unsubmitted_applications(api: Api, status: str) -> None:
    await load(api.database_url, year=2026)
    app = (await api.post("/applications", headers=api.applicant, json=INITIAL)).json()
    assert app["status"] == status
    unit_reviewer = api.as_(grant(Role.UNIT_REVIEWER, ScopeType.UNIT, UNIT))
    r = await api.post(
        f"/units/{UNIT}/messages",
        headers=unit_reviewer,
        json={"application_id": app["id"], "title": "t", "body": "b", "sender_name": "单位"},
    )
    assert r.status_code == 404


async def test_withdrawal_is_asked_of_the_review_and_its_answer_applied(api: Api, clean_jetstream: str) -> None:
    app = await submitted_application(api)
    r = await api.post(f"/applications/{app['id']}/withdraw", headers=api.applicant)
    assert r.status_code == 200 and r.json()["withdraw_requested"] is True
    twice = await api.post(f"/applications/{app['id']}/withdraw", headers=api.applicant)
    assert twice.status_code == 409
    engine = create_engine(api.database_url)
    try:
        async with engine.connect() as conn:
            asked = (
                await conn.execute(
                    text("SELECT count(*) FROM outbox WHERE subject = 'applications.application.withdraw_requested.v1'")
                )
            ).scalar_one()
    finally:
        await engine.dispose()
    assert asked == 1
    now = datetime.now(UTC)
    await deliver(
        api,
        clean_jetstream,
        review_v1.WithdrawRefused(application_id=app["id"], reason="单位已开始审核", refused_at=now),
    )
    refused = (await api.get(f"/applications/{app['id']}", headers=api.applicant)).json()
    assert refused["status_name"] == "审核中" and refused["withdraw_requested"] is False
    assert (await api.post(f"/applications/{app['id']}/withdraw", headers=api.applicant)).status_code == 200
    await deliver(api, clean_jetstream, review_v1.ApplicationWithdrawn(application_id=app["id"], withdrawn_at=now))
    back = (await api.get(f"/applications/{app['id']}", headers=api.applicant)).json()
    assert back["status"] == "withdrawn" and back["status_name"] == "已撤回" and back["status_reason"] == "申报人已撤回"
    titles = [m["title"] for m in (await api.get("/messages", headers=api.applicant)).json()["items"]]
    assert set(titles) == {"撤回成功", "撤回未成功"}


async def test_only_submitted_applications_can_be_withdrawn(api: Api) -> None:
    await load(api.database_url, year=2026)
    app = (await api.post("/applications", headers=api.applicant, json=INITIAL)).json()
    r = await api.post(f"/applications/{app['id']}/withdraw", headers=api.applicant)
    assert r.status_code == 409 and "审核中" in r.json()["detail"]


async def test_unit_reviewers_read_submitted_snapshots_of_their_unit_only(api: Api) -> None:
    await load(api.database_url, year=2026)
    draft = (await api.post("/applications", headers=api.applicant, json=INITIAL)).json()
    mine = api.as_(grant(Role.UNIT_REVIEWER, ScopeType.UNIT, UNIT), subject="usr_unit")
    assert (await api.get(f"/review/applications/{draft['id']}", headers=mine)).status_code == 404  # not submitted
    for name in ("basic_info", "education", "work_history", "assessments"):
        await save(api, draft["id"], name, SECTIONS[name])
    photos = [
        (await api.post(f"/applications/{draft['id']}/photo", content=JPEG + bytes([i]), headers=api.applicant)).json()
        for i in range(2)  # the second replaces the first before submission
    ]
    await api.post(f"/applications/{draft['id']}/submit", headers=api.applicant)
    files = f"/review/applications/{draft['id']}/attachments"
    got = await api.get(f"{files}/{photos[1]['id']}", headers=mine)
    assert got.status_code == 200 and got.content == JPEG + b"\x01"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert (await api.get(f"{files}/{photos[0]['id']}", headers=mine)).status_code == 404  # never submitted
    seen = await api.get(f"/review/applications/{draft['id']}", headers=mine)
    assert seen.status_code == 200 and seen.json()["version"] == 1
    assert seen.json()["sections"]["basic_info"]["mobile_phone"] == "135****4568"
    other_unit = api.as_(grant(Role.UNIT_REVIEWER, ScopeType.UNIT, "0193a1f0-0000-7000-8000-00000000a002"))
    assert (await api.get(f"/review/applications/{draft['id']}", headers=other_unit)).status_code == 404
    assert (await api.get(f"{files}/{photos[1]['id']}", headers=other_unit)).status_code == 404
    assert (await api.get(f"/review/applications/{draft['id']}", headers=api.as_(Role.APPLICANT))).status_code == 404


async def test_past_jobs_lock_after_a_first_passed_title_but_the_current_job_stays_editable(
    api: Api, clean_jetstream: str
) -> None:
    history = [
        {"start": "2008-07-01", "end": "2015-06-30", "employer": "旧单位", "content": "农机推广。"},
        {"start": "2015-07-01", "employer": "成都市示例农业科技有限公司", "content": "技术培训。"},
    ]
    await load(api.database_url, year=2026)
    first = (await api.post("/applications", headers=api.applicant, json=INITIAL)).json()
    for name in ("basic_info", "education", "assessments"):
        await save(api, first["id"], name, SECTIONS[name])
    await save(api, first["id"], "work_history", history)
    assert (await api.post(f"/applications/{first['id']}/submit", headers=api.applicant)).status_code == 200
    await deliver(
        api,
        clean_jetstream,
        review_v1.ApplicationApproved(
            application_id=first["id"],
            applicant_id="usr_applicant",
            qualification_code="NONGYE_ZHULI_NONGYI",
            approved_at=datetime.now(UTC),
        ),
    )

    nxt = (
        await api.post(
            "/applications",
            headers=api.applicant,
            json=settings(None, method="RENDING", level="ZHONGJI", qualification="NONGYE_ZHONGJI_NONGYI"),
        )
    ).json()
    changed_past = [{**history[0], "employer": "改过的单位"}, history[1]]
    r = await save(api, nxt["id"], "work_history", changed_past)
    assert r.status_code == 422 and r.json()["field"] == "work_history" and "不可更改" in r.json()["detail"]
    current_edited = [history[0], {**history[1], "content": "技术培训与推广。"}]
    assert (await save(api, nxt["id"], "work_history", current_edited)).status_code == 200


async def test_reviewers_read_once_the_application_reached_their_stage(api: Api, clean_jetstream: str) -> None:
    app = await submitted_application(api)
    chain = (await api.get(f"/units/{UNIT}")).json()["department_chain"]
    near, far = chain[0]["id"], chain[-1]["id"]
    near_reviewer = api.as_(grant(Role.DEPARTMENT_REVIEWER, ScopeType.DEPARTMENT, near), subject="usr_dept1")
    far_reviewer = api.as_(grant(Role.DEPARTMENT_REVIEWER, ScopeType.DEPARTMENT, far), subject="usr_dept2")
    assert (await api.get(f"/review/applications/{app['id']}", headers=near_reviewer)).status_code == 404

    await deliver(
        api,
        clean_jetstream,
        review_v1.StageReached(
            application_id=app["id"], stage="department", department_id=near, reached_at=datetime.now(UTC)
        ),
    )
    assert (await api.get(f"/review/applications/{app['id']}", headers=near_reviewer)).status_code == 200
    assert (await api.get(f"/review/applications/{app['id']}", headers=far_reviewer)).status_code == 404
    mine = (await api.get(f"/applications/{app['id']}", headers=api.applicant)).json()
    assert mine["status_name"] == "审核中（主管部门审核）" and mine["trail"][-1]["action"] == "进入主管部门审核"

    # issue 17 item 6: the expert stage names the panel, kept with the stage (the read rule: tests/unit)
    await deliver(
        api,
        clean_jetstream,
        review_v1.StageReached(
            application_id=app["id"], stage="expert", experts=["usr_e1", "usr_e2"], reached_at=datetime.now(UTC)
        ),
    )
    engine = create_engine(api.database_url)
    try:
        async with engine.connect() as conn:
            stages = (
                await conn.execute(text("SELECT stages_reached FROM applications WHERE id = :a"), {"a": app["id"]})
            ).scalar_one()
    finally:
        await engine.dispose()
    assert stages[-1] == {"stage": "expert", "department_id": None, "experts": ["usr_e1", "usr_e2"]}


async def test_rejected_and_certified_reach_my_applications(api: Api, clean_jetstream: str) -> None:
    now = datetime.now(UTC)
    app = await submitted_application(api)
    await deliver(
        api,
        clean_jetstream,
        review_v1.ApplicationApproved(
            application_id=app["id"],
            applicant_id="usr_applicant",
            qualification_code="NONGYE_ZHULI_NONGYI",
            approved_at=now,
        ),
    )
    await deliver(
        api,
        clean_jetstream,
        certificates_v1.CertificateIssued(
            certificate_id=uuid.uuid4(),
            certificate_no="川职称-2026-000123",
            holder_id="usr_applicant",
            application_id=app["id"],
            issued_at=now,
        ),
    )
    mine = (await api.get(f"/applications/{app['id']}", headers=api.applicant)).json()
    assert mine["status_name"] == "已发证"
    notice = (await api.get("/messages", headers=api.applicant)).json()["items"][0]
    assert notice["title"] == "证书已发放" and "川职称-2026-000123" in notice["body"]

    other = (
        await api.post(
            "/applications",
            headers=api.applicant,
            json=settings(None, method="RENDING", level="ZHONGJI", qualification="NONGYE_ZHONGJI_NONGYI"),
        )
    ).json()
    for name in ("basic_info", "education", "work_history", "assessments"):
        await save(api, other["id"], name, SECTIONS[name])
    await api.post(f"/applications/{other['id']}/submit", headers=api.applicant)
    await deliver(
        api,
        clean_jetstream,
        review_v1.ApplicationRejected(
            application_id=other["id"], stage="authority", reason="不符合初定条件", rejected_at=now
        ),
    )
    rejected = (await api.get(f"/applications/{other['id']}", headers=api.applicant)).json()
    assert rejected["status_name"] == "未通过" and rejected["status_reason"] == "不符合初定条件"


async def test_a_certificate_that_overtakes_the_approval_still_ends_as_certified_with_both_notices(
    api: Api, clean_jetstream: str
) -> None:
    app = await submitted_application(api)
    now = datetime.now(UTC)
    issued = certificates_v1.CertificateIssued(
        certificate_id=uuid.uuid4(),
        certificate_no="512026NONGYE000009",
        holder_id="usr_applicant",
        application_id=app["id"],
        issued_at=now,
    )
    await deliver(api, clean_jetstream, issued)
    approved = review_v1.ApplicationApproved(
        application_id=app["id"],
        applicant_id="usr_applicant",
        qualification_code="NONGYE_ZHONGJI_NONGYI",
        approved_at=now,
    )
    await deliver(api, clean_jetstream, approved)
    mine = (await api.get("/applications", headers=api.applicant)).json()["items"]
    assert [a["status_name"] for a in mine] == ["已发证"]
    titles = [m["title"] for m in (await api.get("/messages", headers=api.applicant)).json()["items"]]
    assert {"证书已发放", "评审通过"} <= set(titles)


async def test_removed_files_lose_their_bytes_unless_a_submitted_snapshot_shows_them(
    api: Api, clean_jetstream: str, tmp_path: Path
) -> None:
    stored = tmp_path / "attachments"  # the api fixture's filesystem storage

    def objects() -> int:
        return sum(1 for p in stored.rglob("*") if p.is_file())

    await load(api.database_url, year=2026)
    app = (await api.post("/applications", headers=api.applicant, json=INITIAL)).json()
    for name in ("basic_info", "education", "work_history", "assessments"):
        await save(api, app["id"], name, SECTIONS[name])
    photo = f"/applications/{app['id']}/photo"
    first = (await api.post(photo, content=JPEG + b"1", headers=api.applicant)).json()
    second = (await api.post(photo, content=JPEG + b"2", headers=api.applicant)).json()
    assert objects() == 1  # the replaced draft photo is gone, bytes and all
    assert (
        await api.get(f"/applications/{app['id']}/attachments/{first['id']}", headers=api.applicant)
    ).status_code == 404
    assert (await api.post(f"/applications/{app['id']}/submit", headers=api.applicant)).status_code == 200
    returned = review_v1.ApplicationReturned(
        application_id=app["id"], stage="unit", reason="照片不合格", returned_at=datetime.now(UTC)
    )
    await deliver(api, clean_jetstream, returned)
    (await api.post(photo, content=JPEG + b"3", headers=api.applicant)).raise_for_status()
    assert objects() == 2  # the submitted photo stays: the first snapshot still shows it
    unit = api.as_(grant(Role.UNIT_REVIEWER, ScopeType.UNIT, UNIT), subject="usr_unit")
    old = await api.get(f"/review/applications/{app['id']}/attachments/{second['id']}", headers=unit)
    assert old.status_code == 200 and old.content == JPEG + b"2"
