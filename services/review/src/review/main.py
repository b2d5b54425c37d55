"""Entry point of the review API: `uvicorn review.main:create_app --factory`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from fastapi import FastAPI

from review.api.routes import router
from review.bootstrap import SERVICE, build_container
from review.settings import Settings
from zc_http import create_service_app, load_settings
from zc_telemetry import configure_logging, setup_telemetry

PREFIX = "/api/review"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings(Settings)  # a bad setting stops start-up here, in one line

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        container = await build_container(settings)
        app.state.container = container
        app.state.token_verifier = container.token_verifier
        try:
            yield
        finally:
            await container.aclose()

    async def readiness(app: FastAPI) -> Mapping[str, bool]:
        return await app.state.container.readiness()

    return create_service_app(
        title="职称评审流程服务", prefix=PREFIX, lifespan=lifespan, readiness=readiness, routers=[router]
    )


def main() -> None:
    import uvicorn

    setup_telemetry(SERVICE)
    configure_logging(SERVICE)
    uvicorn.run(create_app(), host="0.0.0.0", port=8000, log_config=None)


if __name__ == "__main__":
    main()
