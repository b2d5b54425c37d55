"""Statement spans (SQLAlchemy instrumentation) exist only when telemetry leaves the process: unexported,
they cost the review service ~15 % of its throughput (decision 0006)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = (
    "from zc_telemetry import setup_telemetry\n"
    "from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor\n"
    "setup_telemetry('probe')\n"
    "print('instrumented:', SQLAlchemyInstrumentor().is_instrumented_by_opentelemetry)\n"
)


@pytest.mark.parametrize(
    ("traces", "metrics", "instrumented"),
    [("none", "none", "False"), ("console", "none", "True"), ("none", "console", "True")],
)
def test_sqlalchemy_is_instrumented_only_when_something_is_exported(
    traces: str, metrics: str, instrumented: str
) -> None:
    # a process of its own: the providers can be installed once per process
    env = {**os.environ, "OTEL_TRACES_EXPORTER": traces, "OTEL_METRICS_EXPORTER": metrics}
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert f"instrumented: {instrumented}" in out.stdout.splitlines()  # console exporters may print more
