"""JsonNulMiddleware holds a JSON body in memory only up to the JSON limit: a bigger one (a route with a larger
limit, e.g. an upload labelled as JSON) streams on to the route unread and unchanged."""

from __future__ import annotations

from starlette.types import Message, Receive, Scope, Send

from zc_http.limits import JSON_BODY_LIMIT, JsonNulMiddleware


async def test_a_body_over_the_json_limit_streams_on_unchanged_without_being_held() -> None:
    chunk = b'["\\u0000' + b"x" * (256 * 1024) + b'"]'
    parts = [chunk] * (2 * JSON_BODY_LIMIT // len(chunk) + 2)
    sent = iter(parts)
    received: list[bytes] = []

    async def receive() -> Message:
        part = next(sent, None)
        return {"type": "http.request", "body": part or b"", "more_body": part is not None}

    async def route(_scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            received.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    answers: list[Message] = []

    async def send(message: Message) -> None:
        answers.append(message)

    scope = {"type": "http", "method": "POST", "path": "/x", "headers": [(b"content-type", b"application/json")]}
    await JsonNulMiddleware(route)(scope, receive, send)
    assert answers[0]["status"] == 200
    assert b"".join(received) == b"".join(parts)
    assert len(received[0]) <= JSON_BODY_LIMIT + len(chunk)  # what was held before giving up
