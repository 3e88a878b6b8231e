"""`python -m ops drill`: controlled failovers, measured by a client writing through the stable endpoints.

Redis: real processes (master, two replicas, three Sentinels, HAProxy from the shipped configs); the
drill sends SENTINEL FAILOVER and its probe writes through HAProxy. PostgreSQL on CloudNativePG:
the Kubernetes API is recorded (`tests/data/kube/drill*.json`: the Cluster before, during and after
the switchover), and when the drill patches the Cluster's status the stand-in API does to real
servers what the operator would (stops the primary, promotes the streaming standby), so the probe's
outage through a libpq multi-host URL (target_session_attrs=read-write, like the -rw Service) is
real. RDS: the reboot with ForceFailover goes to moto; the probe writes to a real server.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from components.redis.sentinel_config import RedisSentinelSpec, Resources
from ops.cli import main
from ops.failover.postgres import SWITCHOVER_PHASE
from ops.failover.probe import Probe

from .engines.kube_http import Request
from .engines.kube_recorded import RecordedApi, load_routes
from .engines.pg_standby import new_standby
from .engines.postgres import PostgresServer, new_server
from .engines.procs import wait_for
from .engines.redis import PASSWORD, RedisGroup

APP_USER, APP_PASSWORD = "langgraph_app", "test-app-password"
SPEC = RedisSentinelSpec(name="redis", namespace="langgraph-data", password_secret="redis-password",
                         redis_resources=Resources("100m", "500m", "256Mi"))
CLUSTER = "/apis/postgresql.cnpg.io/v1/namespaces/langgraph-data/clusters/langgraph-pg"


@dataclass
class PostgresPair:
    primary: PostgresServer
    standby: PostgresServer

    @property
    def rw_url(self) -> str:
        """What the -rw Service gives the app: whichever server accepts writes."""
        return (f"postgresql://{APP_USER}:{APP_PASSWORD}@127.0.0.1:{self.primary.port},127.0.0.1:{self.standby.port}"
                "/langgraph?target_session_attrs=read-write")


def _redis_group(directory: Path) -> RedisGroup:
    group = RedisGroup.build(SPEC, directory)
    group.start_servers_first()
    group.wait_ready(timeout=60)
    return group


def _postgres_pair() -> PostgresPair:
    primary = new_server()
    primary.psql(f"CREATE ROLE {APP_USER} LOGIN PASSWORD '{APP_PASSWORD}'")
    primary.psql(f"CREATE DATABASE langgraph OWNER {APP_USER}")
    return PostgresPair(primary, new_standby(primary))


@pytest.fixture(scope="module")
def engines(tmp_path_factory) -> Iterator[tuple[RedisGroup, PostgresPair]]:
    # Started side by side: most of their start-up is waiting.
    with ThreadPoolExecutor(2) as pool:
        group, pair = pool.submit(_redis_group, tmp_path_factory.mktemp("redis")), pool.submit(_postgres_pair)
        group, pair = group.result(), pair.result()
    yield group, pair
    with ThreadPoolExecutor(3) as pool:
        for stop in (group.stop, pair.standby.cleanup, pair.primary.cleanup):
            pool.submit(stop)


@pytest.fixture
def redis_group(engines) -> RedisGroup:
    return engines[0]


@pytest.fixture
def postgres(engines) -> PostgresPair:
    return engines[1]


def outputs(tmp_path: Path, **values) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"namespace": "langgraph", "redis_master_name": SPEC.master_name,
                                "postgres_engine": "cloudnative-pg", "postgres_cluster": "langgraph-data/langgraph-pg",
                                "checkpoint_region": "us-east-1", **values}))
    return path


def drill(capsys, *argv: str) -> tuple[int, dict[str, dict]]:
    capsys.readouterr()
    code = main(["drill", "--yes", "--json", *argv])
    report = json.loads(capsys.readouterr().out)
    return code, {check["name"]: check for check in report["checks"]}


def test_probe_measures_the_gap_between_good_writes():
    """The outage is last good write before to first good write after, not the failed attempts' sum."""
    outcomes = iter([True] * 3 + [False] * 10 + [True] * 3)

    def attempt() -> None:
        if not next(outcomes, True):
            raise ConnectionError("refused")

    probe = Probe(attempt, interval=0.01).start()
    wait_for(lambda: probe._result.attempts >= 16, what="sixteen attempts")
    result = probe.stop()
    assert result.failures == 10 and result.recovered and result.errors == ["ConnectionError: refused"]
    assert 0.10 <= result.outage_seconds < 0.5  # eleven intervals of 10 ms, with scheduling slack


def test_redis_sentinel_failover_moves_the_master_and_writes_resume(redis_group, capsys, tmp_path):
    old = redis_group.wait_ready()
    path = outputs(tmp_path, redis_url=f"redis://:{PASSWORD}@127.0.0.1:{redis_group.haproxy.port}/0",
                   redis_sentinels=[node.address for node in redis_group.sentinels])
    code, checks = drill(capsys, "redis", "--outputs", str(path))
    check = checks["redis-failover"]
    assert check["status"] == "OK" and code == 0, check
    data = check["data"]
    assert data["old_master"] == old.address and data["new_master"] != old.address
    assert redis_group.role(redis_group.node_at(data["new_master"])) == "master"
    # A real failover through HAProxy is seen by clients, briefly: Sentinel switches roles, then
    # HAProxy's checks (every 0.5 s while down, 2 to rise) move the traffic.
    assert data["recovered"] and 0 < data["outage_seconds"] < 10 and data["failed"] >= 1
    assert data["attempts"] > data["failed"]


def test_redis_drill_refuses_a_group_without_agreement(redis_group, capsys, tmp_path):
    path = outputs(tmp_path, redis_url=f"redis://:{PASSWORD}@127.0.0.1:{redis_group.haproxy.port}/0",
                   redis_sentinels=[node.address for node in redis_group.sentinels] + ["127.0.0.1:1"])
    # One Sentinel that does not answer: the drill does not start on a group it cannot judge healthy.
    code, checks = drill(capsys, "redis", "--outputs", str(path))
    assert checks["redis-failover"]["status"] == "FAIL" and checks["redis-failover"]["value"] == "not started"
    assert code == 2


def test_cloudnative_pg_switchover_through_the_status_subresource(postgres, capsys, tmp_path):
    api = RecordedApi(load_routes("drill"))

    def operator_switches_over(request: Request) -> None:
        # What CloudNativePG does on a new targetPrimary: shut the primary down, promote the target.
        postgres.primary.stop()
        postgres.standby.psql("SELECT pg_promote()")

    api.hooks[f"PATCH {CLUSTER}/status"] = operator_switches_over
    api.start()
    try:
        code, checks = drill(capsys, "postgres", "--outputs", str(outputs(tmp_path, database_url=postgres.rw_url)),
                             "--kubeconfig", str(api.kubeconfig(tmp_path / "kubeconfig")), "--poll", "0.05")
    finally:
        api.stop()
    check = checks["postgres-failover"]
    assert check["status"] == "OK" and code == 0, check
    assert (check["data"]["old_primary"], check["data"]["new_primary"]) == ("langgraph-pg-1", "langgraph-pg-2")
    assert check["data"]["recovered"] and check["data"]["failed"] >= 1 and 0 < check["data"]["outage_seconds"] < 10
    assert postgres.standby.psql("SELECT pg_is_in_recovery()") == "f"
    (patch,) = api.made("PATCH", f"{CLUSTER}/status")
    assert patch.content_type == "application/merge-patch+json"
    assert patch.body["metadata"] == {"resourceVersion": "73410"}  # optimistic lock on what was read
    status = patch.body["status"]
    assert (status["targetPrimary"], status["phase"], status["phaseReason"]) == (
        "langgraph-pg-2", SWITCHOVER_PHASE, "Switching over to langgraph-pg-2")
    assert [c["status"] for c in status["conditions"] if c["type"] == "Ready"] == ["False"]
    assert not api.made("PATCH", CLUSTER) and not api.made("PUT", CLUSTER), "never the spec"


def test_switchover_refused_on_an_unhealthy_cluster(postgres, capsys, tmp_path):
    api = RecordedApi(load_routes("drill_unhealthy")).start()
    try:
        code, checks = drill(capsys, "postgres", "--outputs", str(outputs(tmp_path, database_url=postgres.rw_url)),
                             "--kubeconfig", str(api.kubeconfig(tmp_path / "kubeconfig")))
    finally:
        api.stop()
    assert checks["postgres-failover"]["status"] == "FAIL" and "not healthy" in checks["postgres-failover"]["detail"]
    assert code == 2 and not api.made("PATCH", f"{CLUSTER}/status")


def test_rds_reboot_with_force_failover(postgres, capsys, tmp_path, aws_test_credentials):
    sent = []
    with mock_aws():
        boto3.setup_default_session()
        boto3.DEFAULT_SESSION.events.register("provide-client-params.rds.RebootDBInstance",
                                              lambda params, **kwargs: sent.append(dict(params)))
        boto3.client("rds", region_name="us-east-1").create_db_instance(
            DBInstanceIdentifier="langgraph-prod", DBInstanceClass="db.r6g.large", Engine="postgres", MultiAZ=True,
            MasterUsername="postgres", MasterUserPassword="test-master-password", AllocatedStorage=100)
        path = outputs(tmp_path, database_url=postgres.rw_url, postgres_engine="rds", postgres_cluster="langgraph-prod")
        code, checks = drill(capsys, "postgres", "--outputs", str(path), "--poll", "0.2")
    assert checks["postgres-failover"]["status"] == "OK" and code == 0, checks
    assert sent == [{"DBInstanceIdentifier": "langgraph-prod", "ForceFailover": True}]
    # moto reboots nothing: the probe kept writing to the real server throughout.
    assert checks["postgres-failover"]["data"]["failed"] == 0


def test_drill_needs_yes_without_a_terminal(capsys, tmp_path):
    assert main(["drill", "--outputs", str(outputs(tmp_path))]) == 3
    assert "--yes" in capsys.readouterr().err
