"""Uploads: the photo (JPG/JPEG by content, ≤ 500 KB), committee materials (type, size, count), downloads."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from applications.demo_data import load
from integration.applications.conftest import Api
from integration.applications.test_application_lifecycle import PDF, UNIT, first_receiving_committee, settings
from zc_auth import Role

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
