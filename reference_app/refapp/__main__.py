"""`python -m refapp`: read the environment, configure JSON logging, serve with uvicorn.

One process per container: Kubernetes scales pods, and one process keeps the metrics of a pod
in one registry (no multiprocess mode, no writes to disk).
"""

from __future__ import annotations

import os
import sys

import uvicorn

from .api import create_app
from .logs import configure_logging, get_logger
from .settings import SettingsError, load_settings


def main() -> int:
    try:
        settings = load_settings(os.environ)
    except SettingsError as exc:
        configure_logging("INFO")
        get_logger().error("invalid_configuration", error=str(exc))
        return 2
    configure_logging(settings.log_level)
    # log_config=None: uvicorn's own loggers go through the JSON handler configured above. No access
    # log: the gateway logs requests, and per-request lines would drown the run events.
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None,
                access_log=False, timeout_graceful_shutdown=settings.graceful_shutdown_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
