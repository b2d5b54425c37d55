"""Uploads, the same way in every service: a `multipart/form-data` body with one part named `file` (what browsers,
Swagger UI and generated clients send), or the raw bytes with the name in the query. Either way the file is
streamed on: python-multipart parses each chunk as it arrives, so the storage counts bytes (and refuses an
oversize file) without the whole body ever being held or spooled."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from zc_http.files import refuse_declared_oversize
from zc_http.problems import ProblemError

FILE_PART = "file"


def upload_body(description: str) -> dict[str, Any]:
    """The OpenAPI request body of an upload route (pass as `openapi_extra`)."""
    binary = {"type": "string", "format": "binary", "title": "文件"}
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "title": "上传文件",
                        "properties": {FILE_PART: binary},
                        "required": [FILE_PART],
                        "additionalProperties": False,
                    }
                },
                "application/octet-stream": {"schema": binary},
            },
        }
    }


@dataclass
class Upload:
    filename: str  # as the sender named it: shown, never used as a path
    chunks: AsyncIterator[bytes]


def _bad(reason: str) -> ProblemError:
    return ProblemError(reason, status=422, code="attachment.malformed", field="file")


def _utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


class _FilePart:
    """Callbacks of python-multipart's parser: keeps the headers of the part being read, collects the data of the
    one `file` part, and refuses any other part (an allowlist: an upload body carries the file and nothing else)."""

    def __init__(self) -> None:
        self.header_field = b""
        self.header_value = b""
        self.disposition = b""
        self.in_file = False
        self.started = False
        self.filename: str | None = None
        self.finished = False
        self.ended = False
        self.pending: list[bytes] = []

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda data, start, end: self._add(data, start, end, "header_field"),
            "on_header_value": lambda data, start, end: self._add(data, start, end, "header_value"),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _add(self, data: bytes, start: int, end: int, attr: str) -> None:
        setattr(self, attr, getattr(self, attr) + data[start:end])

    def _part_begin(self) -> None:
        self.disposition = b""

    def _header_end(self) -> None:
        if self.header_field.strip().lower() == b"content-disposition":
            self.disposition = self.header_value
        self.header_field = self.header_value = b""

    def _headers_finished(self) -> None:
        kind, options = parse_options_header(self.disposition.decode("latin-1"))
        name = options.get(b"name", b"").decode("latin-1")
        if kind != b"form-data" or name != FILE_PART:
            raise _bad(f"上传内容只能包含一个名为 {FILE_PART} 的文件部分")
        if self.started:
            raise _bad("一次只能上传一个文件")
        self.started = self.in_file = True
        raw = options.get(b"filename")
        self.filename = _utf8(raw) if raw else None

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self.in_file and end > start:
            self.pending.append(data[start:end])

    def _part_end(self) -> None:
        if self.in_file:
            self.in_file, self.finished = False, True

    def _end(self) -> None:
        self.ended = True

    def take(self) -> list[bytes]:
        out, self.pending = self.pending, []
        return out


def _named(*names: str | None) -> str:
    name = next((n for n in names if n), None)
    if name is None:
        raise ProblemError("请提供文件名", status=422, code="attachment.malformed", field="filename")
    return name


async def received_file(request: Request, *, filename: str | None = None, default_name: str | None = None) -> Upload:
    """The uploaded file's name and a stream of its bytes. A multipart body is read until its file part begins
    (so the name is known), then passed on chunk by chunk; a raw body is passed on as it is. The name: the part's,
    else `filename` (the query), else `default_name`. A malformed body is a 422 on the field `file`."""
    refuse_declared_oversize(request)
    kind, options = parse_options_header(request.headers.get("content-type"))
    if kind != b"multipart/form-data":
        return Upload(filename=_named(filename, default_name), chunks=request.stream())
    boundary = options.get(b"boundary")
    if not boundary:
        raise _bad("multipart/form-data 请求缺少 boundary")
    part = _FilePart()
    try:
        parser = MultipartParser(boundary, part.callbacks())  # type: ignore[arg-type]
    except ValueError as exc:
        raise _bad("multipart/form-data 的 boundary 不正确") from exc
    body = request.stream()

    def feed(chunk: bytes) -> None:
        try:
            parser.write(chunk)
        except MultipartParseError as exc:
            raise _bad("上传内容格式不正确") from exc

    async for chunk in body:  # up to the start of the file part, so its name is known
        feed(chunk)
        if part.started or part.ended:
            break
    if not part.started:
        raise _bad("请选择要上传的文件")

    async def chunks() -> AsyncIterator[bytes]:
        for piece in part.take():
            yield piece
        async for chunk in body:
            feed(chunk)
            for piece in part.take():
                yield piece
        if not part.finished:
            raise _bad("上传内容不完整")

    return Upload(filename=_named(part.filename, filename, default_name), chunks=chunks())
