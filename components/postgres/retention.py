"""Pure builders of the checkpoint retention job: the ConfigMap carrying `retention.sql`, the
daily CronJob that runs it with psql, and the NetworkPolicy that lets that job reach the database.

The OSS LangGraph server never deletes old checkpoints of a self-hosted PostgreSQL, so this job
does: it removes whole threads whose newest checkpoint is older than the TTL (see the SQL file for
how and for the race that remains). The builders take plain parameters, not config classes, so the
component that owns the database decides where the connection Secret and the limits come from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from components import netpol
from components.pins import IMAGES
from components.security import restricted_container

SQL_FILE = Path(__file__).with_name("retention.sql")
SQL_KEY = "retention.sql"
MOUNT_DIR = "/etc/langgraph-retention"
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
# psql needs no passwd entry, home directory or writable path, so any non-root UID runs it; a
# high one rather than the image's postgres user (70) keeps clear of host UIDs (checkov CKV_K8S_40).
RUN_AS_USER = 10070
# retention.sql accepts at most nine digits per limit, so that every value fits PostgreSQL's int.
SQL_LIMIT_MAX = 999_999_999
# A CronJob's name is at most 52 characters: the controller appends 11 to name its Jobs.
_CRONJOB_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,50}[a-z0-9])?")


@dataclass(frozen=True)
class SecretKeys:
    """Keys of the connection Secret holding libpq's settings; the defaults are those of the
    Secret CloudNativePG creates for a cluster's application user (`<cluster>-app`)."""

    host: str = "host"
    port: str = "port"
    database: str = "dbname"
    user: str = "username"
    password: str = "password"


@dataclass(frozen=True)
class RetentionSpec:
    """What the retention job is built from.

    `labels` go on every object and on the job's pods; they must select only those pods, since the
    NetworkPolicy selects by them. `secret_name` names a Secret in `namespace` with `secret_keys`.
    """

    name: str
    namespace: str
    labels: Mapping[str, str]
    secret_name: str
    secret_keys: SecretKeys = field(default_factory=SecretKeys)
    schedule: str = "17 3 * * *"
    time_zone: str = "Etc/UTC"
    image: str = IMAGES["postgres-client"].ref
    image_pull_policy: str = "IfNotPresent"
    run_as_user: int = RUN_AS_USER
    ttl_days: int = 30
    batch_size: int = 200
    max_batches: int = 100
    sslmode: str = "require"
    active_deadline_seconds: int = 3600

    def __post_init__(self) -> None:
        if not _CRONJOB_NAME.fullmatch(self.name):
            raise ValueError(f"retention job name {self.name!r} must be a DNS label of at most 52 characters")
        for key in ("ttl_days", "batch_size", "max_batches", "run_as_user", "active_deadline_seconds"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"retention {key} must be a positive integer, got {value!r}")
        for key in ("ttl_days", "batch_size", "max_batches"):
            if getattr(self, key) > SQL_LIMIT_MAX:
                raise ValueError(f"retention {key} must be at most {SQL_LIMIT_MAX}, got {getattr(self, key)}")
        if self.sslmode not in SSL_MODES:
            raise ValueError(f"retention sslmode {self.sslmode!r} is not one of {', '.join(SSL_MODES)}")

    @property
    def sql_path(self) -> str:
        """Where the container finds the SQL file."""
        return f"{MOUNT_DIR}/{SQL_KEY}"


def retention_sql() -> str:
    """The SQL the job runs, as shipped next to this module."""
    return SQL_FILE.read_text()


def _meta(spec: RetentionSpec) -> dict:
    return {"name": spec.name, "namespace": spec.namespace, "labels": dict(spec.labels)}


def config_map(spec: RetentionSpec) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(spec), "data": {SQL_KEY: retention_sql()}}


def psql_args(spec: RetentionSpec) -> list[str]:
    """psql's arguments: no psqlrc, never prompt for a password, the SQL file and its limits."""
    return ["-X", "-w", "-f", spec.sql_path, "-v", f"ttl_days={spec.ttl_days}",
            "-v", f"batch_size={spec.batch_size}", "-v", f"max_batches={spec.max_batches}"]


def _environment(spec: RetentionSpec) -> list[dict]:
    keys = spec.secret_keys
    from_secret = {"PGHOST": keys.host, "PGPORT": keys.port, "PGDATABASE": keys.database,
                   "PGUSER": keys.user, "PGPASSWORD": keys.password}
    return [
        *({"name": name, "valueFrom": {"secretKeyRef": {"name": spec.secret_name, "key": key}}}
          for name, key in from_secret.items()),
        {"name": "PGSSLMODE", "value": spec.sslmode},
        # Names the session in pg_stat_activity, so a DBA sees who holds the batch lock.
        {"name": "PGAPPNAME", "value": spec.name},
    ]


def cron_job(spec: RetentionSpec) -> dict:
    container = {
        "name": "retention",
        "image": spec.image,
        "imagePullPolicy": spec.image_pull_policy,
        # The image's entrypoint would wrap a server start-up: run psql directly.
        "command": ["psql"],
        "args": psql_args(spec),
        "env": _environment(spec),
        "resources": {"requests": {"cpu": "20m", "memory": "32Mi"}, "limits": {"cpu": "500m", "memory": "128Mi"}},
        "securityContext": restricted_container(spec.run_as_user),
        "volumeMounts": [{"name": "sql", "mountPath": MOUNT_DIR, "readOnly": True}],
    }
    pod = {
        "metadata": {"labels": dict(spec.labels)},
        "spec": {
            # Each retry is a new pod, so a failed attempt's log stays readable.
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": spec.run_as_user,
                "runAsGroup": spec.run_as_user,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [container],
            "volumes": [{"name": "sql", "configMap": {
                "name": spec.name, "items": [{"key": SQL_KEY, "path": SQL_KEY}], "defaultMode": 0o444}}],
        },
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": _meta(spec),
        "spec": {
            "schedule": spec.schedule,
            "timeZone": spec.time_zone,
            # Two runs would only queue on each other's batch lock.
            "concurrencyPolicy": "Forbid",
            # A run missed by more than an hour (controller down) waits for the next day.
            "startingDeadlineSeconds": 3600,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "metadata": {"labels": dict(spec.labels)},
                "spec": {
                    # Retries are safe: committed batches stay done and the SQL is idempotent.
                    "backoffLimit": 2,
                    "activeDeadlineSeconds": spec.active_deadline_seconds,
                    "ttlSecondsAfterFinished": 3 * 24 * 3600,
                    "template": pod,
                },
            },
        },
    }


def network_policy(spec: RetentionSpec, database_peers: Sequence[dict], database_port: int = 5432) -> dict:
    """Egress from the job's pods to DNS and to `database_peers` (NetworkPolicy peers: a pod and
    namespace selector for an in-cluster server, an ipBlock for a managed one) on `database_port`;
    no ingress."""
    return netpol.network_policy(spec.name, spec.namespace, dict(spec.labels), {
        "podSelector": {"matchLabels": dict(spec.labels)},
        "policyTypes": ["Ingress", "Egress"],
        "egress": [netpol.dns_egress(), {"to": list(database_peers), "ports": netpol.tcp(database_port)}],
    })
