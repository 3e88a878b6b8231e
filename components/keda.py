"""`Keda`: the KEDA operator (pinned chart), which scales the queue workers on queue depth.

Its namespace is restricted and default-deny like ours; the NetworkPolicy opens what KEDA needs:
its three pods talk to each other (metrics server -> operator gRPC), the API server reaches the
metrics API (6443) and the admission webhooks (9443), and KEDA reaches DNS, the API server and
Prometheus, whose queue-depth query drives the workers.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from . import helm, netpol
from .kube import KubeObject
from .namespace import ComputeResources, Tier, Workload, register_namespace
from .pins import CHARTS

NAMESPACE = "keda"
METRICS_API_PORT, WEBHOOK_PORT = 6443, 9443
LABELS = {"app.kubernetes.io/part-of": "langgraph-platform", "app.kubernetes.io/component": "autoscaling"}
# One pod each of the operator, the metrics API server and the admission webhooks.
POD = ComputeResources(cpu_request="100m", memory_request="128Mi", cpu_limit="1", memory_limit="1Gi")
COMPONENTS = ("operator", "metricServer", "webhooks")


@dataclass(frozen=True)
class KedaSpec:
    api_server_cidrs: tuple[str, ...]
    prometheus_namespace: str
    prometheus_port: int
    pod_security_version: str


def values() -> dict:
    """Chart values: our resources on each component (the chart's security contexts are already restricted)."""
    return {"resources": {component: POD.as_resources() for component in COMPONENTS}}


def network_policy(spec: KedaSpec) -> dict:
    api_server = netpol.ip_peers(spec.api_server_cidrs)
    return netpol.network_policy("keda", NAMESPACE, LABELS, {
        "podSelector": {},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [
            {"from": [{"podSelector": {}}]},
            {"from": api_server, "ports": netpol.tcp(METRICS_API_PORT, WEBHOOK_PORT)},
        ],
        "egress": [
            netpol.dns_egress(),
            {"to": [{"podSelector": {}}]},
            netpol.api_server_egress(spec.api_server_cidrs),
            {"to": [netpol.namespace_peer(spec.prometheus_namespace)], "ports": netpol.tcp(spec.prometheus_port)},
        ],
    })


class Keda(pulumi.ComponentResource):
    """KEDA in its own namespace."""

    release: helm.HelmRelease

    def __init__(self, name: str, spec: KedaSpec, opts: pulumi.ResourceOptions | None = None):
        super().__init__("langgraph:platform:Keda", name, None, opts)
        tier = Tier(NAMESPACE, LABELS, tuple(Workload(c, POD, max_pods=1, max_surge=1) for c in COMPONENTS),
                    pod_security_version=spec.pod_security_version)
        ns = register_namespace(name, tier, self)
        KubeObject(f"{name}-netpol", network_policy(spec), pulumi.ResourceOptions(parent=self, depends_on=[ns]))
        self.release = helm.release(f"{name}-release", CHARTS["keda"], NAMESPACE, values(),
                                    pulumi.ResourceOptions(parent=self, depends_on=[ns]))
        self.register_outputs({})
