"""`python -m recovery`: read the settings, connect the clients, serve the webhook.

Environment: RECOVERY_CONFIG (the settings file, default /etc/recovery/config.json), HOST (0.0.0.0),
PORT (8080), POD_NAME (the Events' reportingInstance; the host name otherwise), and KUBECONFIG
outside a cluster.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import uvicorn

from . import logs
from .actions import Remediator
from .kube import Kube, api_client
from .sentinel import Sentinels
from .service import create_app, read_token
from .settings import Settings, SettingsError, parse_settings

DEFAULT_CONFIG = "/etc/recovery/config.json"


def sentinels_of(settings: Settings) -> Sentinels | None:
    section = settings.sentinel_failover
    if section is None:
        return None
    password = Path(section.password_file).read_text().strip() if section.password_file else None
    return Sentinels(section.sentinels, section.master_name, password or None)


def main() -> int:
    logs.configure_logging()
    path = os.environ.get("RECOVERY_CONFIG", DEFAULT_CONFIG)
    try:
        settings = parse_settings(Path(path).read_text())
        read_token(settings.webhook_token_file)
        sentinels = sentinels_of(settings)
    except (OSError, SettingsError, ValueError) as error:
        logs.log("startup_failed", level="error", config=path, error=str(error))
        return 2
    remediator = Remediator(settings, Kube(api_client()), sentinels, instance=os.environ.get("POD_NAME"))
    logs.log("startup", dry_run=settings.dry_run, alerts=list(settings.alert_names),
             rate_limit=f"{settings.rate_limit.max_actions}/{settings.rate_limit.window_seconds}s")
    uvicorn.run(create_app(remediator), host=os.environ.get("HOST", "0.0.0.0"), port=int(os.environ.get("PORT", "8080")),
                log_config=None, access_log=False, timeout_graceful_shutdown=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
