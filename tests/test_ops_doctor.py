"""`python -m ops doctor` against a stack of real engines started here, healthy and then broken one
way at a time: each break must turn exactly its own check to WARN/FAIL and leave the others alone.

Real: PostgreSQL 15 (primary with max_connections 20 + a streaming standby), the Redis group with
Sentinels and HAProxy from the shipped configs, Prometheus scraping an exporter of the seed's
metrics, S3 (moto's server, over HTTP), and an HTTPS health endpoint with a certificate from a test
CA. Recorded: the Kubernetes API (no API server on these machines): `tests/data/kube/doctor*.json`
are API responses (PodList, DeploymentList, HPA list, the CloudNativePG Cluster, the app's Secret)
served by a stand-in server on 127.0.0.1 that the official client reaches through a kubeconfig.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import psycopg
import pytest
from moto import mock_aws
from moto.server import ThreadedMotoServer
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from components.redis.sentinel_config import RedisSentinelSpec, Resources
from ops import prom
from ops.cli import main
from ops.runbooks import RUNBOOKS

from .engines import ops_tls
from .engines.kube_recorded import RecordedApi, load_routes
from .engines.pg_standby import new_standby
from .engines.postgres import PostgresServer, new_server, start_server
from .engines.procs import free_port, wait_for, wait_started
from .engines.prometheus import PrometheusServer, PrometheusSettings, Target, start_prometheus
from .engines.redis import PASSWORD, RedisGroup

ROOT = Path(__file__).resolve().parent.parent
APP_USER, APP_PASSWORD = "langgraph_app", "test-app-password"
BUCKET, REGION = "langgraph-checkpoints", "us-east-1"
REDIS_SPEC = RedisSentinelSpec(name="redis", namespace="langgraph-data", password_secret="redis-password",
                               replicas=1, redis_resources=Resources("100m", "500m", "256Mi"))
CHECKS = ("pods", "autoscalers", "load-balancer", "certificate", "postgres-cluster", "postgres-reachable",
          "postgres-connections", "postgres-replication", "postgres-long-queries", "redis-endpoint", "redis-sentinels",
          "object-store", "backup-age", "error-rate", "latency-p95")


@dataclass
class GraphExporter:
    """The seed's execution metrics, as the reference app exports them, for one graph."""

    executions: Counter
    duration: Histogram

    def run(self, ok: int, errors: int = 0) -> None:
        self.executions.labels("support", "success").inc(ok)
        self.executions.labels("support", "error").inc(errors)
        for _ in range(ok + errors):
            self.duration.labels("support").observe(1.5)


@dataclass
class Stack:
    primary: PostgresServer
    standby: PostgresServer
    redis: RedisGroup
    prometheus: PrometheusServer
    exporter: GraphExporter
    api: RecordedApi
    outputs: dict
    directory: Path
    ca: ops_tls.CertificateAuthority
    ca_file: Path
    kubeconfig: Path
    moto_endpoint: str

    def write_outputs(self) -> Path:
        path = self.directory / "outputs.json"
        path.write_text(json.dumps(self.outputs))
        return path


def _exporter() -> tuple[GraphExporter, int]:
    registry = CollectorRegistry()
    executions = Counter("langgraph_executions_total", "Graph executions", ["graph_name", "status"], registry=registry)
    duration = Histogram("langgraph_execution_duration_seconds", "Execution time", ["graph_name"], registry=registry)
    backup = Gauge(prom.BACKUP_METRIC, "Newest base backup", ["namespace"], registry=registry)
    backup.labels("langgraph-data").set(time.time() - 3 * 3600)
    port = free_port()
    start_http_server(port, addr="127.0.0.1", registry=registry)
    exporter = GraphExporter(executions, duration)
    # Every series exists from the first scrape, at 0: later runs are then increases that rate() sees.
    exporter.run(ok=0)
    duration.labels("support")
    return exporter, port


def _postgres() -> tuple[PostgresServer, PostgresServer]:
    primary = new_server({"max_connections": "20"})
    primary.psql(f"CREATE ROLE {APP_USER} LOGIN PASSWORD '{APP_PASSWORD}' IN ROLE pg_monitor")
    primary.psql(f"CREATE DATABASE langgraph OWNER {APP_USER}")
    return primary, new_standby(primary)


def _prometheus(exporter_port: int) -> PrometheusServer:
    """Prometheus scraping the exporter every second (its series keep their own `namespace`); returns
    once the exporter is scraped and up."""
    server = start_prometheus(PrometheusSettings((Target("exporter", f"127.0.0.1:{exporter_port}"),)))
    wait_started(server.process, server.log, server.all_up, what="Prometheus scraping the exporter", timeout=30,
                 cleanup=server.cleanup)
    return server


def _redis(directory: Path) -> RedisGroup:
    group = RedisGroup.build(REDIS_SPEC, directory)
    group.start_servers_first()
    group.wait(group.agreed, 30, "a master, its replica and every Sentinel agreeing")
    return group


def _s3() -> tuple[ThreadedMotoServer, str]:
    port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="test",
                 aws_secret_access_key="test").create_bucket(Bucket=BUCKET)
    return moto, endpoint


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    directory = tmp_path_factory.mktemp("doctor")
    exporter, exporter_port = _exporter()
    # The engines start side by side: most of their start-up is waiting.
    with ThreadPoolExecutor(4) as pool:
        postgres = pool.submit(_postgres)
        redis_group = pool.submit(_redis, directory / "redis")
        prometheus_server = pool.submit(_prometheus, exporter_port)
        s3 = pool.submit(_s3)
        (primary, standby), group, prometheus, (moto, endpoint) = (
            postgres.result(), redis_group.result(), prometheus_server.result(), s3.result())
    ca = ops_tls.new_ca()
    app = ops_tls.HealthServer(*ops_tls.issue(ca, directory, days=60))
    api = RecordedApi(load_routes("doctor")).start()
    outputs = {
        "app_url": app.url, "namespace": "langgraph", "connection_secret_name": "langgraph-connection",
        "database_url": primary.dsn("langgraph", APP_USER, APP_PASSWORD),
        "database_readonly_url": standby.dsn("langgraph", APP_USER, APP_PASSWORD),
        "redis_url": f"redis://:{PASSWORD}@127.0.0.1:{group.haproxy.port}/0",
        "redis_sentinels": [node.address for node in group.sentinels], "redis_master_name": REDIS_SPEC.master_name,
        "checkpoint_bucket": BUCKET, "checkpoint_endpoint": endpoint, "checkpoint_region": REGION,
        "app_iam_role_arn": None, "prometheus_url": prometheus.url, "grafana_url": None, "alertmanager_url": None,
        "kibana_url": None, "jaeger_url": None, "postgres_engine": "cloudnative-pg",
        "postgres_cluster": {"name": "langgraph-pg", "namespace": "langgraph-data"},
        "capacity": {"api": {"hpa_min": 2, "hpa_max": 4}, "queue": {"hpa_min": 1, "hpa_max": 6}, "derivation": ""},
        "lowered_floors": {},
    }
    stack = Stack(primary, standby, group, prometheus, exporter, api, outputs, directory, ca,
                  ca.write(directory / "ca.crt"), api.kubeconfig(directory / "kubeconfig"), endpoint)
    exporter.run(ok=100)
    wait_for(lambda: prometheus.query('langgraph_executions_total{status="success"} == 100'), what="executions scraped")
    yield stack
    api.stop()
    app.stop()
    with ThreadPoolExecutor(5) as pool:
        for stop in (moto.stop, prometheus.cleanup, group.stop, stack.standby.cleanup, primary.cleanup):
            pool.submit(stop)


def doctor(stack: Stack, capsys, *extra: str) -> tuple[int, dict[str, dict]]:
    """Run the CLI in-process with --json; the exit code and the checks by name."""
    capsys.readouterr()
    code = main(["doctor", "--outputs", str(stack.write_outputs()), "--json", "--kubeconfig", str(stack.kubeconfig),
                 "--ca-file", str(stack.ca_file), *extra])
    report = json.loads(capsys.readouterr().out)
    assert report["exit_code"] == code
    return code, {check["name"]: check for check in report["checks"]}


def changed(before: dict[str, dict], after: dict[str, dict]) -> dict[str, str]:
    """Checks whose status differs, with the new status."""
    return {name: after[name]["status"] for name in after if after[name]["status"] != before[name]["status"]}


def test_every_check_names_an_existing_runbook():
    assert set(RUNBOOKS) >= set(CHECKS)
    missing = [name for name in RUNBOOKS.values() if not (ROOT / "docs" / "runbooks" / f"{name}.md").exists()]
    assert not missing


def test_metric_checks_ask_the_alerts_corrected_queries():
    """Both sides of the error ratio aggregated by graph (the seed's bare rate/rate reads 1.0 on one error),
    and the quantile over buckets summed by (le, graph_name); the alert's threshold stripped."""
    assert prom.ERROR_RATIO.count("sum by (graph_name)") == 2 and ">" not in prom.ERROR_RATIO
    assert "sum by (le, graph_name) (rate(langgraph_execution_duration_seconds_bucket[5m]))" in prom.LATENCY_P95
    assert ">" not in prom.LATENCY_P95


def test_healthy_stack_is_all_ok(stack, capsys):
    code, checks = doctor(stack, capsys)
    assert list(checks) == list(CHECKS)
    assert {name: check["status"] for name, check in checks.items()} == dict.fromkeys(CHECKS, "OK"), checks
    assert code == 0
    # The numbers behind the verdicts come from the engines.
    assert checks["pods"]["value"] == "3/3 pods ready"
    assert checks["postgres-connections"]["data"]["max_connections"] == 20
    assert [s["state"] for s in checks["postgres-replication"]["data"]["standbys"]] == ["streaming"]
    assert checks["postgres-replication"]["data"]["expected"] == 1  # the recorded Cluster has 2 instances
    assert len(set(checks["redis-sentinels"]["data"]["views"].values())) == 1
    assert checks["error-rate"]["data"] == {"graph_name": "support", "ratio": 0.0}
    assert 1.0 < checks["latency-p95"]["data"]["seconds"] <= 2.5  # every run took 1.5 s: the (1, 2.5] bucket
    assert 2.9 < checks["backup-age"]["data"]["hours"] < 3.2
    assert 59 < checks["certificate"]["data"]["days_left"] < 61
    assert checks["object-store"]["data"]["credentials"] == "Secret langgraph-connection"


def test_rds_stack_reads_the_instance_and_its_snapshots(stack, capsys, monkeypatch):
    """postgres_engine rds: the instance and its newest automated snapshot come from the RDS API (moto)."""
    for key, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}.items():
        monkeypatch.setenv(key, value)
    _, before = doctor(stack, capsys)
    rds_stack = {**stack.outputs, "postgres_engine": "rds", "postgres_cluster": "langgraph-prod"}
    with mock_aws():
        # mock_aws answers every AWS call in-process, the checkpoint bucket's too.
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        boto3.client("rds", region_name=REGION).create_db_instance(
            DBInstanceIdentifier="langgraph-prod", DBInstanceClass="db.r6g.large", Engine="postgres", MultiAZ=True,
            MasterUsername="postgres", MasterUserPassword="test-master-password", AllocatedStorage=100,
            BackupRetentionPeriod=7)
        path = stack.directory / "rds-outputs.json"
        path.write_text(json.dumps({**rds_stack, "checkpoint_endpoint": None}))
        capsys.readouterr()
        code = main(["doctor", "--outputs", str(path), "--json", "--kubeconfig", str(stack.kubeconfig),
                     "--ca-file", str(stack.ca_file)])
    # Leaving mock_aws resets moto's in-process backends, the S3 server's included: put its bucket back.
    boto3.client("s3", endpoint_url=stack.moto_endpoint, region_name=REGION).create_bucket(Bucket=BUCKET)
    checks = {check["name"]: check for check in json.loads(capsys.readouterr().out)["checks"]}
    assert (checks["postgres-cluster"]["status"], checks["postgres-cluster"]["value"]) == (
        "OK", "available, Multi-AZ on")
    assert checks["backup-age"]["status"] == "OK" and "RDS automated snapshots" in checks["backup-age"]["detail"]
    assert checks["backup-age"]["data"]["hours"] < 0.1  # moto snapshots at creation
    assert checks["postgres-replication"]["data"]["expected"] == 0  # no read replicas: the standby is a bonus
    assert changed(before, checks) == {} and code == 0


def test_connections_near_max_warn_on_connections_only(stack, capsys):
    _, before = doctor(stack, capsys)
    # 16 held + the doctor's own = 17 of 20 client backends: 85% > 80%.
    held = [psycopg.connect(stack.primary.dsn()) for _ in range(16)]
    try:
        code, after = doctor(stack, capsys)
    finally:
        for conn in held:
            conn.close()
    assert changed(before, after) == {"postgres-connections": "WARN"} and code == 1
    assert after["postgres-connections"]["data"]["connections"] == 17
    assert after["postgres-connections"]["runbook"] == "docs/runbooks/LangGraphDatabaseConnections.md"


def test_long_running_query_warns(stack, capsys):
    _, before = doctor(stack, capsys, "--long-query-seconds", "1")
    sleeper = psycopg.connect(stack.primary.dsn(), autocommit=True)
    pid = sleeper.info.backend_pid

    def sleep() -> None:
        with contextlib.suppress(psycopg.errors.QueryCanceled):  # the test cancels it
            sleeper.execute("SELECT pg_sleep(60)")

    thread = threading.Thread(target=sleep, daemon=True)
    thread.start()
    try:
        wait_for(lambda: stack.primary.psql(
            f"SELECT now() - query_start > interval '1.2 s' FROM pg_stat_activity WHERE pid = {pid}") == "t",
            what="a query running longer than a second")
        code, after = doctor(stack, capsys, "--long-query-seconds", "1")
    finally:
        stack.primary.psql(f"SELECT pg_cancel_backend({pid})")
        thread.join(10)
        sleeper.close()
    assert changed(before, after) == {"postgres-long-queries": "WARN"} and code == 1
    assert [q["pid"] for q in after["postgres-long-queries"]["data"]["queries"]] == [pid]


def test_standby_down_warns_on_replication(stack, capsys):
    _, before = doctor(stack, capsys)
    stack.standby.stop()
    try:
        wait_for(lambda: stack.primary.psql("SELECT count(*) FROM pg_stat_replication") == "0", what="standby gone")
        code, after = doctor(stack, capsys)
    finally:
        stack.standby = start_server(stack.standby.directory, stack.standby.port)
        streaming = "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"
        wait_for(lambda: stack.primary.psql(streaming) == "1",
                 what="standby streaming again")
    assert changed(before, after) == {"postgres-replication": "WARN"} and code == 1
    assert "expected 1 streaming standby" in after["postgres-replication"]["detail"]


def test_bucket_gone_fails_object_store(stack, capsys):
    _, before = doctor(stack, capsys)
    s3 = boto3.client("s3", endpoint_url=stack.moto_endpoint, region_name=REGION, aws_access_key_id="test",
                      aws_secret_access_key="test")
    s3.delete_bucket(Bucket=BUCKET)
    try:
        code, after = doctor(stack, capsys)
    finally:
        s3.create_bucket(Bucket=BUCKET)
    assert changed(before, after) == {"object-store": "FAIL"} and code == 2
    assert after["object-store"]["value"] in ("404", "NoSuchBucket")
    assert after["object-store"]["runbook"] == f"docs/runbooks/{RUNBOOKS['object-store']}.md"


def test_certificate_near_expiry_warns(stack, capsys):
    _, before = doctor(stack, capsys)
    soon = ops_tls.HealthServer(*ops_tls.issue(stack.ca, stack.directory, days=5))
    try:
        code, after = doctor(stack, capsys, "--app-url", soon.url)
    finally:
        soon.stop()
    assert changed(before, after) == {"certificate": "WARN"} and code == 1
    assert 4.9 < after["certificate"]["data"]["days_left"] < 5.1


def test_crash_loop_and_pinned_autoscaler_from_the_api(stack, capsys):
    _, before = doctor(stack, capsys)
    healthy = dict(stack.api.routes)
    stack.api.routes.update(load_routes("doctor_degraded"))
    try:
        code, after = doctor(stack, capsys)
    finally:
        stack.api.routes = healthy
    assert changed(before, after) == {"pods": "WARN", "autoscalers": "WARN"} and code == 1
    assert after["pods"]["data"]["crash_looping"] == ["langgraph-7d9f8c6b5-m9w4t/langgraph (7 restarts)"]
    assert after["autoscalers"]["data"]["pinned"] == ["keda-hpa-langgraph-queue"]


def test_high_error_rate_fails_error_rate(stack, capsys):
    _, before = doctor(stack, capsys)
    stack.exporter.run(ok=0, errors=100)
    wait_for(lambda: stack.prometheus.query('langgraph_executions_total{status="error"} == 100'), what="errors scraped")
    code, after = doctor(stack, capsys)
    assert changed(before, after) == {"error-rate": "FAIL"} and code == 2
    assert 0.4 < after["error-rate"]["data"]["ratio"] < 0.6  # 100 errors of 200 executions in the window


def test_killed_master_fails_the_redis_checks(stack, capsys):
    """Last: the group is left failing over."""
    _, before = doctor(stack, capsys)
    stack.redis.masters()[0].kill()
    code, after = doctor(stack, capsys)
    assert changed(before, after) == {"redis-endpoint": "FAIL", "redis-sentinels": "FAIL"} and code == 2


def test_cli_process_prints_a_table_from_stdin(stack):
    """The real entry point, outputs piped in as from `pulumi stack output`: a table on stdout."""
    result = subprocess.run([sys.executable, "-m", "ops", "doctor", "--kubeconfig", str(stack.kubeconfig),
                             "--ca-file", str(stack.ca_file)], input=json.dumps(stack.outputs), capture_output=True,
                            text=True, cwd=ROOT, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}, timeout=60)
    assert "postgres-connections" in result.stdout and "result:" in result.stdout, result.stderr
    assert result.returncode in (0, 1, 2)


def test_usage_errors_exit_3(stack, capsys, tmp_path):
    masked = tmp_path / "masked.json"
    masked.write_text(json.dumps({**stack.outputs, "database_url": "[secret]"}))
    good = stack.write_outputs()
    for argv, message in ((["doctor", "--outputs", str(masked)], "--show-secrets"),
                          (["doctor", "--outputs", str(tmp_path / "missing.json")], "--outputs"),
                          (["doctor", "--outputs", str(good), "--via", "bogus=localhost:1"], "bogus is not one of"),
                          (["doctor", "--outputs", str(good), "--via", "database_url=nohostport"], "not HOST:PORT"),
                          (["doctor", "--no-such-option"], "No such option")):
        assert main(argv) == 3, argv
        assert message in capsys.readouterr().err, argv


def test_on_a_terminal_urls_alone_stand_in_for_the_outputs(monkeypatch, capsys):
    """Nothing piped in: with a URL override the command runs on it alone; without one it is a usage error."""
    monkeypatch.setattr(sys, "stdin", type("Terminal", (), {"isatty": staticmethod(lambda: True)})())
    assert main(["bench", "--app-url", "http://127.0.0.1:9", "--steps", "1", "--step-seconds", "2",
                 "--warmup-seconds", "1"]) == 2
    assert "not reachable" in capsys.readouterr().err
    assert main(["bench", "--steps", "1"]) == 3
    assert "no stack outputs" in capsys.readouterr().err
