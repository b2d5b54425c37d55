"""Entry point of the API: `python -m <package>.main` (or uvicorn with `create_app --factory`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI

from applications.api.routes import router
from applications.bootstrap import SERVICE, build_container
from applications.domain.errors import DomainError
from applications.settings import Settings
from zc_auth import AuthenticateBeforeBody
from zc_http import (
    UPLOAD_CEILING_BYTES,
    configured_clock,
    container_lifespan,
    create_service_app,
    load_settings,
    problem_from_domain_error,
    serve_api,
)

PREFIX = "/api/applications"
# uploads (photo, materials, the entrustment letter, entries' files, proofs): the ceiling; each kind's own limit
# is counted by the storage while the file streams in
UPLOAD_ROUTES = (
    r"/api/applications/(applications/[^/]+/(photo|materials|entrustment-letter|sections/[^/]+/entries/[^/]+/attachments)"
    r"|records/[^/]+/[^/]+/(photo|proofs))"
)


def create_app(settings: Settings | None = None, *, clock: Callable[[], datetime] | None = None) -> FastAPI:
    """`clock` lets tests fix "now" (deadlines and work statuses depend on it)."""
    loaded = settings or load_settings(Settings)  # a bad setting stops start-up here, in one line
    clock = clock or configured_clock()  # the dev stack's adjustable clock, else the real one
    app = create_service_app(
        title="职称申报服务",
        prefix=PREFIX,
        lifespan=container_lifespan(lambda: build_container(loaded, clock=clock)),
        routers=[router],
        problem_mappers={DomainError: problem_from_domain_error},
        body_limits=[(UPLOAD_ROUTES, UPLOAD_CEILING_BYTES)],
    )
    app.add_middleware(AuthenticateBeforeBody)  # a body is read only once its sender is known
    return app


def main() -> None:
    serve_api(SERVICE, create_app)


if __name__ == "__main__":
    main()
