"""The graphs' current error ratio and P95 execution time, with the alerts' own queries."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import prom
from ..report import Check, Status
from ..runbooks import RUNBOOKS

if TYPE_CHECKING:
    from ..doctor import Doctor


def _worst(samples: list[prom.Sample]) -> tuple[str, float] | None:
    finite = [s for s in samples if s.value == s.value]  # NaN: no executions in the window
    if not finite:
        return None
    worst = max(finite, key=lambda s: s.value)
    return worst.labels.get("graph_name", "?"), worst.value


def _worst_graph(name: str, samples: list[prom.Sample], limit: float, breach: Status, key: str, shown: str,
                 detail: str) -> Check:
    """The graph with the highest of `samples` against the alert's `limit`: `breach` above it."""
    worst = _worst(samples)
    if worst is None:
        return Check(name, Status.OK, "no executions", "in the last 5 minutes")
    graph, number = worst
    above = number > limit
    return Check(name, breach if above else Status.OK, f"{shown.format(number)} ({graph})", detail,
                 RUNBOOKS[name] if above else None, {"graph_name": graph, key: number})


def graph_metrics(doctor: Doctor) -> list[Check]:
    url, timeout = doctor.outputs.require("prometheus_url"), doctor.settings.timeout
    limits = prom.THRESHOLDS
    return [
        _worst_graph("error-rate", prom.query(url, prom.ERROR_RATIO, timeout), limits.error_ratio, Status.FAIL,
                     "ratio", "{:.1%}", f"worst graph over 5m; alert above {limits.error_ratio:.0%}"),
        _worst_graph("latency-p95", prom.query(url, prom.LATENCY_P95, timeout), limits.latency_p95_seconds,
                     Status.WARN, "seconds", "{:.2f} s",
                     f"slowest graph over 5m; alert above {limits.latency_p95_seconds:g} s"),
    ]
