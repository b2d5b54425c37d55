"""Downloads and uploads of user files, the same way in every service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import StreamingResponse

from zc_http.problems import ProblemError


def content_disposition(filename: str) -> str:
    """RFC 6266: an ASCII fallback plus the UTF-8 name, so Chinese file names survive every browser."""
    fallback = "".join(c if (c.isascii() and c.isalnum()) or c in "._-" else "_" for c in filename) or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def file_download(chunks: AsyncIterator[bytes], *, filename: str, content_type: str, size: int) -> StreamingResponse:
    """Streamed out; never sniffed or cached by the browser (the type was judged by content at upload)."""
    return StreamingResponse(
        chunks,
        media_type=content_type,
        headers={
            "Content-Disposition": content_disposition(filename),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
            "Content-Length": str(size),
        },
    )


# No upload anywhere may declare more than this; each kind's own (smaller) limit is enforced while streaming
UPLOAD_CEILING_BYTES = 100 * 1024 * 1024


def refuse_declared_oversize(request: Request, limit_bytes: int = UPLOAD_CEILING_BYTES) -> None:
    """Refuse at once what declares itself too large; the storage still counts what actually arrives."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit_bytes:
        raise ProblemError("文件过大", status=413, code="attachment.too_large", field="file")
