"""A minimal keep-alive HTTP/1.1 client for the in-process benchmarks (review_host, big_inbox): the load generator
shares the 2 cores with the servers it measures and must cost them little — httpx costs milliseconds a request
once hundreds are in flight. It knows only what uvicorn answers here: Content-Length bodies, no chunking."""

from __future__ import annotations

import asyncio


class HttpConnection:
    def __init__(self, port: int, token: str) -> None:
        self.port, self.token = port, token
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, bytes]:
        return await self._request(f"GET {path} HTTP/1.1\r\nHost: svc\r\nAuthorization: Bearer {self.token}\r\n\r\n")

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: svc\r\nAuthorization: Bearer {self.token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        return await self._request(head, body)

    async def _request(self, head: str, body: bytes = b"") -> tuple[int, bytes]:
        if self.writer is None or self.reader is None or self.reader.at_eof():  # uvicorn drops idle ones
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(head.encode() + body)
        answer = await self.reader.readuntil(b"\r\n\r\n")
        length = next(int(line[15:]) for line in answer.lower().split(b"\r\n") if line.startswith(b"content-length:"))
        return int(answer[9:12]), await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
