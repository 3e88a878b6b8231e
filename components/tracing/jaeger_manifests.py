"""Pure builders of the tracing tier: the jaegertracing/jaeger chart's values (Jaeger v2 all-in-one,
our rendered configuration as its `userconfig`), the NetworkPolicy, and the app's OTEL_* environment.

The chart (4.11.1, Jaeger 2.19.0) deploys Jaeger v2 only; its Deployment runs `--config` on the
`userconfig` value, so no Deployment of our own is needed. Its pods are made `restricted` here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .. import netpol
from ..connections import Endpoint
from ..namespace import ComputeResources
from .jaeger_config import ElasticsearchBackend, Listen, jaeger_config

RELEASE = "jaeger"
"""helm.release names the release after the chart, so the chart's Service is `jaeger`."""
LABELS = {"app.kubernetes.io/part-of": "langgraph-platform", "app.kubernetes.io/component": "tracing"}
POD_LABELS = {"app.kubernetes.io/name": "jaeger"}
PORTS = Listen()
# The image's own unprivileged user (the chart's default podSecurityContext).
JAEGER_UID = 10001
JAEGER = ComputeResources(cpu_request="100m", memory_request="256Mi", cpu_limit="1", memory_limit="1Gi")
MEMORY_MAX_TRACES = 50_000
"""In-memory store bound: traces beyond it evict the oldest, so the pod stays inside its memory limit."""
PASSWORD_SECRET, CA_CONFIGMAP = "jaeger-elasticsearch", "elasticsearch-ca"
SECRETS_DIR, CA_DIR = "/etc/jaeger/elasticsearch-password", "/etc/jaeger/elasticsearch-ca"
SAMPLER = "parentbased_traceidratio"


@dataclass(frozen=True)
class TracingSpec:
    """What the lead fills from the `tracing` config section."""

    app_namespace: str
    storage: Literal["memory", "elasticsearch"]
    sampling_ratio: float
    monitoring_namespace: str
    """Prometheus scrapes Jaeger's metrics and Grafana queries its API from here."""
    namespace: str = "tracing"
    elasticsearch: Endpoint | None = None
    """Where the logging cluster accepts connections (storage = elasticsearch)."""
    elasticsearch_replicas: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.sampling_ratio <= 1:
            raise ValueError(f"sampling_ratio must be within [0, 1], not {self.sampling_ratio}")
        if (self.storage == "elasticsearch") != (self.elasticsearch is not None):
            raise ValueError("storage elasticsearch needs the logging cluster's endpoint, and only it does")

    @property
    def host(self) -> str:
        return f"{RELEASE}.{self.namespace}.svc"

    @property
    def ui_url(self) -> str:
        return f"http://{self.host}:{PORTS.query_http}"

    @property
    def otlp_http_url(self) -> str:
        return f"http://{self.host}:{PORTS.otlp_http}"

    @property
    def replicas(self) -> int:
        # In memory, each pod holds its own traces: a second one would answer half the queries.
        return 1 if self.storage == "memory" else 2


def app_env(spec: TracingSpec) -> dict[str, str]:
    """The app's and the workers' OpenTelemetry SDK settings: export over OTLP/HTTP, sample
    `sampling_ratio` of new traces and follow the caller's decision for the rest."""
    return {"OTEL_EXPORTER_OTLP_ENDPOINT": spec.otlp_http_url, "OTEL_TRACES_SAMPLER": SAMPLER,
            "OTEL_TRACES_SAMPLER_ARG": repr(float(spec.sampling_ratio))}


def rendered_config(spec: TracingSpec, elasticsearch_url: str | None = None, username: str | None = None) -> dict:
    backend = None
    if spec.storage == "elasticsearch":
        if not (elasticsearch_url and username):
            raise ValueError("storage elasticsearch needs the cluster's URL and Jaeger's user")
        backend = ElasticsearchBackend(url=elasticsearch_url, username=username,
                                       password_file=f"{SECRETS_DIR}/password", ca_file=f"{CA_DIR}/ca.crt",
                                       replicas=spec.elasticsearch_replicas)
    return jaeger_config(spec.storage, MEMORY_MAX_TRACES, backend, PORTS)


def values(spec: TracingSpec, config: dict) -> dict:
    jaeger: dict = {
        "replicas": spec.replicas,
        "resources": JAEGER.as_resources(),
        "podSecurityContext": {"runAsUser": JAEGER_UID, "runAsGroup": JAEGER_UID, "fsGroup": JAEGER_UID,
                               "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                            "readOnlyRootFilesystem": True, "runAsNonRoot": True},
        # Jaeger never calls the Kubernetes API.
        "serviceAccount": {"automountServiceAccountToken": False},
    }
    if spec.replicas > 1:
        # The chart's default is Recreate (right for one in-memory pod); stored traces outlive pods.
        jaeger["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
    if spec.storage == "elasticsearch":
        jaeger["extraVolumes"] = [{"name": "es-password", "secret": {"secretName": PASSWORD_SECRET}},
                                  {"name": "es-ca", "configMap": {"name": CA_CONFIGMAP}}]
        jaeger["extraVolumeMounts"] = [{"name": "es-password", "mountPath": SECRETS_DIR, "readOnly": True},
                                       {"name": "es-ca", "mountPath": CA_DIR, "readOnly": True}]
    return {"userconfig": config, "jaeger": jaeger}


def max_surge(spec: TracingSpec) -> int:
    return 1 if spec.replicas > 1 else 0


def network_policy(spec: TracingSpec) -> dict:
    egress = [netpol.dns_egress()]
    if spec.elasticsearch is not None:
        egress.append(spec.elasticsearch.egress_rule())
    return netpol.network_policy("jaeger", spec.namespace, LABELS, {
        "podSelector": {"matchLabels": POD_LABELS},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [
            {"from": [netpol.namespace_peer(spec.app_namespace)], "ports": netpol.tcp(PORTS.otlp_grpc, PORTS.otlp_http)},
            # Grafana's Jaeger datasource (UI/API port) and Prometheus (the Collector's metrics).
            {"from": [netpol.namespace_peer(spec.monitoring_namespace)],
             "ports": netpol.tcp(PORTS.query_http, PORTS.metrics)},
            # The kubelet's probes come from the node and are not subject to NetworkPolicy.
        ],
        "egress": egress,
    })


def secret_and_ca(spec: TracingSpec, password, certificate) -> list[dict]:
    """Jaeger's Elasticsearch password and the cluster's CA, in Jaeger's namespace."""
    return [
        {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
         "metadata": {"name": PASSWORD_SECRET, "namespace": spec.namespace, "labels": LABELS},
         "stringData": {"password": password}},
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": CA_CONFIGMAP, "namespace": spec.namespace, "labels": LABELS},
         "data": {"ca.crt": certificate}},
    ]
