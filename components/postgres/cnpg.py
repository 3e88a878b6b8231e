"""Pure builders of PostgreSQL on CloudNativePG: the Cluster, its PgBouncer Poolers, backups through the
Barman Cloud plugin, a PodMonitor of our own, and the NetworkPolicies of the instances and poolers.

Who owns what: CloudNativePG's initdb bootstraps the `langgraph` database owned by the app role, with
the password we generate (the operator must create something at bootstrap, so it creates exactly
that), and its declarative role management keeps that role's connection limit and password; every
other role, grant, default privilege and the pg_stat_statements extension is managed with
pulumi-postgresql (`roles.py`), as on RDS.

LangGraph's checkpointer prepares every statement (`prepare_threshold=0`), so a PgBouncer in
transaction mode needs `max_prepared_statements` (PgBouncer >= 1.21; CloudNativePG's Pooler ships
1.25); without it the app fails with "prepared statement does not exist".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from components import netpol
from components.connections import Endpoint

API = "postgresql.cnpg.io/v1"
BARMAN_PLUGIN = "barman-cloud.cloudnative-pg.io"
POSTGRES_PORT, INSTANCE_STATUS_PORT, INSTANCE_METRICS_PORT, POOLER_METRICS_PORT = 5432, 8000, 9187, 9127


@dataclass(frozen=True)
class BackupStore:
    """Where the Barman Cloud plugin writes base backups and WAL (an S3 API), as the checkpoint store gives it."""

    configuration: dict
    """`spec.configuration` of the ObjectStore: destination, endpoint, credentials (a Secret or the IAM role)."""
    service_account_annotations: dict
    """On the instances' ServiceAccount (IRSA when the store uses an IAM role)."""
    peers: tuple[Endpoint, ...] = ()
    """Where the instances connect to reach the store (their egress)."""


@dataclass(frozen=True)
class CnpgSpec:
    name: str
    namespace: str
    labels: Mapping[str, str]
    instances: int
    image: str
    storage_size: str
    cpu: str
    memory: str
    parameters: Mapping[str, str]
    database: str
    app_role: str
    app_secret: str
    """basic-auth Secret (username, password) of the app role: CloudNativePG bootstraps the role with it."""
    app_connection_limit: int
    superuser_secret: str
    pooler_instances: int
    pooler_parameters: Mapping[str, str]
    backup: BackupStore
    backup_schedule: str
    backup_retention_days: int
    clients: tuple[dict, ...]
    """NetworkPolicy peers allowed to connect to the poolers (the app's pods)."""
    direct_clients: tuple[dict, ...] = ()
    """Peers allowed to connect to the instances directly (the retention job)."""
    operator_namespace: str = "cnpg-system"
    monitoring_namespace: str = "monitoring"
    api_server_cidrs: tuple[str, ...] = ("0.0.0.0/0",)
    sidecar_resources: dict = field(default_factory=dict)
    """Resources of the Barman Cloud plugin's sidecar in each instance pod (counted in the namespace's quota)."""
    pooler_resources: dict = field(default_factory=lambda: {
        "requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "256Mi"}})

    def pooler_name(self, kind: str) -> str:
        return f"{self.name}-pooler-{kind}"

    @property
    def instance_selector(self) -> dict[str, str]:
        return {"cnpg.io/cluster": self.name, "cnpg.io/podRole": "instance"}

    def pooler_selector(self, kind: str) -> dict[str, str]:
        return {"cnpg.io/poolerName": self.pooler_name(kind)}


def _meta(spec: CnpgSpec, name: str) -> dict:
    return {"name": name, "namespace": spec.namespace, "labels": dict(spec.labels)}


def cluster(spec: CnpgSpec) -> dict:
    annotations = spec.backup.service_account_annotations
    return {
        "apiVersion": API,
        "kind": "Cluster",
        "metadata": _meta(spec, spec.name),
        "spec": {
            "instances": spec.instances,
            "imageName": spec.image,
            # Switchover to an updated standby rather than restarting the primary in place.
            "primaryUpdateStrategy": "unsupervised",
            "primaryUpdateMethod": "switchover",
            "enableSuperuserAccess": True,
            "superuserSecret": {"name": spec.superuser_secret},
            "bootstrap": {"initdb": {"database": spec.database, "owner": spec.app_role,
                                     "secret": {"name": spec.app_secret}}},
            "managed": {"roles": [{
                "name": spec.app_role, "ensure": "present", "login": True, "inherit": True,
                "connectionLimit": spec.app_connection_limit, "passwordSecret": {"name": spec.app_secret},
            }]},
            "postgresql": {"parameters": dict(spec.parameters)},
            "storage": {"size": spec.storage_size},
            "resources": {"requests": {"cpu": spec.cpu, "memory": spec.memory},
                          "limits": {"cpu": spec.cpu, "memory": spec.memory}},
            # One instance per node, hard: a node failure never takes two.
            "affinity": {"enablePodAntiAffinity": True, "podAntiAffinityType": "required",
                         "topologyKey": "kubernetes.io/hostname"},
            "enablePDB": True,
            **({"serviceAccountTemplate": {"metadata": {"annotations": dict(annotations)}}} if annotations else {}),
            "plugins": [{"name": BARMAN_PLUGIN, "isWALArchiver": True,
                         "parameters": {"barmanObjectName": f"{spec.name}-backups"}}],
        },
    }


def object_store(spec: CnpgSpec) -> dict:
    """The Barman Cloud plugin's store (the in-tree barmanObjectStore is deprecated and removed in 1.31)."""
    configuration = {**spec.backup.configuration, "wal": {"compression": "gzip"}, "data": {"compression": "gzip"}}
    return {
        "apiVersion": "barmancloud.cnpg.io/v1",
        "kind": "ObjectStore",
        "metadata": _meta(spec, f"{spec.name}-backups"),
        "spec": {"configuration": configuration, "retentionPolicy": f"{spec.backup_retention_days}d",
                 **({"instanceSidecarConfiguration": {"resources": spec.sidecar_resources}}
                    if spec.sidecar_resources else {})},
    }


def scheduled_backup(spec: CnpgSpec) -> dict:
    return {
        "apiVersion": API,
        "kind": "ScheduledBackup",
        "metadata": _meta(spec, f"{spec.name}-daily"),
        "spec": {
            "schedule": spec.backup_schedule,
            "cluster": {"name": spec.name},
            "method": "plugin",
            "pluginConfiguration": {"name": BARMAN_PLUGIN},
            "backupOwnerReference": "self",
            # A first base backup right away: WAL archiving is useless without one.
            "immediate": True,
        },
    }


def pooler(spec: CnpgSpec, kind: str) -> dict:
    """PgBouncer in transaction mode in front of the primary (`rw`) or the standbys (`ro`)."""
    return {
        "apiVersion": API,
        "kind": "Pooler",
        "metadata": _meta(spec, spec.pooler_name(kind)),
        "spec": {
            "cluster": {"name": spec.name},
            "instances": spec.pooler_instances,
            "type": kind,
            "pgbouncer": {"poolMode": "transaction", "parameters": dict(spec.pooler_parameters)},
            "deploymentStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {"metadata": {"labels": dict(spec.labels)},
                         "spec": {"containers": [{"name": "pgbouncer", "resources": spec.pooler_resources}]}},
        },
    }


def pod_monitor(spec: CnpgSpec) -> dict:
    """Declared by us: the operator's own `enablePodMonitor` is deprecated."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": _meta(spec, spec.name),
        "spec": {
            "selector": {"matchLabels": {"cnpg.io/cluster": spec.name}},
            "podMetricsEndpoints": [{"port": "metrics", "interval": "30s"}],
        },
    }


def pooler_pod_monitor(spec: CnpgSpec) -> dict:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": _meta(spec, f"{spec.name}-poolers"),
        "spec": {
            "selector": {"matchExpressions": [{"key": "cnpg.io/poolerName", "operator": "In",
                                               "values": [spec.pooler_name("rw"), spec.pooler_name("ro")]}]},
            "podMetricsEndpoints": [{"port": "metrics", "interval": "30s"}],
        },
    }


def instance_network_policy(spec: CnpgSpec) -> dict:
    """Instances: PostgreSQL from the poolers, each other (replication) and direct clients; the operator on the
    status port; Prometheus on metrics. Out: DNS, the API server, each other, the backup store."""
    poolers = [{"podSelector": {"matchLabels": spec.pooler_selector(kind)}} for kind in ("rw", "ro")]
    instances = {"podSelector": {"matchLabels": {"cnpg.io/cluster": spec.name}}}
    egress = [netpol.dns_egress(), netpol.api_server_egress(spec.api_server_cidrs),
              {"to": [instances], "ports": netpol.tcp(POSTGRES_PORT)}]
    egress += [peer.egress_rule() for peer in spec.backup.peers]
    return netpol.network_policy(f"{spec.name}-instances", spec.namespace, dict(spec.labels), {
        "podSelector": {"matchLabels": spec.instance_selector},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [
            {"from": [*poolers, instances, *spec.direct_clients], "ports": netpol.tcp(POSTGRES_PORT)},
            {"from": [netpol.namespace_peer(spec.operator_namespace)], "ports": netpol.tcp(INSTANCE_STATUS_PORT)},
            {"from": [netpol.namespace_peer(spec.monitoring_namespace)], "ports": netpol.tcp(INSTANCE_METRICS_PORT)},
        ],
        "egress": egress,
    })


def pooler_network_policy(spec: CnpgSpec) -> dict:
    """Poolers: the app's pods in, Prometheus on metrics; out to the instances, DNS and the API server."""
    selector = {"matchExpressions": [{"key": "cnpg.io/poolerName", "operator": "In",
                                      "values": [spec.pooler_name("rw"), spec.pooler_name("ro")]}]}
    return netpol.network_policy(f"{spec.name}-poolers", spec.namespace, dict(spec.labels), {
        "podSelector": selector,
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [
            {"from": list(spec.clients), "ports": netpol.tcp(POSTGRES_PORT)},
            {"from": [netpol.namespace_peer(spec.monitoring_namespace)], "ports": netpol.tcp(POOLER_METRICS_PORT)},
        ],
        "egress": [netpol.dns_egress(), netpol.api_server_egress(spec.api_server_cidrs),
                   {"to": [{"podSelector": {"matchLabels": spec.instance_selector}}], "ports": netpol.tcp(POSTGRES_PORT)}],
    })


def endpoints(spec: CnpgSpec) -> tuple[Endpoint, ...]:
    """Where the app connects: the poolers."""
    return (Endpoint("postgres", (POSTGRES_PORT,), namespace=spec.namespace,
                     pod_labels={"cnpg.io/cluster": spec.name, "cnpg.io/podRole": "pooler"}),)


def service_host(spec: CnpgSpec, service: str) -> str:
    return f"{service}.{spec.namespace}.svc"
