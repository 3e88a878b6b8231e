"""Auto-recovery: the service (`recovery/`) that turns Alertmanager webhooks into bounded remediations.

Pure builders of its Kubernetes objects, the Alertmanager route and receiver that feed it, and the
`AutoRecovery` component that registers them in the app namespace:

- a single-replica Deployment (Recreate: two instances never run at once, so the in-memory rate
  limits hold), restricted, probed on `/healthz`;
- its settings as a ConfigMap (`config.json`, rendered by `recovery.settings`, the module the
  service parses it with);
- the ConfigMap of disabled graphs the app mounts (rendered without `data`: the service owns that
  key, so `pulumi up` never resets a graph it disabled; Flagger's config tracking is off for it, so
  a canary's primary pods read the same ConfigMap instead of a copy);
- a Role with exactly the verbs the remediations use (`rbac_rules`), bound to its ServiceAccount;
- the webhook token (random, shared with Alertmanager) and, for Sentinel failovers, a copy of the
  Sentinels' password in a Secret of the app namespace (a pod mounts Secrets of its own namespace only);
- a NetworkPolicy: in from the monitoring namespace only, out to DNS, the API server and the Sentinels.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import pulumi

from recovery.settings import (Autoscaler, DisableGraph, PodRestart, RateLimit, ScaleUp, SentinelFailover,
                               Settings)

from . import netpol
from .kube import KubeObject
from .namespace import ComputeResources, Workload
from .security import restricted_container

PORT = 8080
RUN_AS_USER = 10001
WEBHOOK_PATH = "/alerts"
RECEIVER = "auto-recovery"
CONFIG_MOUNT, TOKEN_MOUNT, SENTINEL_MOUNT = "/etc/recovery", "/var/run/secrets/recovery/webhook", \
    "/var/run/secrets/recovery/sentinel"
TOKEN_KEY, PASSWORD_KEY, CONFIG_KEY = "token", "password", "config.json"
# The service idles at about 85 MB resident (measured after start-up, Kubernetes client loaded).
POD = ComputeResources("50m", "128Mi", "250m", "256Mi")
PART_OF = "langgraph-platform"


@dataclass(frozen=True)
class SentinelTarget:
    """The Sentinels the service may ask for a failover, and where their pods run (for egress)."""

    master_name: str
    addresses: tuple[str, ...]
    """`host:port` of each Sentinel (their stable per-pod names)."""
    namespace: str
    pod_labels: dict[str, str]


@dataclass(frozen=True)
class RecoverySpec:
    """What the service is allowed to do, and where it runs."""

    namespace: str
    """The app namespace: the service, its Role and everything it may touch."""
    image: str
    monitoring_namespace: str
    """Where Alertmanager runs: the only source of webhooks."""
    api_server_cidrs: tuple[str, ...]
    dry_run: bool = True
    rate_limit: RateLimit = field(default_factory=RateLimit)
    restart_deployments: tuple[str, ...] = ()
    """Deployments whose crash-looping pods may be deleted; empty turns the action off."""
    autoscalers: tuple[Autoscaler, ...] = ()
    """Autoscalers whose maximum may be raised, each with its cap; empty turns the action off."""
    scale_step: int = 2
    sentinel: SentinelTarget | None = None
    disabled_graphs_config_map: str | None = None
    """The ConfigMap (key `disabled-graphs`) the app reads its disabled graphs from; None turns the action off."""
    max_disabled_graphs: int = 1
    name: str = "langgraph-recovery"
    image_pull_policy: str = "IfNotPresent"

    @property
    def labels(self) -> dict[str, str]:
        return {**self.selector, "app.kubernetes.io/part-of": PART_OF}

    @property
    def selector(self) -> dict[str, str]:
        return {"app.kubernetes.io/name": self.name, "app.kubernetes.io/component": "auto-recovery"}

    @property
    def webhook_secret(self) -> str:
        return f"{self.name}-webhook"

    @property
    def sentinel_secret(self) -> str:
        return f"{self.name}-sentinel"

    def settings(self) -> Settings:
        """The service's settings, with the paths where the Deployment mounts its files."""
        sentinel = self.sentinel
        return Settings(
            namespace=self.namespace,
            webhook_token_file=f"{TOKEN_MOUNT}/{TOKEN_KEY}",
            deployment=self.name,
            dry_run=self.dry_run,
            rate_limit=self.rate_limit,
            pod_restart=PodRestart(self.restart_deployments) if self.restart_deployments else None,
            scale_up=ScaleUp(self.autoscalers, self.scale_step) if self.autoscalers else None,
            sentinel_failover=SentinelFailover(sentinel.master_name, sentinel.addresses, sentinel.namespace,
                                               f"{SENTINEL_MOUNT}/{PASSWORD_KEY}") if sentinel else None,
            disable_graph=DisableGraph(self.disabled_graphs_config_map, max_disabled=self.max_disabled_graphs)
            if self.disabled_graphs_config_map else None,
        )


def _meta(spec: RecoverySpec, name: str, **extra) -> dict:
    return {"name": name, "namespace": spec.namespace, "labels": spec.labels, **extra}


def rbac_rules(settings: Settings) -> list[dict]:
    """Exactly the verbs the configured remediations call, on exactly the objects they name (pods
    excepted: their names are not known in advance, the service checks them against its Deployments)."""
    rules = []
    if settings.pod_restart:
        rules.append({"apiGroups": [""], "resources": ["pods"], "verbs": ["delete"]})
    if settings.scale_up:
        autoscalers = settings.scale_up.autoscalers
        rules.append({"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"], "verbs": ["get"],
                      "resourceNames": [a.hpa for a in autoscalers]})
        patched = [a.hpa for a in autoscalers if not a.scaled_object]
        if patched:
            rules.append({"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"],
                          "verbs": ["patch"], "resourceNames": patched})
        scaled_objects = [a.scaled_object for a in autoscalers if a.scaled_object]
        if scaled_objects:
            rules.append({"apiGroups": ["keda.sh"], "resources": ["scaledobjects"], "verbs": ["get", "patch"],
                          "resourceNames": scaled_objects})
    if settings.disable_graph:
        rules.append({"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "patch"],
                      "resourceNames": [settings.disable_graph.config_map]})
    rules.append({"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create"]})
    return rules


def service_account(spec: RecoverySpec) -> dict:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(spec, spec.name),
            "automountServiceAccountToken": True}


def role(spec: RecoverySpec) -> dict:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": _meta(spec, spec.name),
            "rules": rbac_rules(spec.settings())}


def role_binding(spec: RecoverySpec) -> dict:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": _meta(spec, spec.name),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": spec.name},
            "subjects": [{"kind": "ServiceAccount", "name": spec.name, "namespace": spec.namespace}]}


def config_map(spec: RecoverySpec) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(spec, spec.name),
            "data": {CONFIG_KEY: spec.settings().to_json()}}


def disabled_graphs_config_map(spec: RecoverySpec) -> dict:
    """The flag ConfigMap, without `data`: the service writes its key, nothing else owns it."""
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": _meta(spec, spec.disabled_graphs_config_map,
                              annotations={"flagger.app/config-tracking": "disabled"})}


def secret(spec: RecoverySpec, name: str, key: str, value: object) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": _meta(spec, name),
            "stringData": {key: value}}


def _probe(period: int, failures: int) -> dict:
    return {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": period, "timeoutSeconds": 2,
            "failureThreshold": failures}


def deployment(spec: RecoverySpec) -> dict:
    config_hash = hashlib.sha256(spec.settings().to_json().encode()).hexdigest()[:32]
    mounts = [{"name": "config", "mountPath": CONFIG_MOUNT, "readOnly": True},
              {"name": "webhook-token", "mountPath": TOKEN_MOUNT, "readOnly": True},
              {"name": "tmp", "mountPath": "/tmp"}]
    volumes = [{"name": "config", "configMap": {"name": spec.name}},
               {"name": "webhook-token", "secret": {"secretName": spec.webhook_secret, "defaultMode": 0o440}},
               {"name": "tmp", "emptyDir": {"sizeLimit": "16Mi"}}]
    if spec.sentinel:
        mounts.append({"name": "sentinel-password", "mountPath": SENTINEL_MOUNT, "readOnly": True})
        volumes.append({"name": "sentinel-password",
                        "secret": {"secretName": spec.sentinel_secret, "defaultMode": 0o440}})
    container = {
        "name": "auto-recovery",
        "image": spec.image,
        "imagePullPolicy": spec.image_pull_policy,
        "ports": [{"name": "http", "containerPort": PORT, "protocol": "TCP"}],
        "env": [{"name": "RECOVERY_CONFIG", "value": f"{CONFIG_MOUNT}/{CONFIG_KEY}"},
                {"name": "PORT", "value": str(PORT)},
                {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
        "resources": POD.as_resources(),
        "startupProbe": _probe(2, 15),
        "readinessProbe": _probe(10, 3),
        "livenessProbe": _probe(20, 3),
        "securityContext": restricted_container(RUN_AS_USER),
        "volumeMounts": mounts,
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        # It calls the Kubernetes API (its Role's verbs), so it needs its token, unlike the app.
        "metadata": _meta(spec, spec.name, annotations={
            "checkov.io/skip1": "CKV_K8S_38=calls the Kubernetes API with its least-privilege Role"}),
        "spec": {
            "replicas": 1,
            # Never two at once: each would keep rate limits of its own and act twice.
            "strategy": {"type": "Recreate"},
            "revisionHistoryLimit": 3,
            "selector": {"matchLabels": spec.selector},
            "template": {
                "metadata": {"labels": spec.labels, "annotations": {"langgraph-platform/config-hash": config_hash}},
                "spec": {
                    "serviceAccountName": spec.name,
                    "automountServiceAccountToken": True,
                    "terminationGracePeriodSeconds": 15,
                    "securityContext": {"runAsNonRoot": True, "runAsUser": RUN_AS_USER, "runAsGroup": RUN_AS_USER,
                                        "fsGroup": RUN_AS_USER, "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [container],
                    "volumes": volumes,
                },
            },
        },
    }


def service(spec: RecoverySpec) -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": _meta(spec, spec.name),
            "spec": {"type": "ClusterIP", "selector": spec.selector,
                     "ports": [{"name": "http", "port": PORT, "targetPort": "http", "protocol": "TCP"}]}}


def network_policy(spec: RecoverySpec) -> dict:
    egress = [netpol.dns_egress(), netpol.api_server_egress(spec.api_server_cidrs)]
    if spec.sentinel:
        ports = sorted({int(address.rsplit(":", 1)[1]) for address in spec.sentinel.addresses})
        egress.append({"to": [{**netpol.namespace_peer(spec.sentinel.namespace),
                               "podSelector": {"matchLabels": dict(spec.sentinel.pod_labels)}}],
                       "ports": netpol.tcp(*ports)})
    return netpol.network_policy(spec.name, spec.namespace, spec.labels, {
        "podSelector": {"matchLabels": spec.selector},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"from": [netpol.namespace_peer(spec.monitoring_namespace)], "ports": netpol.tcp(PORT)}],
        "egress": egress,
    })


def workload(spec: RecoverySpec) -> Workload:
    """What the app namespace's quota must leave room for (Recreate: no surge pod)."""
    return Workload(spec.name, POD, max_pods=1)


def webhook_url(spec: RecoverySpec) -> str:
    return f"http://{spec.name}.{spec.namespace}.svc:{PORT}{WEBHOOK_PATH}"


def alertmanager_receiver(spec: RecoverySpec, credentials_file: str) -> dict:
    """Alertmanager's webhook receiver for the service, authenticated with the shared token's file.
    Resolved notifications are not sent: the service never undoes a remediation on its own."""
    return {"name": RECEIVER, "webhook_configs": [{
        "send_resolved": False, "url": webhook_url(spec), "max_alerts": 0,
        "http_config": {"authorization": {"type": "Bearer", "credentials_file": credentials_file}},
    }]}


def alertmanager_route(spec: RecoverySpec, group_wait: str = "0s", group_interval: str = "1m",
                       repeat_interval: str = "1h") -> dict:
    """The route that copies the handled alerts to the service; it goes first among the root's routes,
    and `continue` lets each alert go on to its usual receivers. Grouping by every label (`...`)
    sends each alert on its own; the repeat interval re-sends a still-firing one, which acts again
    only once its rate-limit window has passed."""
    names = "|".join(sorted(spec.settings().alert_names))
    return {"receiver": RECEIVER, "matchers": [f'alertname=~"{names}"'], "group_by": ["..."],
            "group_wait": group_wait, "group_interval": group_interval, "repeat_interval": repeat_interval,
            "continue": True}


def objects(spec: RecoverySpec, webhook_token: object = "", sentinel_password: object = "") -> list[dict]:
    """Every object the component registers, in an order `kubectl apply` accepts."""
    rendered = [service_account(spec), role(spec), role_binding(spec), config_map(spec)]
    if spec.disabled_graphs_config_map:
        rendered.append(disabled_graphs_config_map(spec))
    rendered.append(secret(spec, spec.webhook_secret, TOKEN_KEY, webhook_token))
    if spec.sentinel:
        rendered.append(secret(spec, spec.sentinel_secret, PASSWORD_KEY, sentinel_password))
    return [*rendered, deployment(spec), service(spec), network_policy(spec)]


@dataclass
class AutoRecoveryArgs:
    spec: RecoverySpec
    webhook_token: pulumi.Input[str]
    """The token Alertmanager authenticates with (the platform puts it in the receivers Secret too)."""
    sentinel_password: pulumi.Input[str] | None = None
    """The Sentinels' password (required when `spec.sentinel` is set)."""
    depends_on: list[pulumi.Resource] = field(default_factory=list)
    """The app namespace."""


class AutoRecovery(pulumi.ComponentResource):
    """The auto-recovery service in the app namespace (which must exist: pass it in `depends_on`)."""

    webhook_token: pulumi.Output[str]
    """The shared token (secret): put it in Alertmanager's receivers Secret for `alertmanager_receiver`."""
    webhook_url: str

    def __init__(self, name: str, args: AutoRecoveryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("langgraph:platform:AutoRecovery", name, None, opts)
        spec = args.spec
        if spec.sentinel and args.sentinel_password is None:
            raise ValueError("auto-recovery: a Sentinel failover needs the Sentinels' password")
        self.webhook_token = pulumi.Output.secret(args.webhook_token)
        self.webhook_url = webhook_url(spec)
        password = pulumi.Output.secret(args.sentinel_password) if args.sentinel_password is not None else ""
        registered: list[KubeObject] = []
        for obj in objects(spec, self.webhook_token, password):
            # The pod starts once its account, Role, settings and Secrets exist (all listed before it).
            after = registered if obj["kind"] == "Deployment" else []
            registered.append(KubeObject(f"{name}-{obj['kind'].lower()}-{obj['metadata']['name']}", obj,
                                         pulumi.ResourceOptions(parent=self, depends_on=[*args.depends_on, *after])))
        self.register_outputs({"webhook_url": self.webhook_url})
