"""Observability end to end, in real engines: Debian's Prometheus loads the program's rendered rules
and scrapes the reference app, the official LangGraph server, a real PostgreSQL (with a streaming
standby and WAL archiving) through postgres_exporter and a real Redis group with Sentinels through
redis_exporter; Debian's Alertmanager, on the program's rendered routing, posts to webhook
receivers served by this test.

While it runs, the test drives real graph runs (a quarter of one graph's runs fail, none of the
other's) and holds PostgreSQL connections up to 90% of a small `max_connections`. Then every
dashboard query returns data, every rule evaluates without error, the error-rate alert fires for
the failing graph only and pages, the connection alert fires and goes to chat, and the Watchdog
reaches the dead-man's switch.

The one change to the rendered rules: the `for` of the two alerts under test is cut from 2m to
`SHORT_FOR` in the test's copy of the rules file (RuleParams has no knob for it), so that they fire
within seconds; their expressions and thresholds are the program's.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from components.monitoring.alertmanager import CHAT, DEADMAN, PAGER, RoutingParams, Webhook, alertmanager_config_yaml
from components.monitoring.dashboards import promql_expressions
from components.monitoring.rules import RuleParams, rules_file, to_yaml
from components.redis.sentinel_config import RedisSentinelSpec
from tests.engines.alertmanager import AlertmanagerServer, WebhookReceiver, start_alertmanager
from tests.engines.exporters import ExporterProcess, start_exporter
from tests.engines.langgraph_server import LangGraphServer, start_server
from tests.engines.pg_standby import new_standby
from tests.engines.postgres import PostgresServer, new_server
from tests.engines.procs import wait_for
from tests.engines.prometheus import PrometheusServer, PrometheusSettings, Target, start_prometheus
from tests.engines.redis import PASSWORD as REDIS_PASSWORD
from tests.engines.redis import RedisGroup
from tests.engines.reference_app import ReferenceApp, start_app

APP_NS, DATA_NS = "langgraph", "langgraph-data"
# The webhook receiver's path for each receiver of the rendered routing.
PAGER_PATH, CHAT_PATH, DEADMAN_PATH = f"/{PAGER}", f"/{CHAT}", f"/{DEADMAN}"
PARAMS = RuleParams(runbook_base_url="https://runbooks.example.com/langgraph/", postgres="postgres_exporter")
SHORT_FOR = "5s"
SHORTENED = ("LangGraphHighErrorRate", "LangGraphDatabaseConnections")
MAX_CONNECTIONS = 20
HELD_SHARE = 0.9  # connections held, as a share of max_connections: above the alert's 80%
FAILING, HEALTHY = "order_refund", "support_ticket"
# One wave of runs per graph: FAILING fails 2 of 8 (25%, the alert's threshold is 5%), HEALTHY
# none; both retry once and interrupt once, so that the node, retry and interrupt panels have data.
WAVE: dict[str, list[dict[str, Any]]] = {
    FAILING: [{"order_id": f"o-{i}", "amount": 40.0} for i in range(4)]
    + [{"order_id": "o-fail-1", "amount": 40.0, "fail": True}, {"order_id": "o-fail-2", "amount": 40.0, "fail": True},
       {"order_id": "o-flaky", "amount": 40.0, "flaky": 1}, {"order_id": "o-large", "amount": 900.0}],
    HEALTHY: [{"ticket": f"question {i}", "customer_id": f"c-{i}"} for i in range(6)]
    + [{"ticket": "slow lookup", "customer_id": "c-7", "flaky": 1},
       {"ticket": "refund please", "customer_id": "c-8", "review": True}],
}
WAVE_EXECUTIONS = sum(len(runs) for runs in WAVE.values())
SERVER_RUNS = 3  # per wave, through the official server
EXPECTED_STATUS = {FAILING: ["success"] * 4 + ["error", "error", "success", "interrupted"],
                   HEALTHY: ["success"] * 7 + ["interrupted"]}
ALERT_WITHIN_S = 45.0
QUERY_DATA_WITHIN_S = 15.0

# Dashboard queries that cannot have data here, and why. The official server runs on its in-memory
# runtime (the postgres runtime, with its Go core, ships only in the licensed image), which records
# neither queue depth nor queue wait nor any pool metric. Everything else, replication lag (a real
# standby), Sentinel quorum (real Sentinels) and WAL archive age (a real archiver) included, has data.
_GO_CORE = "recorded by the server's Go core (postgres runtime) only, not by the in-memory runtime"
_NO_PG_POOL = "the in-memory runtime has no PostgreSQL pool"
_NO_REDIS_POOL = "the in-memory runtime has no Redis pool"
NO_DATA_HERE = {
    "langgraph-server / Runs pending and running / A": _GO_CORE,
    "langgraph-server / Runs pending and running / B": _GO_CORE,
    "langgraph-server / Queue wait P95 (first attempt) / A": _GO_CORE,
    "langgraph-server / Postgres pool size vs max by pod / A": _NO_PG_POOL,
    "langgraph-server / Postgres pool size vs max by pod / B": _NO_PG_POOL,
    "langgraph-server / Postgres pool requests queued and failed / A": _NO_PG_POOL,
    "langgraph-server / Postgres pool requests queued and failed / B": _NO_PG_POOL,
    "langgraph-server / Redis pool in use vs max by pod / A": _NO_REDIS_POOL,
    "langgraph-server / Redis pool in use vs max by pod / B": _NO_REDIS_POOL,
}


def rules_for_test() -> str:
    """The rendered rules file with `for: SHORT_FOR` on the alerts under test, everything else as rendered."""
    spec = yaml.safe_load(rules_file(PARAMS))
    changed = []
    for group in spec["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") in SHORTENED:
                rule["for"] = SHORT_FOR
                changed.append(rule["alert"])
    if sorted(changed) != sorted(SHORTENED):
        raise AssertionError(f"the rendered rules no longer have exactly {SHORTENED}: found {changed}")
    return to_yaml(spec)


# --- the engines ------------------------------------------------------------------------------------


@dataclass
class Postgres:
    """Primary (small max_connections, WAL archived to a directory), a streaming standby, the exporter."""

    primary: PostgresServer
    standby: PostgresServer
    exporter: ExporterProcess


def _start_postgres(stack: ExitStack, logs: Path) -> Postgres:
    archive = Path(tempfile.mkdtemp(prefix="lg-wal-archive-"))
    stack.callback(shutil.rmtree, archive, ignore_errors=True)
    os.chmod(archive, 0o777)  # written by the server's user (postgres, under root)
    primary = new_server({"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
                          "max_connections": str(MAX_CONNECTIONS),
                          "archive_mode": "on", "archive_command": f"'cp %p {archive}/%f'"})
    stack.callback(primary.cleanup)
    stack.callback(primary.stop, signal.SIGQUIT)  # immediate shutdown: the data is thrown away
    standby = new_standby(primary)
    stack.callback(standby.cleanup)
    stack.callback(standby.stop, signal.SIGQUIT)
    # A completed segment for the archiver's statistics (pg_stat_archiver_last_archive_age).
    primary.psql("SELECT pg_switch_wal()")
    wait_for(lambda: int(primary.psql("SELECT archived_count FROM pg_stat_archiver")) > 0,
             what="a WAL segment archived")
    exporter = start_exporter(["prometheus-postgres-exporter"], logs / "postgres-exporter.log",
                              env={**os.environ, "DATA_SOURCE_NAME": primary.dsn() + "?sslmode=disable"})
    stack.callback(exporter.stop)
    return Postgres(primary, standby, exporter)


@dataclass
class Redis:
    group: RedisGroup
    exporters: dict[str, ExporterProcess]
    """pod name -> the redis_exporter of that Redis server or Sentinel."""


def _start_redis(stack: ExitStack, logs: Path) -> Redis:
    directory = Path(tempfile.mkdtemp(prefix="lg-redis-"))
    stack.callback(shutil.rmtree, directory, ignore_errors=True)
    spec = RedisSentinelSpec(name="redis", namespace=DATA_NS, password_secret="redis-password", replicas=1)
    group = RedisGroup.build(spec, directory)
    stack.callback(group.stop)
    group.start_servers_first()
    group.wait_ready()  # a master, its replica, and Sentinels that know each other: CKQUORUM is OK
    nodes = {**{f"redis-{n.index}": n for n in group.redis}, "redis-sentinel-0": group.sentinels[0]}
    exporters = {}
    for pod, node in nodes.items():
        exporters[pod] = start_exporter(["prometheus-redis-exporter", f"--redis.addr=redis://127.0.0.1:{node.port}"],
                                        logs / f"exporter-{pod}.log",
                                        env={"PATH": os.environ["PATH"], "REDIS_PASSWORD": REDIS_PASSWORD})
        stack.callback(exporters[pod].stop)
    return Redis(group, exporters)


def _start_app(stack: ExitStack, postgres: Postgres, logs: Path) -> ReferenceApp:
    app = start_app(postgres.primary.dsn(), logs / "reference-app.log", {
        "LANGGRAPH_POSTGRES_POOL_MAX_SIZE": "2", "N_JOBS_PER_WORKER": "2",
        "RETRY_INITIAL_INTERVAL_SECONDS": "0.05", "RETRY_JITTER": "false", "LOG_LEVEL": "WARNING"})
    stack.callback(app.close)
    return app


def _in_parallel(stack: ExitStack, *starters: Callable[[ExitStack], Any]) -> list[Any]:
    """Run the starters in threads, each registering its cleanups on a stack of its own that joins
    `stack`, so that a failing starter leaves nothing running."""
    substacks = [ExitStack() for _ in starters]
    for substack in substacks:
        stack.push(substack.__exit__)
    with ThreadPoolExecutor(len(starters)) as pool:
        futures = [pool.submit(starter, substack) for starter, substack in zip(starters, substacks)]
        return [future.result() for future in futures]


def drive_wave(app: ReferenceApp, server: LangGraphServer) -> None:
    """One wave of runs through the reference app (checked against the expected outcome) and the server."""
    for graph, runs in WAVE.items():
        statuses = [app.run(graph, **inputs).json()["status"] for inputs in runs]
        assert statuses == EXPECTED_STATUS[graph], (graph, statuses)
    for count in range(SERVER_RUNS):
        response = server.run(count)
        assert response.status_code == 200 and response.json()["count"] == count + 1, response.text


def hold_connections(stack: ExitStack, primary: PostgresServer, share: float) -> None:
    """Open connections until client backends reach `share` of max_connections; `stack` closes them."""
    target = math.ceil(share * MAX_CONNECTIONS)
    count_sql = "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
    while True:
        connection = psycopg.connect(primary.dsn(), autocommit=True)
        stack.callback(connection.close)
        (count,) = connection.execute(count_sql).fetchone()
        if count >= target:
            return


@dataclass
class Observed:
    prometheus: PrometheusServer
    receiver: WebhookReceiver
    postgres: Postgres


@pytest.fixture(scope="module")
def observed(tmp_path_factory) -> Iterator[Observed]:
    logs = tmp_path_factory.mktemp("observability-logs")
    timings: dict[str, float] = {}
    began = time.monotonic()
    with ExitStack() as stack:
        receiver = WebhookReceiver()
        stack.callback(receiver.close)
        routing = RoutingParams(pager=Webhook(receiver.url(PAGER_PATH)), chat=Webhook(receiver.url(CHAT_PATH)),
                                deadman=Webhook(receiver.url(DEADMAN_PATH)), group_wait="1s", group_interval="1s",
                                deadman_interval="1s", deadman_repeat_interval="2s")

        def alertmanager(sub: ExitStack) -> AlertmanagerServer:
            server = start_alertmanager(alertmanager_config_yaml(routing))
            sub.callback(server.cleanup)
            return server

        def langgraph_server(sub: ExitStack) -> LangGraphServer:
            server = start_server()
            sub.callback(server.cleanup)
            return server

        def postgres_and_app(sub: ExitStack) -> tuple[Postgres, ReferenceApp]:
            postgres = _start_postgres(sub, logs)
            return postgres, _start_app(sub, postgres, logs)

        am, server, (postgres, app), redis = _in_parallel(
            stack, alertmanager, langgraph_server, postgres_and_app, lambda sub: _start_redis(sub, logs))
        timings["engines started"] = time.monotonic() - began

        targets = (
            Target("langgraph-reference-app", app.address, APP_NS, "langgraph-app-0"),
            Target("langgraph-api", server.address, APP_NS, "langgraph-api-0"),
            Target("postgres-exporter", postgres.exporter.address, DATA_NS, "postgres-exporter-0"),
            *(Target("redis-sentinel" if "sentinel" in pod else "redis", exporter.address, DATA_NS, pod)
              for pod, exporter in redis.exporters.items()),
        )
        prometheus = start_prometheus(PrometheusSettings(targets, rules_for_test(), (am.address,)))
        stack.callback(prometheus.cleanup)
        # Two waves of runs, the first one scraped in full before the second starts: histograms and
        # per-label counters appear on their first observation, and rate() needs an increase after that.
        drive_wave(app, server)
        wait_for(prometheus.all_up, timeout=20, what="every target scraped and up")
        wait_for(lambda: prometheus.finite_values("sum(langgraph_executions_total)") == [WAVE_EXECUTIONS]
                 and prometheus.finite_values('sum(lg_api_http_requests_total{path="/runs/wait"})') == [SERVER_RUNS],
                 timeout=10, what="the first wave scraped")
        timings["first wave scraped"] = time.monotonic() - began

        drive_wave(app, server)
        loaded = time.monotonic()
        hold_connections(stack, postgres.primary, HELD_SHARE)
        # Delivered to any receiver: which one it should be is for the tests below to say.
        wait_for(lambda: all(receiver.paths_of(name) for name in SHORTENED),
                 timeout=ALERT_WITHIN_S, interval=0.2, what="both alerts delivered by Alertmanager")
        timings["load to both alerts delivered"] = time.monotonic() - loaded
        yield Observed(prometheus, receiver, postgres)
        timings["total"] = time.monotonic() - began
        print("\nobservability e2e timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))


# --- dashboards ---------------------------------------------------------------------------------------


def test_every_dashboard_query_returns_data(observed):
    """Every query of every dashboard (PostgreSQL from postgres_exporter) returns at least one finite
    value through Prometheus' HTTP API, except those in NO_DATA_HERE: they return nothing at all, so
    that the list cannot grow stale."""
    prometheus = observed.prometheus
    expressions = promql_expressions("postgres_exporter")
    assert set(NO_DATA_HERE) <= set(expressions), "NO_DATA_HERE names a query the dashboards no longer have"
    missing: dict[str, str] = {}
    deadline = time.monotonic() + QUERY_DATA_WITHIN_S
    for key, expr in expressions.items():
        if key in NO_DATA_HERE:
            continue
        while not prometheus.finite_values(expr) and time.monotonic() < deadline:
            time.sleep(0.2)
        if not prometheus.finite_values(expr):
            missing[key] = expr
    assert not missing, f"dashboard queries without data: {missing}"
    unexpected = {key: prometheus.query(expressions[key]) for key in NO_DATA_HERE if prometheus.query(expressions[key])}
    assert not unexpected, f"queries listed in NO_DATA_HERE have data now (shrink the list): {unexpected}"


def test_dashboards_read_the_real_state(observed):
    """A few panels whose value the test knows: the held connections against max_connections, the
    failing graph's error share, one master and one replica, Sentinel quorum, a standby streaming."""
    q = promql_expressions("postgres_exporter")
    prometheus = observed.prometheus
    maximum = prometheus.finite_values(q["langgraph-data-tier / PostgreSQL connections vs maximum / B"])
    assert maximum == [MAX_CONNECTIONS]
    used = q["langgraph-data-tier / PostgreSQL connections used / A"]
    wait_for(lambda: prometheus.finite_values(used)[0] > PARAMS.connections_ratio,
             what="connections used above the alert's ratio on the panel")
    errors = {r["metric"]["graph_name"]: float(r["value"][1])
              for r in prometheus.query(q["langgraph-executions / Error rate / A"])}
    # The second wave failed 2 of 8 runs of FAILING; both series come from the same scrapes, so the
    # rates' extrapolation cancels out in the ratio.
    assert errors[FAILING] == pytest.approx(0.25, abs=0.01) and errors[HEALTHY] == 0
    roles = {r["metric"].get("role", ""): float(r["value"][1])
             for r in prometheus.query(q["langgraph-data-tier / Redis instances by role / A"])}
    # A Sentinel's redis_instance_info carries role="": counted apart, as a series without a role.
    assert roles == {"master": 1, "slave": 1, "": 1}
    assert prometheus.finite_values(q["langgraph-data-tier / Sentinel quorum / A"]) == [1]
    lag = prometheus.query(q["langgraph-data-tier / PostgreSQL replication lag / A"])
    assert len(lag) == 1 and lag[0]["metric"]["application_name"], lag  # one standby, named in the legend


# --- rules and alerts -------------------------------------------------------------------------------------


def test_every_rule_evaluates_without_error_on_real_series(observed):
    """Prometheus loaded every rendered rule and evaluates each against the real exporters' series
    without a runtime error (many-to-many joins, for one, only fail on real label sets)."""
    rules = observed.prometheus.rules()
    names = {rule["name"] for rule in rules}
    groups = yaml.safe_load(rules_file(PARAMS))["groups"]
    rendered = {rule.get("alert") or rule.get("record") for group in groups for rule in group["rules"]}
    assert names == rendered
    wait_for(lambda: all(rule["health"] != "unknown" for rule in observed.prometheus.rules()), timeout=5,
             what="every rule evaluated")
    broken = {rule["name"]: rule.get("lastError") for rule in observed.prometheus.rules() if rule["health"] != "ok"}
    assert not broken, f"rules failing on real series: {broken}"


def _firing(prometheus: PrometheusServer, name: str) -> list[dict]:
    return [a for a in prometheus.alerts() if a["labels"]["alertname"] == name and a["state"] == "firing"]


def test_error_rate_alert_fires_for_the_failing_graph_only_and_pages(observed):
    name = "LangGraphHighErrorRate"
    firing = _firing(observed.prometheus, name)
    assert [a["labels"]["graph_name"] for a in firing] == [FAILING]
    assert float(firing[0]["value"]) == pytest.approx(0.25, abs=0.01)  # the graph's real error share
    assert firing[0]["annotations"]["runbook_url"] == f"{PARAMS.runbook_base_url}{name}.md"
    assert observed.receiver.paths_of(name) == {PAGER_PATH}
    paged = observed.receiver.alerts(PAGER_PATH, name)
    assert {(a["labels"]["graph_name"], a["labels"]["severity"]) for a in paged} == {(FAILING, "critical")}
    assert paged[0]["annotations"]["summary"] == f"Graph {FAILING} fails more than 5% of its executions"


def test_connection_alert_fires_and_goes_to_chat(observed):
    name, server = "LangGraphDatabaseConnections", f"127.0.0.1:{observed.postgres.primary.port}"
    firing = _firing(observed.prometheus, name)
    assert [(a["labels"]["server"], a["labels"]["namespace"]) for a in firing] == [(server, DATA_NS)]
    assert float(firing[0]["value"]) > PARAMS.connections_ratio
    assert observed.receiver.paths_of(name) == {CHAT_PATH}
    chatted = observed.receiver.alerts(CHAT_PATH, name)
    assert {(a["labels"]["server"], a["labels"]["severity"]) for a in chatted} == {(server, "warning")}


def test_watchdog_reaches_the_deadmans_switch_only(observed):
    receiver = observed.receiver
    wait_for(lambda: receiver.paths_of("Watchdog"), timeout=10, what="the Watchdog delivered")
    assert receiver.paths_of("Watchdog") == {DEADMAN_PATH}
    assert {a["labels"]["alertname"] for a in receiver.alerts(DEADMAN_PATH)} == {"Watchdog"}


def test_alertmanager_groups_by_alert_and_graph(observed):
    """Each notification is one group of the route's group_by: one alert name and, where the alerts
    have one, one graph."""
    payloads = observed.receiver.payloads()
    for path, body in payloads:
        grouped_by = {k: v for k, v in body["commonLabels"].items() if k in ("alertname", "graph_name")}
        assert body["groupLabels"] == grouped_by, (path, body["groupLabels"])
    pages = [body["groupLabels"] for path, body in payloads if path == PAGER_PATH]
    assert {"alertname": "LangGraphHighErrorRate", "graph_name": FAILING} in pages
