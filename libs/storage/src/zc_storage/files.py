"""The port and what every adapter shares: the stored-file record, content sniffing, the size guard."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
)
HEAD_BYTES = 16
log = logging.getLogger(__name__)


def sniff(head: bytes) -> str | None:
    """The content type the first bytes declare, or None for anything we do not accept."""
    for signature, content_type in _SIGNATURES:
        if head.startswith(signature):
            return content_type
    return None


def new_key() -> str:
    """Server-generated: a short fan-out prefix, then 128 random bits. Never derived from the file name."""
    return f"{secrets.token_hex(2)}/{secrets.token_hex(16)}"


def valid_key(key: str) -> bool:
    head, _, tail = key.partition("/")
    return len(head) == 4 and len(tail) == 32 and (head + tail).isalnum() and (head + tail).islower()


class FileTooLarge(Exception):
    """The upload passed `max_bytes`; raised before the rest of the stream is read."""


@dataclass(frozen=True)
class StoredFile:
    key: str
    size: int
    sha256: str
    content_type: str | None  # judged from the content; None when not an accepted kind


@dataclass
class Meter:
    """Counts, hashes and keeps the first bytes of a stream as it passes; refuses it past the limit."""

    max_bytes: int
    size: int = 0
    head: bytes = b""
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise FileTooLarge(f"file exceeds {self.max_bytes} bytes")
        if len(self.head) < HEAD_BYTES:
            self.head += chunk[: HEAD_BYTES - len(self.head)]
        self.digest.update(chunk)

    def stored(self, key: str) -> StoredFile:
        return StoredFile(key=key, size=self.size, sha256=self.digest.hexdigest(), content_type=sniff(self.head))


class AttachmentStorage(Protocol):
    """Where attachment bytes live. `put` streams in and refuses past `max_bytes` (FileTooLarge) leaving
    nothing behind; `read` streams out; `delete` is idempotent."""

    async def put(self, stream: AsyncIterator[bytes], *, max_bytes: int) -> StoredFile: ...
    def read(self, key: str) -> AsyncIterator[bytes]: ...
    async def delete(self, key: str) -> None: ...


T = TypeVar("T")


async def keep_upload(
    storage: AttachmentStorage,
    stream: AsyncIterator[bytes],
    *,
    max_bytes: int,
    too_large: Callable[[], Exception],
    check: Callable[[str | None], None],
    record: Callable[[StoredFile], Awaitable[T]],
) -> T:
    """Store the bytes (streamed, size checked as they arrive), judge them by content (`check` raises to
    refuse), then `record` them in the caller's database; if judging or recording fails the stored bytes are
    deleted, so nothing half-saved stays behind and nothing saved before is touched."""
    try:
        stored = await storage.put(stream, max_bytes=max_bytes)
    except FileTooLarge:
        raise too_large() from None
    try:
        check(stored.content_type)
        return await record(stored)
    except BaseException:
        await storage.delete(stored.key)
        raise


async def delete_after_commit(storage: AttachmentStorage, keys: list[str]) -> None:
    """Drop the bytes of files whose rows are already gone (call it after the commit): a crash in between
    leaves an unreferenced object, never a row without its bytes; storage being down is logged, not raised."""
    for key in keys:
        try:
            await storage.delete(key)
        except Exception:
            log.warning("could not delete the bytes of a removed attachment", exc_info=True)
