"""`LangGraphPlatform`: the root component that wires one environment together."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from stackconfig import Settings

from . import app_env, app_manifests, edge_manifests
from .app import LangGraphApp, LangGraphAppArgs
from .connections import Endpoint
from .edge import Edge, EdgeArgs
from .keda import Keda, KedaSpec

# kube-prometheus-stack's Prometheus Service (release name kube-prometheus-stack) and port.
PROMETHEUS_SERVICE, PROMETHEUS_PORT = "kube-prometheus-stack-prometheus", 9090

# The stack's output contract: the same keys in every stack (null where a stack has no such thing).
OUTPUTS: dict[str, str] = {
    "app_url": "`https://<edge.hostname>`",
    "namespace": "namespace of the app tier",
    "connection_secret_name": "Kubernetes Secret holding the app's connection environment (`DATABASE_URI`, `REDIS_URI`, ...)",
    "database_url": "read/write PostgreSQL URL (secret)",
    "database_readonly_url": "read-only PostgreSQL URL (secret)",
    "redis_url": "Redis URL of the current master (secret)",
    "capacity": "the derivation of every tier (`api`, `queue`: required, instances, HPA range) and the connection budgets",
    "lowered_floors": "prod safety floors this stack runs below, with the reasons (empty map when none)",
}


@dataclass
class LangGraphPlatformArgs:
    settings: Settings
    """Validated stack config and what is derived from it."""
    secrets: dict[str, pulumi.Output[str]]
    """Credential config secrets that are set (see stackconfig.secrets.SECRET_KEYS)."""


def tiers(settings: Settings) -> tuple[app_manifests.Tier, ...]:
    """The server's Deployments: API pods (running the jobs too unless queue workers do)."""
    config, sizing, knobs = settings.config, settings.sizing, settings.server
    queue = config.app.queue
    api = app_manifests.Tier("api", config.app.name, sizing.api, config.app.resources,
                             jobs_per_worker=0 if queue.enabled else knobs.jobs_per_worker)
    if not queue.enabled:
        return (api,)
    return (api, app_manifests.Tier("queue", f"{config.app.name}-queue", sizing.queue, queue.resources,
                                    jobs_per_worker=knobs.jobs_per_worker, autoscaler=queue.autoscaler,
                                    command=queue.command))


def data_endpoints(settings: Settings) -> tuple[Endpoint, ...]:
    """Where the app connects to, as the data tier declares it."""
    config = settings.config
    endpoints = []
    if config.in_cluster_data_tier():
        endpoints.append(Endpoint("data-tier", (5432, 6379, 26379, 8333), namespace=config.kubernetes.data_namespace))
    managed = [port for used, port in ((config.postgres.engine == "rds", 5432),
                                       (config.redis.engine == "elasticache", 6379)) if used]
    if managed:
        endpoints.append(Endpoint("managed-data-tier", tuple(managed), cidr=config.aws.vpc_cidr))
    if config.checkpoints.backend == "s3":
        # Interface VPC endpoints for S3 and STS (IRSA) answer inside the VPC on 443.
        endpoints.append(Endpoint("aws-endpoints", (443,), cidr=config.aws.vpc_cidr))
    return tuple(endpoints)


class LangGraphPlatform(pulumi.ComponentResource):
    """Every layer of one environment; `outputs` is the stack's output contract."""

    outputs: dict[str, pulumi.Input]

    def __init__(self, name: str, args: LangGraphPlatformArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("langgraph:platform:LangGraphPlatform", name, None, opts)
        settings, secrets = args.settings, args.secrets
        config, sizing = settings.config, settings.sizing
        missing = [key for key in ("database_uri", "redis_uri") if key not in secrets]
        if missing:
            pulumi.log.warn(f"the app needs {', '.join(missing)} until the data tier provides them: "
                            f"pulumi config set --secret {missing[0]} ...", self)

        provider = k8s.Provider(
            f"{name}-kubernetes",
            context=config.kubernetes.context,
            enable_server_side_apply=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        children = pulumi.ResourceOptions(parent=self, providers={"kubernetes": provider})
        pod_security_version = f"v{config.kubernetes.version}"
        monitoring_ns = config.monitoring.namespace

        app_tiers = tiers(settings)
        keda_trigger = None
        if any(tier.autoscaler == "keda" for tier in app_tiers):
            prometheus = f"http://{PROMETHEUS_SERVICE}.{monitoring_ns}.svc:{PROMETHEUS_PORT}"
            keda_trigger = app_manifests.queue_depth_trigger(prometheus, config.kubernetes.namespace,
                                                             settings.server.jobs_per_worker)
        autoscaling_ready: list[pulumi.Resource] = []
        if keda_trigger and config.app.queue.install_keda:
            autoscaling_ready.append(Keda(f"{name}-keda", KedaSpec(
                api_server_cidrs=config.kubernetes.api_server_cidrs, prometheus_namespace=monitoring_ns,
                prometheus_port=PROMETHEUS_PORT, pod_security_version=pod_security_version), opts=children))

        edge_spec = edge_manifests.EdgeSpec(
            edge=config.edge,
            app_name=config.app.name,
            app_namespace=config.kubernetes.namespace,
            app_service=config.app.name,
            app_service_port=app_manifests.SERVICE_PORT,
            app_port=config.app.port,
            health_path=config.app.probes.readiness.path,
            monitoring_namespace=monitoring_ns,
            load_balancer_cidrs=(config.aws.vpc_cidr,) if config.aws.vpc_cidr else edge_manifests.PRIVATE_NETWORKS,
            pod_security_version=pod_security_version,
            api_server_cidrs=config.kubernetes.api_server_cidrs,
        )
        environment = app_env.server_environment(
            config.app, settings.server, redis_cluster=config.redis.engine == "elasticache"
            and config.redis.elasticache.cluster_mode, otlp_endpoint=None)
        app_spec = app_manifests.AppSpec(
            app=config.app,
            namespace=config.kubernetes.namespace,
            tiers=app_tiers,
            environment=environment,
            gateway_namespace=config.edge.namespace,
            monitoring_namespace=monitoring_ns,
            endpoints=data_endpoints(settings),
            keda_trigger=keda_trigger,
            service_annotations=edge_manifests.app_service_annotations(edge_spec),
        )
        secret_values = {env: value for key, value in secrets.items() for env in app_env.CONFIG_SECRET_ENV[key]}
        app = LangGraphApp(f"{name}-app", LangGraphAppArgs(
            spec=app_spec, secret_values=secret_values, pod_security_version=pod_security_version,
            role_arn=config.app.iam_role_arn), opts=pulumi.ResourceOptions.merge(
                children, pulumi.ResourceOptions(depends_on=autoscaling_ready)))
        edge = Edge(f"{name}-edge", EdgeArgs(spec=edge_spec, app=app), opts=children)

        def secret_or_none(key: str) -> pulumi.Output | None:
            return pulumi.Output.secret(secrets[key]) if key in secrets else None

        self.outputs = {
            "app_url": edge.url,
            "namespace": app.namespace,
            "connection_secret_name": app.secret_name,
            "database_url": secret_or_none("database_uri"),
            "database_readonly_url": secret_or_none("database_readonly_uri"),
            "redis_url": secret_or_none("redis_uri"),
            "capacity": capacity_output(settings),
            "lowered_floors": dict(settings.lowered_floors),
        }
        assert set(self.outputs) == set(OUTPUTS), "the output contract lists every output"
        self.register_outputs(self.outputs)


def capacity_output(settings: Settings) -> dict:
    sizing = settings.sizing
    return {
        **{tier.tier: {"required": float(tier.required), "per_instance": tier.per_instance,
                       "instances": tier.instances, "hpa_min": tier.hpa_min, "hpa_max": tier.hpa_max}
           for tier in sizing.tiers},
        "worst_case_db_connections": sizing.postgres.total,
        "worst_case_redis_connections": sizing.redis.total,
        "derivation": sizing.derivation,
    }
