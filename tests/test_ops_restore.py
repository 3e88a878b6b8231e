"""`python -m ops restore-drill` on a real PostgreSQL 15 with WAL archiving (archive_command copying to
a directory) and a base backup (pg_basebackup, WAL left to the archive); LangGraph threads are written
by a real graph through PostgresSaver before and after the backup. The drill's local mode restores to
a second server (replaying the archive through restore_command to its end) and compares.

The CloudNativePG path runs its API calls against recorded responses (`tests/data/kube/restore.json`,
a stand-in API server on 127.0.0.1) and connects to a copy this module restored for real; the RDS path
runs its AWS calls against moto and connects to the same copy. The CronJob objects go through
kubernetes-validate --strict.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import psycopg
import pytest
import yaml
from moto import mock_aws

from ops.cli import main
from ops.outputs import StackOutputs
from ops.restore.cnpg import scratch_cluster
from ops.restore.cronjob import RestoreDrillJobSpec, restore_drill_objects
from ops.restore.drill import DrillSettings, LocalScratch, RestoreDrill
from ops.restore.local import LocalRestore

from .engines import langgraph_threads as lg
from .engines.kube_recorded import RecordedApi, load_routes
from .engines.postgres import PostgresServer, bin_dir, new_server
from .engines.procs import wait_for

KUBERNETES_VALIDATE = Path(sys.executable).parent / "kubernetes-validate"
APP_USER, APP_PASSWORD = "langgraph_app", "test-app-password"
BEFORE = [f"before-{i}" for i in range(4)]
AFTER = [f"after-{i}" for i in range(3)]
RUN_AS = "postgres" if os.geteuid() == 0 else None
SCRATCH_CLUSTER = "/apis/postgresql.cnpg.io/v1/namespaces/langgraph-data/clusters/langgraph-pg-drill"


@dataclass
class Archive:
    source: PostgresServer
    directory: Path

    @property
    def base_backup(self) -> Path:
        return self.directory / "base"

    @property
    def wal(self) -> Path:
        return self.directory / "wal"

    def outputs(self, **extra) -> dict:
        dsn = self.source.dsn("langgraph", APP_USER, APP_PASSWORD)
        return {"namespace": "langgraph", "database_url": dsn, "database_readonly_url": dsn,
                "postgres_engine": "cloudnative-pg", "postgres_cluster": "langgraph-data/langgraph-pg",
                "checkpoint_region": "us-east-1", **extra}

    def write_outputs(self, path: Path, **extra) -> Path:
        path.write_text(json.dumps(self.outputs(**extra)))
        return path


def _as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if RUN_AS else argv


@pytest.fixture(scope="module")
def archive() -> Iterator[Archive]:
    directory = Path(tempfile.mkdtemp(prefix="lg-archive-"))
    os.chmod(directory, 0o755)
    (directory / "wal").mkdir()
    if RUN_AS:
        shutil.chown(directory, RUN_AS, RUN_AS)
        shutil.chown(directory / "wal", RUN_AS, RUN_AS)
    source = new_server({"archive_mode": "on",
                         "archive_command": f"'test ! -f {directory}/wal/%f && cp %p {directory}/wal/%f'"})
    try:
        source.psql(f"CREATE ROLE {APP_USER} LOGIN PASSWORD '{APP_PASSWORD}'")
        source.psql(f"CREATE DATABASE langgraph OWNER {APP_USER}")
        dsn = source.dsn("langgraph", APP_USER, APP_PASSWORD)
        with lg.PostgresSaver.from_conn_string(dsn) as saver:
            saver.setup()
        lg.write_threads(dsn, BEFORE)
        # The base backup without WAL: recovery must take every segment from the archive, as Barman's does.
        subprocess.run(_as_postgres([str(bin_dir() / "pg_basebackup"), "-D", str(directory / "base"),
                                     "-X", "none", "--checkpoint=fast", "-h", "127.0.0.1", "-p", str(source.port),
                                     "-U", "postgres"]),
                       env={**os.environ, "PGPASSWORD": "test-superuser-password"}, check=True, capture_output=True)
        # After the backup: new threads, and another turn of an old one (its newest state is only in the WAL).
        lg.write_threads(dsn, AFTER)
        lg.write_threads(dsn, BEFORE[:1], turns=1)
        segment = source.psql("SELECT pg_walfile_name(pg_current_wal_lsn())")
        source.psql("SELECT pg_switch_wal()")  # what archive_timeout does in production
        wait_for(lambda: (directory / "wal" / segment).exists(), what="the last segment archived")
        yield Archive(source, directory)
    finally:
        # Also when the set-up fails: a server left running outlives the test session.
        source.cleanup()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def restored_copy(archive) -> Iterator[str]:
    """A copy restored by the local mode's code, kept up for the recorded CloudNativePG and moto RDS paths."""
    local = LocalRestore(archive.base_backup, archive.wal, bin_dir(), run_as=RUN_AS)
    try:
        local.copy(lambda size: None)
        local.start()
        host = f"127.0.0.1:{local.port}"
        local.wait_promoted(f"postgresql://{APP_USER}:{APP_PASSWORD}@{host}/langgraph", timeout=60)
        yield host
    finally:
        local.teardown()


def run_cli(capsys, *argv: str) -> tuple[int, dict]:
    capsys.readouterr()
    code = main(["restore-drill", "--json", *argv])
    report = json.loads(capsys.readouterr().out)
    return code, report


def checks(report: dict) -> dict[str, dict]:
    return {check["name"]: check for check in report["checks"]}


def _scratch_directories() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("ops-restore-*"))


def test_local_restore_passes_the_langgraph_comparison(archive, capsys, tmp_path):
    existing = _scratch_directories()
    code, report = run_cli(capsys, "--outputs", str(archive.write_outputs(tmp_path / "outputs.json")),
                           "--base-backup", str(archive.base_backup), "--wal-archive", str(archive.wal),
                           "--pg-bin", str(bin_dir()), *(["--run-as", RUN_AS] if RUN_AS else []))
    rows = checks(report)
    assert {name: row["status"] for name, row in rows.items()} == {
        "restore": "OK", "recovery-point": "OK", "langgraph-state": "OK", "threads-present": "OK",
        "teardown": "OK"}, rows
    assert code == 0
    # Every thread, those written after the base backup included (replayed from the archive), compared equal.
    assert sorted(rows["langgraph-state"]["data"]["compared"]) == sorted(BEFORE + AFTER)
    # Presence is checked for source threads begun a clock-slack (1 s) before the recovery point.
    presence = rows["threads-present"]["data"]
    assert presence["missing"] == [] and presence["checked"] >= len(BEFORE)
    facts = report["facts"]
    assert 0 < facts["rto_seconds"] < 60 and 0 <= facts["rpo_seconds"] < 60
    # Nothing was written after the archive's end: the copy's newest checkpoint is the source's.
    assert facts["newest_restored_checkpoint"] == facts["newest_source_checkpoint"]
    assert _scratch_directories() == existing, "the scratch copy's files were removed"


def _local_drill(archive: Archive) -> RestoreDrill:
    """A drill restoring the archive locally, its output kept quiet."""
    scratch = LocalScratch(LocalRestore(archive.base_backup, archive.wal, bin_dir(), run_as=RUN_AS))
    return RestoreDrill(StackOutputs(archive.outputs()), scratch, DrillSettings(), _quiet_console())


def test_a_thread_changed_on_the_copy_fails(archive):
    drill = _local_drill(archive)
    try:
        assert drill.restore()
        with psycopg.connect(drill.copy_dsn, autocommit=True) as conn:
            # The newest root checkpoint of one thread now says it came from another step.
            conn.execute("UPDATE checkpoints SET metadata = jsonb_set(metadata, '{step}', '99') WHERE thread_id = %s "
                         "AND checkpoint_ns = '' AND checkpoint_id = (SELECT max(checkpoint_id) FROM checkpoints "
                         "WHERE thread_id = %s AND checkpoint_ns = '')", (AFTER[1], AFTER[1]))
        drill.verify()
    finally:
        drill.teardown()
    rows = {check.name: check for check in drill.report.checks}
    assert rows["langgraph-state"].status.name == "FAIL" and drill.report.exit_code == 2
    assert list(rows["langgraph-state"].data["mismatches"]) == [AFTER[1]]
    assert "metadata differs in step" in rows["langgraph-state"].detail
    assert rows["threads-present"].status.name == "OK" and rows["teardown"].status.name == "OK"


def test_a_thread_lost_on_the_copy_fails(archive):
    drill = _local_drill(archive)
    try:
        assert drill.restore()
        with psycopg.connect(drill.copy_dsn, autocommit=True) as conn:
            for table in lg.TABLES:
                conn.execute(f"DELETE FROM {table} WHERE thread_id = %s", (BEFORE[2],))
        drill.verify()
    finally:
        drill.teardown()
    rows = {check.name: check for check in drill.report.checks}
    assert rows["threads-present"].status.name == "FAIL" and rows["threads-present"].data["missing"] == [BEFORE[2]]
    assert rows["langgraph-state"].status.name == "OK"


def _quiet_console():
    from rich.console import Console

    return Console(file=open(os.devnull, "w"))


def test_cloudnative_pg_path_against_the_recorded_api(archive, restored_copy, capsys, tmp_path):
    api = RecordedApi(load_routes("restore")).start()
    try:
        code, report = run_cli(capsys, "--outputs", str(archive.write_outputs(tmp_path / "outputs.json")),
                               "--kubeconfig", str(api.kubeconfig(tmp_path / "kubeconfig")), "--poll", "0.1",
                               "--scratch-name", "langgraph-pg-drill", "--scratch-via", restored_copy)
    finally:
        api.stop()
    assert report["status"] == "OK" and code == 0, report
    created = api.made("POST", "/apis/postgresql.cnpg.io/v1/namespaces/langgraph-data/clusters")
    assert len(created) == 1
    body = created[0].body
    assert body == scratch_cluster(load_routes("restore")["GET /apis/postgresql.cnpg.io/v1/namespaces/langgraph-data/"
                                                           "clusters/langgraph-pg"]["body"], "langgraph-pg-drill")
    assert body["spec"]["bootstrap"]["recovery"] == {"source": "origin", "database": "langgraph",
                                                     "owner": "langgraph_app", "secret": {"name": "langgraph-pg-app"}}
    assert body["spec"]["externalClusters"] == [{"name": "origin", "plugin": {
        "name": "barman-cloud.cloudnative-pg.io",
        "parameters": {"barmanObjectName": "langgraph-pg-backups", "serverName": "langgraph-pg"}}}]
    assert "plugins" not in body["spec"], "the copy must never archive into the source's store"
    policy = api.made("POST", "/apis/networking.k8s.io/v1/namespaces/langgraph-data/networkpolicies")[0].body
    assert policy["metadata"]["name"] == "langgraph-pg-drill-instances"
    assert policy["spec"]["podSelector"]["matchLabels"]["cnpg.io/cluster"] == "langgraph-pg-drill"
    # Polled until healthy, then both objects deleted.
    assert len(api.made("GET", SCRATCH_CLUSTER)) >= 2
    assert api.made("DELETE", SCRATCH_CLUSTER)
    assert api.made("DELETE", "/apis/networking.k8s.io/v1/namespaces/langgraph-data/networkpolicies/"
                              "langgraph-pg-drill-instances")


def test_rds_path_against_moto(archive, restored_copy, capsys, tmp_path, aws_test_credentials):
    with mock_aws():
        rds = boto3.client("rds", region_name="us-east-1")
        rds.create_db_instance(DBInstanceIdentifier="langgraph-prod", DBInstanceClass="db.r6g.large", Engine="postgres",
                               MasterUsername="postgres", MasterUserPassword="test-master-password",
                               AllocatedStorage=100, MultiAZ=True, BackupRetentionPeriod=7)
        outputs = archive.write_outputs(tmp_path / "outputs.json", postgres_engine="rds",
                                        postgres_cluster="langgraph-prod")
        code, report = run_cli(capsys, "--outputs", str(outputs), "--poll", "1", "--scratch-name",
                               "langgraph-prod-drill", "--scratch-via", restored_copy)
        remaining = [i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]]
    assert report["status"] == "OK" and code == 0, report
    assert remaining == ["langgraph-prod"], "the scratch instance was deleted"
    assert checks(report)["teardown"]["detail"] == "RDS instance langgraph-prod-drill"


def test_weekly_cronjob_objects_validate_strictly(tmp_path):
    spec = RestoreDrillJobSpec(
        namespace="langgraph", image="ghcr.io/example/langgraph-ops:1.0.0", outputs_secret="langgraph-stack-outputs",
        engine="cloudnative-pg", data_namespace="langgraph-data",
        database_peers=[{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "langgraph-data"}},
                         "podSelector": {"matchLabels": {"cnpg.io/podRole": "instance"}}}])
    objects = restore_drill_objects(spec)
    assert [o["kind"] for o in objects] == ["ServiceAccount", "Role", "RoleBinding", "NetworkPolicy", "CronJob"]
    role = objects[1]
    assert role["metadata"]["namespace"] == "langgraph-data"
    assert {(r["apiGroups"][0], r["resources"][0]): r["verbs"] for r in role["rules"]} == {
        ("postgresql.cnpg.io", "clusters"): ["get", "create", "delete"],
        ("networking.k8s.io", "networkpolicies"): ["get", "create", "delete"]}
    job = objects[-1]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert job["containers"][0]["command"][:4] == ["python", "-m", "ops", "restore-drill"]
    path = tmp_path / "drill.yaml"
    path.write_text(yaml.safe_dump_all(objects))
    result = subprocess.run([str(KUBERNETES_VALIDATE), "--strict", "--kubernetes-version", "1.33", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    rds_objects = restore_drill_objects(RestoreDrillJobSpec(
        namespace="langgraph", image="ghcr.io/example/langgraph-ops:1.0.0", outputs_secret="langgraph-stack-outputs",
        engine="rds", database_peers=[{"ipBlock": {"cidr": "10.0.0.0/16"}}], https_cidrs=["10.0.0.0/16"],
        iam_role_arn="arn:aws:iam::123456789012:role/langgraph-restore-drill"))
    assert [o["kind"] for o in rds_objects] == ["ServiceAccount", "NetworkPolicy", "CronJob"]
