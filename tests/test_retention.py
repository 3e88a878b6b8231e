"""Checkpoint retention: the rendered CronJob's psql command and SQL, run against a real
PostgreSQL 15 holding threads a real LangGraph graph (with a subgraph) wrote through PostgresSaver;
and the rendered Kubernetes objects in kubernetes-validate --strict."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
import yaml
from langgraph.checkpoint.postgres import PostgresSaver
from psycopg.rows import dict_row

from components.pins import IMAGES
from components.postgres.retention import (
    MOUNT_DIR,
    SQL_FILE,
    SQL_KEY,
    RetentionSpec,
    SecretKeys,
    config_map,
    cron_job,
    network_policy,
)

from .engines import langgraph_threads as lg
from .engines.postgres import PostgresServer, new_server
from .engines.procs import wait_for

KUBERNETES_VALIDATE = Path(sys.executable).parent / "kubernetes-validate"
APP_USER, APP_PASSWORD = "langgraph_app", "test-app-password"
LABELS = {"app.kubernetes.io/name": "checkpoint-retention", "app.kubernetes.io/part-of": "langgraph-platform"}


def spec(**overrides) -> RetentionSpec:
    # The loopback test server has no TLS, hence sslmode=disable here (the default is require).
    return RetentionSpec(**{"name": "checkpoint-retention", "namespace": "langgraph", "labels": LABELS,
                            "secret_name": "langgraph-db-app", "sslmode": "disable", **overrides})


def container(job: dict) -> dict:
    return job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]


# --- the database --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    pg = new_server()
    try:
        # The app's own role runs the job: it owns the tables the checkpointer creates, no superuser.
        pg.psql(f"CREATE ROLE {APP_USER} LOGIN PASSWORD '{APP_PASSWORD}'")
        yield pg
    finally:
        pg.cleanup()


_databases = itertools.count()


@pytest.fixture
def database(server) -> str:
    """A fresh database owned by the app role, with the checkpointer's tables; its name."""
    name = f"langgraph_{next(_databases)}"
    server.psql(f"CREATE DATABASE {name} OWNER {APP_USER}")
    with PostgresSaver.from_conn_string(server.dsn(name, APP_USER, APP_PASSWORD)) as saver:
        saver.setup()
    return name


def connect(server: PostgresServer, database: str) -> psycopg.Connection:
    return psycopg.connect(server.dsn(database, APP_USER, APP_PASSWORD), autocommit=True)


def secret(server: PostgresServer, database: str) -> dict[str, str]:
    """The connection Secret's data, under CloudNativePG's keys (the spec's defaults)."""
    return {"host": "127.0.0.1", "port": str(server.port), "dbname": database,
            "username": APP_USER, "password": APP_PASSWORD}


def container_command(job: dict, volume_dir: Path, secret_data: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """The CronJob container's argv and environment as the kubelet would give them: the
    ConfigMap volume's mount path mapped to `volume_dir`, secretKeyRef entries read from `secret_data`."""
    box = container(job)
    (mount,) = box["volumeMounts"]
    argv = [arg.replace(mount["mountPath"], str(volume_dir), 1) if arg.startswith(mount["mountPath"]) else arg
            for arg in [*box["command"], *box["args"]]]
    env = {entry["name"]: entry["value"] if "value" in entry else secret_data[entry["valueFrom"]["secretKeyRef"]["key"]]
           for entry in box["env"]}
    return argv, env


@pytest.fixture(scope="module")
def volumes() -> Iterator[Path]:
    """Where runs find the ConfigMap's files: outside pytest's private tmp, so the job's UID can read."""
    directory = Path(tempfile.mkdtemp(prefix="lg-retention-"))
    os.chmod(directory, 0o755)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def run_job(server: PostgresServer, database: str, volumes: Path, job_spec: RetentionSpec,
            argv_edit: Callable[[list[str]], list[str]] | None = None, wait: bool = True):
    """Run the rendered container command here as the container would: the ConfigMap's files
    with the volume's mode where it is mounted, psql from PATH, only the pod's environment, and
    (when the tests run as root, as in CI) the pod's UID and GID, which have no passwd entry here."""
    job = cron_job(job_spec)
    pod = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (volume,) = pod["volumes"]
    directory = Path(tempfile.mkdtemp(dir=volumes))
    os.chmod(directory, 0o755)
    for key, text in config_map(job_spec)["data"].items():
        (directory / key).write_text(text)
        os.chmod(directory / key, volume["configMap"]["defaultMode"])
    argv, env = container_command(job, directory, secret(server, database))
    argv = argv_edit(argv) if argv_edit else argv
    if os.geteuid() == 0:
        security = container(job)["securityContext"]
        argv = ["setpriv", f"--reuid={security['runAsUser']}", f"--regid={security['runAsGroup']}",
                "--clear-groups", *argv]
    env = {"PATH": os.environ["PATH"], **env}
    if wait:
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, cwd="/")
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd="/")


def blocked(conn: psycopg.Connection, run: subprocess.Popen, job_spec: RetentionSpec, what: str) -> None:
    """Wait until the job's session waits on a lock; fail at once if the run ends instead."""
    def waiting() -> bool:
        if run.poll() is not None:
            raise AssertionError(f"the run ended instead of waiting: {run.communicate()}")
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
                            "AND wait_event_type = 'Lock'", (job_spec.name,)).fetchone()[0] == 1

    wait_for(waiting, timeout=10, what=what)


def report(stderr: str, kind: str) -> list[dict[str, str]]:
    """The key=value fields of the job's `retention: <kind>...` lines."""
    return [dict(re.findall(r"(\w+)=(\S+)", line.split("retention: ", 1)[1]))
            for line in stderr.splitlines() if re.search(rf"retention: {kind}\b", line)]


def removed_counts(before: dict, after: dict) -> dict[str, str]:
    return {table: str(len(before[table] - after[table])) for table in lg.TABLES}


EXPIRED_AGES = {f"expired-{age}": age for age in range(31, 38)}  # 7 threads, 31..37 days old
# Kept with the default 30-day TTL; the last two have one namespace 40 days old, the other fresh.
KEPT_AGES = {"fresh": 0, "boundary-29-days": 29, "old-root-fresh-subgraph": 0, "old-subgraph-fresh-root": 0}


def populate(server: PostgresServer, database: str) -> None:
    """Threads of every kind the run must tell apart; two runs each, subgraph namespaces included."""
    lg.write_threads(server.dsn(database, APP_USER, APP_PASSWORD), [*EXPIRED_AGES, *KEPT_AGES])
    with connect(server, database) as conn:
        for thread_id, age in {**EXPIRED_AGES, **KEPT_AGES}.items():
            if age:
                lg.age(conn, thread_id, age)
        # Newest over every namespace counts: one fresh namespace keeps the whole thread.
        lg.age(conn, "old-root-fresh-subgraph", 40, "root")
        lg.age(conn, "old-subgraph-fresh-root", 40, "subgraphs")


# --- runs against the real server -----------------------------------------------------------


def test_deletes_exactly_the_expired_threads_in_capped_batches_and_is_idempotent(server, database, volumes):
    populate(server, database)
    with connect(server, database) as conn:
        before = lg.snapshot(conn)
        assert {thread for rows in before.values() for thread, _ in rows} == {*EXPIRED_AGES, *KEPT_AGES}
        namespaces = {ns for (ns,) in conn.execute("SELECT DISTINCT checkpoint_ns FROM checkpoints")}
        assert "" in namespaces and any(ns.startswith("child:") for ns in namespaces), "no subgraph checkpoints"
        assert all(before[table] for table in lg.TABLES)

        # 7 expired, batches of 2, at most 3 batches: the 6 oldest go now, oldest first.
        capped = spec(batch_size=2, max_batches=3)
        first = run_job(server, database, volumes, capped)
        assert first.returncode == 0, first.stderr
        after_first = lg.snapshot(conn)
        six_oldest = {f"expired-{age}" for age in range(32, 38)}
        assert after_first == lg.without(before, six_oldest)
        assert [line["batch"] for line in report(first.stderr, "batch")] == ["1/3", "2/3", "3/3"]
        assert all(line["deleted_threads"] == "2" for line in report(first.stderr, "batch"))
        (listing,) = report(first.stderr, "cutoff")
        assert listing["expired_threads"] == "6" and listing["more_left"] == "t"
        (total,) = report(first.stderr, "total")
        assert total == {"batches": "3", "deleted_threads": "6", "kept_threads": "0",
                         **removed_counts(before, after_first)}

        second = run_job(server, database, volumes, capped)
        assert second.returncode == 0, second.stderr
        after_second = lg.snapshot(conn)
        assert after_second == lg.without(before, set(EXPIRED_AGES))
        (total,) = report(second.stderr, "total")
        assert total["deleted_threads"] == "1" and total["batches"] == "1"
        assert report(second.stderr, "cutoff")[0]["more_left"] == "f"

        third = run_job(server, database, volumes, capped)
        assert third.returncode == 0, third.stderr
        assert lg.snapshot(conn) == after_second
        (total,) = report(third.stderr, "total")
        assert total["deleted_threads"] == "0" and total["batches"] == "0"


def test_a_thread_resumed_during_the_run_is_kept_whole(server, database, volumes):
    lg.write_threads(server.dsn(database, APP_USER, APP_PASSWORD), ["resumed", "expired", "fresh"])
    with connect(server, database) as conn:
        lg.age(conn, "resumed", 35)
        lg.age(conn, "expired", 36)
        before = lg.snapshot(conn)

        # The writer resumes the expired thread inside a transaction it has not committed yet: it
        # holds the lock the run's batch must take, so the run lists the thread as expired, then
        # waits; the writer commits while the run waits. No sleeps: each step waits on the last.
        writer = psycopg.connect(server.dsn(database, APP_USER, APP_PASSWORD), prepare_threshold=0,
                                 row_factory=dict_row)
        try:
            lg.run_turn(lg.graph(PostgresSaver(writer)), "resumed", "resumed-after-35-days")
            job_spec = spec()
            run = run_job(server, database, volumes, job_spec, wait=False)

            blocked(conn, run, job_spec, "the retention batch waiting for the writer's lock")
            writer.commit()
        finally:
            writer.close()
        _, stderr = run.communicate(timeout=30)
        assert run.returncode == 0, stderr

        after = lg.snapshot(conn)
        # Listed as expired (the writer had not committed), then kept by the re-check after the lock.
        assert report(stderr, "cutoff")[0]["expired_threads"] == "2"
        (total,) = report(stderr, "total")
        assert total["deleted_threads"] == "1" and total["kept_threads"] == "1"
        assert lg.of(after, "expired") == {table: set() for table in lg.TABLES}
        assert lg.of(after, "fresh") == lg.of(before, "fresh")
        for table in lg.TABLES:
            assert lg.of(before, "resumed")[table] < lg.of(after, "resumed")[table], f"{table} of the resumed thread"

    # Whole: the state loads through the checkpointer with what only older checkpoints' blobs hold.
    with PostgresSaver.from_conn_string(server.dsn(database, APP_USER, APP_PASSWORD)) as saver:
        app = lg.graph(saver)
        state = app.get_state(lg.config("resumed"))
        assert state.values["profile"] == {"tier": "gold"}
        assert state.values["items"] == ["resumed-0", "parent", "resumed-1", "parent",
                                          "resumed-after-35-days", "parent"]
        assert state.values["turns"] == 3
        history = list(app.get_state_history(lg.config("resumed")))
    with connect(server, database) as conn:
        (root_checkpoints,) = conn.execute(
            "SELECT count(*) FROM checkpoints WHERE thread_id = 'resumed' AND checkpoint_ns = ''").fetchone()
    assert len(history) == root_checkpoints == 12


def test_each_batch_commits_on_its_own(server, database, volumes):
    ages = {"oldest": 40, "older": 39, "old": 38}
    lg.write_threads(server.dsn(database, APP_USER, APP_PASSWORD), list(ages), turns=1)
    with connect(server, database) as conn:
        for thread_id, age in ages.items():
            lg.age(conn, thread_id, age)
        before = lg.snapshot(conn)
        # A reader holding one of the second batch's rows stops that batch; the first batch's
        # deletion must be visible (committed) meanwhile.
        holder = psycopg.connect(server.dsn(database, APP_USER, APP_PASSWORD))
        try:
            holder.execute("SELECT 1 FROM checkpoint_writes WHERE thread_id = 'old' LIMIT 1 FOR UPDATE")
            job_spec = spec(batch_size=2)
            run = run_job(server, database, volumes, job_spec, wait=False)
            blocked(conn, run, job_spec, "the second batch waiting for the held row")
            assert lg.snapshot(conn) == lg.without(before, {"oldest", "older"})
            holder.rollback()
        finally:
            holder.close()
        _, stderr = run.communicate(timeout=30)
        assert run.returncode == 0, stderr
        assert report(stderr, "total")[0]["batches"] == "2"
        assert lg.snapshot(conn) == lg.without(before, set(ages))


@pytest.fixture(scope="module")
def populated(server) -> str:
    """A database with expired threads, for runs that must delete nothing."""
    name = "langgraph_bad_inputs"
    server.psql(f"CREATE DATABASE {name} OWNER {APP_USER}")
    with PostgresSaver.from_conn_string(server.dsn(name, APP_USER, APP_PASSWORD)) as saver:
        saver.setup()
    populate(server, name)
    return name


def _set(name: str, value: str | None):
    """An argv edit that sets psql variable `name` to `value`, or drops it when None."""
    def edit(argv: list[str]) -> list[str]:
        at = next(i for i, arg in enumerate(argv) if arg.startswith(f"{name}="))
        return [*argv[:at - 1], *argv[at + 1:]] if value is None else [*argv[:at], f"{name}={value}", *argv[at + 1:]]
    return edit


@pytest.mark.parametrize(("name", "value"), [
    ("ttl_days", "0"), ("ttl_days", "-30"), ("ttl_days", "1; DROP TABLE checkpoints"), ("ttl_days", None),
    ("batch_size", "abc"), ("batch_size", "2.5"), ("max_batches", "0"), ("max_batches", None),
])
def test_bad_inputs_fail_clearly_and_delete_nothing(server, populated, volumes, name, value):
    with connect(server, populated) as conn:
        before = lg.snapshot(conn)
        result = run_job(server, populated, volumes, spec(), argv_edit=_set(name, value))
        assert result.returncode != 0
        assert f"retention: {name} must be a positive integer (psql -v {name}=N), got '{value or ''}'" in result.stderr
        assert lg.snapshot(conn) == before


def test_a_database_without_checkpoint_tables_is_a_clean_no_op(server, volumes):
    server.psql(f"CREATE DATABASE langgraph_empty OWNER {APP_USER}")
    result = run_job(server, "langgraph_empty", volumes, spec())
    assert result.returncode == 0, result.stderr
    assert "retention: no checkpoint tables in search_path" in result.stderr


# --- the rendered objects -------------------------------------------------------------------

PEERS = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "langgraph-data"}},
          "podSelector": {"matchLabels": {"cnpg.io/cluster": "langgraph-db"}}}]


def kubernetes_validate(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(KUBERNETES_VALIDATE), "--strict", "-k", "1.31.0", str(path)],
                          capture_output=True, text=True)


def test_rendered_objects_pass_kubernetes_validate_strict(tmp_path):
    path = tmp_path / "retention.yaml"
    path.write_text(yaml.safe_dump_all([config_map(spec()), cron_job(spec()), network_policy(spec(), PEERS)]))
    result = kubernetes_validate(path)
    assert result.returncode == 0, result.stdout + result.stderr
    for kind in ("configmap", "cronjob", "networkpolicy"):
        assert f"passed for resource {kind}/checkpoint-retention" in result.stdout


def test_kubernetes_validate_catches_a_misspelled_cron_job_field(tmp_path):
    job = cron_job(spec())
    job["spec"]["jobTemplate"]["spec"]["backofLimit"] = 2
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(job))
    result = kubernetes_validate(path)
    assert result.returncode != 0 and "backofLimit" in result.stdout + result.stderr


def test_cron_job_runs_psql_on_the_mounted_sql_restricted_and_bounded():
    job_spec = spec(sslmode="verify-full", ttl_days=45, batch_size=500, max_batches=20,
                    secret_keys=SecretKeys(host="endpoint", port="port", database="db", user="user", password="pw"))
    job = cron_job(job_spec)
    cron, pod = job["spec"], job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert cron["concurrencyPolicy"] == "Forbid" and cron["startingDeadlineSeconds"] > 0
    assert {"backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished"} <= set(cron["jobTemplate"]["spec"])
    box = container(job)
    assert box["image"] == IMAGES["postgres-client"].ref == job_spec.image
    assert box["command"] == ["psql"]
    assert box["args"] == ["-X", "-w", "-f", f"{MOUNT_DIR}/{SQL_KEY}", "-v", "ttl_days=45",
                           "-v", "batch_size=500", "-v", "max_batches=20"]
    assert box["volumeMounts"] == [{"name": "sql", "mountPath": MOUNT_DIR, "readOnly": True}]
    assert pod["volumes"][0]["configMap"]["name"] == config_map(job_spec)["metadata"]["name"]
    from_secret = {entry["name"]: (entry["valueFrom"]["secretKeyRef"]["name"], entry["valueFrom"]["secretKeyRef"]["key"])
                   for entry in box["env"] if "valueFrom" in entry}
    assert from_secret == {"PGHOST": ("langgraph-db-app", "endpoint"), "PGPORT": ("langgraph-db-app", "port"),
                           "PGDATABASE": ("langgraph-db-app", "db"), "PGUSER": ("langgraph-db-app", "user"),
                           "PGPASSWORD": ("langgraph-db-app", "pw")}
    assert {entry["name"]: entry["value"] for entry in box["env"] if "value" in entry} == {
        "PGSSLMODE": "verify-full", "PGAPPNAME": "checkpoint-retention"}
    assert pod["automountServiceAccountToken"] is False and pod["restartPolicy"] == "Never"
    assert pod["securityContext"]["runAsNonRoot"]
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    security = box["securityContext"]
    assert security["runAsUser"] >= 10000 and security["runAsNonRoot"]
    assert security["readOnlyRootFilesystem"] and not security["allowPrivilegeEscalation"]
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert box["resources"]["limits"] and box["resources"]["requests"]


def test_config_map_carries_the_shipped_sql():
    assert config_map(spec())["data"] == {SQL_KEY: SQL_FILE.read_text()}


def test_network_policy_opens_only_dns_and_the_database():
    policy = network_policy(spec(), PEERS, 5432)["spec"]
    assert policy["podSelector"] == {"matchLabels": LABELS} and "ingress" not in policy
    assert policy["egress"][1] == {"to": PEERS, "ports": [{"protocol": "TCP", "port": 5432}]}


@pytest.mark.parametrize("overrides", [
    {"ttl_days": 0}, {"batch_size": -1}, {"max_batches": True}, {"ttl_days": "30"}, {"batch_size": 10**9},
    {"sslmode": "required"}, {"name": "Retention"}, {"name": "r" * 53},
])
def test_spec_rejects_bad_values(overrides):
    with pytest.raises(ValueError, match="retention"):
        spec(**overrides)
