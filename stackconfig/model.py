"""The typed model of one stack's config, assembled from the sections in `stackconfig/sections/`.

Every section is a top-level Pulumi config key of the project (`langgraph-platform:app`, ...).
Each field's docstring is its documentation: the README's config reference is generated from
the model (`python -m stackconfig.reference`), and a test fails when the two drift apart.
Unknown keys are refused at every level so that a typo never falls back to a default silently.
Each section's defaults ("common" and per environment) are merged under the stack's values.
"""

from __future__ import annotations

import copy
from typing import Annotated, Literal

from pydantic import Field

from .sections import SECTIONS
from .sections.app import AppConfig, ProbeConfig, QueueConfig
from .sections.aws import AwsConfig
from .sections.capacity import CapacityConfig
from .sections.checkpoints import CheckpointsConfig
from .sections.edge import EdgeConfig
from .sections.kubernetes import KubernetesConfig
from .sections.logging import LoggingConfig
from .sections.monitoring import MonitoringConfig
from .sections.postgres import PostgresConfig
from .sections.operations import OperationsConfig
from .sections.redis import RedisConfig
from .sections.tracing import TracingConfig
from .types import FieldProblem, Section

__all__ = ["AppConfig", "EdgeConfig", "FieldProblem", "ProbeConfig", "QueueConfig", "Section", "StackConfig",
           "ENV_DEFAULTS", "deep_merge", "defaults_for"]

Environment = Literal["dev", "prod"]
Reason = Annotated[str, Field(min_length=10, max_length=300, pattern=r"^[^\x00-\x1f]+$")]
FloorKey = Annotated[str, Field(pattern=r"^[a-z_]{1,40}\.[a-z_]{1,40}$")]

# Namespaces of components we install from pinned charts into fixed namespaces.
FIXED_NAMESPACES = {"cert-manager": "cert-manager", "keda": "keda", "cnpg-system": "cnpg-system",
                    "elastic-system": "elastic-system", "logging-agents": "logging-agents",
                    "monitoring-nodes": "monitoring-nodes", "flagger": "flagger"}


class StackConfig(Section):
    environment: Environment
    """dev or prod: picks the defaults below and how strict validation is; unset takes the stack's name when that is dev or prod."""
    kubernetes: KubernetesConfig = KubernetesConfig()
    """Target cluster and namespaces."""
    aws: AwsConfig = AwsConfig()
    """AWS account and network; required once any component uses AWS."""
    app: AppConfig
    """The LangGraph app tier (API pods and queue workers)."""
    capacity: CapacityConfig
    """Capacity model inputs."""
    edge: EdgeConfig
    """Gateway, TLS and rate limiting."""
    postgres: PostgresConfig
    """PostgreSQL."""
    redis: RedisConfig
    """Redis (Valkey) with Sentinel, or ElastiCache."""
    checkpoints: CheckpointsConfig
    """Object storage for checkpoint files."""
    monitoring: MonitoringConfig
    """Metrics, dashboards, alerts."""
    logging: LoggingConfig
    """Logs."""
    tracing: TracingConfig
    """Traces."""
    operations: OperationsConfig
    """Auto-recovery and the restore drill."""
    lowered_floors: dict[FloorKey, Reason] = {}
    """Prod safety floors this stack runs below, each with the reason the plan prints (see "Safety floors" in the README)."""

    def aws_users(self) -> list[str]:
        """The settings that make this stack need an AWS account."""
        users = []
        if self.postgres.engine == "rds":
            users.append("postgres.engine=rds")
        if self.redis.engine == "elasticache":
            users.append("redis.engine=elasticache")
        if self.checkpoints.backend == "s3":
            users.append("checkpoints.backend=s3")
        if self.edge.aws_nlb:
            users.append("edge.aws_nlb=true")
        if self.edge.tls.mode == "acm":
            users.append("edge.tls.mode=acm")
        return users

    def in_cluster_data_tier(self) -> bool:
        """Whether the data namespace exists: something of the data tier runs in the cluster (the checkpoint
        retention job does even when PostgreSQL is RDS)."""
        return (self.postgres.engine == "cloudnative-pg" or self.redis.engine == "sentinel"
                or self.checkpoints.backend == "seaweedfs" or self.postgres.retention.enabled)

    def namespaces(self) -> list[tuple[str, str]]:
        """(config key, namespace) of every namespace the stack creates."""
        found = [("kubernetes.namespace", self.kubernetes.namespace), ("edge.namespace", self.edge.namespace)]
        if self.in_cluster_data_tier():
            found.append(("kubernetes.data_namespace", self.kubernetes.data_namespace))
        for enabled, key, name in (
            (self.monitoring.enabled, "monitoring.namespace", self.monitoring.namespace),
            (self.logging.enabled, "logging.namespace", self.logging.namespace),
            (self.tracing.enabled, "tracing.namespace", self.tracing.namespace),
            (self.edge.install_cert_manager, "edge.install_cert_manager", FIXED_NAMESPACES["cert-manager"]),
            (self.app.queue.enabled and self.app.queue.autoscaler == "keda" and self.app.queue.install_keda,
             "app.queue.install_keda", FIXED_NAMESPACES["keda"]),
            (self.postgres.engine == "cloudnative-pg" and self.postgres.install_operator,
             "postgres.install_operator", FIXED_NAMESPACES["cnpg-system"]),
            (self.logging.enabled, "logging.enabled", FIXED_NAMESPACES["elastic-system"]),
            (self.logging.enabled, "logging.enabled", FIXED_NAMESPACES["logging-agents"]),
            (self.monitoring.enabled, "monitoring.enabled", FIXED_NAMESPACES["monitoring-nodes"]),
            (self.app.rollout == "canary", "app.rollout", FIXED_NAMESPACES["flagger"]),
        ):
            if enabled:
                found.append((key, name))
        return found


def deep_merge(base: dict, override: dict) -> dict:
    """`override` laid over `base`; nested dicts merge, anything else replaces."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _assembled(layer: str) -> dict[str, dict]:
    return {section.KEY: section.DEFAULTS[layer] for section in SECTIONS if layer in section.DEFAULTS}


COMMON_DEFAULTS: dict[str, dict] = _assembled("common")
ENV_DEFAULTS: dict[str, dict] = {env: _assembled(env) for env in Environment.__args__}


def defaults_for(environment: str) -> dict:
    """Every default of `environment` that the model's fields do not carry themselves."""
    return deep_merge(COMMON_DEFAULTS, ENV_DEFAULTS[environment])
