"""`monitoring`: kube-prometheus-stack, the seed's dashboards and alerts, alert routing."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..types import DnsLabel, Duration, HttpsUrl, Int, Quantity, Section

KEY = "monitoring"


class MonitoringConfig(Section):
    enabled: bool = True
    """Deploy kube-prometheus-stack with the seed's dashboards and alerts."""
    namespace: DnsLabel = "monitoring"
    """Namespace of the monitoring stack; its Prometheus may scrape the app."""
    retention: Duration
    """Prometheus retention."""
    storage_size: Quantity
    """Prometheus volume size."""
    scrape_interval: str = Field("30s", pattern=r"^[1-9][0-9]{0,3}(s|m)$")
    """Scrape interval of the app (seed: 30s)."""
    alertmanager_replicas: Int(1, 5)
    """Alertmanager replicas (prod: 3, a gossip cluster)."""
    availability_slo: float = Field(0.995, ge=0.9, le=0.99999)
    """Availability objective of graph executions; the error-budget burn-rate alerts derive from it."""
    runbook_base_url: HttpsUrl = "https://github.com/langgraph-platform/langgraph-platform/blob/main/docs/runbooks/"
    """Where alerts' runbook_url points: this base + `<AlertName>.md` (the runbooks live in docs/runbooks/)."""
    pager: Literal["pagerduty", "webhook"] = "pagerduty"
    """Receiver of critical alerts: PagerDuty Events v2 (secret alerting_pager_key) or a webhook (secret alerting_pager_url)."""
    chat: Literal["slack", "webhook"] = "slack"
    """Receiver of warnings: a Slack incoming webhook or a generic webhook (secret alerting_chat_url)."""


MODEL = MonitoringConfig
DEFAULTS: dict[str, dict] = {
    "dev": {"retention": "2d", "storage_size": "5Gi", "alertmanager_replicas": 1},
    "prod": {"retention": "15d", "storage_size": "50Gi", "alertmanager_replicas": 3},
}
