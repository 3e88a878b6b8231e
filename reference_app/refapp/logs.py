"""JSON log lines on stdout: the seed's structlog events, with the fields of `log_fields.LOG_FIELDS`.

Everything that logs in the process (this app through structlog, uvicorn, langgraph and
opentelemetry through the standard `logging` module) goes through one handler and one renderer,
so every line is one JSON object that Fluent Bit parses without a multiline rule.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog
from opentelemetry import trace
from structlog.typing import EventDict, WrappedLogger

LOGGER_NAME = "refapp"


def _default_event_type(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """Lines that name no event type (startup, libraries) are the service's own."""
    event.setdefault("event_type", "service")
    return event


def _trace_ids(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """The current span's ids, so Kibana and Jaeger link a line to its trace (only when tracing)."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event["trace_id"] = format(context.trace_id, "032x")
        event["span_id"] = format(context.span_id, "016x")
    return event


def configure_logging(level: str, stream: TextIO = sys.stdout) -> None:
    """Route structlog and the standard logging module to one JSON renderer on `stream`."""
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        _default_event_type,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
        _trace_ids,
    ]
    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, *shared,
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    structlog.processors.JSONRenderer()],
    ))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    # Python warnings would otherwise reach stderr as plain text.
    logging.captureWarnings(True)
    # LangGraph logs each retry with a traceback at INFO; the `node_retried` event says the same in fields.
    logging.getLogger("langgraph.pregel._retry").setLevel(logging.WARNING)


def get_logger() -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(LOGGER_NAME)


class RunLog:
    """The seed's `LangGraphLogger`: one run's events, each with its fixed set of typed fields."""

    def __init__(self, graph_name: str, execution_id: str, thread_id: str) -> None:
        self._log = get_logger().bind(graph_name=graph_name, execution_id=execution_id, thread_id=thread_id)

    def graph_start(self, input_size: int) -> None:
        self._log.info("graph_execution_started", event_type="graph_start", input_size=input_size)

    def node(self, node_name: str, duration: float, status: str, exception_type: str | None = None) -> None:
        failure = {"exception_type": exception_type} if exception_type else {}
        self._log.info("node_executed", event_type="node_execution", node_name=node_name, duration=duration,
                       status=status, **failure)

    def retry(self, node_name: str, attempt: int, exception_type: str) -> None:
        self._log.warning("node_retried", event_type="node_execution", node_name=node_name, status="retry",
                          attempt=attempt, exception_type=exception_type)

    def interrupt(self, node_name: str, reason: str) -> None:
        self._log.warning("graph_interrupted", event_type="interrupt", node_name=node_name, reason=reason)

    def error(self, exc: BaseException, duration: float) -> None:
        self._log.error("graph_execution_failed", event_type="error", status="error", duration=duration,
                        exception_type=type(exc).__name__, error=str(exc), exc_info=exc)

    def graph_end(self, status: str, duration: float) -> None:
        self._log.info("graph_execution_finished", event_type="graph_end", status=status, duration=duration)


def log_checkpoint(fields: dict[str, Any], checkpoint_id: str, backend: str, success: bool, duration: float) -> None:
    """The seed's checkpoint event; `fields` carries the run's graph_name/execution_id/thread_id."""
    log = get_logger()
    emit = log.info if success else log.error
    emit("checkpoint_saved" if success else "checkpoint_save_failed", event_type="checkpoint",
         checkpoint_id=checkpoint_id, backend=backend, success=success, status="success" if success else "error",
         duration=duration, **fields)
