"""The worker's liveness port: answers 200 while the worker runs, closes with it, and is off unless configured."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from zc_messaging.health import serve_liveness


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_the_probe_is_answered_while_the_worker_runs_and_refused_after() -> None:
    port, stop = free_port(), asyncio.Event()
    serving = asyncio.create_task(serve_liveness(stop, port))
    async with httpx.AsyncClient() as client:
        for _ in range(50):  # until the socket listens
            try:
                answer = await client.get(f"http://127.0.0.1:{port}/healthz")
                break
            except httpx.ConnectError:
                await asyncio.sleep(0.02)
        assert answer.status_code == 200 and answer.text == "ok"
        stop.set()
        await asyncio.wait_for(serving, timeout=5)
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{port}/healthz")


async def test_without_a_port_nothing_listens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZC_WORKER_HEALTH_PORT", raising=False)
    await asyncio.wait_for(serve_liveness(asyncio.Event()), timeout=1)  # returns at once instead of serving
