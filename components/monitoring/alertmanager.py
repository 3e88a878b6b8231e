"""Alertmanager configuration: critical pages, warnings go to chat, the Watchdog feeds a dead-man's switch.

Receiver keys and URLs are read from files mounted from a Secret, never written into the config.
Only `_file` fields that both Debian's Alertmanager 0.25 (the test engine) and the 0.33/0.34 that
kube-prometheus-stack 88.x ships accept are used: PagerDuty `routing_key_file` and Slack
`api_url_file` exist in both; a webhook's `url_file` only arrived in 0.26, so a generic webhook
keeps a non-secret URL and authenticates with a bearer token from `authorization.credentials_file`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .rules import to_yaml

# Where prometheus-operator mounts each Secret named in `alertmanagerSpec.secrets`.
SECRETS_DIR = "/etc/alertmanager/secrets"
PAGER, CHAT, DEADMAN = "pager", "chat", "deadmans-switch"
_DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")


def secret_file(secret: str, key: str) -> str:
    """Path of `key` of the Secret `secret` inside the Alertmanager pods."""
    return f"{SECRETS_DIR}/{secret}/{key}"


@dataclass(frozen=True)
class PagerDuty:
    """PagerDuty Events API v2; the integration's routing key is read from `routing_key_file`."""

    routing_key_file: str
    url: str | None = None
    """Events endpoint; None keeps Alertmanager's (US) one. EU accounts use events.eu.pagerduty.com."""


@dataclass(frozen=True)
class Slack:
    """A Slack incoming webhook; its URL (the secret) is read from `api_url_file`."""

    api_url_file: str
    channel: str | None = None
    """None posts to the channel the webhook was created for."""


@dataclass(frozen=True)
class Webhook:
    """A generic webhook (Alertmanager's JSON payload); the URL must not carry the secret."""

    url: str
    credentials_file: str | None = None
    """Bearer token sent as `Authorization: Bearer <token>`."""


@dataclass(frozen=True)
class RoutingParams:
    """Receivers and timings. The receiver types choose the integrations (PagerDuty or webhook to
    page, Slack or webhook to chat)."""

    pager: PagerDuty | Webhook
    chat: Slack | Webhook
    deadman: Webhook
    group_wait: str = "30s"
    group_interval: str = "5m"
    repeat_interval: str = "4h"
    pager_repeat_interval: str = "1h"
    deadman_interval: str = "1m"
    deadman_repeat_interval: str = "5m"
    """The switch must hear the Watchdog more often than its own timeout (e.g. every 5m for a 15m check)."""
    watchdog_alert: str = "Watchdog"

    def __post_init__(self) -> None:
        problems = [f"{name} {getattr(self, name)!r} is not a duration" for name in (
            "group_wait", "group_interval", "repeat_interval", "pager_repeat_interval", "deadman_interval",
            "deadman_repeat_interval") if not _DURATION.match(getattr(self, name))]
        for role, receiver in (("pager", self.pager), ("chat", self.chat), ("deadman", self.deadman)):
            for name, value in vars(receiver).items():
                if name.endswith("_file") and value is not None and not value.startswith("/"):
                    problems.append(f"{role}.{name} {value!r} must be an absolute path in the Alertmanager pod")
                if name in ("url", "url_file") and value is not None and not re.match(r"^https?://", value):
                    problems.append(f"{role}.{name} {value!r} must be an http(s) URL")
        if problems:
            raise ValueError("invalid alert routing: " + "; ".join(problems))


# One line per alert: what it is, where, and the runbook to follow.
_SLACK_TITLE = ('[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] '
                "{{ .CommonLabels.alertname }}{{ with .CommonLabels.graph_name }} ({{ . }}){{ end }}")
_SLACK_TEXT = ("{{ range .Alerts }}*{{ .Annotations.summary }}*\n{{ .Annotations.description }}\n"
               "Runbook: {{ .Annotations.runbook_url }}\n{{ end }}")
_FIRST_SUMMARY = "{{ (index .Alerts 0).Annotations.summary }}"
_FIRST_RUNBOOK = "{{ (index .Alerts 0).Annotations.runbook_url }}"


def _integration(receiver: PagerDuty | Slack | Webhook, send_resolved: bool) -> tuple[str, dict]:
    if isinstance(receiver, PagerDuty):
        config = {"send_resolved": send_resolved, "routing_key_file": receiver.routing_key_file,
                  "severity": "critical",
                  "description": "{{ .CommonLabels.alertname }}: " + _FIRST_SUMMARY,
                  "links": [{"href": _FIRST_RUNBOOK, "text": "Runbook"}]}
        if receiver.url:
            config["url"] = receiver.url
        return "pagerduty_configs", config
    if isinstance(receiver, Slack):
        config = {"send_resolved": send_resolved, "api_url_file": receiver.api_url_file,
                  "title": _SLACK_TITLE, "text": _SLACK_TEXT}
        if receiver.channel:
            config["channel"] = receiver.channel
        return "slack_configs", config
    config = {"send_resolved": send_resolved, "url": receiver.url}
    if receiver.credentials_file:
        config["http_config"] = {"authorization": {"type": "Bearer", "credentials_file": receiver.credentials_file}}
    return "webhook_configs", config


def _receiver(name: str, receiver: PagerDuty | Slack | Webhook, send_resolved: bool = True) -> dict:
    kind, config = _integration(receiver, send_resolved)
    return {"name": name, kind: [config]}


def alertmanager_config(p: RoutingParams) -> dict:
    """The whole Alertmanager config. Every route ends at a real receiver: an alert with an unknown
    or missing severity goes to chat rather than to a null receiver."""
    return {
        "route": {
            "receiver": CHAT,
            "group_by": ["alertname", "graph_name"],
            "group_wait": p.group_wait,
            "group_interval": p.group_interval,
            "repeat_interval": p.repeat_interval,
            "routes": [
                # First: the Watchdog must reach the switch whatever labels it carries.
                {"receiver": DEADMAN, "matchers": [f'alertname="{p.watchdog_alert}"'],
                 "group_wait": "0s", "group_interval": p.deadman_interval,
                 "repeat_interval": p.deadman_repeat_interval},
                {"receiver": PAGER, "matchers": ['severity="critical"'], "repeat_interval": p.pager_repeat_interval},
                {"receiver": CHAT, "matchers": ['severity="warning"']},
            ],
        },
        # A critical silences the warnings of its own family about the same graph (or the same
        # namespace): one page, not a page plus a chat storm. Only our alerts carry `family`;
        # requiring it keeps the rule from matching other rule sets whose labels happen to be empty.
        "inhibit_rules": [{
            "source_matchers": ['severity="critical"', 'family=~".+"'],
            "target_matchers": ['severity="warning"', 'family=~".+"'],
            "equal": ["family", "namespace", "graph_name"],
        }],
        "receivers": [
            _receiver(PAGER, p.pager),
            _receiver(CHAT, p.chat),
            # A heartbeat never resolves; resolved messages would only confuse the switch.
            _receiver(DEADMAN, p.deadman, send_resolved=False),
        ],
    }


def alertmanager_config_yaml(p: RoutingParams) -> str:
    return to_yaml(alertmanager_config(p))
