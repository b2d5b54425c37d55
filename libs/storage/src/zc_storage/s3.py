"""The S3-compatible adapter (production: any S3 API — AWS, MinIO, Ceph RGW, OSS/COS gateways).

boto3 is synchronous, so each call runs in a worker thread. Uploads stream: bytes are gathered into parts of
PART_BYTES (S3's multipart minimum is 5 MiB), so memory stays bounded whatever the file size, and the size
limit is checked on every chunk. A refused or failed upload is aborted, leaving nothing behind. Credentials,
region and endpoint come from the standard AWS settings (AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL, …).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import anyio
import boto3
from botocore.config import Config

from zc_storage.files import AttachmentStorage, Meter, StoredFile, new_key, valid_key
from zc_storage.filesystem import FilesystemStorage

PART_BYTES = 8 * 1024 * 1024
READ_BYTES = 64 * 1024
T = TypeVar("T")


class S3Storage:
    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        client: Any = None,
        endpoint_url: str | None = None,
        server_side_encryption: str | None = None,
        part_bytes: int = PART_BYTES,
    ) -> None:
        if part_bytes < 5 * 1024 * 1024:
            raise ValueError("S3 multipart parts must be at least 5 MiB")
        self._part_bytes = part_bytes
        self._bucket = bucket
        self._prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self._client = client or boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            config=Config(connect_timeout=3, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"}),
        )
        self._sse = {"ServerSideEncryption": server_side_encryption} if server_side_encryption else {}

    def _name(self, key: str) -> str:
        if not valid_key(key):
            raise ValueError("bad storage key")
        return self._prefix + key

    async def _call(self, fn: Callable[..., T], /, **kwargs: Any) -> T:
        return await anyio.to_thread.run_sync(partial(fn, **kwargs))

    async def put(self, stream: AsyncIterator[bytes], *, max_bytes: int) -> StoredFile:
        key = new_key()
        name = self._name(key)
        meter = Meter(max_bytes)
        pending = bytearray()
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        try:
            async for chunk in stream:
                meter.feed(chunk)
                pending += chunk
                if len(pending) >= self._part_bytes:
                    if upload_id is None:
                        started = await self._call(
                            self._client.create_multipart_upload, Bucket=self._bucket, Key=name, **self._sse
                        )
                        upload_id = str(started["UploadId"])
                    parts.append(await self._part(name, upload_id, len(parts) + 1, bytes(pending)))
                    pending.clear()
            if upload_id is None:
                content_type = meter.stored(key).content_type or "application/octet-stream"
                await self._call(
                    self._client.put_object,
                    Bucket=self._bucket,
                    Key=name,
                    Body=bytes(pending),
                    ContentType=content_type,
                    **self._sse,
                )
            else:
                if pending:
                    parts.append(await self._part(name, upload_id, len(parts) + 1, bytes(pending)))
                await self._call(
                    self._client.complete_multipart_upload,
                    Bucket=self._bucket,
                    Key=name,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
        except BaseException:
            if upload_id is not None:
                with anyio.CancelScope(shield=True):
                    await self._call(
                        self._client.abort_multipart_upload, Bucket=self._bucket, Key=name, UploadId=upload_id
                    )
            raise
        return meter.stored(key)

    async def _part(self, name: str, upload_id: str, number: int, body: bytes) -> dict[str, Any]:
        done = await self._call(
            self._client.upload_part, Bucket=self._bucket, Key=name, UploadId=upload_id, PartNumber=number, Body=body
        )
        return {"PartNumber": number, "ETag": done["ETag"]}

    async def read(self, key: str) -> AsyncIterator[bytes]:
        found = await self._call(self._client.get_object, Bucket=self._bucket, Key=self._name(key))
        body = found["Body"]
        try:
            while chunk := await anyio.to_thread.run_sync(body.read, READ_BYTES):
                yield chunk
        finally:
            body.close()

    async def delete(self, key: str) -> None:
        await self._call(self._client.delete_object, Bucket=self._bucket, Key=self._name(key))


def storage_from_settings(
    s3_url: str | None, directory: Path, *, server_side_encryption: str | None = None
) -> AttachmentStorage:
    """`s3://bucket/optional/prefix` selects object storage; without it files go to `directory`."""
    if not s3_url:
        return FilesystemStorage(directory)
    parts = urlsplit(s3_url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError("attachment storage URL must look like s3://bucket/prefix")
    return S3Storage(parts.netloc, prefix=parts.path, server_side_encryption=server_side_encryption)
