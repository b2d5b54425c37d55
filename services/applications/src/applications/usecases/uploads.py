"""Use cases: keeping an upload — shared by applications and personal records.

The bytes are stored first (streamed, the size checked as they arrive), then judged by their content, then
recorded in the database; if judging or recording fails, the stored bytes are deleted, so nothing
half-saved stays behind and nothing already saved is touched."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from applications.domain.files import FileTooLargeError
from zc_storage import AttachmentStorage, FileTooLarge, StoredFile

T = TypeVar("T")


async def keep_upload(
    storage: AttachmentStorage,
    stream: AsyncIterator[bytes],
    *,
    max_bytes: int,
    too_large: str,
    check: Callable[[str | None], None],
    record: Callable[[StoredFile], Awaitable[T]],
) -> T:
    try:
        stored = await storage.put(stream, max_bytes=max_bytes)
    except FileTooLarge:
        raise FileTooLargeError(too_large, field="file") from None
    try:
        check(stored.content_type)
        return await record(stored)
    except BaseException:
        await storage.delete(stored.key)
        raise


def file_view(f: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(f["id"]),
        "kind": f["kind"],
        "material_name": f["material_name"],
        "filename": f["filename"],
        "content_type": f["content_type"],
        "size": f["size"],
        "sha256": f["sha256"],
    }


def file_row(stored: StoredFile, *, kind: str, filename: str, material: str | None = None) -> dict[str, Any]:
    return {
        "kind": kind,
        "material_name": material,
        "filename": filename[:200] or "未命名",
        "content_type": stored.content_type,
        "size": stored.size,
        "sha256": stored.sha256,
        "storage_key": stored.key,
    }
