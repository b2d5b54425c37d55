"""Bodies before and after authentication (issue 17, item 3): an anonymous caller is refused before a single byte
of its body is read, and no body is read past its route's limit — declared or streamed."""

from __future__ import annotations

from collections.abc import AsyncIterator

from integration.review.conftest import HOST_TEST_BPMN, Api
from zc_auth import Role
from zc_http import JSON_BODY_LIMIT

CHUNK = b"x" * 65536


class Body:
    """A request body that counts how much of it the service pulled."""

    def __init__(self, total: int) -> None:
        self.total, self.sent = total, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.sent < self.total:
            self.sent += len(CHUNK)
            yield CHUNK


async def test_an_anonymous_body_is_refused_before_it_is_read(api: Api) -> None:
    body = Body(400 * 1024 * 1024)
    r = await api.client.post(
        "/api/review/tasks/0193a1f0-0000-7000-8000-000000000001/complete",
        content=body,
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
    assert body.sent <= len(CHUNK)  # at most what the transport pre-fetched, never the 400 MB


async def test_a_body_past_its_route_limit_is_refused_while_streaming(api: Api) -> None:
    body = Body(50 * 1024 * 1024)
    r = await api.client.post(
        "/api/review/tasks/0193a1f0-0000-7000-8000-000000000001/complete",
        content=body,
        headers={**api.unit_reviewer(), "content-type": "application/json"},
    )
    assert r.status_code == 413, r.text
    assert r.headers["content-type"].startswith("application/problem+json") and "过大" in r.json()["detail"]
    assert body.sent <= JSON_BODY_LIMIT + 2 * len(CHUNK)


async def test_a_declared_oversize_is_refused_at_once_and_a_diagram_has_its_own_limit(api: Api) -> None:
    designer = api.as_(Role.PROCESS_DESIGNER, subject="usr_designer")
    r = await api.client.post(
        "/api/review/tasks/0193a1f0-0000-7000-8000-000000000001/complete",
        content=b"{" + b" " * (JSON_BODY_LIMIT + 10) + b"}",
        headers={**api.unit_reviewer(), "content-type": "application/json"},
    )
    assert r.status_code == 413
    # a diagram with a 1.5 MB comment is over the JSON limit but within the diagram route's own
    big = HOST_TEST_BPMN.replace("<bpmn:process ", "<!--" + "注" * 500_000 + "-->\n  <bpmn:process ", 1)
    checked = await api.post(
        "/definitions/validate", headers=designer, json={"process_key": "host_test", "source": big}
    )
    assert checked.status_code == 200 and checked.json()["valid"] is True, checked.text[:300]
