"""`postgres`: PostgreSQL for the checkpoints (CloudNativePG in the cluster, or RDS), pooling, backups, retention."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from ..quantity import check_pg_size
from ..types import FieldProblem, Int, Quantity, Section

KEY = "postgres"


class PoolerConfig(Section):
    enabled: bool = True
    """Put a pooler in front of PostgreSQL: PgBouncer (CloudNativePG Pooler, transaction mode) or RDS Proxy."""
    instances: Int(1, 10)
    """PgBouncer pods (CloudNativePG)."""
    max_client_connections: Int(1, 100_000) = 1000
    """Client connections PgBouncer accepts (max_client_conn): the app's connection budget on CloudNativePG."""
    default_pool_size: Int(1, 10_000) = 50
    """Server connections the pooler opens per database/user (RDS Proxy: its share of max_connections follows from it)."""
    max_prepared_statements: Int(1, 100_000) = 200
    """PgBouncer max_prepared_statements: LangGraph's checkpointer prepares every statement, so transaction pooling needs it (PgBouncer >= 1.21)."""


class RetentionConfig(Section):
    """Deletes threads whose newest checkpoint is older than app.tuning.checkpoint_ttl_seconds (a daily CronJob)."""

    enabled: bool = True
    """Run the retention CronJob."""
    schedule: str = Field("17 3 * * *", pattern=r"^[0-9*/,-]{1,32}( [0-9*/,-]{1,32}){4}$")
    """Cron schedule (UTC) of the job: daily by default."""
    batch_size: Int(1, 100_000) = 200
    """Threads deleted per transaction (each batch locks `checkpoints` against writes for ~70 ms at 200)."""
    max_batches: Int(1, 100_000) = 100
    """Batches per run (the per-run cap); the rest waits for the next run."""


class PostgresConfig(Section):
    engine: Literal["cloudnative-pg", "rds"]
    """cloudnative-pg: an in-cluster CloudNativePG cluster; rds: RDS PostgreSQL Multi-AZ with RDS Proxy (needs the AWS ids)."""
    version: Literal["16", "17"] = "16"
    """PostgreSQL major version."""
    instances: Int(1, 9)
    """CloudNativePG instances (1 primary + replicas; prod floor 3)."""
    storage_size: Quantity
    """Volume size per instance (a Kubernetes quantity; RDS rounds up to GiB)."""
    cpu: Quantity
    """CPU per CloudNativePG instance (request and limit)."""
    memory: Quantity
    """Memory per CloudNativePG instance; the seed's tuning (written for 8 GiB) is scaled to it."""
    instance_class: str = Field("db.r6g.large", pattern=r"^db\.[a-z0-9]{2,12}\.[a-z0-9]{2,12}$")
    """RDS instance class."""
    multi_az: bool
    """RDS Multi-AZ standby (prod floor: true)."""
    read_replicas: Int(0, 5)
    """Read replicas for the read-only URL (RDS); CloudNativePG serves it from its standby instances."""
    backup_retention_days: Int(0, 35)
    """Days backups are kept (RDS automated backups; CloudNativePG Barman Cloud retention). Prod floor: 7."""
    backup_schedule: str = Field("0 0 3 * * *", pattern=r"^[0-9*/,-]{1,32}( [0-9*/,-]{1,32}){5}$")
    """CloudNativePG ScheduledBackup schedule (six fields, seconds first: daily at 03:00 UTC)."""
    deletion_protection: bool
    """Refuse deletes of the database (prod floor: true)."""
    max_connections: Int(20, 10_000)
    """max_connections (seed: 200). Prod defaults to 1000: on RDS every app connection holds a server connection (see pooler), and 18 pods x 50 must fit."""
    reserved_connections: Int(0, 1000) = 10
    """Connections kept back for superusers, replication and monitoring."""
    shared_buffers: str | None = None
    """shared_buffers; unset scales the seed's 2GB (of 8 GiB) to the instance memory."""
    effective_cache_size: str | None = None
    """effective_cache_size; unset scales the seed's 6GB (of 8 GiB) to the instance memory."""
    maintenance_work_mem: str | None = None
    """maintenance_work_mem; unset scales the seed's 512MB (of 8 GiB) to the instance memory."""
    pooler: PoolerConfig
    """Connection pooler."""
    database: str = Field("langgraph", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    """Database name."""
    admin_host: str = Field("127.0.0.1", pattern=r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$")
    """Where the deployer reaches PostgreSQL to manage roles and grants (a tunnel: kubectl port-forward for CloudNativePG, SSM or a bastion for RDS; see the README)."""
    admin_port: Int(1, 65535) = 15432
    """Port of that tunnel."""
    install_operator: bool = True
    """Install the CloudNativePG operator and the Barman Cloud plugin (pinned); turn off when the cluster has them."""
    retention: RetentionConfig = RetentionConfig()
    """Checkpoint retention job."""

    @field_validator("shared_buffers", "effective_cache_size", "maintenance_work_mem")
    @classmethod
    def _sizes(cls, value: str | None) -> str | None:
        return None if value is None else check_pg_size(value)

    @model_validator(mode="after")
    def _connections(self) -> PostgresConfig:
        if self.reserved_connections >= self.max_connections:
            raise FieldProblem("reserved_connections", self.reserved_connections,
                               f"must be below max_connections {self.max_connections}")
        usable = self.max_connections - self.reserved_connections
        if self.pooler.enabled and self.pooler.default_pool_size > usable:
            raise FieldProblem("pooler.default_pool_size", self.pooler.default_pool_size,
                               f"exceeds the {usable} server connections PostgreSQL has for clients "
                               f"(max_connections {self.max_connections} - reserved_connections {self.reserved_connections})")
        return self

    @property
    def multiplexed(self) -> bool:
        """Whether app connections share server connections. PgBouncer in transaction mode does; RDS Proxy
        pins every session that prepares a statement (LangGraph's checkpointer prepares all of them)."""
        return self.pooler.enabled and self.engine == "cloudnative-pg"

    @property
    def accepted_connections(self) -> int:
        """Client connections the app side may open: PgBouncer's limit, else the server's own."""
        if self.multiplexed:
            return self.pooler.max_client_connections
        return self.max_connections - self.reserved_connections

    @property
    def accepted_connections_by(self) -> str:
        """The setting that bounds `accepted_connections`."""
        if self.multiplexed:
            return "postgres.pooler.max_client_connections"
        if self.engine == "rds" and self.pooler.enabled:
            return ("postgres.max_connections - postgres.reserved_connections; RDS Proxy pins sessions that "
                    "prepare statements, so each app connection holds a server connection")
        return "postgres.max_connections - postgres.reserved_connections"


MODEL = PostgresConfig
DEFAULTS: dict[str, dict] = {
    "dev": {
        "engine": "cloudnative-pg", "instances": 1, "storage_size": "5Gi", "cpu": "500m", "memory": "1Gi",
        "max_connections": 200,
        "multi_az": False, "read_replicas": 0, "backup_retention_days": 7, "deletion_protection": False,
        "pooler": {"instances": 1},
    },
    "prod": {
        "engine": "rds", "instances": 3, "storage_size": "100Gi", "cpu": "2", "memory": "8Gi",
        "max_connections": 1000,
        "multi_az": True, "read_replicas": 1, "backup_retention_days": 30, "deletion_protection": True,
        "pooler": {"instances": 2},
    },
}


def cross_checks(config):
    ttl = config.app.tuning.checkpoint_ttl_seconds
    if config.postgres.retention.enabled and ttl % 86_400:
        yield ("app.tuning.checkpoint_ttl_seconds", ttl, "the retention job counts whole days: use a multiple of "
               "86400, or turn postgres.retention.enabled off")
