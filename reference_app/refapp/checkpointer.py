"""PostgreSQL checkpointing through langgraph-checkpoint-postgres, with every save counted and logged."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import ChannelVersions, Checkpoint, CheckpointMetadata
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from .logs import get_logger, log_checkpoint
from .metrics import Metrics
from .settings import Settings

BACKEND = "postgres"
# Any constant works; it only has to be the same in every replica.
SCHEMA_LOCK_KEY = 0x6C67_7265_6661_7070  # "lgrefapp"
SCHEMA_LOCK_POLL_SECONDS = 0.5


def create_pool(settings: Settings) -> AsyncConnectionPool:
    """The psycopg pool the saver and the deep health check share (opened by the caller).

    autocommit and prepare_threshold=0 are what the saver requires (its setup creates indexes
    CONCURRENTLY); `check` replaces connections that died with a failed-over or restarted server
    before a run gets them.
    """
    return AsyncConnectionPool(
        settings.database_uri, min_size=settings.pool_min_size, max_size=settings.pool_max_size,
        timeout=settings.pool_timeout_seconds, open=False, check=AsyncConnectionPool.check_connection,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
        name="checkpointer",
    )


async def prepare_schema(pool: AsyncConnectionPool, timeout_seconds: float) -> None:
    """Create or migrate the checkpoint tables, one replica at a time; a no-op once they are current.

    Replicas starting together would race on the migrations table, so the one that gets an
    advisory lock migrates. Waiters poll pg_try_advisory_lock rather than block in
    pg_advisory_lock: the saver's CREATE INDEX CONCURRENTLY waits for every open transaction,
    a blocked waiter's included. And through PgBouncer in transaction mode a session lock may be
    taken and released on different server connections and linger, so waiters also stop as soon
    as the schema is current, whoever holds the lock.
    """
    latest = len(AsyncPostgresSaver.MIGRATIONS) - 1
    deadline = time.monotonic() + timeout_seconds
    async with pool.connection() as conn:
        while await _schema_version(conn) < latest:
            if await _fetch_one(conn, "SELECT pg_try_advisory_lock(%s) AS v", (SCHEMA_LOCK_KEY,)):
                try:
                    await AsyncPostgresSaver(conn).setup()
                finally:
                    await conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK_KEY,))
                break
            if time.monotonic() > deadline:
                raise TimeoutError("the checkpoint schema was still being migrated by another replica")
            await asyncio.sleep(SCHEMA_LOCK_POLL_SECONDS)
    get_logger().info("checkpoint_schema_ready", backend=BACKEND)


async def _fetch_one(conn: AsyncConnection, sql: str, params: tuple = ()) -> Any:
    row = await (await conn.execute(sql, params)).fetchone()
    return row["v"] if row else None


async def _schema_version(conn: AsyncConnection) -> int:
    """The last checkpoint migration applied; -1 before the first."""
    if not await _fetch_one(conn, "SELECT to_regclass('checkpoint_migrations') IS NOT NULL AS v"):
        return -1
    version = await _fetch_one(conn, "SELECT max(v) AS v FROM checkpoint_migrations")
    return -1 if version is None else version


class InstrumentedPostgresSaver(AsyncPostgresSaver):
    """The official async saver; each checkpoint write (`aput`) is counted and logged, with its outcome."""

    def __init__(self, pool: AsyncConnectionPool, metrics: Metrics) -> None:
        super().__init__(pool)
        self._metrics = metrics

    async def aput(self, config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata,
                   new_versions: ChannelVersions) -> RunnableConfig:
        started = time.perf_counter()
        success = False
        try:
            saved = await super().aput(config, checkpoint, metadata, new_versions)
            success = True
            return saved
        finally:
            self._metrics.checkpoint_saves.labels(BACKEND, "success" if success else "error").inc()
            log_checkpoint(_run_fields(config), checkpoint["id"], BACKEND, success,
                           time.perf_counter() - started)


def _run_fields(config: RunnableConfig) -> dict[str, Any]:
    """The run's ids, from the config metadata the runner set (LangGraph passes it to every save)."""
    metadata = config.get("metadata") or {}
    fields = {key: metadata[key] for key in ("graph_name", "execution_id") if isinstance(metadata.get(key), str)}
    thread_id = config.get("configurable", {}).get("thread_id")
    if thread_id is not None:
        fields["thread_id"] = str(thread_id)
    return fields
