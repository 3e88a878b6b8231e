"""Jaeger v2's configuration (an OpenTelemetry Collector configuration), rendered from Python (pure).

Field names are those of Jaeger 2.19.0 (the jaegertracing/jaeger chart 4.11.1's appVersion):
`jaeger_storage` backends (`memory.max_traces`; `elasticsearch.server_urls`, `auth.basic.username`
and `password_file`, `tls.ca_file`, `indices.index_prefix`, `indices.<kind>.shards/replicas`),
`jaeger_query.storage.traces`, `jaeger_storage_exporter.trace_storage`, `healthcheckv2`.
Every listener names its address: the Collector's defaults are localhost, which a kubelet probe or
another pod cannot reach.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

STORE = "primary_store"
INDEX_PREFIX = "jaeger"


@dataclass(frozen=True)
class Listen:
    """Addresses Jaeger listens on; the defaults are the ports the chart's Service and probes use."""

    host: str = "0.0.0.0"
    otlp_grpc: int = 4317
    otlp_http: int = 4318
    query_http: int = 16686
    query_grpc: int = 16685
    health: int = 13133
    metrics: int = 8888

    def at(self, port: int) -> str:
        return f"{self.host}:{port}"


@dataclass(frozen=True)
class ElasticsearchBackend:
    url: str
    username: str
    password_file: str
    ca_file: str
    replicas: int


def storage_backend(storage: Literal["memory", "elasticsearch"], max_traces: int,
                    elasticsearch: ElasticsearchBackend | None) -> dict:
    if storage == "memory":
        return {"memory": {"max_traces": max_traces}}
    if elasticsearch is None:
        raise ValueError("elasticsearch storage needs the cluster's url, user, password file and CA")
    # One primary shard per daily index: a day of one platform's spans is far below a shard's size.
    sizing = {"shards": 1, "replicas": elasticsearch.replicas}
    return {"elasticsearch": {
        "server_urls": [elasticsearch.url],
        "auth": {"basic": {"username": elasticsearch.username, "password_file": elasticsearch.password_file}},
        "tls": {"ca_file": elasticsearch.ca_file},
        "indices": {"index_prefix": INDEX_PREFIX, **{kind: dict(sizing) for kind in
                                                     ("spans", "services", "dependencies", "sampling")}},
    }}


def jaeger_config(storage: Literal["memory", "elasticsearch"], max_traces: int = 100_000,
                  elasticsearch: ElasticsearchBackend | None = None, listen: Listen = Listen()) -> dict:
    """The whole configuration: OTLP in (gRPC and HTTP), batched into the one storage backend,
    the query UI/API, a health endpoint and the Collector's own Prometheus metrics."""
    return {
        "service": {
            "extensions": ["jaeger_storage", "jaeger_query", "healthcheckv2"],
            "pipelines": {"traces": {
                "receivers": ["otlp"], "processors": ["batch"], "exporters": ["jaeger_storage_exporter"],
            }},
            "telemetry": {
                "resource": {"service.name": "jaeger"},
                "metrics": {"level": "detailed", "readers": [
                    {"pull": {"exporter": {"prometheus": {"host": listen.host, "port": listen.metrics}}}},
                ]},
                "logs": {"level": "info"},
            },
        },
        "extensions": {
            "healthcheckv2": {"use_v2": True, "http": {"endpoint": listen.at(listen.health)}},
            "jaeger_storage": {"backends": {STORE: storage_backend(storage, max_traces, elasticsearch)}},
            "jaeger_query": {
                "storage": {"traces": STORE},
                "http": {"endpoint": listen.at(listen.query_http)},
                "grpc": {"endpoint": listen.at(listen.query_grpc)},
            },
        },
        "receivers": {"otlp": {"protocols": {
            "grpc": {"endpoint": listen.at(listen.otlp_grpc)},
            "http": {"endpoint": listen.at(listen.otlp_http)},
        }}},
        "processors": {"batch": {}},
        "exporters": {"jaeger_storage_exporter": {"trace_storage": STORE}},
    }


def problems(config: dict) -> list[str]:
    """What makes a Collector refuse to start: a pipeline or the service naming a component that is
    not defined, a defined component that nothing uses, or storage names that point nowhere."""
    found = []
    service = config.get("service", {})
    for kind in ("receivers", "processors", "exporters"):
        defined = set(config.get(kind, {}))
        used = {name for pipeline in service.get("pipelines", {}).values() for name in pipeline.get(kind, [])}
        found += [f"{kind}: {name} is used but not defined" for name in sorted(used - defined)]
        found += [f"{kind}: {name} is defined but unused" for name in sorted(defined - used)]
    extensions = set(config.get("extensions", {}))
    enabled = set(service.get("extensions", []))
    found += [f"extensions: {name} is enabled but not defined" for name in sorted(enabled - extensions)]
    found += [f"extensions: {name} is defined but not enabled" for name in sorted(extensions - enabled)]
    backends = set(config.get("extensions", {}).get("jaeger_storage", {}).get("backends", {}))
    wanted = {config.get("extensions", {}).get("jaeger_query", {}).get("storage", {}).get("traces"),
              config.get("exporters", {}).get("jaeger_storage_exporter", {}).get("trace_storage")}
    found += [f"storage: {name} is not a jaeger_storage backend" for name in sorted(map(str, wanted - backends))]
    return found
