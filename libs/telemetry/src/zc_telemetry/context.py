"""Telemetry: carry W3C trace context (traceparent/tracestate) through NATS headers and outbox rows."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from contextvars import ContextVar

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.propagate import extract, inject

# Set by the HTTP middleware; logs carry it beside the trace id.
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


def inject_context(carrier: MutableMapping[str, str], context: Context | None = None) -> MutableMapping[str, str]:
    """Write the current (or given) trace context into `carrier` and return it."""
    inject(carrier, context=context)
    return carrier


def extract_context(carrier: Mapping[str, str] | None) -> Context:
    """Read a trace context written by `inject_context` (missing headers give an empty context)."""
    return extract(dict(carrier or {}))


def current_trace_id() -> str | None:
    """The active trace id as 32 hex digits, or None outside a recorded span."""
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None
