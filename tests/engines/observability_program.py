"""A small Pulumi program holding `Logging` and `Tracing` as the lead wires them, run under the
recording mock engine for the dev or prod defaults of the `logging` and `tracing` config sections."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tools.mock_engine import Plan, run_program

APP_NAMESPACE, MONITORING_NAMESPACE, API_SERVER_CIDR = "langgraph", "monitoring", "10.0.0.0/16"

PROGRAM = f"""
import pulumi
from components.logging import Logging, LoggingSpec
from components.tracing import Tracing, TracingSpec
from stackconfig.sections import logging as logging_config, tracing as tracing_config

stack = pulumi.get_stack()
logs, traces = logging_config.DEFAULTS[stack], tracing_config.DEFAULTS[stack]
on_es = traces["storage"] == "elasticsearch"
logging = Logging("logging", LoggingSpec(
    app_namespace={APP_NAMESPACE!r}, elasticsearch_nodes=logs["elasticsearch_nodes"],
    storage_size=logs["storage_size"], memory=logs["memory"], retention_days=logs["retention_days"],
    api_server_cidrs=({API_SERVER_CIDR!r},), monitoring_namespace={MONITORING_NAMESPACE!r},
    tracing_namespace="tracing" if on_es else None))
tracing = Tracing("tracing", TracingSpec(
    app_namespace={APP_NAMESPACE!r}, storage=traces["storage"], sampling_ratio=traces["sampling_ratio"],
    monitoring_namespace={MONITORING_NAMESPACE!r}, elasticsearch=logging.endpoints[0] if on_es else None,
    elasticsearch_replicas=1 if logs["elasticsearch_nodes"] > 1 else 0), elasticsearch=logging.jaeger_access)
pulumi.export("kibana_url", logging.url)
pulumi.export("jaeger_url", tracing.url)
pulumi.export("app_env", tracing.app_env)
"""


def run(stack: str, directory: Path) -> Plan:
    """The program's plan for `stack` (dev or prod); `directory` receives its __main__.py."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "__main__.py").write_text(textwrap.dedent(PROGRAM))
    return run_program(directory, "langgraph-platform", stack, {})
