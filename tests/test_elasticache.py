"""`redis.engine: elasticache` as the engine would receive it: a Valkey replication group with
Multi-AZ failover, encryption at rest and in transit, an AUTH token, the seed's settings and
snapshots; the app gets `rediss://` and, in cluster mode, `REDIS_CLUSTER=true`; the data tier's
engines switch by config in dev too."""

from __future__ import annotations

import pytest

from stackconfig.model import deep_merge

from .conftest import run_values, stack_values

GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"


def _config(plan) -> dict[str, str]:
    return plan.kube_object("ConfigMap", "langgraph-config").inputs["data"]


@pytest.fixture(scope="module")
def plans():
    prod = stack_values("prod")
    return {
        "replicated": run_values(deep_merge(prod, {"redis": {"engine": "elasticache"}}), "prod"),
        "cluster": run_values(deep_merge(prod, {"redis": {"engine": "elasticache",
                                                          "elasticache": {"cluster_mode": True}}}), "prod"),
    }


def test_group_is_encrypted_failover_ready_and_protected(plans):
    group = plans["replicated"].one(GROUP)
    i = group.inputs
    assert group.protect
    assert i["engine"] == "valkey" and i["engineVersion"].startswith("8")
    assert i["automaticFailoverEnabled"] is True and i["multiAzEnabled"] is True
    assert i["atRestEncryptionEnabled"] is True and i["kmsKeyId"] and i["transitEncryptionEnabled"] is True
    assert i["authToken"] == "[secret]"
    assert i["snapshotRetentionLimit"] > 0 and i["finalSnapshotIdentifier"]
    assert i["numCacheClusters"] >= 3, "a primary and at least two replicas across zones"
    plan = plans["replicated"]
    assert i["subnetGroupName"] == plan.one("aws:elasticache/subnetGroup:SubnetGroup").name
    assert i["parameterGroupName"] == plan.one("aws:elasticache/parameterGroup:ParameterGroup").name


def test_only_the_cluster_reaches_it(plans):
    [group] = [r for r in plans["replicated"].of_type("aws:ec2/securityGroup:SecurityGroup")
               if r.parent == "langgraph-prod-redis"]
    [rule] = group.inputs["ingress"]
    assert (rule["fromPort"], rule["toPort"], rule["protocol"]) == (6379, 6379, "tcp")
    assert rule["securityGroups"] and "cidrBlocks" not in rule


def test_parameter_group_carries_the_seeds_settings(plans):
    params = {p["name"]: p["value"] for p in
              plans["replicated"].one("aws:elasticache/parameterGroup:ParameterGroup").inputs["parameters"]}
    assert params == {"maxmemory-policy": "allkeys-lru", "tcp-keepalive": "60", "timeout": "300"}
    assert plans["replicated"].one("aws:elasticache/parameterGroup:ParameterGroup").inputs["family"] == "valkey8"


def test_app_speaks_tls_and_no_sentinels_are_advertised(plans):
    plan = plans["replicated"]
    assert _config(plan)["REDIS_CLUSTER"] == "false"
    assert plan.outputs["redis_sentinels"] == [] and plan.outputs["redis_master_name"] is None
    assert not [r.name for r in plan.of_type("kubernetes:apps/v1:StatefulSet") if "redis" in r.name]


def test_cluster_mode_shards_and_tells_the_server(plans):
    plan = plans["cluster"]
    i = plan.one(GROUP).inputs
    assert i["clusterMode"] == "enabled" and i["numNodeGroups"] >= 1 and i["replicasPerNodeGroup"] >= 1
    assert "numCacheClusters" not in i
    params = {p["name"]: p["value"] for p in plan.one("aws:elasticache/parameterGroup:ParameterGroup").inputs["parameters"]}
    assert params["cluster-enabled"] == "yes"
    assert _config(plan)["REDIS_CLUSTER"] == "true"


def test_dev_switches_every_data_engine_to_aws(run_stack):
    """Each engine is a config choice in either stack: dev with an AWS account runs RDS, ElastiCache and S3."""
    prod = stack_values("prod")
    plan = run_stack("dev", {"aws": prod["aws"], "postgres": {"engine": "rds"}, "redis": {"engine": "elasticache"},
                             "checkpoints": {"backend": "s3"}})
    types = {r.type for r in plan.resources}
    assert {"aws:rds/instance:Instance", "aws:rds/proxy:Proxy", GROUP, "aws:s3/bucket:Bucket"} <= types
    assert "kubernetes:postgresql.cnpg.io/v1:Cluster" not in types
    assert plan.outputs["postgres_engine"] == "rds"
