"""Entry point of the API: `python -m <package>.main` (or uvicorn with `create_app --factory`)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from identity_bridge.api.routes import router
from identity_bridge.bootstrap import SERVICE, build_container
from identity_bridge.domain.errors import DomainError
from identity_bridge.settings import Settings
from zc_http import container_lifespan, create_service_app, load_settings, problem_from_domain_error, serve_api

PREFIX = "/api/identity"


def create_app(settings: Settings | None = None, *, http: httpx.AsyncClient | None = None) -> FastAPI:
    """`http` reaches the provincial platform (tests pass one that routes to their fake platform)."""
    loaded = settings or load_settings(Settings)  # a bad setting stops start-up here, in one line
    return create_service_app(
        title="统一身份认证桥接服务",
        prefix=PREFIX,
        lifespan=container_lifespan(lambda: build_container(loaded, http=http)),
        routers=[router],
        problem_mappers={DomainError: problem_from_domain_error},
    )


def main() -> None:
    serve_api(SERVICE, create_app)


if __name__ == "__main__":
    main()
