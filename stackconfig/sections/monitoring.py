"""`monitoring`: kube-prometheus-stack, the seed's dashboards and alerts, alert routing."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ..types import DnsLabel, Duration, FieldProblem, HttpsUrl, Int, Quantity, Section

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
    pager: Literal["pagerduty", "webhook", "log"]
    """Receiver of critical alerts: PagerDuty Events v2 (secret alerting_pager_key), a webhook (pager_webhook_url, bearer token alerting_pager_token), or log: the in-cluster alert log (the auto-recovery service writes every alert it receives as a JSON line; dev)."""
    pager_webhook_url: HttpsUrl | None = None
    """Webhook of critical alerts (pager webhook); the URL must not carry the secret (use alerting_pager_token)."""
    chat: Literal["slack", "webhook", "log"]
    """Receiver of warnings: a Slack incoming webhook (secret alerting_chat_url), a webhook (chat_webhook_url, bearer token alerting_chat_token), or log (as for pager)."""
    chat_webhook_url: HttpsUrl | None = None
    """Webhook of warnings (chat webhook)."""
    deadman_url: HttpsUrl | None = None
    """Dead-man's switch the Watchdog heartbeat reaches every few minutes (e.g. a healthchecks or PagerDuty heartbeat URL); prod requires it, dev without one logs the heartbeat."""

    @model_validator(mode="after")
    def _receivers(self) -> MonitoringConfig:
        for kind in ("pager", "chat"):
            if getattr(self, kind) == "webhook" and not getattr(self, f"{kind}_webhook_url"):
                raise FieldProblem(f"{kind}_webhook_url", None, f"required with {kind} webhook")
        return self


MODEL = MonitoringConfig
DEFAULTS: dict[str, dict] = {
    "dev": {"retention": "2d", "storage_size": "5Gi", "alertmanager_replicas": 1, "pager": "log", "chat": "log"},
    "prod": {"retention": "15d", "storage_size": "50Gi", "alertmanager_replicas": 3, "pager": "pagerduty", "chat": "slack"},
}


def cross_checks(config):
    monitoring = config.monitoring
    if config.environment == "prod" and monitoring.enabled:
        if not monitoring.deadman_url:
            yield ("monitoring.deadman_url", None, "prod requires a dead-man's switch: without one a silent "
                   "Prometheus or Alertmanager goes unnoticed")
        for kind in ("pager", "chat"):
            if getattr(monitoring, kind) == "log":
                yield (f"monitoring.{kind}", "log", "prod must reach a person: pagerduty/slack or a webhook")
