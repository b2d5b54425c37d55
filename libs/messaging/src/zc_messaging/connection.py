"""Messaging: a NATS connection that keeps trying (start-up and outages) instead of crashing the service."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import nats
from nats.aio.client import Client

log = logging.getLogger("zc_messaging.connection")


class NatsConnection:
    """Owns one client. `start()` returns at once; the connection comes up in the background."""

    def __init__(self, url: str, *, name: str) -> None:
        self.url = url
        self.name = name
        self.client: Client | None = None
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()

    @property
    def is_connected(self) -> bool:
        return self.client is not None and self.client.is_connected

    def jetstream(self) -> Any:
        if self.client is None:
            raise ConnectionError("NATS not connected yet")
        return self.client.jetstream(timeout=5.0)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._connect_forever(), name=f"nats-connect-{self.name}")

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Until connected (now, not just once): raises TimeoutError after `timeout` seconds."""
        await asyncio.wait_for(self._connected.wait(), timeout)

    async def _connect_forever(self) -> None:
        delay = 0.5
        while True:
            try:
                self.client = await nats.connect(
                    self.url,
                    name=self.name,
                    connect_timeout=2,
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,  # after the first connect the client itself reconnects
                    reconnect_time_wait=1,
                    error_cb=self._on_error,
                    disconnected_cb=self._on_disconnected,
                    reconnected_cb=self._on_reconnected,
                )
                self._connected.set()
                log.info("connected to NATS")
                return
            except Exception as exc:
                log.warning("NATS not reachable (%s), retrying in %.1fs", type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _on_error(self, exc: Exception) -> None:
        log.debug("NATS client error: %s", exc)

    async def _on_disconnected(self) -> None:
        # waiters block again until the client is back; a loop that waits for the connection must not spin
        self._connected.clear()
        log.warning("NATS disconnected")

    async def _on_reconnected(self) -> None:
        self._connected.set()
        log.info("NATS reconnected")

    async def close(self) -> None:
        """Drain: stop receiving, flush what is pending, then close."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.client is None or self.client.is_closed:
            return
        if not self.client.is_connected:  # nothing to drain while the server is away
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await self.client.close()
            return
        try:
            await asyncio.wait_for(self.client.drain(), timeout=10)
        except (Exception, asyncio.CancelledError):  # nats-py cancels internally if the link drops mid-drain
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await self.client.close()
