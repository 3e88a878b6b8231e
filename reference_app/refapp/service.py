"""Startup and shutdown: tracing, metrics, the PostgreSQL pool and schema, the compiled graphs."""

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
    get_logger().info("service_started", concurrency=settings.max_concurrent_runs,
                      pool_max_size=settings.pool_max_size, tracing=provider is not None)
    return Service(settings, metrics, pool, saver, graphs, runner, disabled, provider)


async def stop_service(service: Service) -> None:
    """Close the pool and flush the spans still buffered."""
    await service.pool.close()
    if service.tracer_provider is not None:
        service.tracer_provider.shutdown()
    get_logger().info("service_stopped")
