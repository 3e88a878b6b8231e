"""PostgreSQL: the tuning the program renders in a real server (CloudNativePG's sizes and RDS's
formulas both), and `PostgresCluster` in both engines as the engine would receive it: the
CloudNativePG Cluster, poolers and plugin backups; RDS with its replica, proxy and guard rails;
roles, grants and connection limits that fit what the server accepts.

The roles are pulumi-postgresql resources: their SQL is the provider's, which cannot run here
(no Pulumi engine), so they are checked as registered."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest

from components.postgres.tuning import Tuning, cnpg_parameters, rds_parameters
from stackconfig.quantity import parse_quantity

from .engines.postgres import new_server

CLUSTER, POOLER = "kubernetes:postgresql.cnpg.io/v1:Cluster", "kubernetes:postgresql.cnpg.io/v1:Pooler"
RDS_INSTANCE, PROXY = "aws:rds/instance:Instance", "aws:rds/proxy:Proxy"
ROLE = "postgresql:index/role:Role"
# What the seed sets for 8 GiB: these are the fractions the program scales by.
SEED_8GIB = {"shared_buffers": "2GB", "effective_cache_size": "6GB", "maintenance_work_mem": "512MB"}
SIZED = ("shared_buffers", "effective_cache_size", "maintenance_work_mem")
_RDS_FORMULA = re.compile(r"^\{DBInstanceClassMemory\*(\d+)/(\d+)\}$")


def _bytes_setting(server, name: str) -> int:
    """A memory setting as the server holds it, in bytes."""
    value, unit = server.psql(f"SELECT setting, unit FROM pg_settings WHERE name = '{name}'").split("|")
    multiplier = {"8kB": 8192, "kB": 1024, "MB": 2**20}[unit]
    return int(value) * multiplier


def _rds_value(formula: str, memory_bytes: int) -> str:
    """What RDS puts in postgresql.conf for `{DBInstanceClassMemory*a/b}`: integer arithmetic, the
    parameter's own unit (PostgreSQL reads a bare number in that unit)."""
    match = _RDS_FORMULA.match(formula)
    return str(memory_bytes * int(match[1]) // int(match[2])) if match else formula


@pytest.fixture(scope="module")
def servers():
    """Two real servers for a 1 GiB instance: one with CloudNativePG's parameters, one with what RDS
    would make of the parameter group's formulas."""
    memory = 2**30
    tuning = Tuning(max_connections=120)
    cnpg = cnpg_parameters(tuning, memory)
    rds = {key: _rds_value(value, memory) for key, value in rds_parameters(tuning).items()
           if not key.startswith("rds.")}  # RDS's own switches are not PostgreSQL settings
    started = []
    try:
        for settings in (cnpg, rds):
            started.append(new_server({**settings, "shared_preload_libraries": "pg_stat_statements"}))
        yield memory, tuning, *started
    finally:
        for server in started:
            server.cleanup()


def test_rendered_parameters_are_what_a_real_server_runs_with(servers):
    memory, tuning, cnpg, _ = servers
    for key, value in cnpg_parameters(tuning, memory).items():
        if key in SIZED:
            assert _bytes_setting(cnpg, key) == parse_quantity(value.replace("MB", "Mi").replace("GB", "Gi")), key
        else:
            # pg_settings holds the value in the setting's base unit, as it was written.
            assert cnpg.psql(f"SELECT setting FROM pg_settings WHERE name = '{key}'") == value, key


def test_rds_formulas_give_the_same_memory_as_cloudnative_pg(servers):
    """Same fractions in both engines: the RDS formulas, evaluated as RDS does, land on the same
    sizes a CloudNativePG instance of the same memory gets (to the page)."""
    _, _, cnpg, rds = servers
    for key in SIZED:
        assert abs(_bytes_setting(rds, key) - _bytes_setting(cnpg, key)) < 2**20, key
    assert rds.psql("SHOW max_connections") == cnpg.psql("SHOW max_connections") == "120"


@pytest.mark.parametrize("key", SIZED)
def test_sizes_are_the_seeds_fractions_of_memory(key):
    """8 GiB gives the seed's own figures; 1 GiB an eighth of them, never the seed's absolute sizes."""
    to_bytes = {"GB": 2**30, "MB": 2**20}
    size = lambda text: int(text[:-2]) * to_bytes[text[-2:]]  # noqa: E731
    assert size(cnpg_parameters(Tuning(100), 8 * 2**30)[key]) == size(SEED_8GIB[key])
    assert Fraction(size(cnpg_parameters(Tuning(100), 2**30)[key]), size(SEED_8GIB[key])) == Fraction(1, 8)


def test_explicit_sizes_win_and_reach_rds_in_its_units():
    tuning = Tuning(100, shared_buffers="2GB", maintenance_work_mem="512MB")
    assert cnpg_parameters(tuning, 2**30)["shared_buffers"] == "2GB"
    rds = rds_parameters(tuning)
    assert rds["shared_buffers"] == str(2 * 2**30 // 8192)
    assert rds["maintenance_work_mem"] == str(512 * 1024)
    assert rds["rds.force_ssl"] == "1" and rds["shared_preload_libraries"] == "pg_stat_statements"


# --- CloudNativePG (dev) ---------------------------------------------------------------------------

def test_cluster_runs_the_scaled_tuning_with_hard_anti_affinity(dev_plan):
    spec = dev_plan.one(CLUSTER).inputs["spec"]
    memory = parse_quantity(spec["resources"]["limits"]["memory"])
    assert spec["postgresql"]["parameters"] == cnpg_parameters(
        Tuning(int(spec["postgresql"]["parameters"]["max_connections"])), memory)
    assert spec["affinity"]["podAntiAffinityType"] == "required"
    assert spec["resources"]["requests"] == spec["resources"]["limits"], "Guaranteed QoS for the database"
    assert spec["primaryUpdateMethod"] == "switchover"


def test_backups_go_through_the_barman_cloud_plugin_only(dev_plan):
    cluster = dev_plan.one(CLUSTER).inputs["spec"]
    assert "backup" not in cluster, "the in-tree barmanObjectStore is deprecated and removed in 1.31"
    [plugin] = cluster["plugins"]
    assert plugin["name"] == "barman-cloud.cloudnative-pg.io" and plugin["isWALArchiver"] is True
    store = dev_plan.kube_object("ObjectStore", plugin["parameters"]["barmanObjectName"]).inputs["spec"]
    assert store["configuration"]["destinationPath"].endswith("/postgres/")
    assert store["retentionPolicy"] == "7d"
    backup = dev_plan.one("kubernetes:postgresql.cnpg.io/v1:ScheduledBackup").inputs["spec"]
    assert backup["method"] == "plugin" and backup["pluginConfiguration"]["name"] == plugin["name"]
    assert len(backup["schedule"].split()) == 6, "CloudNativePG schedules have a seconds field"


def test_pooler_multiplexes_prepared_statements_in_transaction_mode(dev_plan):
    [pooler] = dev_plan.of_type(POOLER)
    pgbouncer = pooler.inputs["spec"]["pgbouncer"]
    assert pgbouncer["poolMode"] == "transaction"
    assert int(pgbouncer["parameters"]["max_prepared_statements"]) > 0
    assert "enablePodMonitor" not in str(pooler.inputs), "the operator's PodMonitor switch is deprecated"
    monitors = [r.inputs["metadata"]["name"] for r in dev_plan.of_type("kubernetes:monitoring.coreos.com/v1:PodMonitor")
                if r.parent == "langgraph-dev-postgres"]
    assert len(monitors) == 2, monitors


def test_role_limits_fit_in_max_connections(plan):
    """The app role's cap plus the others' never exceeds what the server takes besides its reserve."""
    limits = {r.inputs["name"]: r.inputs["connectionLimit"] for r in plan.of_type(ROLE)}
    if plan.stack == "dev":
        spec = plan.one(CLUSTER).inputs["spec"]
        [managed] = spec["managed"]["roles"]
        limits[managed["name"]] = managed["connectionLimit"]
        max_connections = int(spec["postgresql"]["parameters"]["max_connections"])
    else:
        params = {p["name"]: p["value"] for p in plan.one("aws:rds/parameterGroup:ParameterGroup").inputs["parameters"]}
        max_connections = int(params["max_connections"])
    assert set(limits) == {"langgraph_app", "langgraph_readonly", "langgraph_monitor"}
    assert sum(limits.values()) <= max_connections - 10, limits
    if plan.stack == "prod":
        # RDS Proxy pins every session of the checkpointer: the app role must admit every pod's pool.
        assert limits["langgraph_app"] >= plan.outputs["capacity"]["worst_case_db_connections"]


def test_readonly_role_reads_tables_created_later(plan):
    privileges = plan.one("postgresql:index/defaultPrivileges:DefaultPrivileges").inputs
    assert (privileges["owner"], privileges["role"], privileges["privileges"]) == \
        ("langgraph_app", "langgraph_readonly", ["SELECT"])
    monitor = plan.one("postgresql:index/grantRole:GrantRole").inputs
    assert (monitor["role"], monitor["grantRole"]) == ("langgraph_monitor", "pg_monitor")
    assert plan.one("postgresql:index/extension:Extension").inputs["name"] == "pg_stat_statements"


def test_roles_connect_through_the_configured_admin_tunnel(run_stack):
    plan = run_stack("dev", {"postgres": {"admin_host": "10.1.2.3", "admin_port": 25432}})
    provider = plan.one("pulumi:providers:postgresql").inputs
    assert (provider["host"], provider["port"], provider["sslmode"]) == ("10.1.2.3", "25432", "require")


# --- RDS (prod) ------------------------------------------------------------------------------------

def test_rds_primary_guard_rails(prod_plan):
    [primary] = [r for r in prod_plan.of_type(RDS_INSTANCE) if r.name.endswith("-primary")]
    i = primary.inputs
    assert primary.protect
    assert i["multiAz"] is True and i["storageEncrypted"] is True and i["kmsKeyId"]
    assert i["publiclyAccessible"] is False and i["deletionProtection"] is True
    assert i["skipFinalSnapshot"] is False and i["finalSnapshotIdentifier"]
    assert i["backupRetentionPeriod"] == 30 and i["manageMasterUserPassword"] is True
    assert i["performanceInsightsEnabled"] is True and "postgresql" in i["enabledCloudwatchLogsExports"]
    # Wired by name to the groups registered beside it (names Pulumi gives at preview already).
    assert i["dbSubnetGroupName"] == prod_plan.one("aws:rds/subnetGroup:SubnetGroup").name
    assert i["parameterGroupName"] == prod_plan.one("aws:rds/parameterGroup:ParameterGroup").name


def test_rds_replica_and_proxy(prod_plan):
    replicas = [r for r in prod_plan.of_type(RDS_INSTANCE) if "-replica-" in r.name]
    assert len(replicas) == 1 and replicas[0].inputs["replicateSourceDb"]
    proxy = prod_plan.one(PROXY).inputs
    assert proxy["requireTls"] is True and proxy["engineFamily"] == "POSTGRESQL"
    assert [a["authScheme"] for a in proxy["auths"]] == ["SECRETS"]
    pool = prod_plan.one("aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup").inputs
    target = prod_plan.one("aws:rds/proxyTarget:ProxyTarget").inputs
    assert pool["dbProxyName"] == target["dbProxyName"] == prod_plan.one(PROXY).name
    # Up to what is not reserved: 1000 connections, 10 reserved.
    assert pool["connectionPoolConfig"]["maxConnectionsPercent"] == 99


def test_rds_admits_postgres_only_from_the_cluster_and_the_proxy(prod_plan):
    groups = {r.name: r.inputs for r in prod_plan.of_type("aws:ec2/securityGroup:SecurityGroup")
              if r.parent == "langgraph-prod-postgres-rds"}
    for inputs in groups.values():
        for rule in inputs.get("ingress", []):
            assert (rule["fromPort"], rule["toPort"]) == (5432, 5432)
            assert "cidrBlocks" not in rule and rule["securityGroups"], rule
    rule = prod_plan.one("aws:ec2/securityGroupRule:SecurityGroupRule").inputs
    assert (rule["type"], rule["fromPort"], rule["toPort"]) == ("ingress", 5432, 5432)
    assert rule["sourceSecurityGroupId"]


def test_rds_parameter_group_carries_the_formulas_and_tls(prod_plan):
    params = {p["name"]: p for p in prod_plan.one("aws:rds/parameterGroup:ParameterGroup").inputs["parameters"]}
    assert params["shared_buffers"]["value"] == "{DBInstanceClassMemory*1/32768}"
    assert params["rds.force_ssl"]["value"] == "1"
    assert params["shared_buffers"]["applyMethod"] == "pending-reboot"


# --- engines switch by config in either stack ------------------------------------------------------

def test_prod_can_run_cloudnative_pg(run_stack):
    plan = run_stack("prod", {"postgres": {"engine": "cloudnative-pg", "instances": 3}})
    assert not plan.of_type(RDS_INSTANCE) and not plan.of_type(PROXY)
    spec = plan.one(CLUSTER).inputs["spec"]
    assert spec["instances"] == 3
    assert {p.inputs["spec"]["type"] for p in plan.of_type(POOLER)} == {"rw", "ro"}
    assert plan.outputs["postgres_engine"] == "cloudnative-pg"
