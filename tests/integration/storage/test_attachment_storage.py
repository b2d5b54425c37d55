"""Both attachment storage adapters keep the same promises: server keys, type by content, the size limit
enforced while streaming (the rest of the stream is never read), nothing left behind by a refused upload."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from support.s3 import s3_client, s3_server
from zc_storage import FilesystemStorage, FileTooLarge, S3Storage, storage_from_settings

MiB = 1024 * 1024
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 1000
PDF = b"%PDF-1.7\n" + b"x" * 1000


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with s3_server() as endpoint:
        yield endpoint


class Backend:
    def __init__(self, storage: Any, leftovers: Any) -> None:
        self.storage = storage
        self.leftovers = leftovers  # () -> list of stored object names, including unfinished uploads


@pytest.fixture(params=["filesystem", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "filesystem":
        return Backend(FilesystemStorage(tmp_path), lambda: sorted(str(p) for p in tmp_path.rglob("*") if p.is_file()))
    endpoint = request.getfixturevalue("s3_endpoint")
    client: Any = s3_client(endpoint)
    bucket = f"zc-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)

    def leftovers() -> list[str]:
        objects = [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
        uploads = [u["Key"] for u in client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]
        return sorted(objects + [f"unfinished:{k}" for k in uploads])

    storage = S3Storage(bucket, prefix="attachments", client=client, part_bytes=5 * MiB)
    return Backend(storage, leftovers)


class Source:
    """An upload arriving in chunks; counts how much of it was pulled."""

    def __init__(self, data: bytes, chunk: int = 256 * 1024) -> None:
        self.data, self.chunk, self.pulled = data, chunk, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for i in range(0, len(self.data), self.chunk):
            part = self.data[i : i + self.chunk]
            self.pulled += len(part)
            yield part


async def read_all(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([c async for c in chunks])


async def test_round_trip_types_by_content(backend: Backend) -> None:
    stored = await backend.storage.put(Source(JPEG).__aiter__(), max_bytes=MiB)
    assert stored.content_type == "image/jpeg"
    assert stored.size == len(JPEG) and stored.sha256 == hashlib.sha256(JPEG).hexdigest()
    assert await read_all(backend.storage.read(stored.key)) == JPEG

    fake = await backend.storage.put(Source(b"GIF89a" + b"\x00" * 100).__aiter__(), max_bytes=MiB)
    assert fake.content_type is None  # not an accepted kind, whatever it would be called
    other = await backend.storage.put(Source(PDF).__aiter__(), max_bytes=MiB)
    assert other.content_type == "application/pdf" and other.key != stored.key
    assert len(backend.leftovers()) == 3


async def test_large_file_streams_in_parts(backend: Backend) -> None:
    data = bytes(range(256)) * (11 * MiB // 256) + b"tail"  # S3: three parts of 5 MiB, 5 MiB and the rest
    stored = await backend.storage.put(Source(data).__aiter__(), max_bytes=20 * MiB)
    assert stored.size == len(data)
    back = await read_all(backend.storage.read(stored.key))
    assert hashlib.sha256(back).hexdigest() == hashlib.sha256(data).hexdigest()
    assert backend.leftovers() and not any(k.startswith("unfinished:") for k in backend.leftovers())


@pytest.mark.parametrize("size", [600 * 1024, 12 * MiB])
async def test_too_large_is_refused_early_and_leaves_nothing(backend: Backend, size: int) -> None:
    source = Source(b"%PDF-" + b"\x00" * size)
    with pytest.raises(FileTooLarge):
        await backend.storage.put(source.__aiter__(), max_bytes=size // 2)
    assert source.pulled <= size // 2 + source.chunk  # stopped at the limit, the rest never read
    assert backend.leftovers() == []


async def test_delete_is_idempotent_and_keys_are_checked(backend: Backend) -> None:
    stored = await backend.storage.put(Source(PDF).__aiter__(), max_bytes=MiB)
    await backend.storage.delete(stored.key)
    await backend.storage.delete(stored.key)
    assert backend.leftovers() == []
    for bad in ("../etc/passwd", "abcd/../../x", "ABCD/" + "0" * 32, ""):
        with pytest.raises(ValueError):
            await backend.storage.delete(bad)


def test_settings_choose_the_adapter(tmp_path: Path) -> None:
    assert isinstance(storage_from_settings(None, tmp_path), FilesystemStorage)
    s3 = storage_from_settings("s3://zc-attachments/applications", tmp_path)
    assert isinstance(s3, S3Storage)
    with pytest.raises(ValueError):
        storage_from_settings("http://example.org/x", tmp_path)
