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


def graph_metrics(doctor: Doctor) -> list[Check]:
    url, timeout = doctor.outputs.require("prometheus_url"), doctor.settings.timeout
    limits = prom.THRESHOLDS
    checks = []
    errors = _worst(prom.query(url, prom.ERROR_RATIO, timeout))
    if errors is None:
        checks.append(Check("error-rate", Status.OK, "no executions", "in the last 5 minutes"))
    else:
        graph, ratio = errors
        value, data = f"{ratio:.1%} ({graph})", {"graph_name": graph, "ratio": ratio}
        bad = ratio > limits.error_ratio
        checks.append(Check("error-rate", Status.FAIL if bad else Status.OK, value,
                            f"worst graph over 5m; alert above {limits.error_ratio:.0%}",
                            RUNBOOKS["error-rate"] if bad else None, data))
    latency = _worst(prom.query(url, prom.LATENCY_P95, timeout))
    if latency is None:
        checks.append(Check("latency-p95", Status.OK, "no executions", "in the last 5 minutes"))
    else:
        graph, seconds = latency
        value, data = f"{seconds:.2f} s ({graph})", {"graph_name": graph, "seconds": seconds}
        slow = seconds > limits.latency_p95_seconds
        checks.append(Check("latency-p95", Status.WARN if slow else Status.OK, value,
                            f"slowest graph over 5m; alert above {limits.latency_p95_seconds:g} s",
                            RUNBOOKS["latency-p95"] if slow else None, data))
    return checks
