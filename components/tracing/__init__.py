"""Traces: Jaeger v2 with OTLP receivers, and the OTEL_* environment the app exports with."""

from .component import Tracing
from .jaeger_manifests import TracingSpec, app_env

__all__ = ["Tracing", "TracingSpec", "app_env"]
