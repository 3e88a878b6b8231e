"""The alert rules in their real engines: promtool checks and unit-tests them, real exporters emit their names.

Every alert has readable promtool cases, generated below: it fires at its threshold once its `for`
has passed, is quiet before that, just below the threshold and with no traffic at all, and per-graph
alerts fire for the failing graph only. A test fails when an alert lacks one of these cases.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest
from prometheus_client.parser import text_string_to_metric_families

from components.monitoring.rules import (BACKUP_FAILED_METRIC, BACKUP_METRIC, RuleParams, alert_names,
                                         prometheus_rule, rule_groups, rules_file, to_yaml)
from tests.engines.exporters import scrape_once
from tests.engines.pg_standby import new_standby
from tests.engines.postgres import new_server
from tests.engines.procs import free_port, port_open, start, stop_pid, wait_for

ROOT = Path(__file__).resolve().parent.parent
RUNBOOKS = ROOT / "docs" / "runbooks"
LANGGRAPH_API_PYTHON = ROOT / ".venv-langgraph-api" / "bin" / "python"
BASE = "https://runbooks.example.com/langgraph/"
FLAVOURS = ("cloudnativepg", "postgres_exporter")
CNPG, PGX = ("cloudnativepg",), ("postgres_exporter",)
Kind = Literal["fires", "before_for", "below", "no_traffic", "per_graph", "quiet"]

NS, DATA = "langgraph", "langgraph-data"
API_A = {"namespace": NS, "pod": "langgraph-api-6f7d9-a", "project_id": "", "otel_scope_name": "lsd_langgraph_api"}
API_B = {**API_A, "pod": "langgraph-api-6f7d9-b"}
PG_1 = {"namespace": DATA, "pod": "langgraph-pg-1", "cluster": "langgraph-pg"}
PG_2 = {**PG_1, "pod": "langgraph-pg-2"}
RDS = {"namespace": NS, "instance": "10.0.3.7:9187", "server": "langgraph.c1x2.eu-west-1.rds.amazonaws.com:5432"}


def params(flavour: str) -> RuleParams:
    return RuleParams(runbook_base_url=BASE, postgres=flavour)


# --- series helpers: one sample a minute; "{n}" becomes the number of minutes the case needs ---------------

def sel(metric: str, **labels: str) -> str:
    return metric + "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def counter(per_minute: float) -> str:
    return f"0+{per_minute:g}x{{n}}"


def gauge(value: float) -> str:
    return f"{value:g}x{{n}}"


def executions(graph: str, errors: float, successes: float, interrupted: float = 0) -> dict[str, str]:
    """langgraph_executions_total of one graph with these outcomes per minute."""
    series = {sel("langgraph_executions_total", graph_name=graph, status="error"): counter(errors),
              sel("langgraph_executions_total", graph_name=graph, status="success"): counter(successes)}
    if interrupted:
        series[sel("langgraph_executions_total", graph_name=graph, status="interrupted")] = counter(interrupted)
    return series


def histogram(metric: str, per_bucket: dict[str, float], **labels: str) -> dict[str, str]:
    """Bucket counters from observations per minute per bucket (non-cumulative, in `le` order)."""
    series, total = {}, 0.0
    for le, count in per_bucket.items():
        total += count
        series[sel(metric + "_bucket", **labels, le=le)] = counter(total)
    return series


def latency(graph: str, per_bucket: dict[str, float]) -> dict[str, str]:
    buckets = {"1": 0, "5": 0, "10": 0, "30": 0, "60": 0, "120": 0, "300": 0, "+Inf": 0} | per_bucket
    return histogram("langgraph_execution_duration_seconds", buckets, graph_name=graph)


def queue_wait(per_bucket: dict[str, float], pod: dict[str, str]) -> dict[str, str]:
    """The server's queue-wait histogram, in milliseconds as it records it."""
    buckets = {"1000": 0, "5000": 0, "15000": 0, "30000": 0, "60000": 0, "120000": 0, "300000": 0,
               "+Inf": 0} | per_bucket
    return histogram("lg_api_run_queue_wait_time_1st_attempt", buckets, **pod)


def gauges(metric: str, value: float, *label_sets: dict[str, str]) -> dict[str, str]:
    return {sel(metric, **labels): gauge(value) for labels in label_sets}


def pool(prefix: str, pod: dict[str, str], **values: float) -> dict[str, str]:
    return {sel(f"lg_api_{prefix}_pool_{name}", **pod): gauge(value) for name, value in values.items()}


def hpa(current: int, minimum: int, maximum: int, namespace: str = NS,
        name: str = "keda-hpa-langgraph-queue") -> dict[str, str]:
    labels = {"namespace": namespace, "horizontalpodautoscaler": name, "job": "kube-state-metrics"}
    return {sel(f"kube_horizontalpodautoscaler_{metric}", **labels): gauge(value) for metric, value in (
        ("status_current_replicas", current), ("spec_min_replicas", minimum), ("spec_max_replicas", maximum))}


def cnpg_connections(in_use: int, maximum: int = 100) -> dict[str, str]:
    series = {sel("cnpg_pg_settings_setting", **PG_1, name="max_connections"): gauge(maximum),
              sel("cnpg_pg_settings_setting", **PG_1, name="shared_buffers"): gauge(16384)}
    if in_use:
        active = in_use // 2
        for state, count in (("active", active), ("idle", in_use - active)):
            series[sel("cnpg_backends_total", **PG_1, datname="langgraph", usename="app",
                       application_name="", state=state)] = gauge(count)
    return series


def rds_connections(in_use: int, maximum: int = 100) -> dict[str, str]:
    active = in_use // 2
    series = {sel("pg_settings_max_connections", **RDS): gauge(maximum)}
    for datname, state, count in (("langgraph", "active", active), ("langgraph", "idle", in_use - active),
                                  ("template1", "idle", 0)):
        series[sel("pg_stat_activity_count", **RDS, datname=datname, state=state)] = gauge(count)
    return series


def redis(roles: dict[str, str]) -> dict[str, str]:
    """redis_up and redis_instance_info of exporters, pod -> role ("" for a Sentinel, None for a Redis that is down)."""
    series = {}
    for pod, role in roles.items():
        labels = {"namespace": DATA, "pod": pod}
        series[sel("redis_up", **labels)] = gauge(0 if role is None else 1)
        if role is not None:
            series[sel("redis_instance_info", **labels, redis_version="8.1.3", role=role)] = gauge(1)
    return series


def ckquorum(*statuses: int) -> dict[str, str]:
    messages = {0: "NOQUORUM 1 usable Sentinels",
                1: "OK 3 usable Sentinels. Quorum and failover authorization can be reached"}
    return {sel("redis_sentinel_master_ckquorum_status", namespace=DATA, pod=f"langgraph-sentinel-{i}",
                master_name="langgraph", message=messages[status]): gauge(status)
            for i, status in enumerate(statuses)}


def cnpg_instances(*instances: tuple[dict, int, int | None]) -> dict[str, str]:
    """(pod labels, collector up, in_recovery or None when PostgreSQL does not answer)."""
    series = {}
    for labels, up, in_recovery in instances:
        series[sel("cnpg_collector_up", **labels)] = gauge(up)
        if in_recovery is not None:
            series[sel("cnpg_pg_replication_in_recovery", **labels)] = gauge(in_recovery)
    return series


def backups(last_ok: float, last_failed: float) -> dict[str, str]:
    labels = {"namespace": DATA, "pod": "langgraph-pg-1"}
    return {sel(BACKUP_METRIC, **labels): gauge(last_ok), sel(BACKUP_FAILED_METRIC, **labels): gauge(last_failed)}


def certificate(expires_at: float) -> dict[str, str]:
    return {sel("certmanager_certificate_expiration_timestamp_seconds", namespace="cert-manager",
                exported_namespace="langgraph-edge", name="gateway-tls", issuer_name="letsencrypt",
                issuer_kind="ClusterIssuer", issuer_group="cert-manager.io"): gauge(expires_at)}


def volume(free: float, capacity: float = 100e9, namespace: str = DATA) -> dict[str, str]:
    labels = {"namespace": namespace, "persistentvolumeclaim": "pgdata-langgraph-pg-1"}
    return {sel("kubelet_volume_stats_available_bytes", **labels): gauge(free * capacity),
            sel("kubelet_volume_stats_capacity_bytes", **labels): gauge(capacity)}


def crash_loop(values: str, reason: str = "CrashLoopBackOff", namespace: str = NS) -> dict[str, str]:
    return {sel("kube_pod_container_status_waiting_reason", namespace=namespace, pod="langgraph-api-6f7d9-a",
                container="langgraph-api", reason=reason): values}


DAY, HOUR = 86400, 3600


@dataclass(frozen=True)
class Case:
    """One promtool test group: `series` from time 0, then at `at` exactly `fires` (label sets the
    expression keeps) must be firing for `alert`, nothing else of it."""

    alert: str
    kind: Kind
    title: str
    series: dict[str, str]
    at: str
    fires: tuple[dict[str, str], ...] = ()
    flavours: tuple[str, ...] = FLAVOURS


CASES: list[Case] = [
    # --- the seed's alerts, corrected -----------------------------------------------------------------
    Case("LangGraphHighErrorRate", "fires", "5.5% errors for 10m", executions("support_ticket", 5.5, 94.5), "10m",
         ({"graph_name": "support_ticket"},)),
    Case("LangGraphHighErrorRate", "before_for", "5.5% errors, for 2m not yet passed",
         executions("support_ticket", 5.5, 94.5), "2m"),
    Case("LangGraphHighErrorRate", "below", "4.5% errors", executions("support_ticket", 4.5, 95.5), "10m"),
    Case("LangGraphHighErrorRate", "no_traffic", "no executions at all", executions("support_ticket", 0, 0), "10m"),
    Case("LangGraphHighErrorRate", "per_graph", "1% errors on one graph, 50% on another: only the second",
         executions("support_ticket", 1, 99) | executions("research", 50, 50), "10m", ({"graph_name": "research"},)),
    Case("LangGraphHighErrorRate", "quiet", "interrupted runs are not errors",
         executions("support_ticket", 4, 76, interrupted=20), "10m"),

    Case("LangGraphHighLatency", "fires", "P95 35s (6% of runs take 30-60s)",
         latency("support_ticket", {"30": 94, "60": 6}), "10m", ({"graph_name": "support_ticket"},)),
    Case("LangGraphHighLatency", "before_for", "P95 35s, for 5m not yet passed",
         latency("support_ticket", {"30": 94, "60": 6}), "4m"),
    Case("LangGraphHighLatency", "below", "P95 29.8s (4% of runs take 30-60s)",
         latency("support_ticket", {"30": 96, "60": 4}), "10m"),
    Case("LangGraphHighLatency", "no_traffic", "no executions at all", latency("support_ticket", {}), "10m"),
    Case("LangGraphHighLatency", "per_graph", "one slow graph, one fast: only the slow one",
         latency("support_ticket", {"30": 94, "60": 6}) | latency("research", {"5": 100}), "10m",
         ({"graph_name": "support_ticket"},)),

    Case("LangGraphCheckpointFailures", "fires", "0.12 failures/s summed over two pods (each alone is below)",
         {sel("langgraph_checkpoint_saves_total", backend_type="postgres", status="error", pod=pod): counter(3.6)
          for pod in ("a", "b")}, "10m", ({"backend_type": "postgres"},)),
    # A counter starting at 0 reaches its full rate once the 5m window is full: true from 5m on.
    Case("LangGraphCheckpointFailures", "before_for", "0.12 failures/s, for 1m not yet passed",
         {sel("langgraph_checkpoint_saves_total", backend_type="postgres", status="error"): counter(7.2)}, "5m"),
    Case("LangGraphCheckpointFailures", "below", "0.08 failures/s",
         {sel("langgraph_checkpoint_saves_total", backend_type="postgres", status="error"): counter(4.8)}, "10m"),
    Case("LangGraphCheckpointFailures", "no_traffic", "no checkpoint saves",
         {sel("langgraph_checkpoint_saves_total", backend_type="postgres", status=s): counter(0)
          for s in ("error", "success")}, "10m"),
    Case("LangGraphCheckpointFailures", "quiet", "many saves, none failing",
         {sel("langgraph_checkpoint_saves_total", backend_type="postgres", status="error"): counter(0),
          sel("langgraph_checkpoint_saves_total", backend_type="postgres", status="success"): counter(600)}, "10m"),

    Case("LangGraphDatabaseConnections", "fires", "85 of 100 connections", cnpg_connections(85), "5m",
         ({"namespace": DATA, "pod": "langgraph-pg-1"},), CNPG),
    Case("LangGraphDatabaseConnections", "before_for", "85 of 100, for 2m not yet passed", cnpg_connections(85),
         "1m", flavours=CNPG),
    Case("LangGraphDatabaseConnections", "below", "79 of 100 connections", cnpg_connections(79), "5m",
         flavours=CNPG),
    Case("LangGraphDatabaseConnections", "no_traffic", "no client connections", cnpg_connections(0), "5m",
         flavours=CNPG),
    Case("LangGraphDatabaseConnections", "fires", "85 of 100 connections", rds_connections(85), "5m",
         ({k: RDS[k] for k in ("namespace", "instance", "server")},), PGX),
    Case("LangGraphDatabaseConnections", "before_for", "85 of 100, for 2m not yet passed", rds_connections(85),
         "1m", flavours=PGX),
    Case("LangGraphDatabaseConnections", "below", "79 of 100 connections", rds_connections(79), "5m",
         flavours=PGX),
    Case("LangGraphDatabaseConnections", "no_traffic", "no client connections", rds_connections(0), "5m",
         flavours=PGX),

    # --- the official server's signals ----------------------------------------------------------------
    Case("LangGraphServerRunsPending", "fires", "51 pending runs", gauges("lg_api_num_pending_runs", 51, API_A, API_B),
         "12m", ({"namespace": NS},)),
    Case("LangGraphServerRunsPending", "before_for", "51 pending, for 10m not yet passed",
         gauges("lg_api_num_pending_runs", 51, API_A), "9m"),
    Case("LangGraphServerRunsPending", "below", "50 pending runs", gauges("lg_api_num_pending_runs", 50, API_A),
         "12m"),
    Case("LangGraphServerRunsPending", "quiet", "two API pods report the same global 30: not summed to 60",
         gauges("lg_api_num_pending_runs", 30, API_A, API_B), "12m"),
    Case("LangGraphServerRunsPending", "no_traffic", "empty queue", gauges("lg_api_num_pending_runs", 0, API_A),
         "12m"),

    Case("LangGraphServerQueueWaitHigh", "fires", "P95 wait 70s", queue_wait({"60000": 94, "120000": 6}, API_A),
         "12m", ({"namespace": NS},)),
    Case("LangGraphServerQueueWaitHigh", "before_for", "P95 wait 70s, for 10m not yet passed",
         queue_wait({"60000": 94, "120000": 6}, API_A), "9m"),
    Case("LangGraphServerQueueWaitHigh", "below", "P95 wait 59.7s", queue_wait({"60000": 96, "120000": 4}, API_A),
         "12m"),
    Case("LangGraphServerQueueWaitHigh", "no_traffic", "no runs started", queue_wait({}, API_A), "12m"),

    Case("LangGraphServerWorkersSaturated", "fires", "19 of 20 job slots busy",
         gauges("lg_api_workers_active", 10, API_A) | gauges("lg_api_workers_active", 9, API_B)
         | gauges("lg_api_workers_max", 10, API_A, API_B), "16m", ({"namespace": NS},)),
    Case("LangGraphServerWorkersSaturated", "before_for", "19 of 20, for 15m not yet passed",
         gauges("lg_api_workers_active", 10, API_A) | gauges("lg_api_workers_active", 9, API_B)
         | gauges("lg_api_workers_max", 10, API_A, API_B), "14m"),
    Case("LangGraphServerWorkersSaturated", "below", "17 of 20 job slots busy",
         gauges("lg_api_workers_active", 9, API_A) | gauges("lg_api_workers_active", 8, API_B)
         | gauges("lg_api_workers_max", 10, API_A, API_B), "16m"),
    Case("LangGraphServerWorkersSaturated", "no_traffic", "idle workers",
         gauges("lg_api_workers_active", 0, API_A, API_B) | gauges("lg_api_workers_max", 10, API_A, API_B), "16m"),

    Case("LangGraphServerPostgresPoolExhausted", "fires", "20 of 20 connections in use",
         pool("pg", API_A, size=20, available=0, max=20), "6m", ({"namespace": NS, "pod": API_A["pod"]},)),
    Case("LangGraphServerPostgresPoolExhausted", "before_for", "20 of 20, for 5m not yet passed",
         pool("pg", API_A, size=20, available=0, max=20), "4m"),
    Case("LangGraphServerPostgresPoolExhausted", "below", "19 of 20 in use",
         pool("pg", API_A, size=20, available=1, max=20), "6m"),
    Case("LangGraphServerPostgresPoolExhausted", "no_traffic", "2 idle connections of 20",
         pool("pg", API_A, size=2, available=2, max=20), "6m"),
    Case("LangGraphServerPostgresPoolExhausted", "quiet", "pool not reported yet (all zero)",
         pool("pg", API_A, size=0, available=0, max=0), "6m"),

    Case("LangGraphServerPostgresPoolErrors", "fires", "3 failed connection requests a minute",
         {sel("lg_api_pg_pool_requests_errors_total", **API_A): counter(3)}, "7m",
         ({"namespace": NS, "pod": API_A["pod"]},)),
    Case("LangGraphServerPostgresPoolErrors", "before_for", "failing, for 5m not yet passed",
         {sel("lg_api_pg_pool_requests_errors_total", **API_A): counter(3)}, "5m"),
    Case("LangGraphServerPostgresPoolErrors", "below", "requests queue but none fails",
         {sel("lg_api_pg_pool_requests_errors_total", **API_A): counter(0),
          sel("lg_api_pg_pool_requests_queued_total", **API_A): counter(30)}, "7m"),
    Case("LangGraphServerPostgresPoolErrors", "no_traffic", "no pool requests at all",
         {sel("lg_api_pg_pool_requests_errors_total", **API_A): counter(0),
          sel("lg_api_pg_pool_requests_queued_total", **API_A): counter(0)}, "7m"),

    Case("LangGraphServerRedisPoolExhausted", "fires", "50 of 50 connections in use",
         pool("redis", API_A, size=50, available=0, max=50), "6m", ({"namespace": NS, "pod": API_A["pod"]},)),
    Case("LangGraphServerRedisPoolExhausted", "before_for", "50 of 50, for 5m not yet passed",
         pool("redis", API_A, size=50, available=0, max=50), "4m"),
    Case("LangGraphServerRedisPoolExhausted", "below", "49 of 50 in use",
         pool("redis", API_A, size=49, available=1, max=50), "6m"),
    Case("LangGraphServerRedisPoolExhausted", "no_traffic", "none in use",
         pool("redis", API_A, size=0, available=5, max=50), "6m"),
    Case("LangGraphServerRedisPoolExhausted", "quiet", "pool not reported yet (all zero)",
         pool("redis", API_A, size=0, available=0, max=0), "6m"),

    # --- operator signals -----------------------------------------------------------------------------
    Case("LangGraphAutoscalerAtMax", "fires", "KEDA's HPA at 20 of 20", hpa(20, 3, 20), "20m",
         ({"namespace": NS, "horizontalpodautoscaler": "keda-hpa-langgraph-queue"},)),
    Case("LangGraphAutoscalerAtMax", "before_for", "at max, for 15m not yet passed", hpa(20, 3, 20), "14m"),
    Case("LangGraphAutoscalerAtMax", "below", "19 of 20", hpa(19, 3, 20), "20m"),
    Case("LangGraphAutoscalerAtMax", "no_traffic", "at its minimum", hpa(3, 3, 20), "20m"),
    Case("LangGraphAutoscalerAtMax", "quiet", "a fixed-size HPA (min = max)", hpa(3, 3, 3), "20m"),
    Case("LangGraphAutoscalerAtMax", "quiet", "another namespace's HPA at max",
         hpa(10, 1, 10, namespace="other-team"), "20m"),

    Case("LangGraphPodCrashLooping", "fires", "flapping into CrashLoopBackOff every 3 minutes",
         crash_loop(" ".join(["1 0 0"] * 10)), "20m",
         ({"namespace": NS, "pod": "langgraph-api-6f7d9-a", "container": "langgraph-api"},)),
    Case("LangGraphPodCrashLooping", "before_for", "crash-looping, for 15m not yet passed",
         crash_loop(" ".join(["1 0 0"] * 10)), "14m"),
    Case("LangGraphPodCrashLooping", "below", "one back-off, then healthy", crash_loop("1 1 0x{n}"), "20m"),
    Case("LangGraphPodCrashLooping", "no_traffic", "nothing waiting", crash_loop("0x{n}"), "20m"),
    Case("LangGraphPodCrashLooping", "quiet", "waiting for another reason", crash_loop("1x{n}", "ContainerCreating"),
         "20m"),
    Case("LangGraphPodCrashLooping", "quiet", "another namespace's pod",
         crash_loop("1x{n}", namespace="other-team"), "20m"),

    Case("RedisNoMaster", "fires", "two replicas and a Sentinel, no master",
         redis({"langgraph-redis-0": "slave", "langgraph-redis-1": "slave", "langgraph-sentinel-0": ""}), "5m",
         ({"namespace": DATA},)),
    Case("RedisNoMaster", "fires", "the master's Redis is down, its exporter up",
         redis({"langgraph-redis-0": None, "langgraph-redis-1": "slave"}), "5m", ({"namespace": DATA},)),
    Case("RedisNoMaster", "before_for", "no master, for 2m not yet passed",
         redis({"langgraph-redis-0": "slave", "langgraph-redis-1": "slave"}), "1m"),
    Case("RedisNoMaster", "below", "one master, one replica",
         redis({"langgraph-redis-0": "master", "langgraph-redis-1": "slave", "langgraph-sentinel-0": ""}), "5m"),
    Case("RedisNoMaster", "no_traffic", "no Redis exporters at all", {}, "5m"),

    Case("RedisSentinelQuorumLost", "fires", "no Sentinel can reach quorum", ckquorum(0, 0, 0), "7m",
         ({"namespace": DATA, "master_name": "langgraph"},)),
    Case("RedisSentinelQuorumLost", "before_for", "no quorum, for 5m not yet passed", ckquorum(0, 0, 0), "4m"),
    Case("RedisSentinelQuorumLost", "below", "one Sentinel partitioned away, the others reach quorum",
         ckquorum(0, 1, 1), "7m"),
    Case("RedisSentinelQuorumLost", "no_traffic", "no Sentinel exporters", {}, "7m"),

    Case("PostgresDown", "fires", "primary down, the replica not promoted yet",
         cnpg_instances((PG_1, 0, None), (PG_2, 1, 1)), "5m", ({"namespace": DATA},), CNPG),
    Case("PostgresDown", "fires", "the only instance (dev) is down", cnpg_instances((PG_1, 0, None)), "5m",
         ({"namespace": DATA},), CNPG),
    Case("PostgresDown", "before_for", "no primary, for 2m not yet passed",
         cnpg_instances((PG_1, 0, None), (PG_2, 1, 1)), "1m", flavours=CNPG),
    Case("PostgresDown", "below", "after failover: the replica is the primary",
         cnpg_instances((PG_1, 0, None), (PG_2, 1, 0)), "5m", flavours=CNPG),
    Case("PostgresDown", "no_traffic", "no CloudNativePG instances scraped", {}, "5m", flavours=CNPG),
    Case("PostgresDown", "fires", "exporter cannot query RDS", gauges("pg_up", 0, RDS), "5m",
         ({"namespace": NS, "instance": RDS["instance"], "server": RDS["server"]},), PGX),
    Case("PostgresDown", "before_for", "down, for 2m not yet passed", gauges("pg_up", 0, RDS), "1m", flavours=PGX),
    Case("PostgresDown", "below", "RDS answers", gauges("pg_up", 1, RDS), "5m", flavours=PGX),
    Case("PostgresDown", "no_traffic", "no exporter scraped", {}, "5m", flavours=PGX),

    Case("PostgresInstanceDown", "fires", "a replica is down", cnpg_instances((PG_1, 1, 0), (PG_2, 0, None)), "7m",
         ({"namespace": DATA, "pod": "langgraph-pg-2"},), CNPG),
    Case("PostgresInstanceDown", "before_for", "down, for 5m not yet passed",
         cnpg_instances((PG_1, 1, 0), (PG_2, 0, None)), "4m", flavours=CNPG),
    Case("PostgresInstanceDown", "below", "all up", cnpg_instances((PG_1, 1, 0), (PG_2, 1, 1)), "7m", flavours=CNPG),
    Case("PostgresInstanceDown", "no_traffic", "no instances scraped", {}, "7m", flavours=CNPG),

    Case("PostgresReplicationLag", "fires", "replica 31s behind",
         gauges("cnpg_pg_replication_lag", 0, PG_1) | gauges("cnpg_pg_replication_lag", 31, PG_2), "7m",
         ({"namespace": DATA, "pod": "langgraph-pg-2"},), CNPG),
    Case("PostgresReplicationLag", "before_for", "31s behind, for 5m not yet passed",
         gauges("cnpg_pg_replication_lag", 31, PG_2), "4m", flavours=CNPG),
    Case("PostgresReplicationLag", "below", "29s behind", gauges("cnpg_pg_replication_lag", 29, PG_2), "7m",
         flavours=CNPG),
    Case("PostgresReplicationLag", "no_traffic", "no replicas", gauges("cnpg_pg_replication_lag", 0, PG_1), "7m",
         flavours=CNPG),
    Case("PostgresReplicationLag", "fires", "standby 300 MiB behind",
         gauges("pg_stat_replication_pg_wal_lsn_diff", 300 * 2**20,
                {**RDS, "application_name": "replica-1", "client_addr": "10.0.4.9", "state": "streaming"}), "7m",
         ({**RDS, "application_name": "replica-1"},), PGX),
    Case("PostgresReplicationLag", "before_for", "300 MiB behind, for 5m not yet passed",
         gauges("pg_stat_replication_pg_wal_lsn_diff", 300 * 2**20, {**RDS, "application_name": "replica-1"}), "4m",
         flavours=PGX),
    Case("PostgresReplicationLag", "below", "200 MiB behind",
         gauges("pg_stat_replication_pg_wal_lsn_diff", 200 * 2**20, {**RDS, "application_name": "replica-1"}), "7m",
         flavours=PGX),
    Case("PostgresReplicationLag", "no_traffic", "no standbys", {}, "7m", flavours=PGX),

    # time() starts at 0 in promtool: a backup at t=1000s is 26h old at 26h16m40s.
    Case("PostgresBackupTooOld", "fires", "last backup 26.7h old", backups(1000, 0), "27h", ({"namespace": DATA},),
         CNPG),
    Case("PostgresBackupTooOld", "before_for", "27h old only 3 minutes ago, for 10m not yet passed",
         backups(1000, 0), "26h20m", flavours=CNPG),
    Case("PostgresBackupTooOld", "below", "last backup 25.7h old", backups(1000, 0), "26h", flavours=CNPG),
    Case("PostgresBackupTooOld", "fires", "no backup ever succeeded and one failed", backups(0, 500), "15m",
         ({"namespace": DATA},), CNPG),
    Case("PostgresBackupTooOld", "quiet", "nothing attempted yet (the data tier schedules an immediate backup)",
         backups(0, 0), "15m", flavours=CNPG),
    Case("PostgresBackupTooOld", "no_traffic", "no backup plugin metrics", {}, "15m", flavours=CNPG),

    Case("CertificateExpiringSoon", "fires", "13 days left", certificate(13 * DAY), "2h",
         ({"namespace": "cert-manager", "exported_namespace": "langgraph-edge", "name": "gateway-tls"},)),
    Case("CertificateExpiringSoon", "before_for", "13 days left, for 1h not yet passed", certificate(13 * DAY),
         "50m"),
    Case("CertificateExpiringSoon", "below", "14 days and an hour left", certificate(14 * DAY + 3 * HOUR), "2h"),
    Case("CertificateExpiringSoon", "no_traffic", "not issued yet (expiry 0)", certificate(0), "2h"),

    Case("VolumeFillingUp", "fires", "10% free", volume(0.10), "7m",
         ({"namespace": DATA, "persistentvolumeclaim": "pgdata-langgraph-pg-1"},)),
    Case("VolumeFillingUp", "before_for", "10% free, for 5m not yet passed", volume(0.10), "4m"),
    Case("VolumeFillingUp", "below", "16% free", volume(0.16), "7m"),
    Case("VolumeFillingUp", "quiet", "another namespace's volume", volume(0.05, namespace="other-team"), "7m"),
    Case("VolumeFillingUp", "no_traffic", "no volumes", {}, "7m"),

    Case("Watchdog", "fires", "always, even with no data at all", {}, "1m", ({},)),

    # --- error budget (SLO 99.5%: page above 7.2% over 1h and 5m or 3% over 6h and 30m; ticket above 1.5%
    # over 1d and 2h or 0.5% over 3d and 6h) ------------------------------------------------------------------
    Case("LangGraphErrorBudgetBurnPage", "fires", "fast burn: 10% errors", executions("support_ticket", 10, 90),
         "10m", ({},)),
    Case("LangGraphErrorBudgetBurnPage", "fires", "4% errors: the 6h/30m pair", executions("support_ticket", 4, 96),
         "1h", ({},)),
    Case("LangGraphErrorBudgetBurnPage", "before_for", "fast burn, for 2m not yet passed",
         executions("support_ticket", 10, 90), "2m"),
    Case("LangGraphErrorBudgetBurnPage", "below", "2.9% errors", executions("support_ticket", 2.9, 97.1), "1h"),
    Case("LangGraphErrorBudgetBurnPage", "below", "within budget: 0.4% errors", executions("support_ticket", 0.4, 99.6),
         "1h"),
    Case("LangGraphErrorBudgetBurnPage", "quiet",
         "burn over: the short windows reset the page, the long ones are still high",
         {sel("langgraph_executions_total", graph_name="support_ticket", status="error"): "0+10x30 300+0x{n}",
          sel("langgraph_executions_total", graph_name="support_ticket", status="success"): "0+90x30 2800+100x{n}"},
         "70m"),
    Case("LangGraphErrorBudgetBurnPage", "no_traffic", "no executions", executions("support_ticket", 0, 0), "1h"),

    Case("LangGraphErrorBudgetBurnTicket", "fires", "slow burn: 2% errors (the 1d/2h pair)",
         executions("support_ticket", 2, 98), "3h", ({},)),
    Case("LangGraphErrorBudgetBurnTicket", "fires", "0.8% errors (the 3d/6h pair)",
         executions("support_ticket", 0.8, 99.2), "7h", ({},)),
    Case("LangGraphErrorBudgetBurnTicket", "before_for", "2% errors, for 15m not yet passed",
         executions("support_ticket", 2, 98), "10m"),
    Case("LangGraphErrorBudgetBurnTicket", "below", "within budget: 0.45% errors",
         executions("support_ticket", 0.45, 99.55), "7h"),
    Case("LangGraphErrorBudgetBurnTicket", "no_traffic", "no executions", executions("support_ticket", 0, 0), "7h"),
]


def _minutes(duration: str) -> int:
    total, units = 0, {"m": 1, "h": 60, "d": 1440}
    for amount, unit in re.findall(r"(\d+)([mhd])", duration):
        total += int(amount) * units[unit]
    return total


def _rules_by_name(flavour: str) -> dict[str, dict]:
    return {r["alert"]: r for g in rule_groups(params(flavour)) for r in g["rules"] if "alert" in r}


def _expand_labels(template: str, labels: dict[str, str]) -> str:
    """What Prometheus makes of a template that only reads $labels."""
    expanded = re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels.get(m.group(1), ""), template)
    assert "{{" not in expanded, f"summary uses more than $labels: {template}"
    return expanded


def _test_group(case: Case, rule: dict) -> dict:
    n = _minutes(case.at) + 5
    return {
        "name": f"{case.alert} [{case.kind}] {case.title}",
        "interval": "1m",
        "input_series": [{"series": s, "values": v.format(n=n)} for s, v in case.series.items()],
        "alert_rule_test": [{"eval_time": case.at, "alertname": case.alert, "exp_alerts": [
            {"exp_labels": {**labels, **rule["labels"]},
             "exp_annotations": {"summary": _expand_labels(rule["annotations"]["summary"], labels),
                                 "runbook_url": rule["annotations"]["runbook_url"]}}
            for labels in case.fires]}],
    }


def _unit_rules(flavour: str, group_name: str) -> dict:
    """One rendered group minus each description: its $value formatting is checked by promtool check
    rules, and comparing it here would pin float formatting instead of behaviour."""
    group = next(g for g in rule_groups(params(flavour)) if g["name"] == group_name)
    for rule in group["rules"]:
        rule.get("annotations", {}).pop("description", None)
    return {"groups": [group]}


# promtool evaluates every rule of a test file at every step: one file per group keeps the day-long
# cases cheap. Only the postgres group differs between the flavours.
UNIT_RUNS = [(flavour, group["name"]) for group in rule_groups(params(FLAVOURS[0]))
             for flavour in (FLAVOURS if group["name"] == "postgres" else FLAVOURS[:1])]


@pytest.fixture(scope="module", params=FLAVOURS)
def flavour(request) -> str:
    return request.param


def test_promtool_checks_rendered_rules(flavour, tmp_path):
    path = tmp_path / "rules.yml"
    path.write_text(rules_file(params(flavour)))
    result = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    count = sum(len(g["rules"]) for g in rule_groups(params(flavour)))
    assert f"SUCCESS: {count} rules found" in result.stdout


@pytest.mark.parametrize("rules_flavour, group_name", UNIT_RUNS,
                         ids=[f"{g}-{f}" if g == "postgres" else g for f, g in UNIT_RUNS])
def test_promtool_unit_tests_every_case(rules_flavour, group_name, tmp_path):
    unit_rules = _unit_rules(rules_flavour, group_name)
    rules = {r["alert"]: r for r in unit_rules["groups"][0]["rules"] if "alert" in r}
    cases = [c for c in CASES if rules_flavour in c.flavours and c.alert in rules]
    assert cases, f"no cases for group {group_name}"
    (tmp_path / "rules.yml").write_text(to_yaml(unit_rules))
    (tmp_path / "tests.yml").write_text(to_yaml({
        "rule_files": ["rules.yml"], "evaluation_interval": "1m",
        "tests": [_test_group(c, rules[c.alert]) for c in cases]}))
    result = subprocess.run(["promtool", "test", "rules", str(tmp_path / "tests.yml")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_its_cases(flavour):
    """Fires once its `for` has passed, quiet before, just below and with no traffic; per graph when per graph."""
    missing = []
    for name, rule in _rules_by_name(flavour).items():
        kinds = {c.kind for c in CASES if c.alert == name and flavour in c.flavours}
        if name == "Watchdog":
            needed = {"fires"}
        else:
            needed = {"fires", "below", "no_traffic"} | ({"before_for"} if "for" in rule else set())
            needed |= {"per_graph"} if "graph_name" in rule["expr"] else set()
        missing += [f"{name}: {kind}" for kind in sorted(needed - kinds)]
    assert not missing, f"alerts without cases ({flavour}): {missing}"
    known = set(_rules_by_name("cloudnativepg")) | set(_rules_by_name("postgres_exporter"))
    assert {c.alert for c in CASES} <= known


def test_every_alert_is_labelled_annotated_and_has_a_runbook(flavour):
    for name, rule in _rules_by_name(flavour).items():
        assert rule["labels"]["severity"] in ("critical", "warning", "none"), name
        assert rule["labels"]["family"], name
        annotations = rule["annotations"]
        assert annotations["summary"] and annotations["description"], name
        assert annotations["runbook_url"] == f"{BASE}{name}.md", name
        assert (RUNBOOKS / f"{name}.md").is_file(), f"no runbook for {name}"


def test_every_runbook_belongs_to_an_alert():
    alerts = set(alert_names(params("cloudnativepg"))) | set(alert_names(params("postgres_exporter")))
    runbooks = {p.stem for p in RUNBOOKS.glob("*.md")} - {"README"}
    assert runbooks == alerts, f"runbooks without an alert: {runbooks - alerts}; alerts without: {alerts - runbooks}"


@pytest.mark.parametrize("name", sorted({p.stem for p in RUNBOOKS.glob("*.md")} - {"README"}))
def test_runbooks_follow_the_response_flow(name):
    """The seed's flow: triage by severity, diagnose, fix by root cause (code, config, infrastructure),
    verify, update the docs; each step with commands to run."""
    text = (RUNBOOKS / f"{name}.md").read_text()
    assert text.startswith(f"# {name}\n")
    headings = re.findall(r"^## (.+)$", text, re.M)
    assert headings == ["Triage", "Diagnose", "Fix by root cause", "Verify", "Afterwards"], (name, headings)
    fix = text.split("## Fix by root cause")[1].split("## Verify")[0]
    for cause in ("**Code**", "**Configuration**", "**Infrastructure**"):
        assert cause in fix, (name, cause)
    assert len(re.findall(r"^```(sh|promql|sql)$", text, re.M)) >= 2, f"{name}: commands to run"
    verify = text.split("## Verify")[1].split("## Afterwards")[0]
    assert "```promql" in verify, f"{name}: verify with the alert's query"


def test_seed_errors_are_corrected():
    """DESIGN.md "Where the seed is wrong": no bare rate/rate, quantiles over `sum by (le, ...)`, real names."""
    for flavour in FLAVOURS:
        for rule in _rules_by_name(flavour).values():
            expr = rule["expr"]
            assert not re.search(r"(?<!\()rate\([^()]*\[\w+\]\)\s*/\s*rate\(", expr), expr
            for quantile in re.findall(r"histogram_quantile\(([^,]+),\s*(\w+)", expr):
                assert quantile[1] == "sum", expr
            assert "sum by (le, " in expr or "histogram_quantile" not in expr, expr
            assert "postgres_connections" not in expr, expr
    error_rate = _rules_by_name("cloudnativepg")["LangGraphHighErrorRate"]["expr"]
    assert error_rate.count("sum by (graph_name)") == 2


def test_prometheus_rule_object():
    rule = prometheus_rule(params("cloudnativepg"), "langgraph-alerts", "monitoring", {"release": "kps"})
    assert rule["apiVersion"] == "monitoring.coreos.com/v1" and rule["kind"] == "PrometheusRule"
    assert rule["metadata"]["labels"] == {"release": "kps"}
    assert rule["spec"]["groups"] == rule_groups(params("cloudnativepg"))


@pytest.mark.parametrize("change, named", [
    ({"runbook_base_url": "http://insecure/"}, "runbook_base_url"),
    ({"postgres": "mysql"}, "postgres"),
    ({"namespaces": ("Bad_NS",)}, "namespaces"),
    ({"availability_slo": 1.0}, "availability_slo"),
    ({"error_ratio": 5}, "error_ratio"),
    ({"pending_runs": 0}, "pending_runs"),
])
def test_bad_parameters_are_refused(change, named):
    with pytest.raises(ValueError, match=named):
        RuleParams(**{"runbook_base_url": BASE, **change})


# --- the names the rules read, against what the real exporters emit ----------------------------------------

def _referenced(prefix: str) -> set[str]:
    names = set()
    for flavour in FLAVOURS:
        for rule in _rules_by_name(flavour).values():
            names |= set(re.findall(rf"\b{prefix}[a-z0-9_]+", rule["expr"]))
    return names


def _samples(exposition: str) -> dict[str, list[dict[str, str]]]:
    """sample name -> label sets."""
    found: dict[str, list[dict[str, str]]] = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            found.setdefault(sample.name, []).append(sample.labels)
    return found


@pytest.fixture(scope="module")
def postgres_exporter_samples(tmp_path_factory):
    """postgres_exporter 0.11 against a primary that has a streaming standby."""
    log = tmp_path_factory.mktemp("pg-exporter") / "exporter.log"
    primary = new_server()
    try:
        standby = new_standby(primary)
        try:
            env = {**os.environ, "DATA_SOURCE_NAME": primary.dsn() + "?sslmode=disable"}
            yield _samples(scrape_once(["prometheus-postgres-exporter"], log, env=env))
        finally:
            standby.stop(signal.SIGQUIT)  # immediate shutdown: the data is thrown away anyway
            standby.cleanup()
    finally:
        primary.stop(signal.SIGQUIT)
        primary.cleanup()


@pytest.fixture(scope="module")
def redis_exporter_samples(tmp_path_factory):
    """redis_exporter 1.45 against a master, its replica and a Sentinel: role -> samples."""
    directory = tmp_path_factory.mktemp("redis")
    master, replica, sentinel = free_port(), free_port(), free_port()
    common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(directory)]
    (directory / "sentinel.conf").write_text(
        f"port {sentinel}\nbind 127.0.0.1\nsentinel monitor langgraph 127.0.0.1 {master} 1\n")
    processes = [start(["redis-server", "--port", str(master), *common], directory / "master.log"),
                 start(["redis-server", "--port", str(replica), "--replicaof", "127.0.0.1", str(master), *common],
                       directory / "replica.log"),
                 start(["redis-sentinel", str(directory / "sentinel.conf")], directory / "sentinel.log")]
    try:
        for port in (master, replica, sentinel):
            wait_for(lambda: port_open(port), what=f"redis on {port}")
        yield {role: _samples(scrape_once(["prometheus-redis-exporter", f"--redis.addr=redis://127.0.0.1:{port}"],
                                          directory / f"exporter-{role}.log"))
               for role, port in (("master", master), ("replica", replica), ("sentinel", sentinel))}
    finally:
        for process in processes:
            stop_pid(process.pid)


def test_postgres_exporter_emits_what_the_rules_read(postgres_exporter_samples):
    samples = postgres_exporter_samples
    missing = _referenced("pg_") - set(samples)
    assert not missing, f"postgres_exporter 0.11 does not emit {missing}"
    # Labels the rules group or describe by.
    assert all("server" in labels for labels in samples["pg_stat_activity_count"])
    assert all("server" in labels for labels in samples["pg_settings_max_connections"])
    assert [labels["application_name"] for labels in samples["pg_stat_replication_pg_wal_lsn_diff"]]


def test_redis_exporter_emits_what_the_rules_read(redis_exporter_samples):
    every = set().union(*(set(samples) for samples in redis_exporter_samples.values()))
    missing = _referenced("redis_") - every
    assert not missing, f"redis_exporter 1.45 does not emit {missing}"
    roles = {role: {labels["role"] for labels in samples["redis_instance_info"]}
             for role, samples in redis_exporter_samples.items()}
    assert roles["master"] == {"master"} and roles["replica"] == {"slave"}
    quorum = redis_exporter_samples["sentinel"]["redis_sentinel_master_ckquorum_status"]
    assert [labels["master_name"] for labels in quorum] == ["langgraph"]


# Records one sample of every metric the server defines, then writes what its /metrics handler serves
# (meta_metrics returns prometheus_client's generate_latest() of the same registry) to argv[1].
_SERVER_METRICS = """
import sys
from prometheus_client import generate_latest
from langgraph_api import metrics_otlp as m
reporter = m.get_otlp_metrics_reporter()
reporter.initialize()
for metric in [v for v in vars(m).values() if isinstance(v, m.MetricDef)]:
    {"counter": reporter.inc_counter, "gauge": reporter.record_gauge, "latency": reporter.record_latency,
     "histogram": reporter.record_histogram}[metric.metric_type](metric, 1)
open(sys.argv[1], "wb").write(generate_latest())
"""


def test_langgraph_server_serves_what_the_rules_read(tmp_path):
    # The server's config module requires a Redis URI at import; nothing connects.
    env = {"PATH": os.environ["PATH"], "REDIS_URI": "redis://127.0.0.1:1", "DATABASE_URI": "postgres://x@127.0.0.1:1/x",
           "HOME": str(tmp_path)}
    exposition = tmp_path / "metrics.txt"
    result = subprocess.run([str(LANGGRAPH_API_PYTHON), "-c", _SERVER_METRICS, str(exposition)],
                            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    served = set(_samples(exposition.read_text()))
    referenced = _referenced("lg_api_")
    assert referenced, "the rules read no lg_api_ metric"
    assert not referenced - served, f"langgraph-api does not serve {referenced - served} on /metrics"
