"""An S3-compatible server for tests: ZC_TEST_S3_ENDPOINT if set (e.g. a MinIO), else moto's standalone
server on loopback. Either way the adapter talks real S3 over HTTP; nothing is patched in-process."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def s3_server() -> Iterator[str]:
    configured = os.environ.get("ZC_TEST_S3_ENDPOINT")
    if configured:
        yield configured
        return
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def s3_client(endpoint: str) -> object:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=os.environ.get("ZC_TEST_S3_KEY", "testing"),
        aws_secret_access_key=os.environ.get("ZC_TEST_S3_SECRET", "testing"),
    )
