"""Uploads: the photo (JPG/JPEG by content, ≤ 500 KB), committee materials (type, size, count), downloads."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from applications.demo_data import load
from integration.applications.conftest import Api
from integration.applications.test_application_lifecycle import (
    PDF,
    SECTIONS,
    UNIT,
    first_receiving_committee,
    save,
    settings,
)
from zc_auth import Role
from zc_devstack.demo_application import paper

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x11" * 4000 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 500


@pytest.fixture
async def draft(api: Api) -> tuple[Api, dict[str, Any], dict[str, Any]]:
    await load(api.database_url, year=2026)
    committee_id, notice = await first_receiving_committee(api)
    app = (await api.post("/applications", headers=api.applicant, json=settings(committee_id))).json()
    return api, app, notice


async def upload_photo(api: Api, app_id: str, body: bytes, filename: str = "照片.jpg", headers: Any = None) -> Any:
    return await api.post(
        f"/applications/{app_id}/photo", params={"filename": filename}, content=body, headers=headers or api.applicant
    )


async def test_photo_accepted_when_jpeg_and_small_and_downloaded_safely(draft: tuple[Api, Any, Any]) -> None:
    api, app, _ = draft
    r = await upload_photo(api, app["id"], JPEG)
    assert r.status_code == 201, r.text
    photo = r.json()
    assert photo["content_type"] == "image/jpeg" and photo["size"] == len(JPEG)
    got = await api.get(f"/applications/{app['id']}/attachments/{photo['id']}", headers=api.applicant)
    assert got.status_code == 200 and got.content == JPEG
    assert got.headers["x-content-type-options"] == "nosniff"
    assert (
        got.headers["content-disposition"] == f"attachment; filename=\"__.jpg\"; filename*=UTF-8''{quote('照片.jpg')}"
    )
    # a second photo replaces the first
    await upload_photo(api, app["id"], JPEG)
    items = (await api.get(f"/applications/{app['id']}/attachments", headers=api.applicant)).json()["items"]
    assert [i["kind"] for i in items] == ["photo"]


async def test_photo_refused_when_over_500kb(draft: tuple[Api, Any, Any]) -> None:
    api, app, _ = draft
    big = JPEG[:-2] + b"\x00" * (500 * 1024) + b"\xff\xd9"
    r = await upload_photo(api, app["id"], big)
    assert r.status_code == 413 and "500KB" in r.json()["detail"]
    assert (await api.get(f"/applications/{app['id']}/attachments", headers=api.applicant)).json()["items"] == []


@pytest.mark.parametrize("body", [PNG, b"GIF89a" + b"\x00" * 100, b"MZ\x90\x00 not a picture", PDF])
async def test_photo_refused_when_not_jpeg_by_content_whatever_its_name(
    draft: tuple[Api, Any, Any], body: bytes
) -> None:
    api, app, _ = draft
    r = await upload_photo(api, app["id"], body, filename="photo.jpg")
    assert r.status_code == 422 and r.json()["field"] == "photo" and "JPG" in r.json()["detail"]


async def test_materials_honour_type_size_and_count(draft: tuple[Api, Any, Any]) -> None:
    api, app, notice = draft
    single_pdf = next(m for m in notice["required_materials"] if m["type"] == "pdf" and m["max_count"] == 1)

    async def up(body: bytes, name: str = single_pdf["name"]) -> Any:
        return await api.post(
            f"/applications/{app['id']}/materials",
            headers=api.applicant,
            params={"material": name, "filename": "材料.pdf"},
            content=body,
        )

    wrong_type = await up(JPEG)
    assert wrong_type.status_code == 422 and "PDF" in wrong_type.json()["detail"]
    assert (await up(PDF)).status_code == 201
    too_many = await up(PDF)
    assert too_many.status_code == 422 and "最多上传1个" in too_many.json()["detail"]
    unknown = await up(PDF, name="评委会没要求的材料")
    assert unknown.status_code == 422 and unknown.json()["field"] == "material"
    limit = int(single_pdf["max_size_mb"] * 1024 * 1024)
    other = next(m for m in notice["required_materials"] if m["type"] == "pdf" and m["name"] != single_pdf["name"])
    oversized = await up(b"%PDF-1.7\n" + b"0" * (int(other["max_size_mb"] * 1024 * 1024) + 1), name=other["name"])
    assert oversized.status_code == 413 and limit > 0


async def test_someone_else_cannot_upload_or_download(draft: tuple[Api, Any, Any]) -> None:
    api, app, _ = draft
    photo = (await upload_photo(api, app["id"], JPEG)).json()
    stranger = api.as_(Role.APPLICANT, subject="usr_stranger")
    assert (await api.get(f"/applications/{app['id']}/attachments/{photo['id']}", headers=stranger)).status_code == 404
    assert (await upload_photo(api, app["id"], JPEG, headers=stranger)).status_code == 404
    assert (await api.get(f"/applications/{app['id']}/attachments/{photo['id']}")).status_code == 401


async def test_removed_material_is_gone_from_the_list(draft: tuple[Api, Any, Any]) -> None:
    api, app, notice = draft
    name = notice["required_materials"][0]["name"]
    up = await api.post(
        f"/applications/{app['id']}/materials",
        headers=api.applicant,
        params={"material": name, "filename": "a.pdf"},
        content=PDF,
    )
    att = up.json()["id"]
    assert (
        await api.client.delete(f"/api/applications/applications/{app['id']}/attachments/{att}", headers=api.applicant)
    ).status_code == 204
    assert (await api.get(f"/applications/{app['id']}/attachments", headers=api.applicant)).json()["items"] == []
    assert UNIT


async def test_entrusted_review_needs_the_entrustment_letter_to_submit(api: Api) -> None:
    await load(api.database_url, year=2026)
    query = {"unit_id": UNIT, "method": "WEITUO", "series": "NONGYE", "level": "ZHONGJI", "year": 2026}
    listing = (await api.get("/committees/query", params=query)).json()["entrusted"]["items"]
    committee = next(i for i in listing if i["selectable"])
    notice = (await api.get(f"/committees/{committee['id']}/activities/2026")).json()
    created = await api.post("/applications", headers=api.applicant, json=settings(committee["id"], method="WEITUO"))
    assert created.status_code == 201, created.text
    app = created.json()
    assert app["settings"]["entrustment_letter_required"] is True
    for name, body in SECTIONS.items():
        assert (await save(api, app["id"], name, body)).status_code == 200, name
    counting = next(t for t in notice["achievement_templates"] if t["counts"] and t["form"] == "paper")
    assert (await save(api, app["id"], "achievements", [paper(counting["code"])])).status_code == 200
    for material in notice["required_materials"]:
        if material["required"]:
            params = {"material": material["name"], "filename": "m.pdf"}
            await api.post(f"/applications/{app['id']}/materials", params=params, content=PDF, headers=api.applicant)
    missing = await api.post(f"/applications/{app['id']}/submit", headers=api.applicant)
    assert missing.status_code == 422 and missing.json()["field"] == "entrustment_letter", missing.text
    assert "委托评审函" in missing.json()["detail"]
    letter = f"/applications/{app['id']}/entrustment-letter"
    fake = await api.post(letter, content=b"MZ\x90\x00", headers=api.applicant)
    assert fake.status_code == 422
    for _ in range(2):  # a second letter replaces the first
        r = await api.post(letter, params={"filename": "委托评审函.pdf"}, content=PDF, headers=api.applicant)
        assert r.status_code == 201, r.text
    files = (await api.get(f"/applications/{app['id']}/attachments", headers=api.applicant)).json()["items"]
    assert [f["kind"] for f in files].count("entrustment_letter") == 1
    done = await api.post(f"/applications/{app['id']}/submit", headers=api.applicant)
    assert done.status_code == 200, done.text


async def test_direct_review_takes_no_entrustment_letter(draft: tuple[Api, Any, Any]) -> None:
    api, app, _ = draft
    r = await api.post(f"/applications/{app['id']}/entrustment-letter", content=PDF, headers=api.applicant)
    assert r.status_code == 422 and r.json()["field"] == "kind"
