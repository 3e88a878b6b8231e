"""Startup and shutdown: tracing, metrics, the PostgreSQL pool and schema, the compiled graphs, the
Redis client of the run locks."""

from __future__ import annotations

from dataclasses import dataclass

from langgraph.graph.state import CompiledStateGraph
from langgraph.types import RetryPolicy
from opentelemetry.sdk.trace import TracerProvider
from psycopg_pool import AsyncConnectionPool

from .checkpointer import BACKEND, InstrumentedPostgresSaver, create_pool, prepare_schema
from .disabled import DisabledGraphs
from .graphs import GRAPHS, NodeOptions
from .graphs.controls import TransientBackendError
from .instrument import Instrumentation
from .logs import get_logger
from .metrics import Metrics
from .run_locks import RunLocks, create_client
from .runs import Runner
from .settings import Settings
from .tracing import start_tracing


@dataclass
class Service:
    """What the request handlers share."""

    settings: Settings
    metrics: Metrics
    pool: AsyncConnectionPool
    saver: InstrumentedPostgresSaver
    graphs: dict[str, CompiledStateGraph]
    runner: Runner
    disabled: DisabledGraphs
    tracer_provider: TracerProvider | None
    run_locks: RunLocks | None
    """Per-thread run locks in Redis; None without REDIS_URI (runs on one thread may then overlap)."""


def node_options(settings: Settings) -> NodeOptions:
    """Retry only the simulated transient failures: a demanded failure must fail the run at once."""
    retry = RetryPolicy(initial_interval=settings.retry_initial_interval_seconds,
                        backoff_factor=settings.retry_backoff_factor, max_attempts=settings.retry_max_attempts,
                        jitter=settings.retry_jitter, retry_on=TransientBackendError)
    return NodeOptions(retry=retry, timeout_seconds=settings.node_timeout_seconds)


async def start_service(settings: Settings) -> Service:
    """Connect, migrate the checkpoint schema and compile the graphs; raises if PostgreSQL is unreachable."""
    provider = start_tracing(settings.otlp_endpoint, settings.service_name)
    metrics = Metrics()
    metrics.declare(GRAPHS, BACKEND)
    pool = create_pool(settings)
    await pool.open(wait=True, timeout=settings.pool_timeout_seconds)
    try:
        await prepare_schema(pool, settings.pool_timeout_seconds * 4)
    except BaseException:
        await pool.close()
        raise
    saver = InstrumentedPostgresSaver(pool, metrics)
    instrumentation = Instrumentation(metrics)
    options = node_options(settings)
    graphs = {name: spec.build(instrumentation, options).compile(checkpointer=saver, name=name)
              for name, spec in GRAPHS.items()}
    runner = Runner(graphs, metrics, instrumentation, settings.max_concurrent_runs, settings.run_timeout_seconds)
    disabled = DisabledGraphs(settings.disabled_graphs_file, settings.disabled_graphs_refresh_seconds)
    disabled.current()
    # Redis is not contacted here: while it is down the pod starts and stays unready (the deep
    # health check pings it), rather than crash-looping.
    run_locks = (RunLocks(create_client(settings), settings.run_lock_ttl_seconds, settings.redis_key_prefix)
                 if settings.redis_uri else None)
    get_logger().info("service_started", concurrency=settings.max_concurrent_runs,
                      pool_max_size=settings.pool_max_size, tracing=provider is not None,
                      run_locks=run_locks is not None)
    return Service(settings, metrics, pool, saver, graphs, runner, disabled, provider, run_locks)


async def stop_service(service: Service) -> None:
    """Close the pools and flush the spans still buffered."""
    await service.pool.close()
    if service.run_locks is not None:
        await service.run_locks.close()
    if service.tracer_provider is not None:
        service.tracer_provider.shutdown()
    get_logger().info("service_stopped")
