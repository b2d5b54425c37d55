"""证书核验: the applicant declares a historical certificate (partial drafts, 其他 needs the real specialty),
submits it (an event asks the review), and the review's answer lands: approved lists a signed, verified
certificate under 我的证书 exactly once; returned makes it editable again."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from integration.certificates.conftest import Api
from zc_auth import Role, RoleGrant, ScopeType
from zc_contracts import Envelope, make_envelope, review_v1

COMMITTEE = "0193a1f0-0000-7000-8000-00000000c001"
HISTORICAL = {
    "certificate_no": "川农中2015-0042",
    "qualification_name": "农艺师",
    "series": "农业技术人员",
    "level": "中级",
    "specialty": "其他",
    "specialty_other": "设施农业",
    "committee_name": "成都市农业系列中级评委会",
    "document_number": "成职改〔2015〕42号",
    "issue_date": "2015-12-30",
    "issuing_authority": "成都市人力资源和社会保障局",
}


def decided(record_id: str, outcome: str, reason: str | None = None) -> Envelope:
    payload = review_v1.RecordDecided(
        record_id=uuid.UUID(record_id),
        outcome=outcome,  # type: ignore[arg-type]
        reason=reason,
        decided_at=datetime.now(UTC),
        kind="certificate_verification",
    )
    return make_envelope(payload, source="review", subject_id=record_id)


async def apply(api: Api, envelope: Envelope) -> None:
    async with api.service._sessions() as s, s.begin():
        await api.verifications.apply_decision(s, envelope)


async def submitted(api: Api, content: dict[str, Any] | None = None) -> str:
    created = await api.post("/verifications", headers=api.holder(), json={"committee_id": COMMITTEE})
    assert created.status_code == 201, created.text
    vid = created.json()["id"]
    r = await api.client.put(
        f"/api/certificates/verifications/{vid}", headers={**api.holder(), "If-Match": "0"}, json=content or HISTORICAL
    )
    assert r.status_code == 200, r.text
    await add_evidence(api, vid)
    done = await api.post(f"/verifications/{vid}/submit", headers=api.holder())
    assert done.status_code == 200, done.text
    return str(vid)


PDF = b"%PDF-1.7\n" + b"0" * 3000


async def add_evidence(api: Api, vid: str) -> dict[str, Any]:
    """同步社保数据 and 上传相关附件材料, as the manual's form asks."""
    synced = await api.post(f"/verifications/{vid}/social-insurance/sync", headers=api.holder())
    assert synced.status_code == 200, synced.text
    file = await api.post(
        f"/verifications/{vid}/attachments", params={"filename": "职称证书.pdf"}, content=PDF, headers=api.holder()
    )
    assert file.status_code == 201, file.text
    return dict(file.json())


async def test_drafts_may_be_partial_but_submission_needs_everything(api: Api) -> None:
    vid = (await api.post("/verifications", headers=api.holder(), json={"committee_id": COMMITTEE})).json()["id"]
    put = api.client.put
    bad = await put(
        f"/api/certificates/verifications/{vid}", headers={**api.holder(), "If-Match": "0"}, json={"issue_date": "昨天"}
    )
    assert bad.status_code == 422 and bad.json()["field"] == "issue_date"
    ok = await put(
        f"/api/certificates/verifications/{vid}",
        headers={**api.holder(), "If-Match": "0"},
        json={"certificate_no": "川农中2015-0042"},
    )
    assert ok.status_code == 200 and ok.json()["version"] == 1
    early = await api.post(f"/verifications/{vid}/submit", headers=api.holder())
    assert early.status_code == 422 and early.json()["field"] == "qualification_name"
    stale = await put(f"/api/certificates/verifications/{vid}", headers={**api.holder(), "If-Match": "0"}, json={})
    assert stale.status_code == 409
    other = await api.post(f"/verifications/{vid}/submit", headers=api.holder("usr_li"))
    assert other.status_code == 404
    no_real_specialty = {k: v for k, v in HISTORICAL.items() if k != "specialty_other"}
    r = await put(
        f"/api/certificates/verifications/{vid}", headers={**api.holder(), "If-Match": "1"}, json=no_real_specialty
    )
    assert r.status_code == 422 and "其他" in r.json()["detail"]


async def test_submission_asks_the_review_and_approval_lists_a_verified_certificate_once(api: Api) -> None:
    vid = await submitted(api)
    asked = [e for e in await api.events() if e.type == "certificates.verification.requested"]
    assert [(e.data["record_id"], e.data["committee_id"]) for e in asked] == [(vid, COMMITTEE)]
    again = await api.post(f"/verifications/{vid}/submit", headers=api.holder())
    assert again.status_code == 409
    approval = decided(vid, "approved")
    await apply(api, approval)
    await apply(api, approval)  # redelivered: nothing twice
    mine = (await api.get("/certificates/mine", headers=api.holder())).json()["items"]
    assert [(c["certificate_no"], c["source_name"], c["specialty"]) for c in mine] == [
        ("川农中2015-0042", "证书核验", "设施农业")
    ]
    assert mine[0]["holder_name"] == "张三"
    records = (await api.get("/verifications", headers=api.holder())).json()["items"]
    assert records[0]["status_name"] == "核验通过"
    verified = [e for e in await api.events() if e.type == "certificates.certificate.verified"]
    assert len(verified) == 1 and verified[0].data["verification_id"] == vid
    token = mine[0]["check_url"].rsplit("/", 1)[1]
    assert (await api.get(f"/public/check/{token}")).json()["result"] == "valid"
    # its number is in Chinese: the download names it in UTF-8 (found by the authorization matrix: a 500)
    pdf = await api.get(f"/certificates/{mine[0]['id']}/pdf", headers=api.holder())
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert "filename*=UTF-8''certificate-%E5%B7%9D%E5%86%9C%E4%B8%AD2015-0042.pdf" in pdf.headers["content-disposition"]


async def test_a_returned_verification_is_editable_and_resubmittable(api: Api) -> None:
    vid = await submitted(api)
    await apply(api, decided(vid, "returned", "证书扫描件不清晰"))
    (record,) = (await api.get("/verifications", headers=api.holder())).json()["items"]
    assert record["status_name"] == "已退回" and record["status_reason"] == "证书扫描件不清晰"
    fixed = await api.client.put(
        f"/api/certificates/verifications/{vid}",
        headers={**api.holder(), "If-Match": str(record["version"])},
        json={**HISTORICAL, "document_number": "成职改〔2015〕43号"},
    )
    assert fixed.status_code == 200
    assert (await api.post(f"/verifications/{vid}/submit", headers=api.holder())).status_code == 200
    assert (await api.get("/certificates/mine", headers=api.holder())).json()["items"] == []
    await apply(api, decided(str(uuid.uuid4()), "approved"))  # someone else's record: ignored


async def test_submission_needs_synced_social_insurance_and_attachments_which_the_organiser_reads(
    api: Api, tmp_path: Path
) -> None:
    vid = (await api.post("/verifications", headers=api.holder(), json={"committee_id": COMMITTEE})).json()["id"]
    headers = {**api.holder(), "If-Match": "0"}
    assert (await api.client.put(f"/api/certificates/verifications/{vid}", headers=headers, json=HISTORICAL)).is_success
    no_si = await api.post(f"/verifications/{vid}/submit", headers=api.holder())
    assert no_si.status_code == 422 and no_si.json()["field"] == "social_insurance"
    synced = (await api.post(f"/verifications/{vid}/social-insurance/sync", headers=api.holder())).json()
    assert synced["source"] == "演示数据源" and synced["records"][0]["insurance"] == "企业职工基本养老保险"
    no_file = await api.post(f"/verifications/{vid}/submit", headers=api.holder())
    assert no_file.status_code == 422 and no_file.json()["field"] == "attachments"
    files = f"/verifications/{vid}/attachments"
    fake = await api.post(files, params={"filename": "证书.pdf"}, content=b"MZ\x90\x00exe", headers=api.holder())
    assert fake.status_code == 422 and fake.json()["field"] == "file"
    huge = await api.post(
        files, params={"filename": "证书.pdf"}, content=PDF + b"0" * (10 * 1024 * 1024), headers=api.holder()
    )
    assert huge.status_code == 413
    stray = await api.post(files, params={"filename": "多余.pdf"}, content=PDF, headers=api.holder())
    kept = await api.post(files, params={"filename": "职称证书.pdf"}, content=PDF, headers=api.holder())
    assert (
        await api.client.delete(f"/api/certificates{files}/{stray.json()['id']}", headers=api.holder())
    ).status_code == 204
    mine = (await api.get(f"/verifications/{vid}", headers=api.holder())).json()
    assert [f["filename"] for f in mine["attachments"]] == ["职称证书.pdf"]
    assert sum(1 for p in (tmp_path / "files").rglob("*") if p.is_file()) == 1  # the removed one's bytes too
    assert mine["social_insurance"]["source"] == "演示数据源"
    got = await api.get(f"{files}/{kept.json()['id']}", headers=api.holder())
    assert got.content == PDF and got.headers["x-content-type-options"] == "nosniff"
    assert (await api.get(f"{files}/{kept.json()['id']}", headers=api.holder("usr_li"))).status_code == 404

    organiser = api.as_(RoleGrant(Role.COMMITTEE_ORGANISER, ScopeType.COMMITTEE, COMMITTEE), subject="usr_org")
    other = api.as_(RoleGrant(Role.COMMITTEE_ORGANISER, ScopeType.COMMITTEE, str(uuid.uuid4())), subject="usr_x")
    review = f"/review/verifications/{vid}"
    assert (await api.get(review, headers=organiser)).status_code == 404  # not submitted yet
    assert (await api.post(f"/verifications/{vid}/submit", headers=api.holder())).status_code == 200
    late = await api.post(files, params={"filename": "补充.pdf"}, content=PDF, headers=api.holder())
    assert late.status_code == 409
    again = await api.post(f"/verifications/{vid}/social-insurance/sync", headers=api.holder())
    assert again.status_code == 409
    seen = await api.get(review, headers=organiser)
    assert seen.status_code == 200 and seen.json()["content"]["certificate_no"] == HISTORICAL["certificate_no"]
    assert seen.json()["social_insurance"]["records"] and len(seen.json()["attachments"]) == 1
    scan = await api.get(f"{review}/attachments/{kept.json()['id']}", headers=organiser)
    assert scan.status_code == 200 and scan.content == PDF
    assert (await api.get(review, headers=other)).status_code == 404
    assert (await api.get(review, headers=api.holder())).status_code == 404


async def test_the_committee_comes_from_the_directory_or_is_other_and_goes_to_the_authority(api: Api) -> None:
    """Issue 19 item 13: an id the directory does not know would reach nobody, so it is refused; 其他 names a
    review body the directory lacks and the provincial authority verifies it; 专业 is one the committee reviews."""
    unknown = await api.post("/verifications", headers=api.holder(), json={"committee_id": str(uuid.uuid4())})
    assert unknown.status_code == 422 and unknown.json()["field"] == "committee_id"
    assert "其他" in unknown.json()["detail"]
    neither = await api.post("/verifications", headers=api.holder(), json={})
    both = await api.post(
        "/verifications", headers=api.holder(), json={"committee_id": COMMITTEE, "other_committee": "某评委会"}
    )
    assert neither.status_code == 422 and both.status_code == 422

    listed = (await api.post("/verifications", headers=api.holder(), json={"committee_id": COMMITTEE})).json()
    assert listed["committee_name"] == "成都市农业系列中级评委会0706"
    assert "农业机械化" in listed["committee_specialties"]
    put = f"/api/certificates/verifications/{listed['id']}"
    wrong = await api.client.put(
        put,
        headers={**api.holder(), "If-Match": "0"},
        json={**HISTORICAL, "specialty": "园艺", "specialty_other": None},
    )
    assert wrong.status_code == 422 and wrong.json()["field"] == "specialty"
    fine = await api.client.put(
        put, headers={**api.holder(), "If-Match": "0"}, json={**HISTORICAL, "committee_name": "x"}
    )
    assert fine.status_code == 200 and fine.json()["content"]["committee_name"] == "成都市农业系列中级评委会0706"

    other = await api.post("/verifications", headers=api.holder(), json={"other_committee": "重庆市农业系列中级评委会"})
    assert other.status_code == 201 and other.json()["committee_id"] is None
    vid = other.json()["id"]
    content = {**HISTORICAL, "committee_name": "重庆市农业系列中级评委会"}
    saved = await api.client.put(
        f"/api/certificates/verifications/{vid}", headers={**api.holder(), "If-Match": "0"}, json=content
    )
    assert saved.is_success, saved.text
    await add_evidence(api, vid)
    assert (await api.post(f"/verifications/{vid}/submit", headers=api.holder())).status_code == 200
    (asked,) = [e for e in await api.events() if e.type == "certificates.verification.requested"]
    assert asked.data["committee_id"] is None and asked.data["authority_region"] == "510000"
    province = api.as_(RoleGrant(Role.AUTHORITY, ScopeType.REGION, "510000"), subject="usr_sc")
    city = api.as_(RoleGrant(Role.AUTHORITY, ScopeType.REGION, "510100"), subject="usr_cd")
    organiser = api.as_(RoleGrant(Role.COMMITTEE_ORGANISER, ScopeType.COMMITTEE, COMMITTEE), subject="usr_org")
    seen = await api.get(f"/review/verifications/{vid}", headers=province)
    assert seen.status_code == 200 and seen.json()["committee_name"] == "重庆市农业系列中级评委会"
    for outsider in (city, organiser):
        assert (await api.get(f"/review/verifications/{vid}", headers=outsider)).status_code == 404


async def test_my_verifications_page_with_their_total_and_are_the_holders_own(api: Api) -> None:
    made = []
    for _ in range(3):
        created = await api.post("/verifications", headers=api.holder(), json={"committee_id": COMMITTEE})
        made.append(created.json()["id"])
    pages = [
        (await api.get("/verifications", params={"page": n, "size": 2}, headers=api.holder())).json() for n in (1, 2)
    ]
    assert [(p["total"], p["page"], len(p["items"])) for p in pages] == [(3, 1, 2), (3, 2, 1)]
    assert sorted(i["id"] for p in pages for i in p["items"]) == sorted(made)
    assert (await api.get("/verifications", headers=api.holder("usr_li"))).json()["total"] == 0
    assert (await api.get("/verifications", params={"size": 0}, headers=api.holder())).status_code == 422
