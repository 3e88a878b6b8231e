"""`LangGraphPlatform`: the root component that wires one environment together."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from stackconfig import Settings

from . import app_manifests, edge_manifests
from .app import LangGraphApp, LangGraphAppArgs
from .edge import Edge, EdgeArgs

# Config secret -> environment variables of the app (LangGraph reads DATABASE_URI and POSTGRES_URI).
CONNECTION_ENV = {
    "database_uri": ("DATABASE_URI", "POSTGRES_URI"),
    "database_readonly_uri": ("DATABASE_READONLY_URI",),
    "redis_uri": ("REDIS_URI",),
}


def connection_env(secrets: dict[str, pulumi.Input[str]]) -> dict[str, pulumi.Input[str]]:
    return {env: value for key, value in secrets.items() for env in CONNECTION_ENV[key]}


@dataclass
class LangGraphPlatformArgs:
    settings: Settings
    """Validated stack config and the sizing derived from it."""
    secrets: dict[str, pulumi.Output[str]]
    """Connection-string config secrets that are set (database_uri, database_readonly_uri, redis_uri)."""


class LangGraphPlatform(pulumi.ComponentResource):
    """Every layer of one environment; `outputs` is the stack's output contract."""

    outputs: dict[str, pulumi.Input]

    def __init__(self, name: str, args: LangGraphPlatformArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("langgraph:platform:LangGraphPlatform", name, None, opts)
        config, sizing, secrets = args.settings.config, args.settings.sizing, args.secrets
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

        edge_spec = edge_manifests.EdgeSpec(
            edge=config.edge,
            app_name=config.app.name,
            app_namespace=config.kubernetes.namespace,
            app_service=config.app.name,
            app_service_port=app_manifests.SERVICE_PORT,
            app_port=config.app.port,
            health_path=config.app.probes.readiness.path,
        )
        managed_data_tier = config.postgres.engine == "rds" or config.redis.engine == "elasticache"
        app_spec = app_manifests.AppSpec(
            app=config.app,
            sizing=sizing,
            namespace=config.kubernetes.namespace,
            per_instance_concurrency=config.capacity.per_instance_concurrency,
            gateway_namespace=config.edge.namespace,
            monitoring_namespace=config.monitoring.namespace,
            data_tier_cidr=config.aws.vpc_cidr if managed_data_tier else None,
            service_annotations=edge_manifests.app_service_annotations(edge_spec),
        )
        app = LangGraphApp(f"{name}-app", LangGraphAppArgs(spec=app_spec, connections=connection_env(secrets)),
                           opts=children)
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
            "capacity": {
                "required_concurrency": float(sizing.required_concurrency),
                "instances": sizing.instances,
                "hpa_min": sizing.hpa_min,
                "hpa_max": sizing.hpa_max,
                "worst_case_db_connections": sizing.worst_case_db_connections,
                "derivation": sizing.derivation,
            },
        }
        self.register_outputs(self.outputs)
