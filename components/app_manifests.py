"""Pure builders of the app tier's Kubernetes objects (plain dicts in the API's own shape).

`LangGraphApp` turns these into resources; tests and the offline plan read them directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from stackconfig.capacity import Sizing
from stackconfig.model import AppConfig, ProbeConfig

from . import netpol

# Data-tier ports the app may reach: PostgreSQL/PgBouncer, Redis, Sentinel, MinIO.
DATA_TIER_PORTS = (5432, 6379, 26379, 9000)
SERVICE_PORT = 80
SECRET_ENV = ("DATABASE_URI", "POSTGRES_URI", "DATABASE_READONLY_URI", "REDIS_URI")


@dataclass(frozen=True)
class AppSpec:
    """What the app tier is built from."""

    app: AppConfig
    sizing: Sizing
    namespace: str
    per_instance_concurrency: int
    gateway_namespace: str
    monitoring_namespace: str
    data_tier_cidr: str | None = None
    service_annotations: dict[str, str] = field(default_factory=dict)

    @property
    def labels(self) -> dict[str, str]:
        return {"app.kubernetes.io/name": self.app.name, "app.kubernetes.io/part-of": "langgraph-platform"}

    @property
    def selector(self) -> dict[str, str]:
        return {"app.kubernetes.io/name": self.app.name}

    @property
    def secret_name(self) -> str:
        return f"{self.app.name}-connections"

    @property
    def config_map_name(self) -> str:
        return f"{self.app.name}-config"


def _meta(spec: AppSpec, name: str, **extra) -> dict:
    return {"name": name, "namespace": spec.namespace, "labels": spec.labels, **extra}


def namespace(spec: AppSpec) -> dict:
    # Pod Security Admission enforces the restricted profile on everything in the namespace.
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": spec.namespace, "labels": {
        **spec.labels,
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
    }}}


def service_account(spec: AppSpec) -> dict:
    annotations = {"eks.amazonaws.com/role-arn": spec.app.iam_role_arn} if spec.app.iam_role_arn else {}
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _meta(spec, spec.app.name, annotations=annotations),
        "automountServiceAccountToken": spec.app.automount_service_account_token,
    }


def environment(spec: AppSpec) -> dict[str, str]:
    """The seed's ProductionConfig as environment variables."""
    tuning = spec.app.tuning
    return {
        "DATABASE_POOL_SIZE": str(tuning.database_pool_size),
        "DATABASE_MAX_OVERFLOW": str(tuning.database_max_overflow),
        "DATABASE_POOL_TIMEOUT": str(tuning.database_pool_timeout),
        "REDIS_POOL_SIZE": str(tuning.redis_pool_size),
        "REDIS_TIMEOUT": str(tuning.redis_timeout),
        "CHECKPOINT_BATCH_SIZE": str(tuning.checkpoint_batch_size),
        "CHECKPOINT_COMPRESSION": str(tuning.checkpoint_compression).lower(),
        "CHECKPOINT_TTL": str(tuning.checkpoint_ttl_seconds),
        "MAX_CONCURRENT_EXECUTIONS": str(spec.per_instance_concurrency),
        "NODE_TIMEOUT": str(tuning.node_timeout_seconds),
        "RETRY_MAX_ATTEMPTS": str(tuning.retry_max_attempts),
        "RETRY_BACKOFF_FACTOR": f"{tuning.retry_backoff_factor:g}",
        "METRICS_EXPORT_INTERVAL": str(tuning.metrics_export_interval),
        "HEALTH_CHECK_TIMEOUT": str(tuning.health_check_timeout),
        "LOG_LEVEL": spec.app.log_level,
        "PORT": str(spec.app.port),
    }


def config_map(spec: AppSpec) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(spec, spec.config_map_name), "data": environment(spec)}


def secret(spec: AppSpec, connections: dict) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": _meta(spec, spec.secret_name), "stringData": connections}


def _probe(probe: ProbeConfig, port: int) -> dict:
    return {
        "httpGet": {"path": probe.path, "port": port},
        "initialDelaySeconds": probe.initial_delay_seconds,
        "periodSeconds": probe.period_seconds,
        "timeoutSeconds": probe.timeout_seconds,
        "failureThreshold": probe.failure_threshold,
    }


def deployment(spec: AppSpec) -> dict:
    app = spec.app
    container = {
        "name": app.name,
        "image": app.image,
        "imagePullPolicy": app.image_pull_policy,
        "ports": [{"name": "http", "containerPort": app.port, "protocol": "TCP"}],
        "envFrom": [
            {"configMapRef": {"name": spec.config_map_name}},
            # The connection strings are optional until the data tier provides them.
            {"secretRef": {"name": spec.secret_name, "optional": True}},
        ],
        "resources": {
            "requests": {"cpu": app.resources.cpu_request, "memory": app.resources.memory_request},
            "limits": {"cpu": app.resources.cpu_limit, "memory": app.resources.memory_limit},
        },
        "startupProbe": _probe(app.probes.startup, app.port),
        "readinessProbe": _probe(app.probes.readiness, app.port),
        "livenessProbe": _probe(app.probes.liveness, app.port),
        # Sleep first so the gateway stops routing here before the server begins its shutdown.
        "lifecycle": {"preStop": {"sleep": {"seconds": app.pre_stop_seconds}}},
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": app.run_as_user,
            "runAsGroup": app.run_as_user,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "privileged": False,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }
    spread = [
        {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": spec.selector},
        }
        for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
    ]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(spec, app.name),
        "spec": {
            # The HPA owns the replica count; this is only the starting size.
            "replicas": spec.sizing.hpa_min,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": spec.selector},
            # The seed's maxUnavailable: 1 drops a third of a 3-pod tier on every deploy.
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": spec.labels},
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
                    "topologySpreadConstraints": spread,
                    "containers": [container],
                    "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}],
                },
            },
        },
    }


def service(spec: AppSpec) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(spec, spec.app.name, annotations=dict(spec.service_annotations)),
        "spec": {
            "type": "ClusterIP",
            "selector": spec.selector,
            "ports": [{"name": "http", "port": SERVICE_PORT, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def hpa(spec: AppSpec) -> dict:
    app = spec.app

    def utilization(resource: str, percent: int) -> dict:
        return {"type": "Resource", "resource": {"name": resource, "target": {"type": "Utilization", "averageUtilization": percent}}}

    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _meta(spec, app.name),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": app.name},
            "minReplicas": spec.sizing.hpa_min,
            "maxReplicas": spec.sizing.hpa_max,
            "metrics": [utilization("cpu", app.cpu_target_utilization), utilization("memory", app.memory_target_utilization)],
            "behavior": {
                "scaleDown": {
                    "stabilizationWindowSeconds": app.scale_down_stabilization_seconds,
                    "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}],
                },
                "scaleUp": {
                    "stabilizationWindowSeconds": 0,
                    "policies": [{"type": "Percent", "value": 100, "periodSeconds": 60}],
                },
            },
        },
    }


def pdb(spec: AppSpec) -> dict:
    # One pod may go at a time; with a single replica (dev) that still lets nodes drain.
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _meta(spec, spec.app.name),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": spec.selector}, "unhealthyPodEvictionPolicy": "AlwaysAllow"},
    }


def default_deny(spec: AppSpec) -> dict:
    return netpol.default_deny(spec.namespace, spec.labels)


def network_policy(spec: AppSpec) -> dict:
    """Ingress from the gateway and monitoring only; egress to DNS and the data tier only."""
    data_ports = netpol.tcp(*DATA_TIER_PORTS)
    egress = [
        netpol.dns_egress(),
        # In-cluster data tier (CloudNativePG, Redis + Sentinel, MinIO) lives in the app's namespace.
        {"to": [{"podSelector": {}}], "ports": data_ports},
    ]
    if spec.data_tier_cidr:
        egress.append({"to": [{"ipBlock": {"cidr": spec.data_tier_cidr}}], "ports": data_ports[:2]})
    if spec.app.https_egress_cidrs:
        egress.append({"to": [{"ipBlock": {"cidr": cidr}} for cidr in spec.app.https_egress_cidrs],
                       "ports": netpol.tcp(443)})
    return netpol.network_policy(spec.app.name, spec.namespace, spec.labels, {
        "podSelector": {"matchLabels": spec.selector},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [{
            "from": [netpol.namespace_peer(spec.gateway_namespace), netpol.namespace_peer(spec.monitoring_namespace)],
            "ports": netpol.tcp(spec.app.port),
        }],
        "egress": egress,
    })
