"""The JSON log contract: every field the app may write, with its Elasticsearch type.

The Logging component generates its index template from `LOG_FIELDS`, so this module imports
nothing beyond the standard library (the Pulumi program imports it). A field always has one
JSON type: `keyword`/`text`/`date` are strings, `float` a JSON float, `long` an integer, `boolean`
true/false. Fields that do not apply to a line are left out, never written as null.
"""

from __future__ import annotations

LOG_FIELDS: dict[str, str] = {
    # On every line.
    "event": "keyword",  # what happened, e.g. graph_execution_started (the seed's message names)
    "event_type": "keyword",  # one of EVENT_TYPES
    "level": "keyword",  # debug, info, warning, error, critical
    "timestamp": "date",  # ISO 8601, UTC, microseconds
    "logger": "keyword",  # the emitting logger: refapp, uvicorn.error, langgraph, ...
    # A run and its nodes (the seed's structlog fields).
    "graph_name": "keyword",
    "execution_id": "keyword",  # one per run (a resume is a run of its own)
    "thread_id": "keyword",
    "node_name": "keyword",
    "duration": "float",  # seconds
    "status": "keyword",  # success, error, interrupted, retry
    "input_size": "long",  # bytes of the run's JSON input
    "attempt": "long",  # the node attempt a retry line starts (2 = first retry)
    "reason": "keyword",  # why a graph was interrupted, or why a run was refused (run_rejected)
    # Checkpoint writes.
    "checkpoint_id": "keyword",
    "backend": "keyword",  # postgres
    "success": "boolean",
    # Failures.
    "exception_type": "keyword",
    "error": "text",  # the exception's message
    "exception": "text",  # the formatted traceback
    # Tracing, when OTEL_EXPORTER_OTLP_ENDPOINT is set.
    "trace_id": "keyword",  # 32 hex digits
    "span_id": "keyword",  # 16 hex digits
    # The service's own lifecycle line.
    "concurrency": "long",
    "pool_max_size": "long",
    "tracing": "boolean",
    "run_locks": "boolean",  # per-thread run locks in Redis (REDIS_URI set)
}

# The seed's event types, plus `service` for lifecycle lines, configuration changes and what
# libraries (uvicorn, langgraph, opentelemetry) log through the standard logging module.
EVENT_TYPES: tuple[str, ...] = (
    "graph_start", "node_execution", "checkpoint", "interrupt", "error", "graph_end", "service",
)
