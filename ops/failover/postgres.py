"""PostgreSQL: a switchover to a standby while a probe writes through database_url every 50 ms.

CloudNativePG: what `kubectl cnpg promote` does (CloudNativePG v1.30.0, internal/cmd/plugin/promote):
a JSON merge patch of the Cluster's *status* subresource (not its spec: targetPrimary is status)
setting `targetPrimary`, `targetPrimaryTimestamp`, phase "Switchover in progress" and the Ready
condition to False, with the read `metadata.resourceVersion` in the patch as an optimistic lock
(retried on 409 Conflict). The operator then demotes the primary and promotes the target.
RDS: `reboot_db_instance(ForceFailover=True)` on a Multi-AZ instance.
"""

from __future__ import annotations

import copy
import datetime as dt
import time
from dataclasses import dataclass
from typing import Any, Callable

import psycopg

from ..kube import CNPG_GROUP, CNPG_VERSION, TIMEOUT_SECONDS, ApiException, Kube
from ..outputs import StackOutputs
from ..report import Check, Status
from ..runbooks import RUNBOOKS
from .probe import Probe, ProbeResult

HEALTHY_PHASE, SWITCHOVER_PHASE = "Cluster in healthy state", "Switchover in progress"


@dataclass(frozen=True)
class PostgresDrillSettings:
    max_outage_seconds: float = 30.0
    timeout_seconds: float = 300.0
    poll_seconds: float = 2.0
    settle_seconds: float = 1.0
    probe_interval: float = 0.05
    target: str | None = None
    """CloudNativePG instance (pod) to promote; None: the first healthy standby by name."""


class WriteProbe:
    """One connection, reopened after a failure; `SELECT txid_current()` needs a writable primary."""

    def __init__(self, dsn: str):
        self.dsn, self.conn = dsn, None

    def __call__(self) -> None:
        try:
            if self.conn is None or self.conn.closed:
                self.conn = psycopg.connect(self.dsn, connect_timeout=1, autocommit=True,
                                            application_name="ops-drill-probe", options="-c statement_timeout=1000")
            self.conn.execute("SELECT txid_current()")
        except psycopg.Error:
            if self.conn is not None:
                self.conn.close()
            self.conn = None
            raise

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def _now_micro() -> str:
    """metav1.RFC3339Micro, as CloudNativePG stamps targetPrimaryTimestamp."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def promote_patch(cluster: dict[str, Any], target: str) -> dict[str, Any]:
    """The status merge patch `kubectl cnpg promote` sends to make `target` the primary."""
    conditions = copy.deepcopy(cluster.get("status", {}).get("conditions", []))
    ready = {"type": "Ready", "status": "False", "reason": "ClusterIsNotReady", "message": "Cluster Is Not Ready"}
    previous = next((c for c in conditions if c.get("type") == "Ready"), None)
    stamp = previous["lastTransitionTime"] if previous and previous.get("status") == "False" else \
        dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    conditions = [c for c in conditions if c.get("type") != "Ready"] + [{**ready, "lastTransitionTime": stamp}]
    return {"metadata": {"resourceVersion": cluster["metadata"]["resourceVersion"]},
            "status": {"targetPrimary": target, "targetPrimaryTimestamp": _now_micro(), "phase": SWITCHOVER_PHASE,
                       "phaseReason": f"Switching over to {target}", "conditions": conditions}}


def choose_target(cluster: dict[str, Any], requested: str | None) -> str:
    status = cluster.get("status", {})
    primary = status.get("currentPrimary")
    healthy = sorted(status.get("instancesStatus", {}).get("healthy", []))
    if requested:
        if requested == primary:
            raise ValueError(f"{requested} is already the primary")
        if requested not in healthy:
            raise ValueError(f"{requested} is not a healthy instance ({', '.join(healthy) or 'none'})")
        return requested
    standbys = [name for name in healthy if name != primary]
    if not standbys:
        raise ValueError("no healthy standby to switch over to")
    return standbys[0]


def _promote(kube: Kube, namespace: str, name: str, target: str | None) -> tuple[str, str]:
    """Patch the status (retrying on conflict as the plugin does); (old primary, target)."""
    for _ in range(5):
        cluster = kube.cnpg_cluster(namespace, name)
        if cluster.get("status", {}).get("phase") != HEALTHY_PHASE:
            raise ValueError(f"Cluster {name} is not healthy ({cluster.get('status', {}).get('phase')}): no drill now")
        chosen = choose_target(cluster, target)
        try:
            kube.custom.patch_namespaced_custom_object_status(CNPG_GROUP, CNPG_VERSION, namespace, "clusters", name,
                                                              promote_patch(cluster, chosen),
                                                              _request_timeout=TIMEOUT_SECONDS)
            return cluster["status"]["currentPrimary"], chosen
        except ApiException as error:
            if error.status != 409:
                raise
    raise RuntimeError("the Cluster's status kept changing (409 Conflict five times)")


def _measure(dsn: str, settings: PostgresDrillSettings, act: Callable[[], None],
             done: Callable[[], bool]) -> tuple[bool, float, ProbeResult]:
    """Probe writes, run `act`, poll `done` until true (and writes settled) or timeout:
    (finished, seconds from `act` to the end, what the probe saw)."""
    writer = WriteProbe(dsn)
    probe = Probe(writer, settings.probe_interval).start()
    try:
        time.sleep(settings.settle_seconds)
        began = time.monotonic()
        act()
        finished = False
        deadline = began + settings.timeout_seconds
        while time.monotonic() < deadline:
            if done():
                finished = True
                if probe.succeeded_since(time.monotonic() - settings.settle_seconds):
                    break
            time.sleep(settings.poll_seconds)
        elapsed = time.monotonic() - began
    finally:
        result = probe.stop()
        writer.close()
    return finished, elapsed, result


Described = Callable[[float], tuple[str, dict]]


def _rds_failover(rds, name: str, say: Callable[[str], None]) -> tuple[Callable[[], None], Callable[[], bool], Described]:
    """A reboot with failover of RDS instance `name`: (act, done, what to report after `elapsed` seconds)."""

    def act() -> None:
        say(f"reboot_db_instance({name}, ForceFailover=True)")
        rds.reboot_db_instance(DBInstanceIdentifier=name, ForceFailover=True)

    def done() -> bool:
        instance = rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]
        return instance["DBInstanceStatus"] == "available"

    return act, done, lambda elapsed: (f"RDS {name} rebooted with failover, available after {elapsed:.1f} s",
                                       {"instance": name})


def _cnpg_switchover(kube: Kube, namespace: str, name: str, target: str | None,
                     say: Callable[[str], None]) -> tuple[Callable[[], None], Callable[[], bool], Described]:
    """A promotion of a standby of Cluster `name`: (act, done, what to report after `elapsed` seconds)."""
    chosen: dict[str, str] = {}

    def act() -> None:
        old, new = _promote(kube, namespace, name, target)
        chosen.update(old=old, target=new)
        say(f"promote {new} (primary {old})")

    def done() -> bool:
        status = kube.cnpg_cluster(namespace, name).get("status", {})
        return status.get("currentPrimary") == chosen["target"] and status.get("phase") == HEALTHY_PHASE

    return act, done, lambda elapsed: (f"{chosen['old']} -> {chosen['target']}, Cluster healthy after {elapsed:.1f} s",
                                       {"old_primary": chosen["old"], "new_primary": chosen["target"]})


def postgres_failover(outputs: StackOutputs, kube: Kube, settings: PostgresDrillSettings, rds=None,
                      say=lambda text: None) -> list[Check]:
    where = outputs.postgres_cluster
    dsn = outputs.require("database_url")
    act, done, described = (_rds_failover(rds, where.name, say) if where.engine == "rds"
                            else _cnpg_switchover(kube, where.namespace, where.name, settings.target, say))
    try:
        finished, elapsed, result = _measure(dsn, settings, act, done)
    except Exception as error:  # noqa: BLE001 - a refused reboot or switchover is the drill's finding
        return [Check("postgres-failover", Status.FAIL, "not started", f"{type(error).__name__}: {error}"[:300],
                      RUNBOOKS["postgres-failover"])]
    detail, facts = described(elapsed)
    data = {**facts, **result.as_data()}
    value = f"outage {result.outage_seconds:.2f} s, {result.failures}/{result.attempts} writes failed"
    if not finished or not result.recovered:
        what = "the switchover did not finish" if not finished else "writes through database_url had not recovered"
        return [Check("postgres-failover", Status.FAIL, value, f"{what} within {settings.timeout_seconds:g} s",
                      RUNBOOKS["postgres-failover"], data)]
    if result.outage_seconds > settings.max_outage_seconds:
        detail += f"; outage above {settings.max_outage_seconds:g} s"
        return [Check("postgres-failover", Status.WARN, value, detail,
                      RUNBOOKS["postgres-failover"], data)]
    return [Check("postgres-failover", Status.OK, value, detail, None, data)]
