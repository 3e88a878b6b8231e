"""Prometheus alerting and recording rules of the platform, as plain data: a PrometheusRule's `spec`.

Four kinds of signals:
- the seed's four alerts, corrected (DESIGN.md "Where the seed is wrong"): both sides of the error
  ratio aggregated `by (graph_name)`, `histogram_quantile` over `sum by (le, graph_name)`, and the
  connection alert on the names the deployed exporter really emits;
- the official server's own `lg_api_*` gauges and counters, as its `/metrics` serves them;
- what an operator of this stack needs: autoscalers pinned at their maximum, crash loops, Redis
  without a master or Sentinel quorum, PostgreSQL down, lagging or without a recent backup,
  certificates and volumes running out, and a Watchdog that always fires;
- multi-window, multi-burn-rate alerts on an availability SLO (Google SRE workbook, chapter 5).

Every alert carries `severity`, a `family` label (alerts about the same thing: Alertmanager lets a
critical inhibit the warnings of its family), `summary`, `description` and `runbook_url`
(`<base>/<alert>.md`, one runbook per alert in docs/runbooks/).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import yaml

PostgresFlavour = Literal["cloudnativepg", "postgres_exporter"]
Severity = Literal["critical", "warning", "none"]

# The SLI: a graph execution is bad when it ends in error. Interrupted runs (human in the loop) are
# good events: the platform did what was asked. Chosen over the server's HTTP 5xx ratio because runs
# execute in the background (creating one answers 200 before the graph fails), and because the seed's
# monitoring principle puts business outcomes first; it is also the metric the seed's error alert uses.
EXECUTIONS = "langgraph_executions_total"
SLI_BAD = f'{EXECUTIONS}{{status="error"}}'
SLO_PERIOD_DAYS = 30
# (long window, short window, burn-rate factor, severity), from the SRE workbook's table for a 30-day
# SLO: 2% of the budget in 1 h or 5% in 6 h pages; 10% in 1 d or 100% in 3 d opens a ticket.
BURN_WINDOWS: tuple[tuple[str, str, float, Severity], ...] = (
    ("1h", "5m", 14.4, "critical"),
    ("6h", "30m", 6.0, "critical"),
    ("1d", "2h", 3.0, "warning"),
    ("3d", "6h", 1.0, "warning"),
)
BACKUP_METRIC = "barman_cloud_cloudnative_pg_io_last_available_backup_timestamp"
BACKUP_FAILED_METRIC = "barman_cloud_cloudnative_pg_io_last_failed_backup_timestamp"

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class RuleParams:
    """Everything the rules depend on; thresholds default to the seed's numbers where it has them."""

    runbook_base_url: str
    """Each alert's runbook_url is this base + `<alert>.md`."""
    postgres: PostgresFlavour = "cloudnativepg"
    """Whose metric names the PostgreSQL alerts use: CloudNativePG's or postgres_exporter's (RDS)."""
    namespaces: tuple[str, ...] = ("langgraph", "langgraph-data")
    """Namespaces the Kubernetes alerts (autoscalers, crash loops, volumes) watch: ours, not the cluster's."""
    availability_slo: float = 0.995
    """Target fraction of graph executions that do not end in error, over 30 days."""
    error_ratio: float = 0.05
    """Seed: error rate above 5% per graph for 2m."""
    latency_p95_seconds: float = 30.0
    """Seed: P95 execution latency above 30 s for 5m."""
    checkpoint_failures_per_second: float = 0.1
    """Seed: checkpoint save failures above 0.1/s for 1m."""
    connections_ratio: float = 0.8
    """Seed: database connections above 80% of max_connections for 2m."""
    pending_runs: int = 50
    """Runs waiting for a worker, sustained 10m: the queue outgrows the workers."""
    queue_wait_p95_seconds: float = 60.0
    """P95 wait of a run before its first attempt starts, sustained 10m."""
    workers_busy_ratio: float = 0.9
    """Busy share of all queue workers' job slots, sustained 15m: KEDA should be adding workers."""
    replication_lag_seconds: float = 30.0
    """CloudNativePG: replay lag of a replica."""
    replication_lag_bytes: int = 256 * 1024 * 1024
    """postgres_exporter: WAL bytes a standby is behind, as the primary sees it (no query file needed)."""
    backup_max_age_hours: float = 26.0
    """A daily backup plus two hours of slack."""
    certificate_min_days: float = 14.0
    """cert-manager renews at two thirds of a certificate's life (30 days before a 90-day one expires):
    under 14 days left means renewal has been failing for two weeks."""
    volume_free_ratio: float = 0.15
    """Free share of a persistent volume under which it is about to fill."""

    def __post_init__(self) -> None:
        problems = []
        if not self.runbook_base_url.startswith("https://"):
            problems.append(f"runbook_base_url {self.runbook_base_url!r} must be an https:// URL")
        if self.postgres not in ("cloudnativepg", "postgres_exporter"):
            problems.append(f"postgres {self.postgres!r} must be cloudnativepg or postgres_exporter")
        if not self.namespaces or any(not _DNS_LABEL.match(ns) for ns in self.namespaces):
            problems.append(f"namespaces {self.namespaces!r} must be one or more DNS labels")
        if not 0.9 <= self.availability_slo < 1:
            problems.append(f"availability_slo {self.availability_slo} must be in [0.9, 1)")
        for name in ("error_ratio", "connections_ratio", "workers_busy_ratio", "volume_free_ratio"):
            if not 0 < getattr(self, name) < 1:
                problems.append(f"{name} {getattr(self, name)} must be between 0 and 1")
        for name in ("latency_p95_seconds", "checkpoint_failures_per_second", "pending_runs",
                     "queue_wait_p95_seconds", "replication_lag_seconds", "replication_lag_bytes",
                     "backup_max_age_hours", "certificate_min_days"):
            if not getattr(self, name) > 0:
                problems.append(f"{name} {getattr(self, name)} must be positive")
        if problems:
            raise ValueError("invalid alert rule parameters: " + "; ".join(problems))

    @property
    def namespace_regex(self) -> str:
        return "|".join(self.namespaces)

    @property
    def error_budget(self) -> float:
        return 1 - self.availability_slo


@dataclass(frozen=True)
class Alert:
    """One alerting rule; `for_` is a Prometheus duration or None (fires on the first evaluation)."""

    name: str
    expr: str
    severity: Severity
    family: str
    summary: str
    description: str
    for_: str | None = None

    def rule(self, runbook_base_url: str) -> dict:
        rule: dict = {"alert": self.name, "expr": self.expr}
        if self.for_:
            rule["for"] = self.for_
        rule["labels"] = {"severity": self.severity, "family": self.family}
        rule["annotations"] = {"summary": self.summary, "description": self.description,
                               "runbook_url": runbook_base_url.rstrip("/") + f"/{self.name}.md"}
        return rule


def _num(value: float) -> str:
    """A threshold as PromQL reads it, without float noise (14.4 * 0.005 -> 0.072)."""
    return format(value, ".6g")


def _pct(value: float) -> str:
    return _num(value * 100) + "%"


def _seed_execution_alerts(p: RuleParams) -> list[Alert]:
    return [
        Alert(
            "LangGraphHighErrorRate",
            # Both sides aggregated by graph: the seed's bare rate/rate matched on every label,
            # status included, and read 1.0 as soon as one error existed.
            f'sum by (graph_name) (rate({EXECUTIONS}{{status="error"}}[5m]))\n'
            f"  / sum by (graph_name) (rate({EXECUTIONS}[5m]))\n"
            f"  > {_num(p.error_ratio)}",
            "critical", "graph-executions",
            f"Graph {{{{ $labels.graph_name }}}} fails more than {_pct(p.error_ratio)} of its executions",
            f"{{{{ $value | humanizePercentage }}}} of graph {{{{ $labels.graph_name }}}}'s executions ended in "
            f"error over the last 5 minutes (threshold {_pct(p.error_ratio)}).",
            "2m"),
        Alert(
            "LangGraphHighLatency",
            "histogram_quantile(0.95,\n"
            "  sum by (le, graph_name) (rate(langgraph_execution_duration_seconds_bucket[5m]))\n"
            f") > {_num(p.latency_p95_seconds)}",
            "warning", "graph-executions",
            f"Graph {{{{ $labels.graph_name }}}} P95 execution time is above {_num(p.latency_p95_seconds)}s",
            f"P95 execution time of graph {{{{ $labels.graph_name }}}} is {{{{ $value | humanizeDuration }}}} "
            f"over the last 5 minutes (threshold {_num(p.latency_p95_seconds)}s).",
            "5m"),
        Alert(
            "LangGraphCheckpointFailures",
            # Summed over pods: ten pods failing 0.02/s each is the same outage as one failing 0.2/s.
            'sum by (backend_type) (rate(langgraph_checkpoint_saves_total{status="error"}[5m]))\n'
            f"  > {_num(p.checkpoint_failures_per_second)}",
            "critical", "checkpoints",
            "Checkpoint saves to {{ $labels.backend_type }} are failing",
            "{{ $value | humanize }} checkpoint saves per second to {{ $labels.backend_type }} fail "
            f"(threshold {_num(p.checkpoint_failures_per_second)}/s): runs cannot persist their state.",
            "1m"),
    ]


def _server_alerts(p: RuleParams) -> list[Alert]:
    """The official server's signals. Its gauges are sampled every STATS_INTERVAL_SECS (60 s), hence
    the long `for`s; every API pod reports the same global queue depth, hence `max`, not `sum`."""
    pg_in_use = "max by (namespace, pod) (lg_api_pg_pool_size - lg_api_pg_pool_available)"
    pg_max = "max by (namespace, pod) (lg_api_pg_pool_max)"
    redis_max = "max by (namespace, pod) (lg_api_redis_pool_max)"
    return [
        Alert(
            "LangGraphServerRunsPending",
            f"max by (namespace) (lg_api_num_pending_runs) > {p.pending_runs}",
            "warning", "server-queue",
            "Runs pile up in the LangGraph server's queue in {{ $labels.namespace }}",
            "{{ $value }} runs are waiting for a worker in {{ $labels.namespace }} "
            f"(threshold {p.pending_runs}, for 10m).",
            "10m"),
        Alert(
            "LangGraphServerQueueWaitHigh",
            # The server records this histogram in milliseconds.
            "histogram_quantile(0.95,\n"
            "  sum by (le, namespace) (rate(lg_api_run_queue_wait_time_1st_attempt_bucket[5m]))\n"
            f") > {_num(p.queue_wait_p95_seconds * 1000)}",
            "warning", "server-queue",
            "Runs wait long for a worker in {{ $labels.namespace }}",
            "P95 wait before a run's first attempt is {{ $value | humanize }}ms in {{ $labels.namespace }} "
            f"(threshold {_num(p.queue_wait_p95_seconds)}s).",
            "10m"),
        Alert(
            "LangGraphServerWorkersSaturated",
            "sum by (namespace) (lg_api_workers_active)\n"
            "  / sum by (namespace) (lg_api_workers_max)\n"
            f"  > {_num(p.workers_busy_ratio)}",
            "warning", "server-queue",
            "LangGraph queue workers in {{ $labels.namespace }} are nearly all busy",
            "{{ $value | humanizePercentage }} of all job slots (N_JOBS_PER_WORKER x workers) are busy in "
            f"{{{{ $labels.namespace }}}} (threshold {_pct(p.workers_busy_ratio)}, for 15m).",
            "15m"),
        Alert(
            "LangGraphServerPostgresPoolExhausted",
            f"{pg_in_use} >= {pg_max}\nand on (namespace, pod) {pg_max} > 0",
            "warning", "server-postgres-pool",
            "Pod {{ $labels.pod }} uses every connection of its PostgreSQL pool",
            "All {{ $value }} connections of the server's PostgreSQL pool in {{ $labels.namespace }}/"
            "{{ $labels.pod }} are in use (LANGGRAPH_POSTGRES_POOL_MAX_SIZE); requests queue for a connection.",
            "5m"),
        Alert(
            "LangGraphServerPostgresPoolErrors",
            "sum by (namespace, pod) (rate(lg_api_pg_pool_requests_errors_total[5m])) > 0",
            "critical", "server-postgres-pool",
            "Pod {{ $labels.pod }} fails to get PostgreSQL connections",
            "{{ $value | humanize }} PostgreSQL connection requests per second fail (timeouts, queue full) in "
            "{{ $labels.namespace }}/{{ $labels.pod }}.",
            "5m"),
        Alert(
            "LangGraphServerRedisPoolExhausted",
            f"max by (namespace, pod) (lg_api_redis_pool_size) >= {redis_max}\n"
            f"and on (namespace, pod) {redis_max} > 0",
            "warning", "server-redis-pool",
            "Pod {{ $labels.pod }} uses every connection of its Redis pool",
            "All {{ $value }} connections of the server's Redis pool in {{ $labels.namespace }}/{{ $labels.pod }} "
            "are in use (REDIS_MAX_CONNECTIONS).",
            "5m"),
    ]


def _postgres_alerts(p: RuleParams) -> list[Alert]:
    threshold = f"(threshold {_pct(p.connections_ratio)})"
    if p.postgres == "cloudnativepg":
        return [
            Alert(
                "LangGraphDatabaseConnections",
                # Per instance: each CloudNativePG pod has its own max_connections.
                "sum by (namespace, pod) (cnpg_backends_total)\n"
                '  / on (namespace, pod) max by (namespace, pod) (cnpg_pg_settings_setting{name="max_connections"})\n'
                f"  > {_num(p.connections_ratio)}",
                "warning", "postgres",
                "PostgreSQL {{ $labels.pod }} is running out of connections",
                "{{ $value | humanizePercentage }} of max_connections are in use on {{ $labels.namespace }}/"
                f"{{{{ $labels.pod }}}} {threshold}.",
                "2m"),
            Alert(
                "PostgresDown",
                # No instance answers as a primary: writes fail until one is promoted.
                "count by (namespace) (cnpg_collector_up)\n"
                "unless on (namespace) count by (namespace) (\n"
                "  cnpg_pg_replication_in_recovery == 0 and on (namespace, pod) cnpg_collector_up == 1\n"
                ")",
                "critical", "postgres",
                "No PostgreSQL primary accepts writes in {{ $labels.namespace }}",
                "None of the {{ $value }} CloudNativePG instances in {{ $labels.namespace }} is an up primary.",
                "2m"),
            Alert(
                "PostgresInstanceDown",
                "max by (namespace, pod) (cnpg_collector_up) == 0",
                "warning", "postgres",
                "PostgreSQL instance {{ $labels.pod }} is down",
                "CloudNativePG instance {{ $labels.namespace }}/{{ $labels.pod }} cannot reach its PostgreSQL.",
                "5m"),
            Alert(
                "PostgresReplicationLag",
                f"max by (namespace, pod) (cnpg_pg_replication_lag) > {_num(p.replication_lag_seconds)}",
                "warning", "postgres",
                "PostgreSQL replica {{ $labels.pod }} lags behind its primary",
                "Replica {{ $labels.namespace }}/{{ $labels.pod }} replays {{ $value | humanizeDuration }} behind "
                f"the primary (threshold {_num(p.replication_lag_seconds)}s).",
                "5m"),
            Alert(
                "PostgresBackupTooOld",
                # The Barman Cloud plugin's metric (the in-core cnpg_collector_* ones are deprecated).
                # It reads 0 until a backup succeeds: "never" counts once an attempt has failed.
                f"(time() - max by (namespace) ({BACKUP_METRIC}) > {_num(p.backup_max_age_hours * 3600)}\n"
                f" and on (namespace) max by (namespace) ({BACKUP_METRIC}) > 0)\n"
                f"or (max by (namespace) ({BACKUP_METRIC}) == 0\n"
                f" and on (namespace) max by (namespace) ({BACKUP_FAILED_METRIC}) > 0)",
                "warning", "postgres",
                "No recent PostgreSQL backup in {{ $labels.namespace }}",
                f"The newest successful base backup of the cluster in {{{{ $labels.namespace }}}} is older than "
                f"{_num(p.backup_max_age_hours)}h, or none has succeeded and an attempt failed.",
                "10m"),
        ]
    # postgres_exporter (pointed at RDS): one target per database server.
    by = "namespace, instance, server"
    return [
        Alert(
            "LangGraphDatabaseConnections",
            f"sum by ({by}) (pg_stat_activity_count)\n"
            f"  / on ({by}) max by ({by}) (pg_settings_max_connections)\n"
            f"  > {_num(p.connections_ratio)}",
            "warning", "postgres",
            "PostgreSQL {{ $labels.server }} is running out of connections",
            "{{ $value | humanizePercentage }} of max_connections are in use on {{ $labels.server }} "
            f"{threshold}.",
            "2m"),
        Alert(
            "PostgresDown",
            f"max by ({by}) (pg_up) == 0",
            "critical", "postgres",
            "PostgreSQL behind exporter {{ $labels.instance }} does not answer",
            "postgres_exporter {{ $labels.instance }} in {{ $labels.namespace }} cannot query its PostgreSQL server.",
            "2m"),
        Alert(
            "PostgresReplicationLag",
            # Measured on the primary, per standby: built into the exporter, no extra query file.
            "max by (namespace, instance, server, application_name) (pg_stat_replication_pg_wal_lsn_diff)\n"
            f"  > {p.replication_lag_bytes}",
            "warning", "postgres",
            "PostgreSQL standby {{ $labels.application_name }} lags behind its primary",
            "Standby {{ $labels.application_name }} of {{ $labels.server }} is {{ $value | humanize1024 }}B of WAL "
            f"behind (threshold {p.replication_lag_bytes // (1024 * 1024)} MiB).",
            "5m"),
    ]


def _redis_alerts() -> list[Alert]:
    return [
        Alert(
            "RedisNoMaster",
            # Exporters answer in the namespace, yet none of their Redis reports role=master.
            "count by (namespace) (redis_up)\n"
            'unless on (namespace) count by (namespace) (redis_instance_info{role="master"})',
            "critical", "redis",
            "Redis in {{ $labels.namespace }} has no master",
            "None of the {{ $value }} Redis/Sentinel targets in {{ $labels.namespace }} reports a master: "
            "the LangGraph server cannot enqueue or stream runs.",
            # Longer than a Sentinel failover takes, so that one that succeeds does not page.
            "2m"),
        Alert(
            "RedisSentinelQuorumLost",
            # max: quorum is lost when no Sentinel can reach it, not when one is partitioned away.
            "max by (namespace, master_name) (redis_sentinel_master_ckquorum_status) == 0",
            "warning", "redis",
            "Sentinels of {{ $labels.master_name }} cannot reach quorum",
            "No Sentinel in {{ $labels.namespace }} can authorize a failover of {{ $labels.master_name }}: "
            "if the master fails now, nothing takes over.",
            "5m"),
    ]


def _kubernetes_alerts(p: RuleParams) -> list[Alert]:
    ns = f'namespace=~"{p.namespace_regex}"'
    hpa = "namespace, horizontalpodautoscaler"
    return [
        Alert(
            "LangGraphAutoscalerAtMax",
            # KEDA drives an HPA of its own (keda-hpa-<ScaledObject>), so this covers both.
            f"max by ({hpa}) (kube_horizontalpodautoscaler_status_current_replicas{{{ns}}})\n"
            f"  >= max by ({hpa}) (kube_horizontalpodautoscaler_spec_max_replicas{{{ns}}})\n"
            f"and on ({hpa})\n"
            f"  max by ({hpa}) (kube_horizontalpodautoscaler_spec_max_replicas{{{ns}}})\n"
            f"  > max by ({hpa}) (kube_horizontalpodautoscaler_spec_min_replicas{{{ns}}})",
            "warning", "capacity",
            "Autoscaler {{ $labels.horizontalpodautoscaler }} is pinned at its maximum",
            "{{ $labels.namespace }}/{{ $labels.horizontalpodautoscaler }} has run {{ $value }} replicas, its "
            "maximum, for 15 minutes: demand may exceed what the capacity model allows.",
            "15m"),
        Alert(
            "LangGraphPodCrashLooping",
            # max_over_time: a crash-looping container flaps between Running and CrashLoopBackOff.
            "max by (namespace, pod, container) (max_over_time(\n"
            f'  kube_pod_container_status_waiting_reason{{reason="CrashLoopBackOff", {ns}}}[5m]\n'
            ")) >= 1",
            "warning", "pods",
            "Container {{ $labels.container }} of {{ $labels.pod }} is crash-looping",
            "{{ $labels.namespace }}/{{ $labels.pod }} container {{ $labels.container }} has been in "
            "CrashLoopBackOff for 15 minutes.",
            "15m"),
        Alert(
            "VolumeFillingUp",
            "min by (namespace, persistentvolumeclaim) (\n"
            f"  kubelet_volume_stats_available_bytes{{{ns}}} / kubelet_volume_stats_capacity_bytes{{{ns}}}\n"
            f") < {_num(p.volume_free_ratio)}",
            "warning", "storage",
            "Volume {{ $labels.persistentvolumeclaim }} is almost full",
            "Only {{ $value | humanizePercentage }} of {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} "
            f"is free (threshold {_pct(p.volume_free_ratio)}).",
            "5m"),
        Alert(
            "CertificateExpiringSoon",
            # cert-manager's own namespace label becomes exported_namespace unless the scrape honours
            # labels: keep both. Not-yet-issued certificates report 0 and are left out.
            "min by (namespace, exported_namespace, name) (certmanager_certificate_expiration_timestamp_seconds > 0)\n"
            f"  - time() < {_num(p.certificate_min_days * 86400)}",
            "warning", "certificates",
            "Certificate {{ $labels.name }} expires soon",
            "Certificate {{ $labels.name }} expires in {{ $value | humanizeDuration }} although cert-manager "
            f"should have renewed it (threshold {_num(p.certificate_min_days)} days).",
            "1h"),
    ]


def _watchdog() -> Alert:
    return Alert(
        "Watchdog", "vector(1)", "none", "watchdog",
        "Alerting pipeline heartbeat",
        "Always firing. The dead-man's switch receiver expects it every few minutes; when it stops arriving, "
        "Prometheus, the rule evaluation or Alertmanager is broken.")


def error_ratio_record(window: str) -> str:
    """Name of the recording rule holding the executions' error ratio over `window`."""
    return f"langgraph:execution_errors:ratio_rate{window}"


def _slo_recording_rules() -> list[dict]:
    windows = sorted({w for long, short, _, _ in BURN_WINDOWS for w in (long, short)}, key=_seconds)
    return [{"record": error_ratio_record(w),
             "expr": f"sum(rate({SLI_BAD}[{w}]))\n  / sum(rate({EXECUTIONS}[{w}]))"}
            for w in windows]


def _burn_condition(p: RuleParams, long: str, short: str, factor: float) -> str:
    threshold = _num(factor * p.error_budget)
    return f"({error_ratio_record(long)} > {threshold} and {error_ratio_record(short)} > {threshold})"


def _slo_alerts(p: RuleParams) -> list[Alert]:
    slo = _pct(p.availability_slo)
    alerts = []
    for name, severity, for_, horizon in (("LangGraphErrorBudgetBurnPage", "critical", "2m", "within days"),
                                          ("LangGraphErrorBudgetBurnTicket", "warning", "15m", "within the month")):
        windows = [w for w in BURN_WINDOWS if w[3] == severity]
        expr = "\nor\n".join(_burn_condition(p, long, short, factor) for long, short, factor, _ in windows)
        rates = ", ".join(f"{_num(factor)}x over {long} and {short}" for long, short, factor, _ in windows)
        alerts.append(Alert(
            name, expr, severity, "slo",
            f"Graph executions burn the {slo} availability error budget fast enough to exhaust it {horizon}",
            f"{{{{ $value | humanizePercentage }}}} of graph executions fail; the {SLO_PERIOD_DAYS}-day budget of "
            f"{_pct(p.error_budget)} burns faster than {rates}.",
            for_))
    return alerts


def _seconds(duration: str) -> int:
    return int(duration[:-1]) * {"m": 60, "h": 3600, "d": 86400}[duration[-1]]


def _group(name: str, rules: list[Alert | dict], p: RuleParams) -> dict:
    return {"name": name,
            "rules": [r.rule(p.runbook_base_url) if isinstance(r, Alert) else r for r in rules]}


def rule_groups(p: RuleParams) -> list[dict]:
    """The rule groups, in the shape both a PrometheusRule's `spec.groups` and a rules file take."""
    return [
        _group("langgraph-executions", _seed_execution_alerts(p), p),
        # Recording rules first: a group evaluates in order, so the alerts read this cycle's ratios.
        _group("langgraph-slo", [*_slo_recording_rules(), *_slo_alerts(p)], p),
        _group("langgraph-server", _server_alerts(p), p),
        _group("postgres", _postgres_alerts(p), p),
        _group("redis", _redis_alerts(), p),
        _group("kubernetes", _kubernetes_alerts(p), p),
        _group("watchdog", [_watchdog()], p),
    ]


def alert_names(p: RuleParams) -> list[str]:
    return [r["alert"] for g in rule_groups(p) for r in g["rules"] if "alert" in r]


def prometheus_rule_spec(p: RuleParams) -> dict:
    return {"groups": rule_groups(p)}


def prometheus_rule(p: RuleParams, name: str, namespace: str, labels: dict[str, str]) -> dict:
    """The PrometheusRule object; `labels` must match the Prometheus's ruleSelector."""
    return {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
            "spec": prometheus_rule_spec(p)}


class _Dumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks, so a rendered file reads like a hand-written one."""


_Dumper.add_representer(str, lambda dumper, text: dumper.represent_scalar(
    "tag:yaml.org,2002:str", text, style="|" if "\n" in text else None))


def to_yaml(data: dict) -> str:
    """YAML for the engines (Prometheus, Alertmanager), keys in the order built."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, width=120)


def rules_file(p: RuleParams) -> str:
    """The same groups as a Prometheus rules file (what promtool and a plain Prometheus read)."""
    return to_yaml(prometheus_rule_spec(p))
