"""OTLP/HTTP tracing, on only when an OTLP endpoint is configured.

Without an endpoint the API's no-op tracer is used: spans cost nothing and log lines carry no
trace ids. The exporter itself reads the standard OTEL_* variables (endpoint, headers, timeout),
and the batch processor OTEL_BSP_* (e.g. OTEL_BSP_SCHEDULE_DELAY).
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

TRACER_NAME = "refapp"


def start_tracing(endpoint: str | None, service_name: str) -> TracerProvider | None:
    """Install a global tracer provider exporting to `endpoint`; None (no-op tracing) without one."""
    if not endpoint:
        return None
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME)
