"""`doctor`: the seed's quick-diagnosis steps and daily checklist as one report.

Checks run in a fixed order, each isolated: one that cannot run (an output missing, a service
down, no Kubernetes access) becomes a FAIL row naming why, and the others still run.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable

import boto3

from .checks import backups, edge, kubernetes, metrics, postgres, redis, storage
from .kube import Kube
from .options import OpsContext
from .outputs import StackOutputs
from .report import Check, Report, Status
from .runbooks import RUNBOOKS


@dataclass(frozen=True)
class DoctorSettings:
    long_query_seconds: float = 300.0
    """Seed: queries running longer than 5 minutes."""
    expect_standbys: int | None = None
    """Streaming standbys to expect; None: from the CloudNativePG Cluster or the RDS read replicas."""
    health_path: str = "/ok"
    ca_file: str | None = None
    """CA bundle for the app URL (dev's self-signed issuer); None: the system's trust store."""
    timeout: float = 5.0


# (row name when the check cannot run, check)
CHECKS: tuple[tuple[str, Callable[["Doctor"], list[Check]]], ...] = (
    ("pods", kubernetes.pods),
    ("autoscalers", kubernetes.autoscalers),
    ("load-balancer", edge.load_balancer),
    ("certificate", edge.certificate),
    ("postgres-cluster", postgres.cluster),
    ("postgres-reachable", postgres.database),
    ("redis-endpoint", redis.redis_checks),
    ("object-store", storage.object_store),
    ("backup-age", backups.backup_age),
    ("error-rate", metrics.graph_metrics),
)


class Doctor:
    """Runs the checks against one stack; caches what several checks read."""

    def __init__(self, outputs: StackOutputs, kube: Kube, settings: DoctorSettings):
        self.outputs, self.kube, self.settings = outputs, kube, settings

    @cached_property
    def cnpg_cluster(self) -> dict[str, Any]:
        where = self.outputs.postgres_cluster
        return self.kube.cnpg_cluster(where.namespace, where.name)

    @cached_property
    def rds_instance(self) -> dict[str, Any]:
        rds = boto3.client("rds", region_name=self.outputs.get("checkpoint_region"))
        return rds.describe_db_instances(DBInstanceIdentifier=self.outputs.postgres_cluster.name)["DBInstances"][0]

    def expected_standbys(self) -> int | None:
        if self.settings.expect_standbys is not None:
            return self.settings.expect_standbys
        if self.outputs.postgres_cluster.engine == "rds":
            return len(self.rds_instance.get("ReadReplicaDBInstanceIdentifiers", []))
        return max(self.cnpg_cluster.get("spec", {}).get("instances", 1) - 1, 0)

    def run(self) -> Report:
        report = Report("doctor")
        for name, check in CHECKS:
            try:
                rows = check(self)
            except Exception as error:  # noqa: BLE001 - any failure of one check is that check's FAIL
                rows = [Check(name, Status.FAIL, "error", f"{type(error).__name__}: {_first_line(error)}",
                              RUNBOOKS.get(name))]
            for row in rows:
                report.add(row)
        return report


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return (text.splitlines() or [""])[0][:300]


def run(ctx: OpsContext, settings: DoctorSettings) -> int:
    return ctx.finish(Doctor(ctx.outputs, ctx.kube, settings).run())
