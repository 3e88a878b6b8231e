"""The platform's Grafana dashboards as code, and ConfigMaps that ship them to Grafana's sidecar.

Three dashboards, each a plain dict in Grafana's JSON model:
- executions: the seed's four panels with their queries fixed (rates aggregated before they are
  divided, `histogram_quantile` over `sum by (le, ...)`, `stat` instead of the removed
  `singlestat`), node latency, interrupts, retries and checkpoint saves by backend;
- server: the official LangGraph server's own `lg_api_*` metrics (queue, workers, pools, HTTP);
- data tier: PostgreSQL connections against their maximum, replication lag and backup age (from
  CloudNativePG or from postgres_exporter), Redis roles, Sentinel quorum and memory.

`promql_expressions` lists every query with the template variables at "All", so that tests can
run each one against a real Prometheus.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Literal, get_args

from .dashboard_panels import (
    TARGET,
    TARGET_LEGEND,
    Query,
    Row,
    Threshold,
    label_variable,
    render,
    selector,
    stat_panel,
    substitute,
    timeseries_panel,
)
from .datasources import SIDECAR_LABEL as DATASOURCE_SIDECAR_LABEL

# Where PostgreSQL metrics come from: CloudNativePG's instance exporter (in-cluster clusters) or
# a postgres_exporter (RDS, or any server the operator does not run).
PostgresMetrics = Literal["cloudnativepg", "postgres_exporter"]

SIDECAR_LABEL = "grafana_dashboard"
FOLDER_ANNOTATION = "grafana_folder"
FOLDER = "LangGraph"
COMMON_LABELS = {"app.kubernetes.io/part-of": "langgraph-platform", "app.kubernetes.io/component": "dashboards"}

# Thresholds drawn on panels: the alert rules' (seed values).
ERROR_RATE_ALERT = Threshold(0.05)
P95_LATENCY_ALERT = Threshold(30)
CHECKPOINT_FAILURES_ALERT = Threshold(0.1)
CONNECTIONS_ALERT = Threshold(0.8)


def executions_dashboard() -> dict:
    """Graph executions as the seed's reference app reports them (`langgraph_*`)."""
    by_graph = selector("namespace", "graph_name")
    errors = selector("namespace", "graph_name", status="error")
    in_namespace = selector("namespace")
    seed = Row("Executions", [
        timeseries_panel(
            "Graph execution rate", "Executions per second by graph and final status.",
            [Query(f"sum by (graph_name, status) (rate(langgraph_executions_total{by_graph}[5m]))",
                   "{{graph_name}} - {{status}}")], "ops"),
        timeseries_panel(
            "Execution duration P95", "95th percentile of graph execution time, buckets summed over pods first.",
            [Query("histogram_quantile(0.95, sum by (le, graph_name) "
                   f"(rate(langgraph_execution_duration_seconds_bucket{by_graph}[5m])))", "{{graph_name}} P95")],
            "s", threshold=P95_LATENCY_ALERT),
        # The seed's `langgraph_active_graphs` gauge has no graph_name label: filter by namespace only.
        stat_panel(
            "Active graphs", "Graph executions in progress now, over all pods.",
            [Query(f"sum(langgraph_active_graphs{in_namespace})", "Active")], "short", width=6),
        # Both sides aggregated by graph_name: the seed's bare ratio matched on every label,
        # status included, and read 1.0 as soon as one error existed.
        timeseries_panel(
            "Error rate", "Share of executions that ended in error, per graph.",
            [Query(f"sum by (graph_name) (rate(langgraph_executions_total{errors}[5m]))"
                   f" / sum by (graph_name) (rate(langgraph_executions_total{by_graph}[5m]))", "{{graph_name}}")],
            "percentunit", threshold=ERROR_RATE_ALERT, width=18),
    ])
    nodes = Row("Nodes", [
        timeseries_panel(
            "Node execution P95 by node", "95th percentile of node execution time, per graph and node.",
            [Query("histogram_quantile(0.95, sum by (le, graph_name, node_name) "
                   f"(rate(langgraph_node_execution_seconds_bucket{by_graph}[5m])))",
                   "{{graph_name}} / {{node_name}}")], "s", width=24),
        timeseries_panel(
            "Interrupts", "Interrupts per second by graph, node and reason.",
            [Query(f"sum by (graph_name, node_name, reason) (rate(langgraph_interrupts_total{by_graph}[5m]))",
                   "{{graph_name}} / {{node_name}}: {{reason}}")], "ops"),
        timeseries_panel(
            "Retries", "Node retries per second by graph, node and exception type.",
            [Query(f"sum by (graph_name, node_name, exception_type) (rate(langgraph_retries_total{by_graph}[5m]))",
                   "{{graph_name}} / {{node_name}}: {{exception_type}}")], "ops"),
    ])
    # Checkpoint saves carry backend_type and status only (no graph_name).
    checkpoints = Row("Checkpoints", [
        timeseries_panel(
            "Checkpoint saves by backend", "Checkpoint saves per second by backend and status.",
            [Query(f"sum by (backend_type, status) (rate(langgraph_checkpoint_saves_total{in_namespace}[5m]))",
                   "{{backend_type}} - {{status}}")], "ops"),
        timeseries_panel(
            "Checkpoint save failures by backend", "Failed checkpoint saves per second by backend.",
            [Query("sum by (backend_type) "
                   f"(rate(langgraph_checkpoint_saves_total{selector('namespace', status='error')}[5m]))",
                   "{{backend_type}}")], "ops", threshold=CHECKPOINT_FAILURES_ALERT),
    ])
    return render(
        "langgraph-executions", "LangGraph executions",
        "Graph executions, nodes and checkpoints as reported by apps instrumented like the seed's.",
        [label_variable("namespace", "Namespace", "langgraph_executions_total"),
         label_variable("graph_name", "Graph", 'langgraph_executions_total{namespace=~"$namespace"}')],
        [seed, nodes, checkpoints])


def server_dashboard() -> dict:
    """The official LangGraph server's run queue, workers and pools (`lg_api_*` on its /metrics)."""
    ns = selector("namespace")
    queue = Row("Run queue", [
        # Queue depth is one global value (the runs table) that every API pod reports: max, not sum.
        timeseries_panel(
            "Runs pending and running", "Runs waiting in the queue and runs executing, cluster-wide.",
            [Query(f"max(lg_api_num_pending_runs{ns})", "pending"),
             Query(f"max(lg_api_num_running_runs{ns})", "running")], "short"),
        # The server records queue wait in milliseconds: divided by 1000 to show seconds.
        timeseries_panel(
            "Queue wait P95 (first attempt)", "95th percentile of the time a run waits before a worker picks it up.",
            [Query("histogram_quantile(0.95, sum by (le) "
                   f"(rate(lg_api_run_queue_wait_time_1st_attempt_bucket{ns}[5m]))) / 1000", "P95")], "s"),
    ])
    workers = Row("Workers", [
        timeseries_panel(
            "Workers busy vs max", "Run slots in use against slots available, over all pods that run jobs.",
            [Query(f"sum(lg_api_workers_active{ns})", "busy"), Query(f"sum(lg_api_workers_max{ns})", "max")],
            "short"),
        timeseries_panel(
            "Worker utilisation by pod", "Share of each pod's run slots in use.",
            [Query(f"sum by ({TARGET}) (lg_api_workers_active{ns}) / sum by ({TARGET}) (lg_api_workers_max{ns})",
                   TARGET_LEGEND)], "percentunit"),
    ])
    pools = Row("Connection pools", [
        timeseries_panel(
            "Postgres pool size vs max by pod", "Connections each pod's Postgres pool holds, against its maximum.",
            [Query(f"sum by ({TARGET}) (lg_api_pg_pool_size{ns})", f"{TARGET_LEGEND} size"),
             Query(f"sum by ({TARGET}) (lg_api_pg_pool_max{ns})", f"{TARGET_LEGEND} max")], "short", width=8),
        timeseries_panel(
            "Postgres pool requests queued and failed", "Connection requests that had to wait, and that failed.",
            [Query(f"sum(rate(lg_api_pg_pool_requests_queued_total{ns}[5m]))", "queued"),
             Query(f"sum(rate(lg_api_pg_pool_requests_errors_total{ns}[5m]))", "errors")], "ops", width=8),
        timeseries_panel(
            "Redis pool in use vs max by pod", "Redis connections in use in each pod's pool, against its maximum.",
            [Query(f"sum by ({TARGET}) (lg_api_redis_pool_size{ns})", f"{TARGET_LEGEND} in use"),
             Query(f"sum by ({TARGET}) (lg_api_redis_pool_max{ns})", f"{TARGET_LEGEND} max")], "short", width=8),
    ])
    http = Row("HTTP", [
        timeseries_panel(
            "HTTP requests by status", "API requests per second by response status.",
            [Query(f"sum by (status) (rate(lg_api_http_requests_total{ns}[5m]))", "{{status}}")], "reqps"),
        timeseries_panel(
            "HTTP latency P95 by route", "95th percentile of API request latency per route.",
            [Query("histogram_quantile(0.95, sum by (le, path) "
                   f"(rate(lg_api_http_requests_latency_bucket{ns}[5m]))) / 1000", "{{path}}")], "s"),
    ])
    return render(
        "langgraph-server", "LangGraph server",
        "The official LangGraph server's run queue, workers and connection pools.",
        [label_variable("namespace", "Namespace", "lg_api_workers_max")],
        [queue, workers, pools, http])


def _postgres_row(postgres: PostgresMetrics) -> Row:
    ns = selector("namespace")
    if postgres == "cloudnativepg":
        connections = f"sum by ({TARGET}) (cnpg_backends_total{ns})"
        maximum = f"max by ({TARGET}) (cnpg_pg_settings_setting{selector('namespace', name='max_connections')})"
        lag = Query(f"max by ({TARGET}) (cnpg_pg_replication_lag{ns})", TARGET_LEGEND)
        lag_unit, lag_what = "s", "Seconds each replica's replay is behind the primary."
        # The Barman Cloud plugin's metric (the in-tree barmanObjectStore one is deprecated).
        backup = Query(
            f"time() - max by (namespace) (barman_cloud_cloudnative_pg_io_last_available_backup_timestamp{ns})",
            "{{namespace}}")
        backup_title, backup_what = "Last backup age", "Time since the newest base backup in the object store."
    elif postgres == "postgres_exporter":
        connections = f"sum by ({TARGET}) (pg_stat_activity_count{ns})"
        maximum = f"max by ({TARGET}) (pg_settings_max_connections{ns})"
        # postgres_exporter reports lag on the primary, in bytes, per connected standby.
        lag = Query(f"max by ({TARGET}, application_name) (pg_stat_replication_pg_wal_lsn_diff{ns})",
                    "{{application_name}} behind " + TARGET_LEGEND)
        lag_unit, lag_what = "bytes", "WAL bytes each standby is behind the primary."
        # Managed servers (RDS) keep base backups outside PostgreSQL; WAL archiving is what the
        # exporter can see of backup freshness.
        backup = Query(f"max by ({TARGET}) (pg_stat_archiver_last_archive_age{ns})", TARGET_LEGEND)
        backup_title, backup_what = "Last WAL archive age", "Time since PostgreSQL last archived a WAL segment."
    else:
        raise ValueError(f"postgres: {postgres!r} is not one of {', '.join(get_args(PostgresMetrics))}")
    return Row("PostgreSQL", [
        timeseries_panel(
            "PostgreSQL connections vs maximum", "Server connections against max_connections, per instance.",
            [Query(connections, f"{TARGET_LEGEND} connections"), Query(maximum, f"{TARGET_LEGEND} max_connections")],
            "short"),
        timeseries_panel(
            "PostgreSQL connections used", "Connections as a share of max_connections (the alert fires at 80%).",
            [Query(f"{connections} / {maximum}", TARGET_LEGEND)], "percentunit", threshold=CONNECTIONS_ALERT),
        timeseries_panel("PostgreSQL replication lag", lag_what, [lag], lag_unit),
        stat_panel(backup_title, backup_what, [backup], "s", width=12),
    ])


def _redis_row() -> Row:
    ns = selector("namespace")
    return Row("Redis", [
        timeseries_panel(
            "Redis instances by role", "Instances reporting each replication role: exactly one master is healthy.",
            [Query(f"count by (role) (redis_instance_info{ns})", "{{role}}")], "short", width=8),
        stat_panel(
            "Sentinel quorum", "1 when the Sentinels can reach quorum and authorise a failover (CKQUORUM).",
            [Query(f"min by (master_name) (redis_sentinel_master_ckquorum_status{ns})", "{{master_name}}")],
            "short", width=4),
        timeseries_panel(
            "Redis memory used vs max", "Memory each instance uses, against its maxmemory (0 means no limit).",
            [Query(f"sum by ({TARGET}) (redis_memory_used_bytes{ns})", f"{TARGET_LEGEND} used"),
             Query(f"max by ({TARGET}) (redis_memory_max_bytes{ns})", f"{TARGET_LEGEND} max")], "bytes"),
    ])


def data_tier_dashboard(postgres: PostgresMetrics = "cloudnativepg") -> dict:
    """PostgreSQL and Redis health, PostgreSQL metrics from the exporter the stack deploys."""
    return render(
        "langgraph-data-tier", "LangGraph data tier",
        f"PostgreSQL (metrics from {postgres}) and Redis with Sentinel.",
        [label_variable("namespace", "Namespace", "up")],
        [_postgres_row(postgres), _redis_row()])


def dashboards(postgres: PostgresMetrics = "cloudnativepg") -> list[dict]:
    """Every platform dashboard."""
    return [executions_dashboard(), server_dashboard(), data_tier_dashboard(postgres)]


def panels(dashboard: Mapping) -> list[dict]:
    """The dashboard's panels, those inside collapsed rows included, rows left out."""
    found: list[dict] = []
    for panel in dashboard.get("panels", []):
        if panel["type"] == "row":
            found.extend(panels(panel))
        else:
            found.append(panel)
    return found


def promql_expressions(postgres: PostgresMetrics = "cloudnativepg") -> dict[str, str]:
    """Every panel query of every dashboard, keyed "<dashboard uid> / <panel title> / <refId>",
    with each template variable at its "All" value: plain PromQL a Prometheus can evaluate."""
    expressions: dict[str, str] = {}
    for dashboard in dashboards(postgres):
        at_all = {variable["name"]: variable["allValue"]
                  for variable in dashboard["templating"]["list"] if variable.get("includeAll")}
        for panel in panels(dashboard):
            for target in panel.get("targets", []):
                key = f"{dashboard['uid']} / {panel['title']} / {target['refId']}"
                expressions[key] = substitute(target["expr"], at_all)
    return expressions


def dashboard_config_map(dashboard: Mapping, namespace: str, folder: str = FOLDER) -> dict:
    """One dashboard in a ConfigMap that Grafana's sidecar imports into `folder`."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": f"grafana-dashboard-{dashboard['uid']}",
            "namespace": namespace,
            "labels": {**COMMON_LABELS, SIDECAR_LABEL: "1"},
            "annotations": {FOLDER_ANNOTATION: folder},
        },
        "data": {f"{dashboard['uid']}.json": json.dumps(dashboard, sort_keys=True)},
    }


def dashboard_config_maps(namespace: str, postgres: PostgresMetrics = "cloudnativepg",
                          folder: str = FOLDER) -> list[dict]:
    """A ConfigMap per dashboard, for the namespace Grafana runs in."""
    return [dashboard_config_map(dashboard, namespace, folder) for dashboard in dashboards(postgres)]


def sidecar_values() -> dict:
    """The kube-prometheus-stack `grafana.sidecar` values these ConfigMaps rely on: the labels it
    watches, and folders taken from the folder annotation."""
    return {
        "dashboards": {
            "enabled": True,
            "label": SIDECAR_LABEL,
            "labelValue": "1",
            "folderAnnotation": FOLDER_ANNOTATION,
            "provider": {"foldersFromFilesStructure": True},
        },
        "datasources": {"enabled": True, "label": DATASOURCE_SIDECAR_LABEL, "labelValue": "1"},
    }
