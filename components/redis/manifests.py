"""Pure builders of the Redis (Valkey) + Sentinel + HAProxy objects (plain dicts in the API's shape).

- `<name>` StatefulSet: master + replicas, each pod with a redis_exporter sidecar; its start-up
  script picks the pod's role (see `scripts/start-redis.sh`). `<name>-headless` publishes the
  stable per-pod host names everything announces.
- `<name>-sentinel` StatefulSet: the Sentinels (stable names too; their state lives in an emptyDir
  and is rebuilt by `scripts/start-sentinel.sh` and the other Sentinels on every start).
- `<name>-haproxy` Deployment behind the `<name>` Service: the stable master endpoint for
  REDIS_URI (the LangGraph server cannot speak Sentinel).

Both StatefulSets start their pods in parallel: ordered start-up would keep every pod from being
recreated while ordinal 0 is down, and the scripts, not the start order, decide who is master.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from components import netpol
from components.pins import IMAGES
from components.security import restricted_container

from .sentinel_config import (EXPORTER_PORT, HAPROXY_STATS_PORT, REDIS_PORT, SENTINEL_PORT, RedisSentinelSpec,
                              haproxy_cfg, redis_conf, sentinel_conf)

SCRIPTS_DIR = Path(__file__).with_name("scripts")
SCRIPTS_MOUNT, CONFIG_MOUNT, DATA_MOUNT, RUN_MOUNT = "/scripts", "/etc/redis", "/data", "/run/redis"
HAPROXY_CONFIG_MOUNT = "/usr/local/etc/haproxy"
# None of the three programs needs a passwd entry or its image's own user (valkey 999, haproxy 99):
# high UIDs keep clear of host UIDs (checkov CKV_K8S_40). The exporter image's own user is 59000.
REDIS_UID, HAPROXY_UID, EXPORTER_UID = 10999, 10099, 59000
# `-::*`: IPv6 too where the pod has it; the leading dash makes it optional on IPv4-only clusters.
BIND_ALL = "* -::*"
COMPONENTS = ("redis", "sentinel", "haproxy")


def selector(spec: RedisSentinelSpec, component: str) -> dict[str, str]:
    return {"app.kubernetes.io/instance": spec.name, "app.kubernetes.io/component": component}


def labels(spec: RedisSentinelSpec, component: str) -> dict[str, str]:
    program = {"redis": spec.redis_image, "sentinel": f"{spec.redis_image}-sentinel", "haproxy": spec.haproxy_image}
    return {**spec.labels, "app.kubernetes.io/name": program[component], **selector(spec, component)}


def _workload_names(spec: RedisSentinelSpec) -> dict[str, str]:
    return {"redis": spec.name, "sentinel": spec.sentinel_name, "haproxy": spec.haproxy_name}


def _meta(spec: RedisSentinelSpec, name: str, component: str, **extra) -> dict:
    return {"name": name, "namespace": spec.namespace, "labels": labels(spec, component), **extra}


def scripts() -> dict[str, str]:
    """The start-up and probe scripts, as shipped in `scripts/`."""
    return {path.name: path.read_text() for path in sorted(SCRIPTS_DIR.glob("*.sh"))}


def config_maps(spec: RedisSentinelSpec) -> list[dict]:
    """Scripts (shared), and one config per workload, so that a change rolls only its pods."""
    data = {
        f"{spec.name}-scripts": ("redis", scripts()),
        f"{spec.name}-config": ("redis", {"redis.conf": redis_conf(spec)}),
        f"{spec.name}-sentinel-config": ("sentinel", {"sentinel.conf": sentinel_conf(spec)}),
        f"{spec.name}-haproxy-config": ("haproxy", {"haproxy.cfg": haproxy_cfg(spec, spec.redis_endpoints())}),
    }
    return [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(spec, name, component), "data": content}
            for name, (component, content) in data.items()]


def _checksum(*maps: dict) -> str:
    """Pod-template annotation: a config change changes the template, so the pods roll."""
    return hashlib.sha256(json.dumps([m["data"] for m in maps], sort_keys=True).encode()).hexdigest()


def _maps_by_name(spec: RedisSentinelSpec) -> dict[str, dict]:
    return {m["metadata"]["name"]: m for m in config_maps(spec)}


def _password_env(spec: RedisSentinelSpec) -> dict:
    return {"name": "REDIS_PASSWORD",
            "valueFrom": {"secretKeyRef": {"name": spec.password_secret, "key": spec.password_key}}}


def _discovery_env(spec: RedisSentinelSpec, headless: str) -> list[dict]:
    """What discover.sh needs: every member's and Sentinel's stable address, and this pod's name."""
    return [
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "MY_HOST", "value": f"$(POD_NAME).{headless}.{spec.namespace}.svc.{spec.cluster_domain}"},
        {"name": "BIND_ADDRESS", "value": BIND_ALL},
        _password_env(spec),
        {"name": "MASTER_NAME", "value": spec.master_name},
        {"name": "SENTINEL_NODES", "value": " ".join(map(str, spec.sentinel_endpoints()))},
        {"name": "REDIS_NODES", "value": " ".join(map(str, spec.redis_endpoints()))},
        {"name": "BOOTSTRAP_MASTER", "value": str(spec.redis_endpoints()[0])},
    ]


def redis_environment(spec: RedisSentinelSpec) -> list[dict]:
    return [
        *_discovery_env(spec, spec.redis_headless),
        {"name": "REDIS_PORT", "value": str(REDIS_PORT)},
        {"name": "REDIS_DATA_DIR", "value": DATA_MOUNT},
        {"name": "CONFIG_TEMPLATE", "value": f"{CONFIG_MOUNT}/redis.conf"},
        {"name": "CONFIG_FILE", "value": f"{RUN_MOUNT}/redis.conf"},
    ]


def sentinel_environment(spec: RedisSentinelSpec) -> list[dict]:
    return [
        *_discovery_env(spec, spec.sentinel_headless),
        {"name": "SENTINEL_PORT", "value": str(SENTINEL_PORT)},
        {"name": "SENTINEL_DATA_DIR", "value": DATA_MOUNT},
        {"name": "CONFIG_TEMPLATE", "value": f"{CONFIG_MOUNT}/sentinel.conf"},
        {"name": "CONFIG_FILE", "value": f"{DATA_MOUNT}/sentinel.conf"},
    ]


def exporter_environment(spec: RedisSentinelSpec, port: int = REDIS_PORT) -> list[dict]:
    return [{"name": "REDIS_ADDR", "value": f"redis://127.0.0.1:{port}"}, _password_env(spec),
            {"name": "REDIS_EXPORTER_WEB_LISTEN_ADDRESS", "value": f":{EXPORTER_PORT}"}]


def _pod_security(uid: int) -> dict:
    return {"runAsNonRoot": True, "runAsUser": uid, "runAsGroup": uid, "fsGroup": uid,
            "fsGroupChangePolicy": "OnRootMismatch", "seccompProfile": {"type": "RuntimeDefault"}}


def _health(check: str, period: int, failures: int) -> dict:
    """An exec probe running the shipped health.sh (it reads the password from the environment)."""
    return {"exec": {"command": ["sh", f"{SCRIPTS_MOUNT}/health.sh", check]},
            "periodSeconds": period, "timeoutSeconds": 5, "failureThreshold": failures}


def _spread(spec: RedisSentinelSpec, component: str) -> dict:
    """Anti-affinity across nodes (hard in prod, soft where one node must do) and spread over zones."""
    term = {"labelSelector": {"matchLabels": selector(spec, component)}, "topologyKey": "kubernetes.io/hostname"}
    anti = ({"requiredDuringSchedulingIgnoredDuringExecution": [term]} if spec.require_separate_nodes else
            {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "podAffinityTerm": term}]})
    return {
        "affinity": {"podAntiAffinity": anti},
        "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                                       "whenUnsatisfiable": "ScheduleAnyway",
                                       "labelSelector": {"matchLabels": selector(spec, component)}}],
    }


def _pod_spec(spec: RedisSentinelSpec, component: str, uid: int, containers: list[dict], volumes: list[dict],
              grace_seconds: int) -> dict:
    return {
        "serviceAccountName": spec.name,
        "automountServiceAccountToken": False,
        # A Service named like ours would put REDIS_PORT=tcp://... into the environment the scripts read.
        "enableServiceLinks": False,
        "terminationGracePeriodSeconds": grace_seconds,
        "securityContext": _pod_security(uid),
        **_spread(spec, component),
        "containers": containers,
        "volumes": volumes,
    }


def _config_volume(name: str, config_map: str) -> dict:
    return {"name": name, "configMap": {"name": config_map, "defaultMode": 0o444}}


def service_account(spec: RedisSentinelSpec) -> dict:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(spec, spec.name, "redis"),
            "automountServiceAccountToken": False}


def redis_statefulset(spec: RedisSentinelSpec) -> dict:
    maps = _maps_by_name(spec)
    server = {
        "name": "redis",
        "image": spec.redis_image_ref or IMAGES[spec.redis_image].ref,
        "imagePullPolicy": spec.image_pull_policy,
        "command": ["sh", f"{SCRIPTS_MOUNT}/start-redis.sh"],
        "ports": [{"name": "redis", "containerPort": REDIS_PORT, "protocol": "TCP"}],
        "env": redis_environment(spec),
        "resources": spec.redis_resources.manifest(),
        # Generous: the script may wait up to 120 s for a master to be named, then the dataset loads.
        "startupProbe": _health("redis-alive", 5, 60),
        "readinessProbe": _health("redis-ready", 5, 2),
        "livenessProbe": _health("redis-alive", 10, 3),
        "securityContext": restricted_container(REDIS_UID),
        "volumeMounts": [
            {"name": "data", "mountPath": DATA_MOUNT},
            {"name": "config", "mountPath": CONFIG_MOUNT, "readOnly": True},
            {"name": "scripts", "mountPath": SCRIPTS_MOUNT, "readOnly": True},
            {"name": "run", "mountPath": RUN_MOUNT},
        ],
    }
    exporter = _exporter(spec, REDIS_PORT)
    volumes = [
        _config_volume("config", f"{spec.name}-config"),
        {"name": "scripts", "configMap": {"name": f"{spec.name}-scripts", "defaultMode": 0o555}},
        # The filled-in redis.conf holds the password: memory-backed, never on the data volume.
        {"name": "run", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}},
    ]
    claim = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": spec.storage_size}}}
    if spec.storage_class:
        claim["storageClassName"] = spec.storage_class
    checksum = _checksum(maps[f"{spec.name}-scripts"], maps[f"{spec.name}-config"])
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": _meta(spec, spec.name, "redis"),
        "spec": {
            "serviceName": spec.redis_headless,
            "replicas": spec.redis_pods,
            "podManagementPolicy": "Parallel",
            # One pod at a time, each waiting for the previous to be ready (a replica: in sync).
            "updateStrategy": {"type": "RollingUpdate"},
            "selector": {"matchLabels": selector(spec, "redis")},
            "template": {
                "metadata": {"labels": labels(spec, "redis"), "annotations": {"checksum/config": checksum}},
                # Redis saves its RDB on SIGTERM; a large dataset needs the time.
                "spec": _pod_spec(spec, "redis", REDIS_UID, [server, exporter], volumes, 60),
            },
            "volumeClaimTemplates": [{"metadata": {"name": "data", "labels": labels(spec, "redis")}, "spec": claim}],
        },
    }


def _exporter(spec: RedisSentinelSpec, port: int) -> dict:
    """redis_exporter beside the server (or the Sentinel) on `port` of the same pod."""
    http = {"httpGet": {"path": "/health", "port": "metrics"}}
    return {
        "name": "exporter",
        "image": IMAGES[spec.exporter_image].ref,
        "imagePullPolicy": spec.image_pull_policy,
        "ports": [{"name": "metrics", "containerPort": EXPORTER_PORT, "protocol": "TCP"}],
        "env": exporter_environment(spec, port),
        "resources": spec.exporter_resources.manifest(),
        "startupProbe": {**http, "periodSeconds": 2, "failureThreshold": 30},
        "readinessProbe": {**http, "periodSeconds": 10},
        "livenessProbe": {**http, "periodSeconds": 20},
        "securityContext": restricted_container(EXPORTER_UID),
    }


def sentinel_statefulset(spec: RedisSentinelSpec) -> dict:
    maps = _maps_by_name(spec)
    container = {
        "name": "sentinel",
        "image": spec.redis_image_ref or IMAGES[spec.redis_image].ref,
        "imagePullPolicy": spec.image_pull_policy,
        "command": ["sh", f"{SCRIPTS_MOUNT}/start-sentinel.sh"],
        "ports": [{"name": "sentinel", "containerPort": SENTINEL_PORT, "protocol": "TCP"}],
        "env": sentinel_environment(spec),
        "resources": spec.sentinel_resources.manifest(),
        "startupProbe": _health("sentinel-alive", 5, 30),
        "readinessProbe": _health("sentinel-alive", 5, 2),
        "livenessProbe": _health("sentinel-alive", 10, 3),
        "securityContext": restricted_container(REDIS_UID),
        "volumeMounts": [
            {"name": "data", "mountPath": DATA_MOUNT},
            {"name": "config", "mountPath": CONFIG_MOUNT, "readOnly": True},
            {"name": "scripts", "mountPath": SCRIPTS_MOUNT, "readOnly": True},
        ],
    }
    volumes = [
        # Sentinel rewrites its config (with the password) as its state changes: memory-backed.
        {"name": "data", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}},
        _config_volume("config", f"{spec.name}-sentinel-config"),
        {"name": "scripts", "configMap": {"name": f"{spec.name}-scripts", "defaultMode": 0o555}},
    ]
    checksum = _checksum(maps[f"{spec.name}-scripts"], maps[f"{spec.name}-sentinel-config"])
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": _meta(spec, spec.sentinel_name, "sentinel"),
        "spec": {
            "serviceName": spec.sentinel_headless,
            "replicas": spec.sentinels,
            "podManagementPolicy": "Parallel",
            "updateStrategy": {"type": "RollingUpdate"},
            "selector": {"matchLabels": selector(spec, "sentinel")},
            "template": {
                "metadata": {"labels": labels(spec, "sentinel"), "annotations": {"checksum/config": checksum}},
                # The exporter beside each Sentinel reports quorum and the master it sees.
                "spec": _pod_spec(spec, "sentinel", REDIS_UID, [container, _exporter(spec, SENTINEL_PORT)], volumes, 10),
            },
        },
    }


def haproxy_deployment(spec: RedisSentinelSpec) -> dict:
    config = _maps_by_name(spec)[f"{spec.name}-haproxy-config"]
    container = {
        "name": "haproxy",
        "image": IMAGES[spec.haproxy_image].ref,
        "imagePullPolicy": spec.image_pull_policy,
        "command": ["haproxy", "-db", "-f", f"{HAPROXY_CONFIG_MOUNT}/haproxy.cfg"],
        "ports": [{"name": "redis", "containerPort": REDIS_PORT, "protocol": "TCP"},
                  {"name": "metrics", "containerPort": HAPROXY_STATS_PORT, "protocol": "TCP"}],
        # HAProxy expands "${REDIS_PASSWORD}" in its config: the AUTH of its health check.
        "env": [_password_env(spec)],
        "resources": spec.haproxy_resources.manifest(),
        "startupProbe": {"tcpSocket": {"port": "metrics"}, "periodSeconds": 2, "failureThreshold": 30},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": "metrics"}, "periodSeconds": 2,
                           "failureThreshold": 1},
        "livenessProbe": {"tcpSocket": {"port": "metrics"}, "periodSeconds": 10},
        "securityContext": restricted_container(HAPROXY_UID),
        "volumeMounts": [{"name": "config", "mountPath": HAPROXY_CONFIG_MOUNT, "readOnly": True}],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(spec, spec.haproxy_name, "haproxy"),
        "spec": {
            "replicas": spec.haproxy_replicas,
            "revisionHistoryLimit": 5,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "selector": {"matchLabels": selector(spec, "haproxy")},
            "template": {
                "metadata": {"labels": labels(spec, "haproxy"), "annotations": {"checksum/config": _checksum(config)}},
                "spec": _pod_spec(spec, "haproxy", HAPROXY_UID, [container],
                                  [_config_volume("config", config["metadata"]["name"])], 30),
            },
        },
    }


def _service(spec: RedisSentinelSpec, name: str, component: str, ports: list[tuple[str, int]],
             headless: bool) -> dict:
    body = {"type": "ClusterIP", "selector": selector(spec, component),
            "ports": [{"name": port_name, "port": port, "targetPort": port_name, "protocol": "TCP"}
                      for port_name, port in ports]}
    if headless:
        # Pods must resolve each other before they are ready: a replica or Sentinel looks for the
        # master while starting.
        body |= {"clusterIP": "None", "publishNotReadyAddresses": True}
    return {"apiVersion": "v1", "kind": "Service", "metadata": _meta(spec, name, component), "spec": body}


def services(spec: RedisSentinelSpec) -> list[dict]:
    return [
        _service(spec, spec.redis_headless, "redis", [("redis", REDIS_PORT), ("metrics", EXPORTER_PORT)], True),
        _service(spec, spec.sentinel_headless, "sentinel", [("sentinel", SENTINEL_PORT)], True),
        # For Sentinel-aware clients (stack output): any Sentinel answers for the group.
        _service(spec, spec.sentinel_name, "sentinel", [("sentinel", SENTINEL_PORT)], False),
        # REDIS_URI's host: always the current master, through HAProxy.
        _service(spec, spec.master_service, "haproxy", [("redis", REDIS_PORT), ("metrics", HAPROXY_STATS_PORT)],
                 False),
    ]


def pod_disruption_budgets(spec: RedisSentinelSpec) -> list[dict]:
    """One Redis pod at a time (a drained master costs one failover); Sentinels only as many as
    leave a quorum; HAProxy one at a time."""
    budgets = {"redis": 1, "sentinel": spec.sentinels - spec.quorum, "haproxy": 1}
    names = _workload_names(spec)
    return [{"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
             "metadata": _meta(spec, names[component], component),
             "spec": {"maxUnavailable": budget, "selector": {"matchLabels": selector(spec, component)},
                      "unhealthyPodEvictionPolicy": "AlwaysAllow"}}
            for component, budget in budgets.items()]


def network_policies(spec: RedisSentinelSpec) -> list[dict]:
    """Exactly the flows the group uses: replication and the scripts' questions between Redis pods,
    Sentinels to everything, HAProxy to Redis, clients (`client_pod_labels`; every pod of the
    namespace when empty) to HAProxy and the Sentinels, the monitoring namespace to the metrics."""
    redis_pods, sentinel_pods, haproxy_pods = ({"podSelector": {"matchLabels": selector(spec, c)}} for c in COMPONENTS)
    clients = {"podSelector": {"matchLabels": dict(spec.client_pod_labels)},
               **(netpol.namespace_peer(spec.client_namespace) if spec.client_namespace else {})}
    scrapers = [netpol.namespace_peer(spec.monitoring_namespace)] if spec.monitoring_namespace else []

    def scrape(port: int) -> list[dict]:
        return [{"from": scrapers, "ports": netpol.tcp(port)}] if scrapers else []

    rules = {
        "redis": (
            [{"from": [redis_pods, sentinel_pods, haproxy_pods], "ports": netpol.tcp(REDIS_PORT)},
             *scrape(EXPORTER_PORT)],
            [{"to": [redis_pods], "ports": netpol.tcp(REDIS_PORT)},
             {"to": [sentinel_pods], "ports": netpol.tcp(SENTINEL_PORT)}],
        ),
        "sentinel": (
            [{"from": [sentinel_pods, redis_pods, clients, *spec.sentinel_clients], "ports": netpol.tcp(SENTINEL_PORT)},
             *scrape(EXPORTER_PORT)],
            [{"to": [redis_pods], "ports": netpol.tcp(REDIS_PORT)},
             {"to": [sentinel_pods], "ports": netpol.tcp(SENTINEL_PORT)}],
        ),
        "haproxy": (
            [{"from": [clients], "ports": netpol.tcp(REDIS_PORT)},
             *scrape(HAPROXY_STATS_PORT)],
            [{"to": [redis_pods], "ports": netpol.tcp(REDIS_PORT)}],
        ),
    }
    names = _workload_names(spec)
    return [netpol.network_policy(names[component], spec.namespace, labels(spec, component), {
        "podSelector": {"matchLabels": selector(spec, component)},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": ingress,
        "egress": [netpol.dns_egress(), *egress],
    }) for component, (ingress, egress) in rules.items()]


def objects(spec: RedisSentinelSpec) -> list[dict]:
    """Every object of the group, in an order a plain `kubectl apply` would accept."""
    return [service_account(spec), *config_maps(spec), *services(spec), redis_statefulset(spec),
            sentinel_statefulset(spec), haproxy_deployment(spec), *pod_disruption_budgets(spec),
            *network_policies(spec)]
