"""Dev stack: one process per service running its API (uvicorn) and its worker side by side.

In Kubernetes they are two Deployments; on a laptop one process each keeps the stack small.
    python -m zc_devstack.service_host <package> --port N
"""

from __future__ import annotations

import argparse
import asyncio
import importlib

import uvicorn

from zc_http import load_settings
from zc_telemetry import configure_logging, setup_telemetry


async def serve(package: str, port: int) -> None:
    main = importlib.import_module(f"{package}.main")
    worker = importlib.import_module(f"{package}.worker")
    settings_mod = importlib.import_module(f"{package}.settings")
    service = importlib.import_module(f"{package}.bootstrap").SERVICE
    settings = load_settings(settings_mod.Settings)
    setup_telemetry(service)
    configure_logging(service)
    app = main.create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"))
    stop = asyncio.Event()
    worker_task = asyncio.create_task(worker.run(settings, stop), name=f"{service}-worker")
    try:
        await server.serve()  # returns after SIGTERM/SIGINT, once requests in flight are done
    finally:
        stop.set()  # then the worker stops fetching, finishes what it holds and drains
        await worker_task


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("package")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.package, args.port))


if __name__ == "__main__":
    main()
