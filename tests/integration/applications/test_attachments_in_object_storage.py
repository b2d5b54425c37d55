"""The production shape: APPLICATIONS_ATTACHMENTS_S3_URL plus the standard AWS_* variables put uploads in an
S3-compatible bucket (here moto's server on loopback, or ZC_TEST_S3_ENDPOINT), and nothing on local disk."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from applications.demo_data import load
from integration.applications.conftest import running_api
from integration.applications.test_application_lifecycle import INITIAL
from integration.applications.test_attachments import JPEG
from support.s3 import s3_client, s3_server


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with s3_server() as endpoint:
        yield endpoint


async def test_uploads_go_to_the_bucket_and_come_back(
    applications_db: str, nats_url: str, s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client: Any = s3_client(s3_endpoint)
    bucket = f"zc-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    local = tmp_path / "unused"
    settings = {"attachments_dir": local, "attachments_s3_url": f"s3://{bucket}/applications"}
    async with running_api(applications_db, nats_url, **settings) as api:
        await load(api.database_url, year=2026)
        app = (await api.post("/applications", headers=api.applicant, json=INITIAL)).json()
        photo = await api.post(f"/applications/{app['id']}/photo", content=JPEG, headers=api.applicant)
        assert photo.status_code == 201, photo.text
        keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
        assert len(keys) == 1 and keys[0].startswith("applications/")
        got = await api.get(f"/applications/{app['id']}/attachments/{photo.json()['id']}", headers=api.applicant)
        assert got.status_code == 200 and got.content == JPEG
        fake = await api.post(f"/applications/{app['id']}/photo", content=b"GIF89a" + bytes(64), headers=api.applicant)
        assert fake.status_code == 422
        assert len(client.list_objects_v2(Bucket=bucket).get("Contents", [])) == 1  # the refused one is gone
        removed = await api.client.delete(
            f"/api/applications/applications/{app['id']}/attachments/{photo.json()['id']}", headers=api.applicant
        )
        assert removed.status_code == 204
        assert client.list_objects_v2(Bucket=bucket).get("Contents", []) == []
    assert not local.exists()
