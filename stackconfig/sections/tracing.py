"""`tracing`: Jaeger v2 and the OTLP endpoint the app exports to."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..types import DnsLabel, Section

KEY = "tracing"


class TracingConfig(Section):
    enabled: bool = True
    """Deploy Jaeger v2 and give the app OTEL_EXPORTER_OTLP_ENDPOINT."""
    namespace: DnsLabel = "tracing"
    """Namespace of Jaeger."""
    storage: Literal["memory", "elasticsearch"]
    """memory: in-memory (dev); elasticsearch: the logging cluster."""
    sampling_ratio: float = Field(ge=0, le=1)
    """Fraction of traces kept."""


MODEL = TracingConfig
DEFAULTS: dict[str, dict] = {
    "dev": {"storage": "memory", "sampling_ratio": 1.0},
    "prod": {"storage": "elasticsearch", "sampling_ratio": 0.1},
}


def cross_checks(config):
    tracing = config.tracing
    if tracing.enabled and tracing.storage == "elasticsearch" and not config.logging.enabled:
        yield ("tracing.storage", "elasticsearch", "stores traces in the logging cluster: enable logging or use memory")
