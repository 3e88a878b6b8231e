"""Grafana datasources for logs (Elasticsearch) and traces (Jaeger), linked both ways.

A span in Jaeger opens the log lines that carry its trace id (`tracesToLogsV2`); a log line's
trace id opens the trace in Jaeger (an Elasticsearch data link). Shipped as a provisioning file
in a ConfigMap that kube-prometheus-stack's Grafana sidecar loads.

Grafana expands `$NAME` and `${NAME}` in provisioning files from its environment, so Grafana's own
link variables (`${__value.raw}`, `${__trace.traceId}`) are written `$${...}`; credentials are
referenced as `$ENV_NAME` and never written here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlparse

import yaml

SIDECAR_LABEL = "grafana_datasource"
LOGS_UID = "langgraph-logs"
TRACES_UID = "langgraph-traces"
PROVISIONING_KEY = "langgraph-datasources.yaml"
COMMON_LABELS = {"app.kubernetes.io/part-of": "langgraph-platform", "app.kubernetes.io/component": "datasources"}

_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")


@dataclass(frozen=True)
class DatasourceSettings:
    """Where logs and traces are, and how their documents are shaped.

    The defaults follow the platform's log pipeline: daily `langgraph-YYYY.MM.dd` indices with
    `@timestamp`, the seed's structlog fields (`event` is the message, `level` the severity) and a
    `trace_id` field with the W3C trace id in hex, as Jaeger shows it.
    """

    elasticsearch_url: str
    jaeger_url: str
    index_prefix: str = "langgraph-"
    time_field: str = "@timestamp"
    message_field: str = "event"
    level_field: str = "level"
    trace_id_field: str = "trace_id"
    # Elasticsearch with security on (ECK's default): a user, and the names of Grafana
    # environment variables holding its password and the CA that signed the HTTP certificate.
    elasticsearch_user: str | None = None
    elasticsearch_password_env: str | None = None
    elasticsearch_ca_env: str | None = None
    # How far around a span to look for its log lines (clock skew, buffered log shipping).
    span_time_shift: str = "5m"

    def __post_init__(self) -> None:
        for name in ("elasticsearch_url", "jaeger_url"):
            url = urlparse(getattr(self, name))
            if url.scheme not in ("http", "https") or not url.netloc:
                raise ValueError(f"{name}: {getattr(self, name)!r} is not an http(s) URL")
        for name in ("elasticsearch_password_env", "elasticsearch_ca_env"):
            value = getattr(self, name)
            if value is not None and not _ENV_NAME.fullmatch(value):
                raise ValueError(f"{name}: {value!r} is not an environment variable name (A-Z, 0-9, _)")
        if (self.elasticsearch_user is None) != (self.elasticsearch_password_env is None):
            raise ValueError("elasticsearch_user and elasticsearch_password_env: set both or neither")


def _escaped(grafana_variable: str) -> str:
    """A Grafana link variable, escaped from provisioning's environment expansion."""
    return "$${" + grafana_variable + "}"


def elasticsearch_datasource(settings: DatasourceSettings) -> dict:
    """The logs datasource over the daily indices, each trace id linked to Jaeger."""
    json_data: dict = {
        # Grafana's index pattern: the fixed part in brackets, the date in moment.js format.
        "index": f"[{settings.index_prefix}]YYYY.MM.DD",
        "interval": "Daily",
        "timeField": settings.time_field,
        "logMessageField": settings.message_field,
        "logLevelField": settings.level_field,
        "dataLinks": [{
            "field": settings.trace_id_field,
            "datasourceUid": TRACES_UID,
            "url": _escaped("__value.raw"),
            "urlDisplayLabel": "Trace in Jaeger",
        }],
    }
    secure: dict = {}
    source: dict = {"name": "LangGraph logs", "uid": LOGS_UID, "type": "elasticsearch", "access": "proxy",
                    "url": settings.elasticsearch_url, "editable": False}
    if settings.elasticsearch_user is not None:
        source.update(basicAuth=True, basicAuthUser=settings.elasticsearch_user)
        secure["basicAuthPassword"] = f"${settings.elasticsearch_password_env}"
    if settings.elasticsearch_ca_env is not None:
        json_data["tlsAuthWithCACert"] = True
        secure["tlsCACert"] = f"${settings.elasticsearch_ca_env}"
    source["jsonData"] = json_data
    if secure:
        source["secureJsonData"] = secure
    return source


def jaeger_datasource(settings: DatasourceSettings) -> dict:
    """The traces datasource, each span linked to its log lines by trace id."""
    return {
        "name": "LangGraph traces", "uid": TRACES_UID, "type": "jaeger", "access": "proxy",
        "url": settings.jaeger_url, "editable": False,
        "jsonData": {
            "tracesToLogsV2": {
                "datasourceUid": LOGS_UID,
                "spanStartTimeShift": f"-{settings.span_time_shift}",
                "spanEndTimeShift": settings.span_time_shift,
                # A Lucene query on the log pipeline's trace id field (the generated filter picks a
                # field name of its own). The leading wildcard because Jaeger's API prints trace ids
                # without leading zeros, while the logs carry all 32 hex digits.
                "customQuery": True,
                "query": f"{settings.trace_id_field}:*{_escaped('__trace.traceId')}",
                "filterByTraceID": False,
                "filterBySpanID": False,
            },
            "nodeGraph": {"enabled": True},
        },
    }


def provisioning(settings: DatasourceSettings) -> dict:
    """Grafana's datasource provisioning document."""
    return {"apiVersion": 1, "datasources": [elasticsearch_datasource(settings), jaeger_datasource(settings)]}


def datasource_config_map(settings: DatasourceSettings, namespace: str) -> dict:
    """The provisioning file in a ConfigMap for Grafana's datasource sidecar."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "grafana-datasources-langgraph", "namespace": namespace,
                     "labels": {**COMMON_LABELS, SIDECAR_LABEL: "1"}},
        "data": {PROVISIONING_KEY: yaml.safe_dump(provisioning(settings), sort_keys=False)},
    }
