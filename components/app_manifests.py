"""Pure builders of the app tier's Kubernetes objects (plain dicts in the API's own shape).

The tier runs the official LangGraph server: API pods, and optionally queue-worker pods of the
same image running the server's queue entrypoint. `LangGraphApp` turns these into resources;
tests and the offline plan read them directly.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Literal

from stackconfig.capacity import TierSizing
from stackconfig.model import AppConfig, ProbeConfig
from stackconfig.sections.app import ResourcesConfig

from . import netpol
from .connections import Endpoint, egress_rules
from .security import restricted_container

SERVICE_PORT = 80
FLAGS_MOUNT = "/etc/langgraph/flags"
PART_OF = "langgraph-platform"
CONFIG_HASH_ANNOTATION = "langgraph-platform/config-hash"


@dataclass(frozen=True)
class Tier:
    """One Deployment of the server."""

    role: Literal["api", "queue"]
    name: str
    sizing: TierSizing
    resources: ResourcesConfig
    jobs_per_worker: int
    """N_JOBS_PER_WORKER of this tier's pods (0 on API pods when workers run the jobs)."""
    autoscaler: Literal["hpa", "keda"] = "hpa"
    command: tuple[str, ...] = ()


@dataclass(frozen=True)
class AppSpec:
    """What the app tier is built from."""

    app: AppConfig
    namespace: str
    tiers: tuple[Tier, ...]
    environment: dict[str, str]
    """Plain environment shared by every tier (the server's knobs and the seed's names)."""
    gateway_namespace: str
    monitoring_namespace: str
    endpoints: tuple[Endpoint, ...] = ()
    """Where the app connects to (data tier, AWS endpoints); its egress is built from them."""
    keda_trigger: dict | None = None
    """The queue-depth trigger of the workers' ScaledObject (KEDA)."""
    service_annotations: dict[str, str] = field(default_factory=dict)
    flags_config_map: str | None = None
    """ConfigMap whose key `disabled-graphs` lists graphs to refuse (auto-recovery writes it; the reference app reads it)."""
    canary: bool = False
    """Flagger runs the API's rollouts: it owns the apex Service (and the API pods' count doubles during analysis)."""

    @property
    def api(self) -> Tier:
        return next(t for t in self.tiers if t.role == "api")

    def labels(self, tier: Tier | None = None) -> dict[str, str]:
        labels = {"app.kubernetes.io/name": self.app.name, "app.kubernetes.io/part-of": PART_OF}
        return labels | ({"app.kubernetes.io/component": tier.role} if tier else {})

    def selector(self, tier: Tier) -> dict[str, str]:
        return {"app.kubernetes.io/name": self.app.name, "app.kubernetes.io/component": tier.role}

    @property
    def secret_name(self) -> str:
        return f"{self.app.name}-connections"

    @property
    def config_map_name(self) -> str:
        return f"{self.app.name}-config"


def _meta(spec: AppSpec, name: str, tier: Tier | None = None, **extra) -> dict:
    return {"name": name, "namespace": spec.namespace, "labels": spec.labels(tier), **extra}


def service_account(spec: AppSpec, role_arn: str | None) -> dict:
    annotations = {"eks.amazonaws.com/role-arn": role_arn} if role_arn else {}
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _meta(spec, spec.app.name, annotations=annotations),
        "automountServiceAccountToken": spec.app.automount_service_account_token,
    }


def config_map(spec: AppSpec) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(spec, spec.config_map_name),
            "data": dict(spec.environment)}


def secret(spec: AppSpec, values: dict) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": _meta(spec, spec.secret_name), "stringData": values}


def content_hash(*parts: dict) -> str:
    """A stable digest of what the pods read, so that a change to it rolls them."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


def _probe(probe: ProbeConfig, port: int) -> dict:
    return {
        "httpGet": {"path": probe.path, "port": port},
        "initialDelaySeconds": probe.initial_delay_seconds,
        "periodSeconds": probe.period_seconds,
        "timeoutSeconds": probe.timeout_seconds,
        "failureThreshold": probe.failure_threshold,
    }


def _spread(spec: AppSpec, tier: Tier) -> list[dict]:
    zone = "DoNotSchedule" if spec.app.zone_spread == "hard" else "ScheduleAnyway"
    return [
        {"maxSkew": 1, "topologyKey": key, "whenUnsatisfiable": when,
         "labelSelector": {"matchLabels": spec.selector(tier)}}
        for key, when in (("topology.kubernetes.io/zone", zone), ("kubernetes.io/hostname", "ScheduleAnyway"))
    ]


def deployment(spec: AppSpec, tier: Tier, config_hash: object) -> dict:
    """One tier's Deployment; `config_hash` (a string or an Output of one) rolls the pods when their config changes."""
    app = spec.app
    container = {
        "name": app.name,
        "image": app.image,
        "imagePullPolicy": app.image_pull_policy,
        **({"command": list(tier.command)} if tier.command else {}),
        "ports": [{"name": "http", "containerPort": app.port, "protocol": "TCP"}],
        "env": [
            {"name": "N_JOBS_PER_WORKER", "value": str(tier.jobs_per_worker)},
            # The seed's name for the same knob, for apps instrumented like the seed's.
            {"name": "MAX_CONCURRENT_EXECUTIONS", "value": str(tier.jobs_per_worker)},
            *([{"name": "DISABLED_GRAPHS_FILE", "value": f"{FLAGS_MOUNT}/disabled-graphs"}]
              if spec.flags_config_map else []),
        ],
        "envFrom": [
            {"configMapRef": {"name": spec.config_map_name}},
            {"secretRef": {"name": spec.secret_name}},
        ],
        "resources": {
            "requests": {"cpu": tier.resources.cpu_request, "memory": tier.resources.memory_request},
            "limits": {"cpu": tier.resources.cpu_limit, "memory": tier.resources.memory_limit},
        },
        "startupProbe": _probe(app.probes.startup, app.port),
        "readinessProbe": _probe(app.probes.readiness, app.port),
        "livenessProbe": _probe(app.probes.liveness, app.port),
        # Sleep first so the gateway stops routing here before the server begins its shutdown.
        "lifecycle": {"preStop": {"sleep": {"seconds": app.pre_stop_seconds}}},
        "securityContext": restricted_container(app.run_as_user),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"},
                         # The whole ConfigMap, not a subPath: a subPath mount never sees updates.
                         *([{"name": "flags", "mountPath": FLAGS_MOUNT, "readOnly": True}]
                           if spec.flags_config_map else [])],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(spec, tier.name, tier),
        "spec": {
            # No `replicas`: the autoscaler owns the count. A value here would be reset (or conflict under
            # server-side apply) on every `pulumi up` after the HPA or KEDA scaled the tier.
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": spec.selector(tier)},
            # The seed's maxUnavailable: 1 drops a third of a 3-pod tier on every deploy.
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": spec.labels(tier), "annotations": {CONFIG_HASH_ANNOTATION: config_hash}},
                "spec": {
                    "serviceAccountName": app.name,
                    "automountServiceAccountToken": app.automount_service_account_token,
                    "terminationGracePeriodSeconds": app.termination_grace_seconds,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": app.run_as_user,
                        "runAsGroup": app.run_as_user,
                        "fsGroup": app.run_as_user,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "topologySpreadConstraints": _spread(spec, tier),
                    "containers": [container],
                    "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}},
                                *([{"name": "flags", "configMap": {"name": spec.flags_config_map, "optional": True}}]
                                  if spec.flags_config_map else [])],
                },
            },
        },
    }


def service(spec: AppSpec) -> dict:
    """The API pods' Service (ClusterIP; only the gateway is exposed)."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(spec, spec.app.name, spec.api, annotations=dict(spec.service_annotations)),
        "spec": {
            "type": "ClusterIP",
            "selector": spec.selector(spec.api),
            "ports": [{"name": "http", "port": SERVICE_PORT, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def _resource_metric(resource: str, percent: int) -> dict:
    return {"type": "Resource", "resource": {"name": resource, "target": {"type": "Utilization", "averageUtilization": percent}}}


def _behavior(spec: AppSpec) -> dict:
    return {
        "scaleDown": {
            "stabilizationWindowSeconds": spec.app.scale_down_stabilization_seconds,
            "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}],
        },
        "scaleUp": {"stabilizationWindowSeconds": 0, "policies": [{"type": "Percent", "value": 100, "periodSeconds": 60}]},
    }


def hpa(spec: AppSpec, tier: Tier) -> dict:
    """CPU and memory autoscaling of one tier (the seed's 70 % / 80 %)."""
    app = spec.app
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _meta(spec, tier.name, tier),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": tier.name},
            "minReplicas": tier.sizing.hpa_min,
            "maxReplicas": tier.sizing.hpa_max,
            "metrics": [_resource_metric("cpu", app.cpu_target_utilization),
                        _resource_metric("memory", app.memory_target_utilization)],
            "behavior": _behavior(spec),
        },
    }


def scaled_object(spec: AppSpec, tier: Tier) -> dict:
    """KEDA scales the workers on queue depth per worker, CPU and memory as secondary triggers.

    Queue depth is the server's `lg_api_num_pending_runs` + `lg_api_num_running_runs` from Prometheus,
    not a query of its `run` table: the metric is the server's public contract (the table is private
    schema that changes between versions) and the autoscaler needs no database credentials. Every API
    pod reports the same global count, hence `max`, not `sum`. KEDA divides by the threshold
    (N_JOBS_PER_WORKER), so the desired count is runs / jobs per worker.
    """
    queue = spec.app.queue
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": _meta(spec, tier.name, tier),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": tier.name},
            "minReplicaCount": tier.sizing.hpa_min,
            "maxReplicaCount": tier.sizing.hpa_max,
            "pollingInterval": queue.keda_polling_seconds,
            "cooldownPeriod": queue.keda_cooldown_seconds,
            # If Prometheus cannot be read, hold the tier at its derived size rather than guessing.
            "fallback": {"failureThreshold": 3, "replicas": tier.sizing.instances},
            "advanced": {"horizontalPodAutoscalerConfig": {"behavior": _behavior(spec)}},
            "triggers": [
                spec.keda_trigger,
                {"type": "cpu", "metricType": "Utilization", "metadata": {"value": str(spec.app.cpu_target_utilization)}},
                {"type": "memory", "metricType": "Utilization", "metadata": {"value": str(spec.app.memory_target_utilization)}},
            ],
        },
    }


def queue_depth_trigger(prometheus_url: str, namespace: str, jobs_per_worker: int) -> dict:
    """KEDA's Prometheus trigger on the server's queue depth in `namespace`."""
    runs = " + ".join(f'(max(lg_api_num_{state}_runs{{namespace="{namespace}"}}) or vector(0))'
                      for state in ("pending", "running"))
    return {"type": "prometheus", "metricType": "AverageValue",
            "metadata": {"serverAddress": prometheus_url, "query": runs, "threshold": str(jobs_per_worker)}}


def pdb(spec: AppSpec, tier: Tier) -> dict:
    # One pod may go at a time; with a single replica (dev) that still lets nodes drain.
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _meta(spec, tier.name, tier),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": spec.selector(tier)},
                 "unhealthyPodEvictionPolicy": "AlwaysAllow"},
    }


def network_policy(spec: AppSpec, tier: Tier) -> dict:
    """API pods take traffic from the gateway and monitoring; workers from monitoring only (metrics).
    Both reach DNS, the endpoints the data tier declares, and the opted-in HTTPS CIDRs only."""
    egress = [netpol.dns_egress(), *egress_rules(spec.endpoints)]
    if spec.app.https_egress_cidrs:
        egress.append({"to": [{"ipBlock": {"cidr": cidr}} for cidr in spec.app.https_egress_cidrs],
                       "ports": netpol.tcp(443)})
    sources = [spec.monitoring_namespace] if tier.role == "queue" else [spec.gateway_namespace, spec.monitoring_namespace]
    return netpol.network_policy(tier.name, spec.namespace, spec.labels(tier), {
        "podSelector": {"matchLabels": spec.selector(tier)},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"from": [netpol.namespace_peer(ns) for ns in sources], "ports": netpol.tcp(spec.app.port)}],
        "egress": egress,
    })
