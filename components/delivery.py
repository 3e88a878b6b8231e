"""Progressive delivery: canary releases of the API Deployment by Flagger (pinned chart), over the edge's route.

With `rollout: canary`, Flagger (`meshProvider: gatewayapi:v1`) takes over the app's HTTPRoute on
the Kong Gateway: it creates the `<app>-primary` Deployment, HPA and Service plus `<app>-canary`,
and shifts the route's backend weights step by step while our Prometheus queries hold, rolling
back on its own when they fail `threshold` times. The queries are the platform's alert expressions
(error ratio per graph, P95 execution time per graph, both aggregated as DESIGN.md corrects the
seed) restricted to the canary's pods.

The Canary is built from the HTTPRoute the edge renders (`edge_manifests.app_route`), so the route
Flagger manages carries the same gateway, listener, host names, path match and Kong annotations.
With the canary on, the rest of the program must:
- not register the edge's app HTTPRoute (Flagger owns an HTTPRoute of the same name), nor the app's
  Service (Flagger owns the apex Service of the same name);
- give the API pods a selector label `SELECTOR_LABEL` of their own (the Deployment's name);
- count the primary and the canary in the namespace quota and in the connection budget (both run
  at up to the HPA's maximum during an analysis);
- let Flagger's namespace reach Prometheus (the monitoring NetworkPolicy).

With `rollout: rolling` (the default) nothing of this is deployed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pulumi

from . import helm, netpol
from .kube import KubeObject
from .namespace import POD_SECURITY_VERSION, ComputeResources, Tier, Workload, register_namespace
from .pins import CHARTS
from .security import restricted_container

FLAGGER_API = "flagger.app/v1beta1"
FLAGGER_NAMESPACE = "flagger"
FLAGGER_METRICS_PORT = 8080
# Flagger finds the pods of the target by this label of its selector and gives the primary's pods
# `<value>-primary`. It must be a label no other workload of the namespace shares with the same
# value: `app.kubernetes.io/name` is shared by the API and the queue workers, and a canary Service
# selecting on it would send traffic to the workers too.
SELECTOR_LABEL = "app"
FLAGGER_POD = ComputeResources("50m", "64Mi", "500m", "256Mi")
FLAGGER_UID = 10001
LABELS = {"app.kubernetes.io/part-of": "langgraph-platform", "app.kubernetes.io/component": "progressive-delivery"}
EXECUTIONS = "langgraph_executions_total"
DURATION_BUCKETS = "langgraph_execution_duration_seconds_bucket"
_DURATION = re.compile(r"^[0-9]+(s|m|h)$")


@dataclass(frozen=True)
class Analysis:
    """How a canary advances: every `interval` the weight rises by `step_weight` up to `max_weight`
    while both checks hold over `window`; `threshold` failed checks roll it back."""

    interval: str = "1m"
    threshold: int = 5
    step_weight: int = 10
    max_weight: int = 50
    window: str = "2m"
    """The queries' rate window: Flagger's `{{ interval }}` of each metric."""
    error_ratio: float = 0.05
    """The worst graph's error ratio on the canary may not exceed this (the alert's threshold)."""
    latency_p95_seconds: float = 30.0
    """The worst graph's P95 execution time on the canary may not exceed this (the alert's threshold)."""

    def __post_init__(self) -> None:
        problems = [f"{name} {getattr(self, name)!r} is not a duration like 1m"
                    for name in ("interval", "window") if not _DURATION.match(getattr(self, name))]
        if not 1 <= self.step_weight <= self.max_weight <= 100:
            problems.append(f"weights must satisfy 1 <= step_weight ({self.step_weight}) <= max_weight "
                            f"({self.max_weight}) <= 100")
        if self.threshold < 1:
            problems.append(f"threshold {self.threshold} must be at least 1")
        if not 0 < self.error_ratio < 1 or self.latency_p95_seconds <= 0:
            problems.append("error_ratio must be in (0, 1) and latency_p95_seconds positive")
        if problems:
            raise ValueError("invalid canary analysis: " + "; ".join(problems))


@dataclass(frozen=True)
class DeliverySpec:
    """What the canary is built from."""

    app_name: str
    """The API Deployment, its HPA and the Service name the route's backend names (Flagger's apex)."""
    namespace: str
    app_port: int
    route: dict
    """The edge's HTTPRoute for the app, as `edge_manifests.app_route` renders it."""
    prometheus_url: str
    monitoring_namespace: str
    api_server_cidrs: tuple[str, ...]
    backend_annotations: dict[str, str] = field(default_factory=dict)
    """Annotations of the Services behind the route (Kong's upstream policy) for the primary and canary Services."""
    autoscaler: str | None = None
    """The API's HorizontalPodAutoscaler, which Flagger copies for the primary; None without one."""
    analysis: Analysis = field(default_factory=Analysis)
    pod_security_version: str = POD_SECURITY_VERSION


# --- the checks: the alerts' expressions on the canary's pods -----------------------------------------

def canary_pods(namespace: str = "{{ namespace }}", target: str = "{{ target }}") -> str:
    """Label matchers of the canary Deployment's pods (`<target>-<hash>-<suffix>`); the primary's pods,
    `<target>-primary-<hash>-<suffix>`, have one more dash-separated part and never match."""
    return f'namespace="{namespace}", pod=~"{target}-[a-z0-9]+-[a-z0-9]+"'


def _selector(matchers: str, *extra: str) -> str:
    inner = ", ".join(m for m in (matchers, *extra) if m)
    return f"{{{inner}}}" if inner else ""


def error_ratio_expr(matchers: str, window: str) -> str:
    """Error ratio per graph: both sides aggregated by graph_name (the seed's bare ratio matched on
    every label, status included)."""
    errors = _selector(matchers, 'status="error"')
    return (f"sum by (graph_name) (rate({EXECUTIONS}{errors}[{window}]))\n"
            f"  / sum by (graph_name) (rate({EXECUTIONS}{_selector(matchers)}[{window}]))")


def latency_p95_expr(matchers: str, window: str) -> str:
    """P95 execution time per graph, from the histogram's buckets summed by (le, graph_name)."""
    return ("histogram_quantile(0.95,\n"
            f"  sum by (le, graph_name) (rate({DURATION_BUCKETS}{_selector(matchers)}[{window}]))\n"
            ")")


def worst_graph(expr: str) -> str:
    """One number for Flagger: the worst graph's value. A graph without executions in the window
    computes NaN (0/0) and is dropped by `>= 0`; no executions at all reads 0, so a quiet period does
    not halt a release (Flagger halts on an empty result)."""
    return f"max(\n{expr}\n  >= 0\n) or vector(0)"


def metric_templates(spec: DeliverySpec) -> list[dict]:
    window = "{{ interval }}"
    queries = {"error-rate": error_ratio_expr(canary_pods(), window),
               "latency-p95": latency_p95_expr(canary_pods(), window)}
    return [{
        "apiVersion": FLAGGER_API, "kind": "MetricTemplate",
        "metadata": {"name": f"{spec.app_name}-{name}", "namespace": spec.namespace, "labels": dict(LABELS)},
        "spec": {"provider": {"type": "prometheus", "address": spec.prometheus_url}, "query": worst_graph(query)},
    } for name, query in queries.items()]


# --- the Canary --------------------------------------------------------------------------------------

def _route_service(spec: DeliverySpec) -> dict:
    """`spec.service` of the Canary, from the edge's route: Flagger renders its HTTPRoute from these
    fields, with the path match `PathPrefix /` when no match is given. Refuses a route Flagger could
    not reproduce."""
    route = spec.route["spec"]
    (rule,) = route["rules"]
    (backend,) = rule["backendRefs"]
    if rule.get("matches") != [{"path": {"type": "PathPrefix", "value": "/"}}] or set(rule) != {"matches",
                                                                                               "backendRefs"}:
        raise ValueError(f"the app route's rule {rule} is not one Flagger renders (a single PathPrefix / match)")
    if backend["name"] != spec.app_name:
        raise ValueError(f"the app route's backend {backend['name']} is not the app's Service {spec.app_name}")
    metadata = spec.route["metadata"]
    return {
        "port": backend["port"],
        "targetPort": spec.app_port,
        "portName": "http",
        "gatewayRefs": [{key: ref[key] for key in ("name", "namespace", "sectionName") if key in ref}
                        for ref in route["parentRefs"]],
        "hosts": list(route["hostnames"]),
        # Flagger puts `apex` metadata on the HTTPRoute it manages (Kong's plugin annotation included)
        # and on the apex Service; `primary` and `canary` on the Services the route's backends name.
        "apex": {"labels": dict(metadata.get("labels", {})), "annotations": dict(metadata.get("annotations", {}))},
        "primary": {"annotations": dict(spec.backend_annotations)},
        "canary": {"annotations": dict(spec.backend_annotations)},
    }


def canary(spec: DeliverySpec) -> dict:
    analysis = spec.analysis
    canary_spec: dict = {
        "provider": "gatewayapi:v1",
        "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": spec.app_name},
        "progressDeadlineSeconds": 600,
        "service": _route_service(spec),
        # Deleting the Canary (switching back to rolling) hands the Deployment back, scaled up, before
        # Flagger's objects go away.
        "revertOnDeletion": True,
        "analysis": {
            "interval": analysis.interval,
            "threshold": analysis.threshold,
            "maxWeight": analysis.max_weight,
            "stepWeight": analysis.step_weight,
            "metrics": [
                {"name": "error-rate", "templateRef": {"name": f"{spec.app_name}-error-rate"},
                 "thresholdRange": {"max": analysis.error_ratio}, "interval": analysis.window},
                {"name": "latency-p95", "templateRef": {"name": f"{spec.app_name}-latency-p95"},
                 "thresholdRange": {"max": analysis.latency_p95_seconds}, "interval": analysis.window},
            ],
        },
    }
    if spec.autoscaler:
        canary_spec["autoscalerRef"] = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                                        "name": spec.autoscaler}
    return {"apiVersion": FLAGGER_API, "kind": "Canary",
            "metadata": {"name": spec.app_name, "namespace": spec.namespace, "labels": dict(LABELS)},
            "spec": canary_spec}


# --- Flagger itself ----------------------------------------------------------------------------------

def flagger_values(spec: DeliverySpec) -> dict:
    """Values of the pinned flagger chart (1.44.0): Gateway API, our Prometheus, our namespace only,
    a container security context that Pod Security `restricted` admits."""
    return {
        "meshProvider": "gatewayapi:v1",
        "metricsServer": spec.prometheus_url,
        "namespace": spec.namespace,
        "selectorLabels": SELECTOR_LABEL,
        "leaderElection": {"enabled": False, "replicaCount": 1},
        # The chart's defaults ask for Linkerd and App Mesh sidecar injection; neither runs here.
        "podAnnotations": {},
        "securityContext": {"enabled": True, "context": restricted_container(FLAGGER_UID)},
        "resources": FLAGGER_POD.as_resources(),
    }


def flagger_tier(spec: DeliverySpec) -> Tier:
    # Recreate (no leader election): one pod, no surge.
    return Tier(FLAGGER_NAMESPACE, dict(LABELS), (Workload("flagger", FLAGGER_POD, max_pods=1),),
                pod_security_version=spec.pod_security_version)


def flagger_network_policy(spec: DeliverySpec) -> dict:
    """Flagger reads and writes the API server and queries Prometheus; Prometheus may scrape it."""
    return netpol.network_policy("flagger", FLAGGER_NAMESPACE, dict(LABELS), {
        "podSelector": {},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"from": [netpol.namespace_peer(spec.monitoring_namespace)],
                     "ports": netpol.tcp(FLAGGER_METRICS_PORT)}],
        "egress": [netpol.dns_egress(), netpol.api_server_egress(spec.api_server_cidrs),
                   {"to": [netpol.namespace_peer(spec.monitoring_namespace)], "ports": netpol.tcp(9090)}],
    })


class ProgressiveDelivery(pulumi.ComponentResource):
    """Flagger in its namespace, and the app's MetricTemplates and Canary (only for `rollout: canary`).

    The Canary must be registered after the API Deployment and its HPA: pass them in `depends_on`."""

    def __init__(self, name: str, spec: DeliverySpec, depends_on: list[pulumi.Resource],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("langgraph:platform:ProgressiveDelivery", name, None, opts)
        ns = register_namespace(name, flagger_tier(spec), self)
        inside = pulumi.ResourceOptions(parent=self, depends_on=[ns])
        policy = KubeObject(f"{name}-netpol", flagger_network_policy(spec), inside)
        release = helm.release(f"{name}-flagger", CHARTS["flagger"], FLAGGER_NAMESPACE, flagger_values(spec),
                               pulumi.ResourceOptions(parent=self, depends_on=[ns, policy]))
        # The chart installs the CRDs: the custom objects wait for it.
        after = pulumi.ResourceOptions(parent=self, depends_on=[release, *depends_on])
        templates = [KubeObject(f"{name}-{t['metadata']['name']}", t, after) for t in metric_templates(spec)]
        KubeObject(f"{name}-canary", canary(spec),
                   pulumi.ResourceOptions(parent=self, depends_on=[release, *templates, *depends_on]))
        self.register_outputs({})
