"""Certificates: exactly one per approval (duplicates, concurrent consumers), gapless numbers under
concurrency, the signed PDF, 我的证书, revocation, and the public check (masked, rate-limited)."""

from __future__ import annotations

import asyncio
import io
import uuid
from typing import Any

import httpx
import pypdf
import pytest
from sqlalchemy import text

from certificates.adapters.db.tables import messaging
from certificates.consumers import handlers
from certificates.domain.errors import HolderUnavailableError
from integration.certificates.conftest import Api, approval
from support.consume import consume


async def test_an_approval_issues_one_signed_certificate(api: Api, holder_lookups: list[dict[str, Any]]) -> None:
    event = approval()
    row = await api.issue(event)
    assert row is not None and row["certificate_no"] == "512026GC000001"
    assert holder_lookups == [{"user_id": "usr_zhang", "requester": "certificates", "purpose": "certificate_issuance"}]
    assert await api.issue(event) is None  # the same approval again: nothing new
    assert await api.issue(approval(application_id=event_app(event))) is None  # another envelope, same approval
    assert len(await api.rows()) == 1
    issued = [e for e in await api.events() if e.type == "certificates.certificate.issued"]
    assert len(issued) == 1 and issued[0].data["certificate_no"] == "512026GC000001"
    assert issued[0].causation_id == event.id and issued[0].correlation_id == event.correlation_id


def event_app(event: Any) -> uuid.UUID:
    return uuid.UUID(event.data["application_id"])


async def test_two_concurrent_consumers_issue_once(api: Api) -> None:
    event = approval()
    results = await asyncio.gather(api.issue(event), api.issue(event), api.issue(event))
    assert sum(r is not None for r in results) == 1
    assert [r["certificate_no"] for r in await api.rows()] == ["512026GC000001"]


async def test_numbers_have_no_gaps_or_twins_under_eight_issuers(api: Api) -> None:
    async def issuer(n: int) -> None:
        for _ in range(5):
            await api.issue(approval(series="GC" if n % 2 else "JJ"))

    await asyncio.gather(*(issuer(n) for n in range(8)))
    numbers = sorted(r["certificate_no"] for r in await api.rows())
    assert numbers == sorted([f"512026GC{i:06d}" for i in range(1, 21)] + [f"512026JJ{i:06d}" for i in range(1, 21)])


async def test_a_failed_issuance_gives_its_number_back(api: Api) -> None:
    with pytest.raises(HolderUnavailableError):
        await api.issue(approval("usr_unknown"))
    await api.issue(approval())
    assert [r["certificate_no"] for r in await api.rows()] == ["512026GC000001"]


async def test_my_certificates_and_the_pdf(api: Api) -> None:
    row = await api.issue(approval())
    assert row is not None
    mine = (await api.get("/certificates/mine", headers=api.holder())).json()["items"]
    assert [(c["certificate_no"], c["status_name"], c["holder_id_masked"]) for c in mine] == [
        ("512026GC000001", "有效", "**************5532")
    ]
    assert mine[0]["check_url"].startswith("https://zhicheng.example/certificate-check/")  # the portal's page
    pdf = await api.get(f"/certificates/{row['id']}/pdf", headers=api.holder())
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["x-content-type-options"] == "nosniff"
    assert pdf.headers["content-disposition"] == (
        "attachment; filename=\"certificate-512026GC000001.pdf\"; filename*=UTF-8''certificate-512026GC000001.pdf"
    )
    text_of_pdf = pypdf.PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert "张三" in text_of_pdf and "512026GC000001" in text_of_pdf and "工程师" in text_of_pdf
    other = await api.get(f"/certificates/{row['id']}/pdf", headers=api.holder("usr_li"))
    assert other.status_code == 404
    assert (await api.get(f"/certificates/{row['id']}", headers=api.holder("usr_li"))).status_code == 404
    assert (await api.get("/certificates/mine", headers=api.holder("usr_li"))).json()["items"] == []


async def test_public_check_by_number_and_name_and_by_qr(api: Api) -> None:
    row = await api.issue(approval())
    assert row is not None
    found = (await api.get("/public/check", params={"number": "512026GC000001", "name": "张三"})).json()
    assert found["result"] == "valid" and found["signature_valid"] is True
    assert found["holder_name"] == "张*" and found["holder_id_masked"] == "**************5532"
    wrong_name = (await api.get("/public/check", params={"number": "512026GC000001", "name": "李四"})).json()
    unknown = (await api.get("/public/check", params={"number": "512026GC999999", "name": "张三"})).json()
    assert wrong_name == unknown == {"result": "not_found", "result_name": "未查询到该证书"}
    by_qr = (await api.get(f"/public/check/{row['qr_token']}")).json()
    assert by_qr["result"] == "valid" and by_qr["certificate_no"] == "512026GC000001"


async def test_the_public_check_is_rate_limited_per_client(api: Api) -> None:
    params = {"number": "512026GC000001", "name": "张三"}
    codes = [(await api.get("/public/check", params=params)).status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]
    limited = await api.get("/public/check", params=params)
    assert limited.headers["content-type"].startswith("application/problem+json") and "频繁" in limited.json()["detail"]
    other_client = await api.get("/public/check", params=params, headers={"X-Forwarded-For": "10.0.0.9"})
    assert other_client.status_code == 200
    api.clock.now = api.clock.now.replace(minute=api.clock.now.minute + 1)
    assert (await api.get("/public/check", params=params)).status_code == 200


async def test_the_rate_limit_trusts_x_forwarded_for_only_from_a_configured_proxy(api: Api) -> None:
    """An untrusted peer cannot escape the limit by inventing a new X-Forwarded-For on every request (issue 17,
    item 7); the trusted proxy (127.0.0.1 here, the dev gateway) still tells its visitors apart."""
    params = {"number": "512026GC000001", "name": "张三"}
    transport = httpx.ASGITransport(app=api.app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as stranger:
        codes = [
            (
                await stranger.get(
                    "/api/certificates/public/check", params=params, headers={"X-Forwarded-For": f"10.9.0.{i}"}
                )
            ).status_code
            for i in range(6)
        ]
    assert codes == [200] * 5 + [429]
    via_gateway = await api.get("/public/check", params=params, headers={"X-Forwarded-For": "198.51.100.4"})
    assert via_gateway.status_code == 200


async def test_a_nul_character_or_an_oversized_version_is_a_4xx_not_a_500(api: Api) -> None:
    """PostgreSQL text cannot hold NUL; a version header may be any text (issue 17, item 9)."""
    by_number = await api.get("/public/check", params={"number": "5120\x0026GC000001", "name": "张\x00三"})
    by_token = await api.get("/public/check/abc%00def")
    for refused in (by_number, by_token):
        assert refused.status_code in (404, 422), refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
    assert by_number.status_code == 422 and by_number.json()["field"] == "number"  # the first one named
    assert by_token.status_code == 422 and by_token.json()["field"] == "path"
    assert "控制字符" in by_number.json()["detail"]
    huge = await api.client.put(
        "/api/certificates/verifications/0193a1f0-0000-7000-8000-000000000001",
        headers={**api.holder(), "If-Match": "9" * 5000},
        json={},
    )
    assert huge.status_code == 428, huge.text


SIGNED_CHANGES = {
    "holder_name": "'王五'",
    "holder_id_masked": "'**************9999'",
    "qualification_name": "'高级工程师'",
    "document_number": "'伪造〔2026〕1号'",
    "issue_date": "DATE '2025-01-01'",
    "issuing_authority": "'某单位'",
    "level_code": "'FUGAO'",
}


@pytest.mark.parametrize("column", sorted(SIGNED_CHANGES))
async def test_a_tampered_certificate_fails_the_check(api: Api, column: str) -> None:
    row = await api.issue(approval())
    assert row is not None
    async with api.service._sessions() as s, s.begin():
        await s.execute(text(f"UPDATE certificates SET {column} = {SIGNED_CHANGES[column]}"))
    result = (await api.get(f"/public/check/{row['qr_token']}")).json()
    assert result["result"] == "tampered" and result["signature_valid"] is False


async def test_revocation_by_the_authority(api: Api) -> None:
    row = await api.issue(approval())
    assert row is not None
    denied = await api.post(f"/certificates/{row['id']}/revoke", headers=api.holder(), json={"reason": "自行撤销"})
    assert denied.status_code == 403
    revoked = await api.post(
        f"/certificates/{row['id']}/revoke", headers=api.authority, json={"reason": "申报材料弄虚作假"}
    )
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    again = await api.post(f"/certificates/{row['id']}/revoke", headers=api.authority, json={"reason": "重复"})
    assert again.status_code == 409
    mine = (await api.get("/certificates/mine", headers=api.holder())).json()["items"]
    assert mine[0]["status_name"] == "已撤销" and mine[0]["revoke_reason"] == "申报材料弄虚作假"
    check = (await api.get(f"/public/check/{row['qr_token']}")).json()
    assert check["result"] == "revoked" and check["signature_valid"] is True
    assert [e.type for e in await api.events()][-1] == "certificates.certificate.revoked"
    pdf = await api.get(f"/certificates/{row['id']}/pdf", headers=api.holder())
    assert "已撤销" in pypdf.PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    async with api.service._sessions() as s:
        audited = (await s.execute(text("SELECT actor, action, details->>'reason' FROM audit"))).all()
    assert [tuple(a) for a in audited] == [("user:usr_authority", "revoke", "申报材料弄虚作假")]


async def test_redelivery_over_jetstream_issues_once(api: Api, clean_jetstream: str) -> None:
    """The same approval delivered three times: a re-publish (new message id, same event: the inbox drops it,
    as after a crash between the insert and the ack) and a second event for the same approval."""
    event = approval()
    twin = approval(application_id=event_app(event))
    stats = await consume(
        clean_jetstream,
        api.database_url,
        durable="certificates__review_approved",
        handler=handlers(api.service, api.verifications)["certificates__review_approved"],
        tables=messaging,
        messages=[(event, "a"), (event, "b"), (twin, "c")],
    )
    assert (stats.applied, stats.duplicates_suppressed) == (2, 1)
    assert [r["certificate_no"] for r in await api.rows()] == ["512026GC000001"]
    assert len([e for e in await api.events() if e.type == "certificates.certificate.issued"]) == 1


async def test_my_certificates_page_with_their_total(api: Api) -> None:
    for _ in range(3):
        await api.issue(approval())
    pages = [
        (await api.get("/certificates/mine", params={"page": n, "size": 2}, headers=api.holder())).json()
        for n in (1, 2)
    ]
    assert [(p["total"], p["page"], p["size"], len(p["items"])) for p in pages] == [(3, 1, 2, 2), (3, 2, 2, 1)]
    numbers = sorted(c["certificate_no"] for p in pages for c in p["items"])
    assert numbers == ["512026GC000001", "512026GC000002", "512026GC000003"]
    assert (await api.get("/certificates/mine", params={"page": 1001}, headers=api.holder())).status_code == 422
