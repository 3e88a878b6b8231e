"""`kubernetes`: the target cluster and the namespaces of our tiers."""

from __future__ import annotations

from pydantic import Field

from ..types import Cidr, DnsLabel, Int, Section

KEY = "kubernetes"

# Namespaces the cluster itself runs on: a restricted, default-deny kube-system cuts CoreDNS off.
SYSTEM_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})


class KubernetesConfig(Section):
    context: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9@:/._-]{0,252}$")
    """kubeconfig context to deploy into. Dev may leave it unset (the current context: kind, k3d, minikube); prod requires it, so a deploy never lands in whatever context happens to be current."""
    version: str = Field("1.31", pattern=r"^1\.[0-9]{2}$")
    """Minor version of the cluster: pins the Pod Security Standards version our namespaces enforce."""
    api_server_cidrs: tuple[Cidr, ...] = Field(("0.0.0.0/0",), min_length=1)
    """Where the API server is: the controllers (Kong's, cert-manager, KEDA, CloudNativePG) may reach it on 443 and 6443, and it may reach their webhooks. Narrow it to the API server's addresses where known (on EKS, the cluster's VPC CIDR). Never empty (an empty NetworkPolicy peer list admits everything)."""
    max_nodes: Int(1, 5000) = 100
    """Most nodes the cluster runs: DaemonSets (Fluent Bit, node-exporter) run a pod on each, and their namespaces' quotas are sized for this many."""
    namespace: DnsLabel = "langgraph"
    """Namespace of the app tier (created by the program)."""
    data_namespace: DnsLabel = "langgraph-data"
    """Namespace of the in-cluster data tier (CloudNativePG, Redis with Sentinel, SeaweedFS)."""


MODEL = KubernetesConfig
DEFAULTS: dict[str, dict] = {}


def cross_checks(config):
    if config.environment == "prod" and not config.kubernetes.context:
        yield ("kubernetes.context", None, "prod requires an explicit kubeconfig context (the EKS cluster's), "
               "so that a deploy never lands in whatever context is current")
    seen: dict[str, str] = {}
    for key, name in config.namespaces():
        if name in SYSTEM_NAMESPACES or name.startswith("kube-"):
            yield (key, name, f"is a system namespace ({', '.join(sorted(SYSTEM_NAMESPACES))} and kube-*): "
                   "the program would make it restricted and default-deny; choose a namespace of our own")
        elif name in seen:
            yield (key, name, f"is also {seen[name]}: each tier needs a namespace of its own")
        else:
            seen[name] = key
