"""Entry point of the API: `python -m <package>.main` (or uvicorn with `create_app --factory`)."""

from __future__ import annotations

from fastapi import FastAPI

from review.api.routes import router
from review.bootstrap import SERVICE, build_container
from review.settings import Settings
from zc_http import container_lifespan, create_service_app, load_settings, serve_api

PREFIX = "/api/review"


def create_app(settings: Settings | None = None) -> FastAPI:
    loaded = settings or load_settings(Settings)  # a bad setting stops start-up here, in one line
    return create_service_app(
        title="职称评审流程服务",
        prefix=PREFIX,
        lifespan=container_lifespan(lambda: build_container(loaded)),
        routers=[router],
    )


def main() -> None:
    serve_api(SERVICE, create_app)


if __name__ == "__main__":
    main()
