"""The HTTP API (Starlette): runs, thread state, health and metrics.

Paths and fields follow the official LangGraph server where it has the same operation
(`POST /threads/{thread_id}/runs/wait` with `assistant_id` and `input` or `command.resume`,
`GET /threads/{thread_id}/state`, `GET /ok`), so clients and probes work against either.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass
from typing import Any, AsyncIterator, Mapping

import psycopg
from opentelemetry import propagate
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .graphs import GRAPHS
from .graphs.controls import input_errors
from .logs import get_logger
from .run_locks import REDIS_ERRORS, Lease, LockUnavailable, ThreadBusy
from .service import Service, start_service, stop_service
from .settings import Settings

TRUE_VALUES = ("1", "true", "yes")


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


def _service(request: Request) -> Service:
    return request.app.state.service


def _thread_config(thread_id: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}


async def _thread_owner(service: Service, thread_id: str) -> str | None:
    """The graph that wrote `thread_id`'s latest checkpoint; None for a thread never run."""
    latest = await service.saver.aget_tuple(_thread_config(thread_id))
    return latest.metadata.get("graph_name") if latest else None


@dataclass(frozen=True)
class RunRequest:
    """A validated run request: a new run (`payload`) or a resume (`resume`)."""

    graph_name: str
    thread_id: str
    payload: dict[str, Any] | None
    resume: Any


def parse_run_request(body: Any, thread_in_path: str | None, graphs: Mapping[str, Any]) -> RunRequest | JSONResponse:
    """The request, or the 4xx answer that says what is wrong with it."""
    if not isinstance(body, dict):
        return _error(422, "invalid_request", "the body must be a JSON object")
    graph_name = body.get("assistant_id")
    if not isinstance(graph_name, str):
        return _error(422, "invalid_request", "assistant_id (the graph name) is required")
    if graph_name not in graphs:
        return _error(404, "unknown_graph", f"no graph {graph_name!r}; graphs: {', '.join(sorted(graphs))}")
    thread_id = thread_in_path or body.get("thread_id") or str(uuid.uuid4())
    if not isinstance(thread_id, str):
        return _error(422, "invalid_request", "thread_id must be a string")
    # The official server's strategy names; with no run queue, this app can only refuse (with REDIS_URI).
    if body.get("multitask_strategy", "reject") != "reject":
        return _error(422, "invalid_request", "multitask_strategy: only 'reject' is supported (this app has no "
                      "run queue: a run on a busy thread is refused with 409)")
    payload, command = body.get("input"), body.get("command")
    if (payload is None) == (command is None):
        return _error(422, "invalid_request", "give exactly one of input (a new run) or command (a resume)")
    if command is not None:
        if not isinstance(command, dict) or "resume" not in command:
            return _error(422, "invalid_request", "command must be an object with a resume value")
        return RunRequest(graph_name, thread_id, None, command["resume"])
    if not isinstance(payload, dict):
        return _error(422, "invalid_input", "input must be a JSON object")
    if errors := input_errors(GRAPHS[graph_name].input_fields, payload):
        return _error(422, "invalid_input", "; ".join(errors))
    return RunRequest(graph_name, thread_id, payload, None)


@contextlib.asynccontextmanager
async def _thread_lock(service: Service, run: RunRequest, execution_id: str) -> AsyncIterator[Lease | None]:
    """The thread's run lock for the block (None without Redis); ThreadBusy or LockUnavailable otherwise."""
    if service.run_locks is None:
        yield None
        return
    async with service.run_locks.hold(run.graph_name, run.thread_id, execution_id) as lease:
        yield lease


async def create_run(request: Request) -> Response:
    """Run a graph to completion or to its interrupt, or resume an interrupted thread; wait for the end.

    The thread's run lock is taken before its state is read, so two requests cannot both find an
    interrupted thread and resume it twice; it is held while the run waits for a slot and runs.
    """
    service = _service(request)
    try:
        body = await request.json()
    except ValueError:
        body = None
    run = parse_run_request(body, request.path_params.get("thread_id"), service.graphs)
    if isinstance(run, JSONResponse):
        return run
    if run.graph_name in service.disabled.current():
        # Counted as nothing: the run never starts, so it is no execution and no error.
        return _error(503, "graph_disabled", f"graph {run.graph_name!r} is disabled by the operator "
                      "(disabled-graphs flag); try again once it is re-enabled")
    execution_id = str(uuid.uuid4())
    async with _thread_lock(service, run, execution_id) as lease:
        owner = await _thread_owner(service, run.thread_id)
        if owner is not None and owner != run.graph_name:
            return _error(409, "thread_graph_mismatch", f"thread {run.thread_id!r} belongs to graph {owner!r}")
        if run.payload is None:
            if owner is None:
                return _error(404, "unknown_thread", f"no thread {run.thread_id!r} to resume")
            snapshot = await service.graphs[run.graph_name].aget_state({"configurable": {"thread_id": run.thread_id}})
            if not snapshot.interrupts:
                return _error(409, "not_interrupted", f"thread {run.thread_id!r} is not waiting on an interrupt")
        result = await service.runner.run(run.graph_name, run.thread_id, run.payload, run.resume,
                                          parent=propagate.extract(request.headers),
                                          execution_id=execution_id, lease=lease)
    return JSONResponse(result.as_json(), status_code=500 if result.status == "error" else 200)


async def thread_state(request: Request) -> Response:
    """A thread's latest state as its checkpoints in PostgreSQL hold it."""
    service = _service(request)
    thread_id = request.path_params["thread_id"]
    owner = await _thread_owner(service, thread_id)
    if owner not in service.graphs:
        return _error(404, "unknown_thread", f"no thread {thread_id!r} written by this app's graphs")
    snapshot = await service.graphs[owner].aget_state({"configurable": {"thread_id": thread_id}})
    return JSONResponse({
        "thread_id": thread_id, "assistant_id": owner, "values": snapshot.values, "next": list(snapshot.next),
        "interrupts": [{"id": item.id, "value": item.value} for item in snapshot.interrupts],
        "checkpoint_id": snapshot.config["configurable"]["checkpoint_id"],
        "created_at": snapshot.created_at, "step": snapshot.metadata.get("step") if snapshot.metadata else None,
    })


async def ok(request: Request) -> Response:
    """Liveness; with `?check_db=1` also a query through the checkpointer's pool and, with REDIS_URI, a
    PING of Redis, each bounded by HEALTH_CHECK_TIMEOUT."""
    if request.query_params.get("check_db", "").lower() in TRUE_VALUES:
        service = _service(request)
        timeout = service.settings.health_check_timeout_seconds
        try:
            async with asyncio.timeout(timeout):
                async with service.pool.connection(timeout=timeout) as conn:
                    await conn.execute("SELECT 1")
        except (psycopg.Error, TimeoutError) as exc:
            get_logger().warning("health_check_failed", exception_type=type(exc).__name__, error=str(exc))
            return _error(503, "database_unreachable", f"PostgreSQL check failed: {type(exc).__name__}")
        if service.run_locks is not None:
            # No run can start without its lock, so a pod that cannot reach Redis is not ready.
            try:
                async with asyncio.timeout(timeout):
                    await service.run_locks.ping()
            except REDIS_ERRORS as exc:  # TimeoutError included (an OSError)
                get_logger().warning("health_check_failed", exception_type=type(exc).__name__, error=str(exc))
                return _error(503, "redis_unreachable", f"Redis check failed: {type(exc).__name__}")
    return JSONResponse({"ok": True})


async def metrics(request: Request) -> Response:
    return Response(generate_latest(_service(request).metrics.registry), media_type=CONTENT_TYPE_LATEST)


async def database_unavailable(request: Request, exc: Exception) -> Response:
    """A thread lookup that could not reach PostgreSQL: the client may retry, nothing ran."""
    get_logger().warning("database_unavailable", exception_type=type(exc).__name__, error=str(exc))
    return _error(503, "database_unavailable", f"PostgreSQL is unavailable: {type(exc).__name__}")


async def thread_busy(request: Request, exc: ThreadBusy) -> Response:
    """Another run holds the thread (from any replica): the official server's 409 under `reject`."""
    _service(request).metrics.runs_rejected.labels(exc.graph_name, "thread_busy").inc()
    get_logger().warning("run_rejected", reason="thread_busy", graph_name=exc.graph_name, thread_id=exc.thread_id)
    return JSONResponse({"error": "thread_busy", "thread_id": exc.thread_id,
                         "message": f"thread {exc.thread_id!r} is already running a run; wait for it to finish "
                                    "(multitask_strategy: reject)"}, status_code=409)


async def lock_unavailable(request: Request, exc: LockUnavailable) -> Response:
    """Redis did not answer the lock request: nothing ran, the client may retry."""
    _service(request).metrics.runs_rejected.labels(exc.graph_name, "lock_unavailable").inc()
    get_logger().warning("run_rejected", reason="lock_unavailable", graph_name=exc.graph_name,
                         thread_id=exc.thread_id, exception_type=type(exc.cause).__name__, error=str(exc.cause))
    return _error(503, "redis_unavailable", str(exc))


def create_app(settings: Settings) -> Starlette:
    """The ASGI app; the service (pool, graphs, tracing) starts and stops with its lifespan."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.service = await start_service(settings)
        try:
            yield
        finally:
            await stop_service(app.state.service)

    routes = [
        Route("/runs/wait", create_run, methods=["POST"]),
        Route("/threads/{thread_id}/runs/wait", create_run, methods=["POST"]),
        Route("/threads/{thread_id}/state", thread_state, methods=["GET"]),
        Route("/ok", ok, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
    handlers = {psycopg.OperationalError: database_unavailable, ThreadBusy: thread_busy,
                LockUnavailable: lock_unavailable}
    return Starlette(routes=routes, lifespan=lifespan, exception_handlers=handlers)
