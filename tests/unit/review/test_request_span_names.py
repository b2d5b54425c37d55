"""Request spans are named after the route template (issue 23): taken from the route the router matched instead of
a second match of every route per request, with the prefix the router was included under."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import httpx
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from review.main import create_app
from review.settings import Settings
from zc_auth import Role, RoleGrant, ScopeType, StaticJwks, TokenVerifier
from zc_auth.testing import TokenFactory
from zc_telemetry import setup_telemetry

UNIT = "0193a1f0-0000-7000-8000-00000000a001"


async def test_server_spans_carry_the_route_template() -> None:
    spans = InMemorySpanExporter()
    setup_telemetry("review").tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    tokens = TokenFactory(issuer="http://127.0.0.1:8000/api/identity", audience="review")
    app = create_app(Settings(database_url="postgresql://x@127.0.0.1:9/x", nats_url="nats://127.0.0.1:9"))
    # no lifespan: the token verifier only; a route that needs the database is never reached
    app.state.token_verifier = TokenVerifier(issuer=tokens.issuer, audience="review", jwks=StaticJwks(tokens.jwks))
    app.state.container = SimpleNamespace(reviews=SimpleNamespace(tasks=None))
    token = tokens.mint("usr_unit", roles=[RoleGrant(Role.UNIT_REVIEWER, ScopeType.UNIT, UNIT)], audience=["review"])
    task = uuid.uuid4()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as client:
        # routed: a body model the request fails (422 from the route's own validation)
        routed = await client.post(
            f"/api/review/tasks/{task}/complete", json={"decision": ""}, headers={"Authorization": f"Bearer {token}"}
        )
        # answered by a middleware before routing (no token: 401)
        unrouted = await client.post(f"/api/review/tasks/{task}/complete", json={"decision": "approve"})
        unknown = await client.get("/api/review/no-such-thing")
    assert (routed.status_code, unrouted.status_code, unknown.status_code) == (422, 401, 404)
    server = [s for s in spans.get_finished_spans() if s.kind.name == "SERVER"]
    names = [(s.name, (s.attributes or {}).get("http.route")) for s in server]
    template = "/api/review/tasks/{task_id}/complete"
    assert names == [(f"POST {template}", template), (f"POST {template}", template), ("GET", None)]
