"""Alertmanager's webhook payload (version 4), reduced to what the remediations read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PAYLOAD_VERSION = "4"


class PayloadError(ValueError):
    """The request body is not an Alertmanager webhook payload this service understands."""


@dataclass(frozen=True)
class Alert:
    """One alert of a notification."""

    name: str
    status: str
    """`firing` or `resolved`."""
    labels: dict[str, str]
    fingerprint: str

    def label(self, key: str) -> str | None:
        return self.labels.get(key) or None


def parse_payload(data: Any) -> list[Alert]:
    """The alerts of a decoded webhook body; PayloadError when it is not a version 4 payload."""
    if not isinstance(data, dict):
        raise PayloadError("the body must be a JSON object")
    if data.get("version") != PAYLOAD_VERSION:
        raise PayloadError(f"payload version {data.get('version')!r} is not {PAYLOAD_VERSION!r}")
    alerts = data.get("alerts")
    if not isinstance(alerts, list):
        raise PayloadError("`alerts` must be a list")
    parsed = []
    for index, alert in enumerate(alerts):
        labels = alert.get("labels") if isinstance(alert, dict) else None
        if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
            raise PayloadError(f"alerts[{index}].labels must be an object of strings")
        if not labels.get("alertname"):
            raise PayloadError(f"alerts[{index}] has no alertname label")
        status = alert.get("status")
        if status not in ("firing", "resolved"):
            raise PayloadError(f"alerts[{index}].status {status!r} is neither firing nor resolved")
        parsed.append(Alert(labels["alertname"], status, dict(labels), str(alert.get("fingerprint", ""))))
    return parsed
