"""The dev gateway and a service that drops a kept-alive connection (issue 17 item 9): a request without a
body is sent again on a fresh connection instead of answering 503; one with a body is not re-sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from zc_devstack.gateway import create_gateway


@pytest.fixture
async def dropping_upstream() -> AsyncIterator[tuple[str, list[str]]]:
    """Answers the first request of each connection and keeps it open; at the second request on the same
    connection it closes without an answer, as a service does with a connection it has just given up."""
    seen: list[str] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        answered = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                seen.append(head.split(b" ", 2)[0].decode())
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                if length:
                    await reader.readexactly(length)
                if answered:
                    break
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok")
                await writer.drain()
                answered += 1
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}", seen


async def test_a_dropped_keepalive_connection_is_retried_for_a_request_without_a_body(
    dropping_upstream: tuple[str, list[str]],
) -> None:
    base, seen = dropping_upstream
    gateway = create_gateway({"applications": base}, None)
    async with gateway.router.lifespan_context(gateway):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://gw") as client:
            for _ in range(3):
                r = await client.get("/api/applications/catalog")
                assert r.status_code == 200 and r.text == "ok", r.text
            assert seen.count("GET") == 5  # the second and third each met the dropped connection once
            posted = await client.post("/api/applications/records/x/submit", content=b"{}")
            assert posted.status_code == 503 and posted.json()["code"] == "gateway.upstream_unavailable"
            assert seen.count("POST") == 1  # not sent twice: the service may have acted on it


async def test_odd_but_harmless_headers_are_forwarded_and_control_characters_are_a_422_naming_where(
    dropping_upstream: tuple[str, list[str]],
) -> None:
    """Found by the API fuzzing: an `Authorization: Bearer ` with its trailing space made h11 refuse to send
    the request (a 503), and a line break in the path matched no route (a plain-text 404)."""
    base, seen = dropping_upstream
    gateway = create_gateway({"applications": base}, None)
    async with gateway.router.lifespan_context(gateway):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://gw") as client:
            r = await client.get("/api/applications/catalog", headers={"authorization": "Bearer "})
            assert r.status_code == 200 and r.text == "ok"
            for path in ("/api/applications/applications/%0A/snapshots/1", "/api/applications/units/%1B"):
                r = await client.get(path)
                assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", r.text
                assert r.json()["field"] == "path" and r.json()["code"] == "http.control_character"
            assert seen == ["GET"]  # neither reached the service


async def test_a_signed_in_visitor_is_told_to_retry_not_sent_on_anonymous_while_the_bridge_is_down(
    dropping_upstream: tuple[str, list[str]],
) -> None:
    """Found by `make chaos`: with the identity bridge restarting, the session was not exchanged and the request
    went on without a token, so the service answered 401 (signed out) to a signed-in user."""
    base, seen = dropping_upstream
    gateway = create_gateway({"applications": base, "identity": "http://127.0.0.1:9"}, None)  # nothing listens
    async with gateway.router.lifespan_context(gateway):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://gw") as client:
            r = await client.get("/api/applications/catalog", cookies={"zc_session": "s"})
            assert r.status_code == 503 and r.json()["code"] == "gateway.identity_unavailable"
            assert r.headers["retry-after"] == "2"
            anonymous = await client.get("/api/applications/catalog")  # no session: nothing to exchange
            assert anonymous.status_code == 200
            assert seen == ["GET"]
