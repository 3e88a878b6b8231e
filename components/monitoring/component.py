"""`Monitoring`: kube-prometheus-stack (pinned) with our alert rules, Alertmanager routing, dashboards,
datasources and the scrape targets of every tier.

Namespaces: the stack runs in `monitoring` (Pod Security restricted: Prometheus, Alertmanager,
Grafana, kube-state-metrics and the operator set restricted security contexts in the pinned chart);
node-exporter needs the host's network, PID namespace and file system, so it runs apart in
`monitoring-nodes` at the privileged level (the chart's `namespaceOverride`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components import helm, netpol
from components.kube import KubeObject
from components.namespace import ComputeResources, Tier, Workload, register_namespace
from components.pins import CHARTS
from components.random_tls_postgresql import random_password

from . import alertmanager, dashboards, datasources, rules

RELEASE = "kube-prometheus-stack"
PROMETHEUS_SERVICE, ALERTMANAGER_SERVICE, GRAFANA_SERVICE = f"{RELEASE}-prometheus", f"{RELEASE}-alertmanager", f"{RELEASE}-grafana"
PROMETHEUS_PORT, ALERTMANAGER_PORT, GRAFANA_PORT = 9090, 9093, 80
NODES_NAMESPACE = "monitoring-nodes"
RECEIVERS_SECRET = "alertmanager-receivers"
GRAFANA_ADMIN_SECRET = "grafana-admin"
LABELS = {"app.kubernetes.io/part-of": "langgraph-platform", "app.kubernetes.io/component": "monitoring"}
# Rules and monitors carry the release label so that any selector configuration picks them up.
SELECTED = {**LABELS, "release": RELEASE}

PROMETHEUS_POD = ComputeResources("500m", "2Gi", "2", "4Gi")
SMALL_POD = ComputeResources("100m", "128Mi", "500m", "512Mi")
GRAFANA_POD = ComputeResources("200m", "256Mi", "1", "1Gi")


@dataclass(frozen=True)
class ScrapeTarget:
    """A ServiceMonitor or PodMonitor: pods (or Services) with `labels` in `namespace`, on the named `port`."""

    name: str
    namespace: str
    labels: dict[str, str]
    port: str
    kind: str = "PodMonitor"
    path: str = "/metrics"


@dataclass(frozen=True)
class MonitoringSpec:
    namespace: str
    pod_security_version: str
    retention: str
    storage_size: str
    alertmanager_replicas: int
    scrape_interval: str
    rule_params: rules.RuleParams
    routing: alertmanager.RoutingParams
    receiver_secrets: dict[str, pulumi.Input[str]]
    """Keys of the `alertmanager-receivers` Secret (files the routing reads) -> values."""
    postgres_metrics: str
    """Which exporter's names the data-tier dashboard uses (cloudnativepg or postgres_exporter)."""
    datasources: datasources.DatasourceSettings | None
    targets: tuple[ScrapeTarget, ...]
    scraped_namespaces: tuple[str, ...]
    api_server_cidrs: tuple[str, ...]
    node_cidrs: tuple[str, ...]
    """Where the nodes are (kubelet 10250, node-exporter 9100)."""
    max_nodes: int = 100
    """Most nodes: node-exporter runs on each (its namespace's quota)."""
    extra_routes: tuple[dict, ...] = ()
    """Alertmanager routes that go first (with `continue`: auto-recovery's copy of the alerts it handles)."""
    extra_receivers: tuple[dict, ...] = ()
    extra_egress: tuple = ()
    """Further `connections.Endpoint`s the stack's exporters reach (e.g. RDS for postgres_exporter)."""


def values(spec: MonitoringSpec) -> dict:
    """kube-prometheus-stack values."""
    selectors = {f"{kind}SelectorNilUsesHelmValues": False
                 for kind in ("rule", "serviceMonitor", "podMonitor", "probe", "scrapeConfig")}
    return {
        "defaultRules": {"disabled": {"Watchdog": True, "InfoInhibitor": True}},
        "prometheus": {"prometheusSpec": {
            **selectors,
            "retention": spec.retention,
            "scrapeInterval": spec.scrape_interval,
            "resources": PROMETHEUS_POD.as_resources(),
            "storageSpec": {"volumeClaimTemplate": {"spec": {
                "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": spec.storage_size}}}}},
        }},
        "alertmanager": {
            "config": routing_config(spec),
            "alertmanagerSpec": {"replicas": spec.alertmanager_replicas, "secrets": [RECEIVERS_SECRET],
                                 "resources": SMALL_POD.as_resources()},
        },
        "grafana": {
            "admin": {"existingSecret": GRAFANA_ADMIN_SECRET, "userKey": "admin-user", "passwordKey": "admin-password"},
            "sidecar": dashboards.sidecar_values(),
            "resources": GRAFANA_POD.as_resources(),
        },
        "prometheusOperator": {"resources": SMALL_POD.as_resources()},
        "kube-state-metrics": {"resources": SMALL_POD.as_resources()},
        "prometheus-node-exporter": {"namespaceOverride": NODES_NAMESPACE, "resources": SMALL_POD.as_resources()},
    }


def routing_config(spec: MonitoringSpec) -> dict:
    """Our routing, with the extra routes first and their receivers."""
    config = alertmanager.alertmanager_config(spec.routing)
    config["route"]["routes"] = [*spec.extra_routes, *config["route"]["routes"]]
    config["receivers"] = [*config["receivers"], *spec.extra_receivers]
    return config


def monitor(target: ScrapeTarget, interval: str) -> dict:
    endpoint = {"port": target.port, "path": target.path, "interval": interval}
    endpoints_key = "podMetricsEndpoints" if target.kind == "PodMonitor" else "endpoints"
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": target.kind,
        "metadata": {"name": target.name, "namespace": target.namespace, "labels": dict(SELECTED)},
        "spec": {"selector": {"matchLabels": dict(target.labels)}, endpoints_key: [endpoint]},
    }


def network_policy(spec: MonitoringSpec) -> dict:
    """Prometheus scrapes our namespaces and the nodes; Grafana reads Prometheus, Elasticsearch and Jaeger;
    Alertmanager gossips with its peers and posts to the receivers (HTTPS anywhere); the operator and
    kube-state-metrics read the API server. KEDA reads Prometheus."""
    scraped = [netpol.namespace_peer(ns) for ns in spec.scraped_namespaces]
    return netpol.network_policy("monitoring", spec.namespace, LABELS, {
        "podSelector": {},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [
            {"from": [{"podSelector": {}}]},
            {"from": netpol.ip_peers(spec.api_server_cidrs)},
            {"from": [netpol.namespace_peer("keda"), netpol.namespace_peer("flagger")], "ports": netpol.tcp(PROMETHEUS_PORT)},
        ],
        "egress": [
            netpol.dns_egress(),
            {"to": [{"podSelector": {}}]},
            netpol.api_server_egress(spec.api_server_cidrs),
            {"to": scraped},
            {"to": netpol.ip_peers(spec.node_cidrs), "ports": netpol.tcp(10250, 9100)},
            # Receivers (PagerDuty, Slack, webhooks) have no fixed addresses.
            {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": netpol.tcp(443)},
            *(endpoint.egress_rule() for endpoint in spec.extra_egress),
        ],
    })


class Monitoring(pulumi.ComponentResource):
    prometheus_url: str
    alertmanager_url: str
    grafana_url: str

    def __init__(self, name: str, spec: MonitoringSpec, depends_on: list[pulumi.Resource],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("langgraph:platform:Monitoring", name, None, opts)
        ns_name = spec.namespace
        workloads = (Workload("prometheus", PROMETHEUS_POD, max_pods=1, max_surge=1),
                     Workload("alertmanager", SMALL_POD, max_pods=spec.alertmanager_replicas, max_surge=1),
                     Workload("grafana", GRAFANA_POD, max_pods=1, max_surge=1),
                     Workload("operator", SMALL_POD, max_pods=1, max_surge=1),
                     Workload("kube-state-metrics", SMALL_POD, max_pods=1, max_surge=1),
                     Workload("admission-jobs", SMALL_POD, max_pods=1))
        ns = register_namespace(name, Tier(ns_name, LABELS, workloads, pod_security_version=spec.pod_security_version), self)
        # node-exporter uses the host's network (NetworkPolicy does not apply to it); default-deny still
        # covers anything else that lands there.
        nodes_ns = register_namespace(f"{name}-nodes", Tier(
            NODES_NAMESPACE, LABELS, (Workload("node-exporter", SMALL_POD, max_pods=spec.max_nodes),),
            pod_security="privileged", pod_security_version=spec.pod_security_version), self)
        inside = pulumi.ResourceOptions(parent=self, depends_on=[ns])
        policy = KubeObject(f"{name}-netpol", network_policy(spec), inside)
        receivers = KubeObject(f"{name}-receivers", {
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": RECEIVERS_SECRET, "namespace": ns_name, "labels": LABELS},
            "stringData": {key: pulumi.Output.secret(value) for key, value in sorted(spec.receiver_secrets.items())},
        }, inside)
        admin_password = random_password(f"{name}-grafana-admin", 32, pulumi.ResourceOptions(parent=self))
        admin = KubeObject(f"{name}-grafana-admin", {
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": GRAFANA_ADMIN_SECRET, "namespace": ns_name, "labels": LABELS},
            "stringData": {"admin-user": "admin", "admin-password": admin_password.result},
        }, inside)
        release = helm.release(f"{name}-release", CHARTS["kube-prometheus-stack"], ns_name, values(spec),
                               pulumi.ResourceOptions(parent=self, depends_on=[ns, nodes_ns, policy, receivers, admin,
                                                                                *depends_on]))
        after = pulumi.ResourceOptions(parent=self, depends_on=[release])
        KubeObject(f"{name}-rules", rules.prometheus_rule(spec.rule_params, "langgraph-platform", ns_name, SELECTED), after)
        for config_map in dashboards.dashboard_config_maps(ns_name, spec.postgres_metrics):
            KubeObject(f"{name}-{config_map['metadata']['name']}", config_map, inside)
        if spec.datasources is not None:
            KubeObject(f"{name}-datasources", datasources.datasource_config_map(spec.datasources, ns_name), inside)
        for target in spec.targets:
            KubeObject(f"{name}-monitor-{target.name}", monitor(target, spec.scrape_interval), after)
        service = f"{{}}.{ns_name}.svc"
        self.prometheus_url = f"http://{service.format(PROMETHEUS_SERVICE)}:{PROMETHEUS_PORT}"
        self.alertmanager_url = f"http://{service.format(ALERTMANAGER_SERVICE)}:{ALERTMANAGER_PORT}"
        self.grafana_url = f"http://{service.format(GRAFANA_SERVICE)}:{GRAFANA_PORT}"
        self.register_outputs({"prometheus_url": self.prometheus_url, "alertmanager_url": self.alertmanager_url,
                               "grafana_url": self.grafana_url})
