"""JSON lines on stdout: the audit trail of every decision, and the service's own log."""

from __future__ import annotations

import json
import logging
import sys
import threading
from datetime import datetime, timezone
from typing import Any

_LOCK = threading.Lock()


def log(event: str, level: str = "info", **fields: Any) -> None:
    """Write one JSON line: `event`, `level`, `timestamp` (UTC) and `fields`."""
    line = {"event": event, "level": level, "timestamp": datetime.now(timezone.utc).isoformat(), **fields}
    text = json.dumps(line, default=str, sort_keys=False)
    with _LOCK:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


def audit(alert: str, action: str, target: str, dry_run: bool, outcome: str, detail: str = "") -> None:
    """The audit line of one decision about one alert."""
    log("remediation", level="warning" if outcome == "failed" else "info", alert=alert, action=action,
        target=target, dry_run=dry_run, outcome=outcome, detail=detail)


class _JsonHandler(logging.Handler):
    """Library log records (uvicorn, the Kubernetes client) as JSON lines too."""

    def emit(self, record: logging.LogRecord) -> None:
        fields: dict[str, Any] = {"logger": record.name}
        if record.exc_info:
            fields["exception"] = logging.Formatter().formatException(record.exc_info)
        log(record.getMessage(), level=record.levelname.lower(), **fields)


def configure_logging(level: int = logging.INFO) -> None:
    root = logging.getLogger()
    root.handlers[:] = [_JsonHandler()]
    root.setLevel(level)
