"""`CnpgOperator`: the CloudNativePG operator and its Barman Cloud plugin (pinned charts) in `cnpg-system`.

The plugin needs cert-manager (its gRPC link to the operator is mutual TLS); the edge installs it.
NetworkPolicy: the operator and the plugin talk to each other and to the API server, the API server
reaches the operator's webhooks, the operator reaches every instance's status port, Prometheus
scrapes the operator.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components import helm, netpol
from components.kube import KubeObject
from components.namespace import ComputeResources, Tier, Workload, register_namespace
from components.pins import CHARTS

NAMESPACE = "cnpg-system"
WEBHOOK_PORT, METRICS_PORT, INSTANCE_STATUS_PORT = 9443, 8080, 8000
LABELS = {"app.kubernetes.io/part-of": "langgraph-platform", "app.kubernetes.io/component": "postgres-operator"}
POD = ComputeResources(cpu_request="100m", memory_request="128Mi", cpu_limit="1", memory_limit="512Mi")


@dataclass(frozen=True)
class OperatorSpec:
    api_server_cidrs: tuple[str, ...]
    data_namespace: str
    monitoring_namespace: str
    pod_security_version: str


def network_policy(spec: OperatorSpec) -> dict:
    api_server = netpol.ip_peers(spec.api_server_cidrs)
    return netpol.network_policy("cnpg-system", NAMESPACE, LABELS, {
        "podSelector": {},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [
            {"from": [{"podSelector": {}}]},
            {"from": api_server, "ports": netpol.tcp(WEBHOOK_PORT)},
            {"from": [netpol.namespace_peer(spec.monitoring_namespace)], "ports": netpol.tcp(METRICS_PORT)},
        ],
        "egress": [
            netpol.dns_egress(),
            {"to": [{"podSelector": {}}]},
            netpol.api_server_egress(spec.api_server_cidrs),
            {"to": [{**netpol.namespace_peer(spec.data_namespace),
                     "podSelector": {"matchLabels": {"cnpg.io/podRole": "instance"}}}],
             "ports": netpol.tcp(INSTANCE_STATUS_PORT)},
        ],
    })


class CnpgOperator(pulumi.ComponentResource):
    """The operator and the plugin; `ready` is what CloudNativePG objects must wait for."""

    ready: list[pulumi.Resource]

    def __init__(self, name: str, spec: OperatorSpec, depends_on: list[pulumi.Resource],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("langgraph:platform:CnpgOperator", name, None, opts)
        tier = Tier(NAMESPACE, LABELS, (Workload("operator", POD, max_pods=1, max_surge=1),
                                        Workload("barman-cloud", POD, max_pods=1, max_surge=1)),
                    pod_security_version=spec.pod_security_version)
        ns = register_namespace(name, tier, self)
        policy = KubeObject(f"{name}-netpol", network_policy(spec), pulumi.ResourceOptions(parent=self, depends_on=[ns]))
        values = {"resources": POD.as_resources(), "monitoring": {"podMonitorEnabled": False}}
        operator = helm.release(f"{name}-operator", CHARTS["cloudnative-pg"], NAMESPACE, values,
                                pulumi.ResourceOptions(parent=self, depends_on=[ns, policy, *depends_on]))
        plugin = helm.release(f"{name}-barman-cloud", CHARTS["plugin-barman-cloud"], NAMESPACE,
                              {"resources": POD.as_resources()},
                              pulumi.ResourceOptions(parent=self, depends_on=[operator, *depends_on]))
        self.ready = [operator, plugin]
        self.register_outputs({})
