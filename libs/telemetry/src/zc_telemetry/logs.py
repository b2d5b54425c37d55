"""Telemetry: logging setup; JSON lines carrying service, trace and span ids (or plain text for humans)."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from opentelemetry import trace
from pythonjsonlogger.json import JsonFormatter

from zc_telemetry.context import request_id_var


class _TraceFields(logging.Filter):
    """Stamps every record with the service name and the active trace/span ids."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = trace.get_current_span().get_span_context()
        record.service = getattr(record, "service", None) or self.service
        record.trace_id = format(ctx.trace_id, "032x") if ctx.is_valid else None
        record.span_id = format(ctx.span_id, "016x") if ctx.is_valid else None
        record.request_id = request_id_var.get()
        return True


def configure_logging(service: str, *, level: str | None = None, fmt: str | None = None) -> logging.Handler:
    """Send the root logger to stderr as JSON (`ZC_LOG_FORMAT=json`, the default) or text.

    Returns the handler so a caller (a test, the dev stack) can remove it again.
    """
    fmt = (fmt or os.environ.get("ZC_LOG_FORMAT", "json")).lower()
    level = (level or os.environ.get("ZC_LOG_LEVEL", "INFO")).upper()
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_TraceFields(service))
    formatter: logging.Formatter
    if fmt == "json":
        rename: dict[str, Any] = {"levelname": "level", "asctime": "time", "name": "logger"}
        formatter = JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(trace_id)s %(span_id)s %(request_id)s",
            rename_fields=rename,
            timestamp=False,
        )
    else:
        formatter = logging.Formatter("%(asctime)s %(levelname)-5s [%(service)s %(trace_id)s] %(name)s: %(message)s")
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    # uvicorn's access log duplicates our request logging; keep its errors.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    return handler
