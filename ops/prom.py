"""Prometheus instant queries, and the PromQL the doctor shares with the alerts.

The doctor asks the alerts' own expressions without their threshold comparison, so that it
reports the number the alert compares (and the corrected seed queries: both sides of the error
ratio aggregated by graph_name, histogram_quantile over sum by (le, graph_name)). The thresholds
are the alerts' defaults too (`RuleParams`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

from components.monitoring.rules import BACKUP_METRIC, RuleParams, rule_groups

# The alert rules need a runbook base to render; the doctor uses their expressions only.
THRESHOLDS = RuleParams(runbook_base_url="https://runbooks.invalid/")
_THRESHOLD = re.compile(r"\s*>\s*[-+0-9.e]+\s*$")


def alert_expression(alert: str, params: RuleParams = THRESHOLDS) -> str:
    """The alert's expression without its trailing `> threshold`."""
    for group in rule_groups(params):
        for rule in group["rules"]:
            if rule.get("alert") == alert:
                expression, count = _THRESHOLD.subn("", rule["expr"])
                if count != 1:
                    raise ValueError(f"alert {alert} does not end in a '> threshold' comparison")
                return expression
    raise KeyError(f"no alert {alert}")


ERROR_RATIO = alert_expression("LangGraphHighErrorRate")
LATENCY_P95 = alert_expression("LangGraphHighLatency")


def backup_timestamp(namespace: str) -> str:
    """Newest successful base backup of the Barman Cloud plugin in `namespace` (0 = none yet)."""
    return f'max({BACKUP_METRIC}{{namespace="{namespace}"}})'


@dataclass(frozen=True)
class Sample:
    labels: dict[str, str]
    value: float


class PrometheusError(RuntimeError):
    pass


def query(base_url: str, promql: str, timeout: float = 10.0) -> list[Sample]:
    """An instant query's vector result."""
    try:
        response = httpx.get(f"{base_url.rstrip('/')}/api/v1/query", params={"query": promql}, timeout=timeout)
    except httpx.HTTPError as error:
        raise PrometheusError(f"Prometheus at {base_url} unreachable: {error}") from None
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    if response.status_code != 200 or body.get("status") != "success":
        reason = body.get("error", response.text[:200])
        raise PrometheusError(f"Prometheus query failed ({response.status_code}): {reason}")
    result = body["data"]
    if result["resultType"] != "vector":
        raise PrometheusError(f"expected a vector, got {result['resultType']}")
    return [Sample(item["metric"], float(item["value"][1])) for item in result["result"]]
