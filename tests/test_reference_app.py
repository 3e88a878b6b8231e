"""The reference LangGraph app as real uvicorn processes against a real PostgreSQL and Redis.

Runs complete, fail, retry and interrupt/resume over HTTP; their state survives a restart of the
app; /metrics carries the seed's metrics with exactly its names, label sets and the counts the
runs imply; every log line is JSON with the documented fields and types; /ok and its deep check
follow the database and Redis; the disabled-graphs file takes effect; spans reach an OTLP receiver.
Two replicas on one Redis run a thread one run at a time: a busy thread is refused with 409 from
either, a dead replica's lock expires after its TTL, a lost lock cancels its run, and without
Redis no run starts. In process: timeouts, replicas migrating the schema together, settings, the
locks on a cluster-mode Redis, the flag file parser, and the image's pins.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import re
import signal
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from importlib.metadata import version
from pathlib import Path

import psycopg
import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.errors import NodeTimeoutError

from reference_app.refapp.checkpointer import SCHEMA_LOCK_KEY, create_pool, prepare_schema
from reference_app.refapp.disabled import DisabledGraphs, parse_disabled
from reference_app.refapp.graphs import GRAPHS
from reference_app.refapp.instrument import Instrumentation
from reference_app.refapp.log_fields import EVENT_TYPES, LOG_FIELDS
from reference_app.refapp.metrics import Metrics
from reference_app.refapp.run_locks import LockUnavailable, RunLocks, ThreadBusy, create_client
from reference_app.refapp.runs import Runner, run_config
from reference_app.refapp.service import node_options
from reference_app.refapp.settings import SettingsError, load_settings
from tests.engines.otlp import OtlpReceiver
from tests.engines.postgres import PostgresServer, new_server, start_server
from tests.engines.procs import wait_for
from tests.engines.redis import PASSWORD as REDIS_PASSWORD
from tests.engines.redis import RedisServer, start_cluster, start_redis
from tests.engines.reference_app import ReferenceApp

ROOT = Path(__file__).resolve().parent.parent
APP_DIR = ROOT / "reference_app"
CONCURRENCY = 2
DISABLED_REFRESH = 0.2
HEALTH_TIMEOUT = 2.0
LOCK_TTL = 1.0  # RUN_LOCK_TTL_SECONDS of both replicas: short, so that expiry and renewal show quickly
LOCK_KEY = "refapp:thread-run:{}"  # the README's key of a thread's run lock

# The seed's metrics, names and label sets exactly as DESIGN.md lists them (not imported from the app).
SEED_METRICS = {
    "langgraph_executions_total": {"graph_name", "status"},
    "langgraph_execution_duration_seconds": {"graph_name"},
    "langgraph_active_graphs": set(),
    "langgraph_checkpoint_saves_total": {"backend_type", "status"},
    "langgraph_node_execution_seconds": {"graph_name", "node_name"},
    "langgraph_interrupts_total": {"graph_name", "node_name", "reason"},
    "langgraph_retries_total": {"graph_name", "node_name", "exception_type"},
}
SEED_EVENT_TYPES = {"graph_start", "node_execution", "checkpoint", "interrupt", "error", "graph_end"}
JSON_TYPES = {"keyword": str, "text": str, "date": str, "float": float, "long": int, "boolean": bool}
SUPPORT_NODES = {"receive", "classify", "prioritize", "lookup_customer", "draft_reply", "human_review", "send_reply"}


def value(families: dict[str, list], sample: str, **labels: str) -> float:
    """The value of the sample named `sample` with exactly `labels` (0 when absent)."""
    return sum(s.value for samples in families.values() for s in samples if s.name == sample and s.labels == labels)


class Pg:
    """The module's PostgreSQL; a stop/start in a test replaces `server`."""

    def __init__(self) -> None:
        # Durability is not under test: skipping fsync saves seconds at start and stop.
        self.server: PostgresServer = new_server({"fsync": "off", "synchronous_commit": "off",
                                                  "full_page_writes": "off"})

    def restart(self) -> None:
        self.server = start_server(self.server.directory, self.server.port)

    def checkpoint_rows(self) -> int:
        return int(self.server.psql("SELECT count(*) FROM checkpoints"))


@pytest.fixture(scope="module")
def pg():
    handle = Pg()
    yield handle
    handle.server.cleanup()


@pytest.fixture(scope="module")
def otlp():
    receiver = OtlpReceiver()
    yield receiver
    receiver.close()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("refapp")


@pytest.fixture(scope="module")
def redis_server(workdir):
    server = start_redis(workdir / "redis")
    yield server
    server.stop()


@pytest.fixture
def rc(redis_server):
    """A client of the module's Redis, to look at the locks the apps take."""
    client = redis_server.client()
    yield client
    client.close()


@pytest.fixture(scope="module")
def app(pg, otlp, workdir, redis_server):
    settings = {
        "REDIS_URI": redis_server.uri(), "RUN_LOCK_TTL_SECONDS": str(LOCK_TTL),
        "LANGGRAPH_POSTGRES_POOL_MAX_SIZE": "6",
        "N_JOBS_PER_WORKER": str(CONCURRENCY),
        "RETRY_INITIAL_INTERVAL_SECONDS": "0.05", "RETRY_JITTER": "false",
        "HEALTH_CHECK_TIMEOUT": str(HEALTH_TIMEOUT),
        "DISABLED_GRAPHS_FILE": str(workdir / "disabled-graphs"),
        "DISABLED_GRAPHS_REFRESH_SECONDS": str(DISABLED_REFRESH),
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{otlp.port}",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "OTEL_SERVICE_NAME": "refapp-under-test",
    }
    process = ReferenceApp(pg.server.dsn(), workdir / "app.log", settings)
    process.start()
    yield process
    process.close()


@pytest.fixture(scope="module")
def app_b(pg, workdir, redis_server, app):
    """A second replica on the same PostgreSQL and Redis (after `app`, which migrated the schema)."""
    process = ReferenceApp(pg.server.dsn(), workdir / "app-b.log", {
        "REDIS_URI": redis_server.uri(), "RUN_LOCK_TTL_SECONDS": str(LOCK_TTL),
        "LANGGRAPH_POSTGRES_POOL_MAX_SIZE": "4", "N_JOBS_PER_WORKER": "4"})
    process.start()
    yield process
    process.close()


# --- runs over HTTP ---------------------------------------------------------------------------

def test_run_completes(app):
    response = app.run("support_ticket", ticket="Urgent: the export crashes", customer_id="vip-7")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success" and body["interrupts"] == []
    assert body["values"] | {"outcome": "replied", "category": "technical", "priority": "high",
                             "customer_tier": "gold"} == body["values"]


def test_run_fails_on_demand_and_the_failure_is_persisted(app):
    response = app.run("support_ticket", ticket="broken", fail=True)
    assert response.status_code == 500
    body = response.json()
    assert body["status"] == "error"
    assert body["error"]["type"] == "DemandedFailure"
    # The failed node is still pending in the thread's last checkpoint.
    state = app.client.get(f"/threads/{body['thread_id']}/state").json()
    assert state["next"] == ["draft_reply"]
    assert state["values"]["category"] == "general"


def test_flaky_node_is_retried_until_it_succeeds_or_attempts_run_out(app):
    before = app.metrics()
    recovered = app.run("support_ticket", ticket="slow lookup", flaky=2)
    assert recovered.status_code == 200 and recovered.json()["status"] == "success"
    exhausted = app.run("support_ticket", ticket="dead lookup", flaky=3)  # RETRY_MAX_ATTEMPTS defaults to 3
    assert exhausted.status_code == 500
    assert exhausted.json()["error"]["type"] == "TransientBackendError"
    after = app.metrics()
    labels = {"graph_name": "support_ticket", "node_name": "lookup_customer", "exception_type": "TransientBackendError"}
    # Two retries for each run: the third attempt of flaky=2 succeeded, that of flaky=3 failed for good.
    assert value(after, "langgraph_retries_total", **labels) - value(before, "langgraph_retries_total", **labels) == 4


def test_interrupt_then_resume(app):
    response = app.run("support_ticket", ticket="please refund my invoice", review=True)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "interrupted"
    assert [item["value"]["reason"] for item in body["interrupts"]] == ["approval_required"]
    thread = body["thread_id"]
    state = app.client.get(f"/threads/{thread}/state").json()
    assert state["next"] == ["human_review"] and state["interrupts"][0]["value"]["reason"] == "approval_required"

    resumed = app.resume("support_ticket", thread, {"approved": False})
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["status"] == "success"
    assert resumed.json()["values"]["outcome"] == "escalated"
    again = app.resume("support_ticket", thread, {"approved": True})
    assert again.status_code == 409 and again.json()["error"] == "not_interrupted"


def test_invalid_requests_are_refused_and_count_nothing(app):
    before = app.metrics()
    assert app.run("no_such_graph", ticket="x").status_code == 404
    assert app.run("support_ticket", ticket=5).status_code == 422
    assert app.run("support_ticket", surprise=True).status_code == 422
    assert app.run("support_ticket", flaky=99).status_code == 422
    assert app.resume("support_ticket", "never-ran", True).status_code == 404
    owned = app.run("order_refund", order_id="o-1", amount=10.0).json()["thread_id"]
    mismatch = app.run("support_ticket", thread_id=owned, ticket="x")
    assert mismatch.status_code == 409 and mismatch.json()["error"] == "thread_graph_mismatch"
    # The official server's strategy field: only `reject` is what this app does.
    enqueue = app.client.post("/runs/wait", json={"assistant_id": "order_refund", "multitask_strategy": "enqueue",
                                                  "input": {"order_id": "o-2", "amount": 1.0}})
    assert enqueue.status_code == 422 and "multitask_strategy" in enqueue.json()["message"]
    after = app.metrics()
    executions = [sum(s.value for s in families["langgraph_executions_total"]) for families in (before, after)]
    assert executions[1] - executions[0] == 1  # the order_refund run only
    rejected = app.client.post("/runs/wait", json={"assistant_id": "order_refund", "multitask_strategy": "reject",
                                                   "input": {"order_id": "o-3", "amount": 1.0}})
    assert rejected.status_code == 200, rejected.text


def test_runs_beyond_the_concurrency_bound_wait(app):
    delay, runs = 0.6, 2 * CONCURRENCY
    active: list[float] = []
    started = time.monotonic()
    with ThreadPoolExecutor(runs) as pool:
        futures = [pool.submit(app.run, "order_refund", order_id=f"c-{i}", amount=5.0, delay=delay)
                   for i in range(runs)]
        while not all(future.done() for future in futures):
            active.append(value(app.metrics(), "langgraph_active_graphs"))
        responses = [future.result() for future in futures]
    elapsed = time.monotonic() - started
    assert all(r.status_code == 200 for r in responses)
    # N_JOBS_PER_WORKER=2: never more than two runs at once, and the other two wait for a slot.
    assert max(active) == CONCURRENCY
    assert elapsed >= 2 * delay
    assert value(app.metrics(), "langgraph_active_graphs") == 0


# --- metrics ----------------------------------------------------------------------------------

def test_metrics_have_the_seed_names_labels_and_the_counts_the_runs_imply(app, pg):
    before, rows_before = app.metrics(), pg.checkpoint_rows()
    plan = [dict(order_id="m-1", amount=100.0), dict(order_id="m-2", amount=100.0),
            dict(order_id="m-3", amount=100.0, fail=True), dict(order_id="m-4", amount=100.0, flaky=1),
            dict(order_id="m-5", amount=900.0)]
    statuses = [app.run("order_refund", **inputs).json() for inputs in plan]
    assert [s["status"] for s in statuses] == ["success", "success", "error", "success", "interrupted"]
    assert app.resume("order_refund", statuses[-1]["thread_id"], {"approved": True}).json()["status"] == "success"
    after, rows_after = app.metrics(), pg.checkpoint_rows()

    for family, labels in SEED_METRICS.items():
        assert after.get(family), f"{family} missing from /metrics"
        for sample in after[family]:
            assert set(sample.labels) - {"le"} == labels, (family, sample.labels)

    def delta(sample: str, **labels: str) -> float:
        return value(after, sample, **labels) - value(before, sample, **labels)

    graph = {"graph_name": "order_refund"}
    assert delta("langgraph_executions_total", **graph, status="success") == 4  # m-1, m-2, m-4, m-5 resumed
    assert delta("langgraph_executions_total", **graph, status="error") == 1
    assert delta("langgraph_executions_total", **graph, status="interrupted") == 1
    assert delta("langgraph_execution_duration_seconds_count", **graph) == 6
    assert value(after, "langgraph_active_graphs") == 0
    nodes = {"validate_order": 5, "check_eligibility": 6, "manager_approval": 6, "issue_refund": 5}
    for node, count in nodes.items():  # the resume re-runs manager_approval; m-4's retry re-runs check_eligibility
        assert delta("langgraph_node_execution_seconds_count", **graph, node_name=node) == count, node
    assert delta("langgraph_interrupts_total", **graph, node_name="manager_approval", reason="amount_over_limit") == 1
    assert delta("langgraph_retries_total", **graph, node_name="check_eligibility",
                 exception_type="TransientBackendError") == 1
    saves = delta("langgraph_checkpoint_saves_total", backend_type="postgres", status="success")
    # Every counted save is a row LangGraph really wrote to PostgreSQL.
    assert saves == rows_after - rows_before > 0
    assert delta("langgraph_checkpoint_saves_total", backend_type="postgres", status="error") == 0

    bounds = {float(s.labels["le"]) for s in after["langgraph_execution_duration_seconds"]
              if s.name.endswith("_bucket")}
    assert 30.0 in bounds and max(bounds - {float("inf")}) >= 300  # the P95 > 30 s alert is exact; minutes fit


def test_a_failed_checkpoint_write_is_counted_as_an_error(app, pg):
    # A trigger makes PostgreSQL refuse this one thread's checkpoints: a real failed write.
    pg.server.psql("""
        CREATE OR REPLACE FUNCTION refuse_checkpoint() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN RAISE EXCEPTION 'checkpoint refused for the test'; END $$;
        CREATE TRIGGER refuse_poisoned BEFORE INSERT ON checkpoints FOR EACH ROW
        WHEN (NEW.thread_id = 'poisoned-thread') EXECUTE FUNCTION refuse_checkpoint();
    """)
    try:
        before = app.metrics()
        response = app.run("order_refund", thread_id="poisoned-thread", order_id="p-1", amount=1.0)
        after = app.metrics()
    finally:
        pg.server.psql("DROP TRIGGER refuse_poisoned ON checkpoints")
    assert response.status_code == 500
    errors = {"backend_type": "postgres", "status": "error"}
    assert value(after, "langgraph_checkpoint_saves_total", **errors) - \
        value(before, "langgraph_checkpoint_saves_total", **errors) == 1
    failed = [line for line in app.log_lines() if line.get("event") == "checkpoint_save_failed"
              and line.get("thread_id") == "poisoned-thread"]
    assert failed and failed[0]["success"] is False and failed[0]["backend"] == "postgres"


# --- persistence, health ----------------------------------------------------------------------

def test_thread_state_survives_an_app_restart(app, pg):
    body = app.run("order_refund", order_id="r-1", amount=750.0).json()
    assert body["status"] == "interrupted"
    thread = body["thread_id"]
    state_before = app.client.get(f"/threads/{thread}/state").json()
    assert int(pg.server.psql(f"SELECT count(*) FROM checkpoints WHERE thread_id = '{thread}'")) > 0

    app.stop()
    app.start()
    state_after = app.client.get(f"/threads/{thread}/state").json()
    assert state_after == state_before
    assert state_after["next"] == ["manager_approval"]
    resumed = app.resume("order_refund", thread, {"approved": True})
    assert resumed.json()["values"]["refund_id"] == "rf-r-1"


def test_replicas_starting_together_migrate_the_checkpoint_schema_once(pg):
    pg.server.psql("CREATE DATABASE replicas")
    settings = load_settings({"DATABASE_URI": pg.server.dsn("replicas"), "LANGGRAPH_POSTGRES_POOL_MAX_SIZE": "2"})

    async def replica() -> None:
        pool = create_pool(settings)
        await pool.open(wait=True)
        try:
            await prepare_schema(pool, timeout_seconds=10)
        finally:
            await pool.close()

    async def start_together() -> None:
        await asyncio.gather(*(replica() for _ in range(3)))

    asyncio.run(start_together())
    # A lock left behind (a session lock through PgBouncer's transaction mode can linger on a
    # server connection) must not hold back a replica once the schema is current.
    with psycopg.connect(pg.server.dsn("replicas"), autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK_KEY,))
        asyncio.run(replica())
    migrations = len(AsyncPostgresSaver.MIGRATIONS)
    assert pg.server.psql("SELECT count(*), count(DISTINCT v), max(v) FROM checkpoint_migrations",
                          database="replicas") == f"{migrations}|{migrations}|{migrations - 1}"
    assert pg.server.psql("SELECT count(*) FROM pg_index WHERE NOT indisvalid", database="replicas") == "0"


def test_ok_and_the_deep_check_follow_the_database(app, pg):
    assert app.client.get("/ok").json() == {"ok": True}
    assert app.client.get("/ok?check_db=1").status_code == 200
    pg.server.stop()
    try:
        started = time.monotonic()
        down = app.client.get("/ok?check_db=1")
        assert down.status_code == 503 and down.json()["error"] == "database_unreachable"
        assert time.monotonic() - started < HEALTH_TIMEOUT + 4  # HEALTH_CHECK_TIMEOUT, not the 15 s pool timeout
        # Liveness must not restart pods because the database is down.
        assert app.client.get("/ok").status_code == 200
    finally:
        pg.restart()
    wait_for(lambda: app.client.get("/ok?check_db=1").status_code == 200, timeout=20, what="deep check recovered")


# --- one run per thread across replicas (Redis) ------------------------------------------------

def _thread() -> str:
    return f"t-{uuid.uuid4()}"


def _rejected(families: dict[str, list], graph: str, reason: str) -> float:
    return value(families, "langgraph_runs_rejected_total", graph_name=graph, reason=reason)


def _wait_until(moment: float) -> None:
    """Let time pass up to `moment` (time.monotonic()): what is under test is a lock outliving its TTL."""
    time.sleep(max(0.0, moment - time.monotonic()))


def test_a_busy_thread_is_refused_by_every_replica_until_its_run_ends(app, app_b, rc):
    thread = _thread()
    key = LOCK_KEY.format(thread)
    before = app_b.metrics()
    with ThreadPoolExecutor(1) as pool:
        started = time.monotonic()
        # Three TTLs long: the lock outlives its TTL only because the run renews it.
        first = pool.submit(app.run, "order_refund", thread_id=thread, order_id="b-1", amount=1.0, delay=3 * LOCK_TTL)
        wait_for(lambda: rc.exists(key), timeout=10, interval=0.01, what="the run's lock in Redis")
        holder = rc.get(key)
        _wait_until(started + 1.5 * LOCK_TTL)
        other_replica = app_b.run("order_refund", thread_id=thread, order_id="b-2", amount=1.0)
        same_replica = app.run("order_refund", thread_id=thread, order_id="b-3", amount=1.0)
        # The lock comes before the thread's state is read: a resume is refused as busy, not as unknown.
        resume = app_b.resume("order_refund", thread, {"approved": True})
        assert rc.get(key) == holder
        done = first.result()
    assert done.status_code == 200 and done.json()["status"] == "success"
    assert holder == done.json()["run_id"]  # the lock names the run that holds it
    for refused in (other_replica, same_replica, resume):
        assert refused.status_code == 409, refused.text
        body = refused.json()
        assert body["error"] == "thread_busy" and body["thread_id"] == thread and thread in body["message"]
    # Released at the end (compare-and-delete), not left to expire: the next run starts at once.
    assert not rc.exists(key)
    # delay=0: the thread's state keeps the first run's delay otherwise.
    assert app_b.run("order_refund", thread_id=thread, order_id="b-4", amount=1.0, delay=0).status_code == 200
    after = app_b.metrics()
    assert _rejected(after, "order_refund", "thread_busy") - _rejected(before, "order_refund", "thread_busy") == 2
    assert value(after, "langgraph_executions_total", graph_name="order_refund", status="success") - \
        value(before, "langgraph_executions_total", graph_name="order_refund", status="success") == 1
    lines = [line for line in app_b.log_lines() if line["event"] == "run_rejected" and line.get("thread_id") == thread]
    assert len(lines) == 2 and {line["reason"] for line in lines} == {"thread_busy"}
    assert lines[0]["graph_name"] == "order_refund" and lines[0]["level"] == "warning"


def test_a_run_without_a_thread_id_locks_the_thread_it_creates(app, app_b, rc):
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(app.run, "order_refund", order_id="n-1", amount=1.0, delay=2 * LOCK_TTL)
        wait_for(lambda: rc.keys(LOCK_KEY.format("*")), timeout=10, interval=0.01, what="the new thread's lock")
        [key] = rc.keys(LOCK_KEY.format("*"))
        thread = key.removeprefix(LOCK_KEY.format(""))
        refused = app_b.run("order_refund", thread_id=thread, order_id="n-2", amount=1.0)
        done = first.result()
    assert done.json()["thread_id"] == thread
    assert refused.status_code == 409 and refused.json()["thread_id"] == thread


def test_the_lock_of_a_killed_replica_expires_after_its_ttl(app, app_b, rc):
    thread = _thread()
    key = LOCK_KEY.format(thread)
    with ThreadPoolExecutor(1) as pool:
        doomed = pool.submit(app_b.run, "order_refund", thread_id=thread, order_id="k-1", amount=1.0, delay=60)
        wait_for(lambda: rc.exists(key), timeout=10, interval=0.01, what="replica B's lock")
        try:
            app_b.stop(signal.SIGKILL)  # a crash: nothing released
            killed = time.monotonic()
            assert 0 < rc.pttl(key) <= LOCK_TTL * 1000
            assert app.run("order_refund", thread_id=thread, order_id="k-2", amount=1.0).status_code == 409
            # delay=0: the state B may have written keeps its 60 s otherwise.
            wait_for(lambda: app.run("order_refund", thread_id=thread, order_id="k-3", amount=1.0,
                                     delay=0).status_code == 200,
                     timeout=LOCK_TTL + 10, interval=0.05, what="the thread free again")
            freed_after = time.monotonic() - killed
        finally:
            app_b.start()
        assert doomed.exception() is not None  # B's client lost its connection
    assert freed_after < LOCK_TTL + 1  # the TTL, not a leak: PTTL was at most one TTL at the kill


def test_a_run_whose_lock_is_taken_over_is_cancelled_and_frees_nothing(app, rc):
    thread = _thread()
    key = LOCK_KEY.format(thread)
    delay = 10 * LOCK_TTL
    with ThreadPoolExecutor(1) as pool:
        started = time.monotonic()
        run = pool.submit(app.run, "order_refund", thread_id=thread, order_id="o-1", amount=1.0, delay=delay)
        wait_for(lambda: rc.exists(key), timeout=10, interval=0.01, what="the run's lock")
        # As after an eviction or a failover that lost the key, and another run taking the thread.
        rc.set(key, "another-run")
        response = run.result()
    assert response.status_code == 500 and response.json()["error"]["type"] == "RunLockLost"
    assert time.monotonic() - started < delay / 2  # cancelled at the next renewal, not at the end
    assert rc.get(key) == "another-run"  # its release deleted only its own lock
    rc.delete(key)
    assert any(line["event"] == "run_lock_lost" and line.get("thread_id") == thread for line in app.log_lines())


def test_without_redis_no_run_starts_and_the_pod_is_not_ready(app, redis_server: RedisServer, rc):
    thread = _thread()
    key = LOCK_KEY.format(thread)
    delay = 10 * LOCK_TTL
    before = app.metrics()
    with ThreadPoolExecutor(1) as pool:
        started = time.monotonic()
        running = pool.submit(app.run, "order_refund", thread_id=thread, order_id="r-1", amount=1.0, delay=delay)
        wait_for(lambda: rc.exists(key), timeout=10, interval=0.01, what="the run's lock")
        redis_server.stop()
        try:
            refused = app.run("order_refund", order_id="r-2", amount=1.0)
            health_started = time.monotonic()
            health = app.client.get("/ok?check_db=1")
            health_seconds = time.monotonic() - health_started
            live = app.client.get("/ok")
            # The run in flight can no longer renew its lock: it is cancelled before the lock could expire.
            interrupted = running.result()
            interrupted_after = time.monotonic() - started
        finally:
            redis_server.start()
    assert refused.status_code == 503 and refused.json()["error"] == "redis_unavailable", refused.text
    assert health.status_code == 503 and health.json()["error"] == "redis_unreachable"
    assert health_seconds < HEALTH_TIMEOUT + 2 and live.status_code == 200
    assert interrupted.status_code == 500 and interrupted.json()["error"]["type"] == "RunLockLost"
    assert interrupted_after < delay / 2
    after = app.metrics()
    graph = {"graph_name": "order_refund"}
    assert _rejected(after, "order_refund", "lock_unavailable") - _rejected(before, "order_refund", "lock_unavailable") == 1
    # The refused run never started: the only new execution is the cancelled one.
    assert sum(value(after, "langgraph_executions_total", **graph, status=status)
               - value(before, "langgraph_executions_total", **graph, status=status)
               for status in ("success", "error", "interrupted")) == 1
    assert REDIS_PASSWORD not in refused.text + health.text + app.log.read_text()
    wait_for(lambda: app.client.get("/ok?check_db=1").status_code == 200, timeout=10, what="ready again")
    assert app.run("order_refund", order_id="r-3", amount=1.0).status_code == 200


def test_run_locks_on_a_cluster_mode_redis(tmp_path):
    nodes = start_cluster(tmp_path)
    settings = load_settings({"DATABASE_URI": "postgresql://unused", "REDIS_URI": nodes[0].uri(),
                              "REDIS_CLUSTER": "true", "REDIS_KEY_PREFIX": "app-1:", "RUN_LOCK_TTL_SECONDS": "0.3"})
    threads = [f"thread-{index}" for index in range(8)]

    async def exercise() -> None:
        locks = RunLocks(create_client(settings), settings.run_lock_ttl_seconds, settings.redis_key_prefix)
        try:
            await locks.ping()
            async with contextlib.AsyncExitStack() as held:
                leases = [await held.enter_async_context(locks.hold("g", thread, f"run-{thread}")) for thread in threads]
                with pytest.raises(ThreadBusy):
                    async with locks.hold("g", threads[0], "another-run"):
                        pass
                # Renewed past their TTL (0.3 s) while held, on whichever node owns each key.
                assert await leases[0].guard(asyncio.sleep(1.0, "done")) == "done"
                assert not any(lease.lost for lease in leases)
                per_node = [node.client().dbsize() for node in nodes]
                assert sum(per_node) == len(threads) and sum(1 for keys in per_node if keys) >= 2, per_node
            assert [node.client().dbsize() for node in nodes] == [0] * len(nodes)  # all released
        finally:
            await locks.close()

    try:
        asyncio.run(exercise())
    finally:
        for node in nodes:
            node.stop()


def test_lock_errors_name_no_password(redis_server):
    wrong = "wrong-secret-password"
    settings = load_settings({"DATABASE_URI": "postgresql://unused", "REDIS_URI": redis_server.uri(password=wrong)})

    async def try_lock() -> LockUnavailable:
        locks = RunLocks(create_client(settings), 1.0)
        try:
            with pytest.raises(LockUnavailable) as caught:
                async with locks.hold("g", "t", "run"):
                    pass
            return caught.value
        finally:
            await locks.close()

    refused = asyncio.run(try_lock())
    assert "AuthenticationError" in str(refused) and wrong not in str(refused)
    with pytest.raises(SettingsError) as bad:
        load_settings({"DATABASE_URI": "postgresql://unused", "REDIS_URI": f"http://user:{wrong}@cache:6379"})
    assert "REDIS_URI" in str(bad.value) and wrong not in str(bad.value)


# --- operator flag ----------------------------------------------------------------------------

def test_disabled_graphs_file_takes_effect(app, workdir):
    flag = workdir / "disabled-graphs"
    flag.write_text("# written by auto-recovery\norder_refund\n")
    wait_for(lambda: app.run("order_refund", order_id="d-0", amount=1.0).status_code == 503,
             timeout=10, what="order_refund disabled")
    before = app.metrics()
    refused = app.run("order_refund", order_id="d-1", amount=1.0)
    assert refused.status_code == 503
    assert refused.json()["error"] == "graph_disabled" and "order_refund" in refused.json()["message"]
    assert app.run("support_ticket", ticket="still served").status_code == 200
    after = app.metrics()
    graph = {"graph_name": "order_refund"}
    for status in ("success", "error", "interrupted"):
        assert value(after, "langgraph_executions_total", **graph, status=status) == \
            value(before, "langgraph_executions_total", **graph, status=status)
    assert any(line.get("event") == "graph_disabled" and line.get("graph_name") == "order_refund"
               for line in app.log_lines())

    flag.write_text("")
    wait_for(lambda: app.run("order_refund", order_id="d-2", amount=1.0).status_code == 200,
             timeout=10, what="order_refund re-enabled")


# --- traces and logs --------------------------------------------------------------------------

def test_spans_reach_the_otlp_endpoint(app, otlp):
    parent_trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    headers = {"traceparent": f"00-{parent_trace}-00f067aa0ba902b7-01"}
    run_id = app.run("support_ticket", headers=headers, ticket="trace me").json()["run_id"]

    def run_span():
        for service, span in otlp.spans():
            attributes = {a.key: a.value.string_value for a in span.attributes}
            if span.name == "run support_ticket" and attributes.get("langgraph.execution_id") == run_id:
                return service, span
        return None

    wait_for(lambda: run_span() is not None, timeout=10, what="the run's span at the OTLP receiver")
    service, root = run_span()
    assert service == "refapp-under-test"
    assert root.trace_id.hex() == parent_trace  # the caller's trace continues (W3C traceparent)

    def node_spans():
        return {span.name.removeprefix("node "): span for _, span in otlp.spans()
                if span.trace_id == root.trace_id and span.name.startswith("node ")}

    wait_for(lambda: set(node_spans()) == SUPPORT_NODES, timeout=10, what="a span per node")
    assert all(span.parent_span_id == root.span_id for span in node_spans().values())
    # The run's log lines carry the same trace id, so a log line leads to its trace.
    start = next(line for line in app.log_lines()
                 if line.get("execution_id") == run_id and line["event_type"] == "graph_start")
    assert start["trace_id"] == parent_trace and start["span_id"] == root.span_id.hex()


def test_every_log_line_is_json_with_the_documented_fields_and_types(app):
    # Every event type at least once, whatever ran before.
    app.run("support_ticket", ticket="ok")
    app.run("support_ticket", ticket="boom", fail=True)
    app.run("support_ticket", ticket="wait", review=True)
    lines = app.log.read_text().splitlines()
    assert len(lines) > 50
    seen = set()
    for text in lines:
        line = json.loads(text)  # raises on any line that is not JSON
        assert isinstance(line, dict)
        assert {"event", "event_type", "level", "timestamp", "logger"} <= set(line), line
        assert set(line) <= set(LOG_FIELDS), f"undocumented fields {set(line) - set(LOG_FIELDS)} in {line}"
        for name, field_value in line.items():
            expected = JSON_TYPES[LOG_FIELDS[name]]
            # bool is an int in Python, but not in JSON or Elasticsearch.
            assert isinstance(field_value, expected) and (expected is bool or not isinstance(field_value, bool)), \
                (name, field_value)
        assert line["event_type"] in EVENT_TYPES
        stamp = datetime.fromisoformat(line["timestamp"].replace("Z", "+00:00"))
        assert stamp.utcoffset() == timedelta(0)
        if line["event_type"] in SEED_EVENT_TYPES:
            assert {"graph_name", "execution_id", "trace_id", "span_id"} <= set(line), line
            assert re.fullmatch(r"[0-9a-f]{32}", line["trace_id"]) and re.fullmatch(r"[0-9a-f]{16}", line["span_id"])
        seen.add(line["event_type"])
    assert SEED_EVENT_TYPES | {"service"} <= seen
    assert any(line.get("event") == "node_executed" and line.get("status") == "error"
               and line.get("exception_type") == "DemandedFailure" for line in map(json.loads, lines))
    assert set(LOG_FIELDS.values()) <= set(JSON_TYPES)


# --- pure parts -------------------------------------------------------------------------------

def test_concurrency_knob_and_its_seed_alias():
    base = {"DATABASE_URI": "postgresql://app:fake@db/app"}
    assert load_settings(base).max_concurrent_runs == 10  # the official server's default
    assert load_settings(base | {"MAX_CONCURRENT_EXECUTIONS": "50"}).max_concurrent_runs == 50
    assert load_settings(base | {"MAX_CONCURRENT_EXECUTIONS": "50", "N_JOBS_PER_WORKER": "4"}).max_concurrent_runs == 4
    assert load_settings(base).pool_max_size == 150
    assert load_settings({"POSTGRES_URI": "postgresql://fallback"}).database_uri == "postgresql://fallback"
    plain = load_settings(base)
    assert (plain.redis_uri, plain.redis_cluster, plain.run_lock_ttl_seconds, plain.redis_max_connections,
            plain.redis_timeout_seconds) == (None, False, 30.0, 2000, 5.0)
    with pytest.raises(SettingsError, match="REDIS_CLUSTER"):
        load_settings(base | {"REDIS_URI": "unix:///run/redis.sock", "REDIS_CLUSTER": "true"})
    for bad in ({"N_JOBS_PER_WORKER": "0"}, {"LANGGRAPH_POSTGRES_POOL_MAX_SIZE": "many"}, {"RETRY_JITTER": "maybe"},
                {"RUN_LOCK_TTL_SECONDS": "0"}, {"REDIS_TIMEOUT": "-1"}):
        with pytest.raises(SettingsError, match=next(iter(bad))):
            load_settings(base | bad)
    with pytest.raises(SettingsError, match="DATABASE_URI"):
        load_settings({})


def test_node_and_run_timeouts_fail_the_run():
    settings = load_settings({"DATABASE_URI": "postgresql://unused", "NODE_TIMEOUT": "0.2", "BG_JOB_TIMEOUT_SECS": "0.3"})
    metrics = Metrics()
    instrumentation = Instrumentation(metrics)
    graph = GRAPHS["order_refund"].build(instrumentation, node_options(settings)).compile(checkpointer=InMemorySaver())
    slow = {"order_id": "t-1", "amount": 1.0, "delay": 20.0}
    with pytest.raises(NodeTimeoutError):  # NODE_TIMEOUT bounds one node attempt
        asyncio.run(graph.ainvoke(slow, run_config("order_refund", "00000000-0000-4000-8000-000000000001", "t-1")))

    async def whole_run() -> tuple[object, float]:  # BG_JOB_TIMEOUT_SECS bounds the run, whatever its nodes do
        patient = node_options(dataclasses.replace(settings, node_timeout_seconds=60.0))
        graphs = {"order_refund": GRAPHS["order_refund"].build(instrumentation, patient).compile(
            checkpointer=InMemorySaver())}
        runner = Runner(graphs, metrics, instrumentation, 1, settings.run_timeout_seconds)
        started = time.monotonic()
        result = await runner.run("order_refund", "t-2", slow)
        return result, time.monotonic() - started

    result, elapsed = asyncio.run(whole_run())
    assert result.status == "error" and result.error_type == "TimeoutError"
    assert elapsed < 10  # the 20 s delay was cut short


def test_disabled_graphs_are_parsed_and_reread_only_after_the_refresh_interval(tmp_path):
    assert parse_disabled("a, b\n# c\nd # e\n\n") == {"a", "b", "d"}
    flag, now = tmp_path / "flag", [0.0]
    flag.write_text("x")
    disabled = DisabledGraphs(str(flag), refresh_seconds=5, clock=lambda: now[0])
    assert disabled.current() == {"x"}
    flag.write_text("y")
    now[0] = 4.9
    assert disabled.current() == {"x"}
    now[0] = 5.0
    assert disabled.current() == {"y"}
    flag.unlink()
    now[0] = 10.0
    assert disabled.current() == frozenset()


def test_log_fields_import_without_the_app_dependencies():
    # The Pulumi program generates the Elasticsearch index template from this module.
    code = "import sys, reference_app.refapp.log_fields; assert 'langgraph' not in sys.modules and 'structlog' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_dockerfile_is_pinned_non_root_and_probe_free():
    by_name: dict[str, str] = {}
    for line in (APP_DIR / "Dockerfile").read_text().splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):  # instructions, not continuations
            name, _, rest = line.partition(" ")
            by_name.setdefault(name.upper(), rest.strip())
    assert re.fullmatch(r"python:3\.11\.\d+-slim-[a-z]+@sha256:[0-9a-f]{64}", by_name["FROM"])
    user = by_name["USER"].split(":")[0]
    assert user.isdigit() and int(user) >= 1000
    assert by_name["EXPOSE"] == "8000"
    assert "HEALTHCHECK" not in by_name
    assert re.search(r"^RUN pip install .*-r requirements\.txt -c constraints\.txt$",
                     (APP_DIR / "Dockerfile").read_text(), re.MULTILINE)


def _pins(name: str) -> dict[str, str]:
    """`package==version` lines of a requirements file, names normalized (PEP 503)."""
    pins = {}
    for line in (APP_DIR / name).read_text().splitlines():
        if line and not line.startswith("#"):
            match = re.fullmatch(r"([A-Za-z0-9_.\-]+)(\[[a-z,]+\])?==([0-9][0-9A-Za-z.]*)", line)
            assert match, f"{name}: {line!r} is not an exact pin"
            pins[re.sub(r"[-_.]+", "-", match[1]).lower()] = match[3]
    return pins


def test_the_image_installs_exactly_the_tested_versions():
    required, constrained = _pins("requirements.txt"), _pins("constraints.txt")
    # constraints.txt must be regenerated when requirements.txt changes (README.md says how).
    assert {name: constrained.get(name) for name in required} == required
    assert {name: version(name) for name in constrained} == constrained  # what this test venv runs
