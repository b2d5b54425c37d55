"""Entry point of the API: `python -m <package>.main` (or uvicorn with `create_app --factory`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI

from review.api.routes import router
from review.bootstrap import SERVICE, build_container
from review.domain.errors import DomainError
from review.settings import Settings
from zc_auth import AuthenticateBeforeBody
from zc_http import (
    configured_clock,
    container_lifespan,
    create_service_app,
    load_settings,
    problem_from_domain_error,
    serve_api,
)

PREFIX = "/api/review"
DIAGRAM_BODY_LIMIT = 16 * 1024 * 1024


def create_app(settings: Settings | None = None, *, clock: Callable[[], datetime] | None = None) -> FastAPI:
    """`clock` lets tests fix "now" (timers and due dates depend on it)."""
    loaded = settings or load_settings(Settings)  # a bad setting stops start-up here, in one line
    clock = clock or configured_clock()  # the dev stack's adjustable clock, else the real one
    app = create_service_app(
        title="职称评审流程服务",
        prefix=PREFIX,
        lifespan=container_lifespan(lambda: build_container(loaded, clock=clock)),
        routers=[router],
        problem_mappers={DomainError: problem_from_domain_error},
        # a diagram: up to 2 M characters (3 bytes each in UTF-8) and its DMN tables, as JSON
        body_limits=[(r"/api/review/definitions(/validate)?", DIAGRAM_BODY_LIMIT)],
    )
    app.add_middleware(AuthenticateBeforeBody)  # a body is read only once its sender is known
    return app


def main() -> None:
    serve_api(SERVICE, create_app)


if __name__ == "__main__":
    main()
