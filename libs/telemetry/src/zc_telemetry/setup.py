"""Telemetry: OpenTelemetry tracer and meter providers, exporters chosen by environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    ConsoleMetricExporter,
    MetricReader,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

_installed: TracerProvider | None = None


@dataclass
class TelemetryHandle:
    tracer_provider: TracerProvider
    meter_provider: MeterProvider

    def shutdown(self) -> None:
        self.tracer_provider.force_flush()
        self.meter_provider.shutdown()


def _span_exporter(kind: str) -> SpanExporter | None:
    if kind == "console":
        return ConsoleSpanExporter()
    if kind == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()  # endpoint from OTEL_EXPORTER_OTLP_ENDPOINT
    return None


def _metric_readers(kind: str) -> list[MetricReader]:
    if kind == "console":
        return [PeriodicExportingMetricReader(ConsoleMetricExporter(), export_interval_millis=60_000)]
    if kind == "otlp":
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

        return [PeriodicExportingMetricReader(OTLPMetricExporter())]
    return []


def setup_telemetry(service_name: str) -> TelemetryHandle:
    """Install tracer and meter providers for this process.

    Spans are always recorded (so trace ids reach logs and NATS headers); they are exported only when
    OTEL_TRACES_EXPORTER / OTEL_METRICS_EXPORTER say `console` or `otlp` (default: none). Database
    statements get spans (and the pool its metrics) only when traces or metrics are exported.
    The global providers can be set once per process, so a second call reuses the first.
    """
    global _installed
    resource = Resource.create({SERVICE_NAME: service_name})
    if _installed is None:
        provider = TracerProvider(resource=resource)
        exporter = _span_exporter(os.environ.get("OTEL_TRACES_EXPORTER", "none").lower())
        if exporter is not None:
            provider.add_span_processor(BatchSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        readers = _metric_readers(os.environ.get("OTEL_METRICS_EXPORTER", "none"))
        meter_provider = MeterProvider(resource=resource, metric_readers=readers)
        metrics.set_meter_provider(meter_provider)
        if exporter is not None or readers:
            # Every engine created from now on gets a span per statement and pool metrics. Only when they
            # leave the process: unexported, they cost a busy service ~15 % of its throughput.
            from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

            SQLAlchemyInstrumentor().instrument()
        _installed = provider
    tp = trace.get_tracer_provider()
    mp = metrics.get_meter_provider()
    assert isinstance(tp, TracerProvider) and isinstance(mp, MeterProvider)
    return TelemetryHandle(tracer_provider=tp, meter_provider=mp)
