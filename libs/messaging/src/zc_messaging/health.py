"""The worker's liveness answer for Kubernetes: `GET` anything on ZC_WORKER_HEALTH_PORT gets 200 while the
worker's event loop runs. A worker has no HTTP API; starting uvicorn beside our own signal handling would
fight over SIGTERM, so this is a few lines of asyncio (a probe needs a status line, nothing more)."""

from __future__ import annotations

import asyncio
import contextlib
import os

HEALTH_PORT_ENV = "ZC_WORKER_HEALTH_PORT"
_ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)  # the request; its content is not read
        writer.write(_ANSWER)
        await writer.drain()
    writer.close()


async def serve_liveness(stop: asyncio.Event, port: int | None = None) -> None:
    """Answer probes until `stop`; nothing when no port is configured (tests, the dev stack)."""
    port = port if port is not None else int(os.environ.get(HEALTH_PORT_ENV, "0") or 0)
    if not port:
        return
    # every interface: the kubelet probes the pod IP
    server = await asyncio.start_server(_answer, host="0.0.0.0", port=port)
    async with server:
        await stop.wait()
