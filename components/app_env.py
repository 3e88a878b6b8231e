"""The environment the LangGraph server is given: its own knobs (what `langgraph_api.config` reads)
and the seed's `ProductionConfig` names (for apps instrumented like the seed's), plus the one list
of keys its connection Secret may hold.

The seed's names are read by the seed's example app only; the server reads DATABASE_URI (fallback
POSTGRES_URI), REDIS_URI, LANGGRAPH_POSTGRES_POOL_MAX_SIZE, N_JOBS_PER_WORKER, REDIS_MAX_CONNECTIONS,
BG_JOB_TIMEOUT_SECS, LANGGRAPH_THREAD_TTL, REDIS_CLUSTER and OTEL_EXPORTER_OTLP_ENDPOINT.
N_JOBS_PER_WORKER differs per tier and is set on each container, not here.
"""

from __future__ import annotations

import json

from stackconfig.load import ServerKnobs
from stackconfig.sections.app import AppConfig

# Every key the app's connection Secret may hold, and where its value comes from.
SECRET_ENV: dict[str, str] = {
    "DATABASE_URI": "read/write PostgreSQL URL (through the pooler)",
    "POSTGRES_URI": "the same URL under the server's fallback name",
    "DATABASE_READONLY_URI": "read-only PostgreSQL URL",
    "REDIS_URI": "Redis URL of the current master (a stable endpoint)",
    "LANGGRAPH_CLOUD_LICENSE_KEY": "LangGraph Platform license key (config secret langgraph_license_key)",
    "LANGSMITH_API_KEY": "LangSmith API key (config secret langsmith_api_key)",
    "AWS_ACCESS_KEY_ID": "checkpoint store access key (SeaweedFS or an external store; S3 uses IRSA instead)",
    "AWS_SECRET_ACCESS_KEY": "checkpoint store secret key",
}

# Config secrets that go straight into the Secret, by environment variable.
CONFIG_SECRET_ENV: dict[str, tuple[str, ...]] = {
    "langgraph_license_key": ("LANGGRAPH_CLOUD_LICENSE_KEY",),
    "langsmith_api_key": ("LANGSMITH_API_KEY",),
}


def thread_ttl(app: AppConfig) -> str:
    """LANGGRAPH_THREAD_TTL as the JSON object the server parses (TTL in minutes)."""
    return json.dumps({
        "strategy": app.server.thread_ttl_strategy,
        "default_ttl": app.tuning.checkpoint_ttl_seconds / 60,
        "sweep_interval_minutes": app.server.thread_ttl_sweep_interval_minutes,
    }, sort_keys=True)


def server_environment(app: AppConfig, knobs: ServerKnobs, *, redis_cluster: bool, otlp_endpoint: str | None,
                       extra: dict[str, str] | None = None) -> dict[str, str]:
    """Plain environment shared by every tier of the server; `extra` adds non-secret data-tier settings
    (bucket, endpoint, region of the checkpoint store)."""
    tuning = app.tuning
    env = {
        # The official server's own knobs.
        "LANGGRAPH_POSTGRES_POOL_MAX_SIZE": str(knobs.postgres_pool_max_size),
        "REDIS_MAX_CONNECTIONS": str(knobs.redis_max_connections),
        "BG_JOB_TIMEOUT_SECS": str(app.server.bg_job_timeout_seconds),
        "LANGGRAPH_THREAD_TTL": thread_ttl(app),
        "REDIS_CLUSTER": "true" if redis_cluster else "false",
        "PORT": str(app.port),
        "LOG_LEVEL": app.log_level,
        # The seed's ProductionConfig, as it names them.
        "DATABASE_POOL_SIZE": str(tuning.database_pool_size),
        "DATABASE_MAX_OVERFLOW": str(tuning.database_max_overflow),
        "DATABASE_POOL_TIMEOUT": str(tuning.database_pool_timeout),
        "REDIS_POOL_SIZE": str(tuning.redis_pool_size),
        "REDIS_TIMEOUT": str(tuning.redis_timeout),
        "CHECKPOINT_BATCH_SIZE": str(tuning.checkpoint_batch_size),
        "CHECKPOINT_COMPRESSION": str(tuning.checkpoint_compression).lower(),
        "CHECKPOINT_TTL": str(tuning.checkpoint_ttl_seconds),
        "NODE_TIMEOUT": str(tuning.node_timeout_seconds),
        "RETRY_MAX_ATTEMPTS": str(tuning.retry_max_attempts),
        "RETRY_BACKOFF_FACTOR": f"{tuning.retry_backoff_factor:g}",
        "METRICS_EXPORT_INTERVAL": str(tuning.metrics_export_interval),
        "HEALTH_CHECK_TIMEOUT": str(tuning.health_check_timeout),
    }
    if otlp_endpoint:
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp_endpoint
    return env | (extra or {})
