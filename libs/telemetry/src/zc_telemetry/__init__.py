"""Shared telemetry: OpenTelemetry setup, W3C trace context in NATS headers, JSON logs with trace ids."""

from zc_telemetry.context import current_trace_id, extract_context, inject_context, request_id_var
from zc_telemetry.logs import configure_logging
from zc_telemetry.setup import TelemetryHandle, setup_telemetry

__all__ = [
    "TelemetryHandle",
    "configure_logging",
    "current_trace_id",
    "extract_context",
    "inject_context",
    "request_id_var",
    "setup_telemetry",
]
