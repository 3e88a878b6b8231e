"""The seed's Prometheus metrics, with exactly its names and label sets (DESIGN.md "Metric names"),
and one of the app's own in the seed's style (refused runs).

Dashboards and alert rules are written against these names; `METRIC_LABELS` lists them so the
Monitoring component and the tests can check a scrape against one table.
"""

from __future__ import annotations

from typing import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client import GCCollector, PlatformCollector, ProcessCollector

# Runs last from milliseconds to minutes (LLM calls, human-paced tools): the buckets reach 10
# minutes, and 30 s (the seed's P95 latency alert threshold) is a boundary so the alert's
# histogram_quantile is exact there.
EXECUTION_BUCKETS: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 45, 60, 120, 180, 300, 600)
# Nodes are bounded by NODE_TIMEOUT (the seed's 300 s).
NODE_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)

METRIC_LABELS: dict[str, tuple[str, ...]] = {
    "langgraph_executions_total": ("graph_name", "status"),
    "langgraph_execution_duration_seconds": ("graph_name",),
    "langgraph_active_graphs": (),
    "langgraph_checkpoint_saves_total": ("backend_type", "status"),
    "langgraph_node_execution_seconds": ("graph_name", "node_name"),
    "langgraph_interrupts_total": ("graph_name", "node_name", "reason"),
    "langgraph_retries_total": ("graph_name", "node_name", "exception_type"),
    # Not the seed's: runs refused before they started because their thread's run lock (Redis) was
    # held by another run (`thread_busy`) or could not be had (`lock_unavailable`).
    "langgraph_runs_rejected_total": ("graph_name", "reason"),
}

RUN_STATUSES = ("success", "error", "interrupted")
REJECT_REASONS = ("thread_busy", "lock_unavailable")
SAVE_STATUSES = ("success", "error")


class Metrics:
    """The seed's seven metrics and the refused-runs counter in a registry of their own (plus the
    process and runtime collectors)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        # No `*_created` series: they double every label set and no dashboard or alert reads them.
        disable_created_metrics()
        self.registry = registry or CollectorRegistry()
        for collector in (ProcessCollector, PlatformCollector, GCCollector):
            collector(registry=self.registry)
        labels = METRIC_LABELS
        # prometheus_client appends `_total` to counter names itself.
        self.executions = Counter("langgraph_executions", "Total graph executions",
                                  labels["langgraph_executions_total"], registry=self.registry)
        self.execution_seconds = Histogram("langgraph_execution_duration_seconds", "Graph execution duration",
                                           labels["langgraph_execution_duration_seconds"],
                                           buckets=EXECUTION_BUCKETS, registry=self.registry)
        self.active_graphs = Gauge("langgraph_active_graphs", "Currently active graph executions",
                                   registry=self.registry)
        self.checkpoint_saves = Counter("langgraph_checkpoint_saves", "Total checkpoint saves",
                                        labels["langgraph_checkpoint_saves_total"], registry=self.registry)
        self.node_seconds = Histogram("langgraph_node_execution_seconds", "Node execution duration",
                                      labels["langgraph_node_execution_seconds"], buckets=NODE_BUCKETS,
                                      registry=self.registry)
        self.interrupts = Counter("langgraph_interrupts", "Total graph interrupts",
                                  labels["langgraph_interrupts_total"], registry=self.registry)
        self.retries = Counter("langgraph_retries", "Total node retries",
                               labels["langgraph_retries_total"], registry=self.registry)
        self.runs_rejected = Counter("langgraph_runs_rejected", "Runs refused before they started (thread run lock)",
                                     labels["langgraph_runs_rejected_total"], registry=self.registry)

    def declare(self, graph_names: Iterable[str], backend_type: str) -> None:
        """Create the zero-valued series an error-rate query divides by, so it reads 0, not "no data"."""
        for graph in graph_names:
            self.execution_seconds.labels(graph)
            for status in RUN_STATUSES:
                self.executions.labels(graph, status)
            for reason in REJECT_REASONS:
                self.runs_rejected.labels(graph, reason)
        for status in SAVE_STATUSES:
            self.checkpoint_saves.labels(backend_type, status)
