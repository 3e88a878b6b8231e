"""Age of the newest base backup: the Barman Cloud plugin's metric in Prometheus, else the
ObjectStore's status (CloudNativePG); the newest automated snapshot (RDS)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import boto3

from .. import prom
from ..kube import ApiException
from ..report import Check, Status
from ..runbooks import RUNBOOKS

if TYPE_CHECKING:
    from ..doctor import Doctor

BARMAN_PLUGIN = "barman-cloud.cloudnative-pg.io"


def _verdict(newest: dt.datetime | None, source: str) -> Check:
    limit_hours = prom.THRESHOLDS.backup_max_age_hours
    if newest is None:
        return Check("backup-age", Status.FAIL, "none", f"no successful base backup ({source})", RUNBOOKS["backup-age"])
    hours = (dt.datetime.now(dt.timezone.utc) - newest).total_seconds() / 3600
    value, data = f"{hours:.1f} h", {"hours": round(hours, 2), "newest": newest.isoformat()}
    detail = f"newest {newest:%Y-%m-%d %H:%M} UTC ({source})"
    if hours > limit_hours:
        return Check("backup-age", Status.WARN, value, detail + f", older than {limit_hours:g} h",
                     RUNBOOKS["backup-age"], data)
    return Check("backup-age", Status.OK, value, detail, None, data)


def _cnpg_from_object_store(doctor: Doctor) -> dt.datetime | None:
    where = doctor.outputs.postgres_cluster
    plugins = doctor.cnpg_cluster.get("spec", {}).get("plugins", [])
    parameters = next((p.get("parameters", {}) for p in plugins if p.get("name") == BARMAN_PLUGIN), {})
    if "barmanObjectName" not in parameters:
        return None
    try:
        store = doctor.kube.object_store(where.namespace, parameters["barmanObjectName"])
    except ApiException as error:
        if error.status == 404:
            return None
        raise
    window = store.get("status", {}).get("serverRecoveryWindow", {}).get(parameters.get("serverName", where.name), {})
    stamp = window.get("lastSuccessfulBackupTime")
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp else None


def backup_age(doctor: Doctor) -> list[Check]:
    where = doctor.outputs.postgres_cluster
    if where.engine == "rds":
        snapshots = boto3.client("rds", region_name=doctor.outputs.get("checkpoint_region")).describe_db_snapshots(
            DBInstanceIdentifier=where.name, SnapshotType="automated")["DBSnapshots"]
        times = [s["SnapshotCreateTime"] for s in snapshots if s.get("Status") == "available"]
        return [_verdict(max(times, default=None), "RDS automated snapshots")]
    prometheus = doctor.outputs.get("prometheus_url")
    if prometheus:
        samples = prom.query(prometheus, prom.backup_timestamp(where.namespace), doctor.settings.timeout)
        if samples and samples[0].value > 0:
            newest = dt.datetime.fromtimestamp(samples[0].value, dt.timezone.utc)
            return [_verdict(newest, "Barman Cloud plugin metric")]
    return [_verdict(_cnpg_from_object_store(doctor), "ObjectStore status")]
