"""Node instrumentation: the seed's node, interrupt and retry metrics, log lines and a span per node.

Graphs add their nodes through `Instrumentation.node`, which wraps the node function. The run's
graph name and execution id travel in the run config's metadata, which LangGraph hands to every
node, subgraph nodes included. Retries are counted when LangGraph really starts another attempt
(`execution_info.node_attempt` > 1), labelled with the exception the previous attempt raised.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any, Awaitable, Callable

from langchain_core.runnables import RunnableConfig
from langgraph.errors import GraphBubbleUp, GraphInterrupt
from langgraph.runtime import Runtime
from opentelemetry.trace import Status, StatusCode

from .logs import RunLog
from .metrics import Metrics
from .tracing import tracer

NodeFn = Callable[[dict[str, Any], Runtime], Awaitable[dict[str, Any]]]
Node = Callable[[dict[str, Any], RunnableConfig, Runtime], Awaitable[dict[str, Any]]]

UNSPECIFIED_REASON = "unspecified"


def interrupt_reason(value: Any) -> str:
    """The label for an interrupt: its payload's `reason`, when the node gave one."""
    if isinstance(value, dict) and isinstance(value.get("reason"), str) and value["reason"]:
        return value["reason"]
    return UNSPECIFIED_REASON


def run_metadata(config: RunnableConfig) -> tuple[str, str, str]:
    """(graph_name, execution_id, thread_id) that `runs.Runner` put into the run config."""
    metadata = config.get("metadata") or {}
    return metadata["graph_name"], metadata["execution_id"], metadata["thread_id"]


class Instrumentation:
    """Wraps node functions; remembers a failed attempt's exception type until its retry starts."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        # execution_id -> task_id -> exception type of the task's last failed attempt
        self._failed: defaultdict[str, dict[str, str]] = defaultdict(dict)

    def forget(self, execution_id: str) -> None:
        """Drop a finished run's failure memory (its last failure had no retry after it)."""
        self._failed.pop(execution_id, None)

    def node(self, name: str, fn: NodeFn) -> Node:
        """`fn` as a LangGraph node that records duration, status, interrupts and retries."""
        metrics = self._metrics

        async def node(state: dict[str, Any], config: RunnableConfig, runtime: Runtime) -> dict[str, Any]:
            graph_name, execution_id, thread_id = run_metadata(config)
            log = RunLog(graph_name, execution_id, thread_id)
            info = runtime.execution_info
            if info.node_attempt > 1:
                exception_type = self._failed[execution_id].pop(info.task_id, "unknown")
                metrics.retries.labels(graph_name, name, exception_type).inc()
                log.retry(name, info.node_attempt, exception_type)
            status, failure = "error", None
            started = time.perf_counter()
            with tracer().start_as_current_span(
                    f"node {name}", record_exception=False, set_status_on_exception=False,
                    attributes={"langgraph.graph": graph_name, "langgraph.node": name,
                                "langgraph.execution_id": execution_id, "langgraph.attempt": info.node_attempt},
            ) as span:
                try:
                    result = await fn(state, runtime)
                    status = "success"
                    return result
                except GraphInterrupt as exc:
                    status = "interrupted"
                    for pending in exc.args[0] if exc.args else ():
                        reason = interrupt_reason(pending.value)
                        metrics.interrupts.labels(graph_name, name, reason).inc()
                        log.interrupt(name, reason)
                    raise
                except GraphBubbleUp:
                    # LangGraph's own control flow (a Command to the parent graph), not a failure.
                    status = "success"
                    raise
                except BaseException as exc:
                    failure = type(exc).__name__
                    self._failed[execution_id][info.task_id] = failure
                    span.record_exception(exc)
                    span.set_status(Status(StatusCode.ERROR, failure))
                    raise
                finally:
                    duration = time.perf_counter() - started
                    metrics.node_seconds.labels(graph_name, name).observe(duration)
                    log.node(name, duration, status, failure)

        node.__name__ = name
        node.__qualname__ = name
        return node
