"""Running a graph on a thread: bounded concurrency, the run's metrics, log lines and span."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Mapping

from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command
from opentelemetry import context as otel_context
from opentelemetry.trace import Status, StatusCode

from .instrument import Instrumentation
from .logs import RunLog
from .metrics import Metrics
from .run_locks import Lease
from .tracing import tracer


@dataclass
class RunResult:
    """What a run ended with; `status` is the label of langgraph_executions_total."""

    run_id: str
    thread_id: str
    graph_name: str
    status: str
    values: dict[str, Any] = field(default_factory=dict)
    interrupts: list[dict[str, Any]] = field(default_factory=list)
    error_type: str | None = None
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"run_id": self.run_id, "thread_id": self.thread_id,
                                "assistant_id": self.graph_name, "status": self.status,
                                "values": self.values, "interrupts": self.interrupts}
        if self.status == "error":
            body["error"] = {"type": self.error_type, "message": self.error}
        return body


def run_config(graph_name: str, execution_id: str, thread_id: str) -> dict[str, Any]:
    """The LangGraph config of one run: its thread, and the ids the instrumentation reads back.

    LangGraph hands `metadata` to every node (subgraphs included) and copies it into each
    checkpoint's metadata, which is also how a thread remembers which graph it belongs to.
    """
    return {"configurable": {"thread_id": thread_id}, "run_id": uuid.UUID(execution_id),
            "metadata": {"graph_name": graph_name, "execution_id": execution_id, "thread_id": thread_id}}


def input_size(payload: Any) -> int:
    """Bytes of the run's input as JSON (the seed logs len(str(input)); JSON is what clients send)."""
    return len(json.dumps(payload, default=str, separators=(",", ":")).encode())


class Runner:
    """Runs graphs, at most `max_concurrent` at once; later runs wait for a free slot."""

    def __init__(self, graphs: Mapping[str, CompiledStateGraph], metrics: Metrics, instrumentation: Instrumentation,
                 max_concurrent: int, timeout_seconds: float) -> None:
        self._graphs = graphs
        self._metrics = metrics
        self._instrumentation = instrumentation
        self._slots = asyncio.Semaphore(max_concurrent)
        self._timeout = timeout_seconds

    async def run(self, graph_name: str, thread_id: str, payload: dict[str, Any] | None,
                  resume: Any = None, parent: otel_context.Context | None = None, *,
                  execution_id: str | None = None, lease: Lease | None = None) -> RunResult:
        """Run `graph_name` on `thread_id` with `payload` as input, or resume it with `resume`.

        With the thread's `lease` (its run lock), losing the lock cancels the run: it ends `error`
        with RunLockLost.
        """
        execution_id = execution_id or str(uuid.uuid4())
        result = RunResult(execution_id, thread_id, graph_name, "error")
        graph_input: Any = payload if payload is not None else Command(resume=resume)
        log = RunLog(graph_name, execution_id, thread_id)
        async with self._slots:
            self._metrics.active_graphs.inc()
            started = time.perf_counter()
            with tracer().start_as_current_span(
                    f"run {graph_name}", context=parent, record_exception=False, set_status_on_exception=False,
                    attributes={"langgraph.graph": graph_name, "langgraph.thread_id": thread_id,
                                "langgraph.execution_id": execution_id, "langgraph.resume": payload is None},
            ) as span:
                log.graph_start(input_size(payload if payload is not None else {"resume": resume}))
                try:
                    invocation = self._graphs[graph_name].ainvoke(
                        graph_input, run_config(graph_name, execution_id, thread_id))
                    output = await asyncio.wait_for(lease.guard(invocation) if lease else invocation, self._timeout)
                    pending = output.pop("__interrupt__", [])
                    result.values = output
                    result.interrupts = [{"id": item.id, "value": item.value} for item in pending]
                    result.status = "interrupted" if pending else "success"
                except Exception as exc:
                    result.error_type, result.error = type(exc).__name__, str(exc)
                    span.record_exception(exc)
                    span.set_status(Status(StatusCode.ERROR, result.error_type))
                    log.error(exc, time.perf_counter() - started)
                finally:
                    duration = time.perf_counter() - started
                    span.set_attribute("langgraph.status", result.status)
                    self._metrics.executions.labels(graph_name, result.status).inc()
                    self._metrics.execution_seconds.labels(graph_name).observe(duration)
                    self._metrics.active_graphs.dec()
                    self._instrumentation.forget(execution_id)
                    log.graph_end(result.status, duration)
        return result
