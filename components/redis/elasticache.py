"""ElastiCache for Valkey: a Multi-AZ replication group with automatic failover, encrypted at rest and
in transit, an AUTH token, the seed's settings in a parameter group, and snapshots.

The app gets `rediss://` to the primary endpoint (cluster mode off: ElastiCache moves it to the new
primary on failover, the stable endpoint LangGraph needs) or to the configuration endpoint with
REDIS_CLUSTER=true (cluster mode on, the seed's sharding). ElastiCache's in-transit certificates
chain to Amazon's public roots, which the server image already trusts: no REDIS_TLS_CA_CERT needed.
ElastiCache manages maxmemory itself and snapshots instead of RDB `save` rules.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.aws import AwsResource, invoke
from components.connections import Endpoint
from components.random_tls_postgresql import random_password

PORT = 6379


@dataclass(frozen=True)
class ElastiCacheSpec:
    node_type: str
    replicas: int
    cluster_mode: bool
    shards: int
    snapshot_retention_days: int
    maxmemory_policy: str
    timeout: int
    tcp_keepalive: int
    vpc_id: str
    subnet_ids: tuple[str, ...]
    eks_cluster_name: str
    vpc_cidr: str
    protect: bool
    engine_version: str = "8.1"


def parameters(spec: ElastiCacheSpec) -> dict[str, str]:
    """The seed's redis.conf settings that ElastiCache lets a parameter group set."""
    values = {"maxmemory-policy": spec.maxmemory_policy, "timeout": str(spec.timeout),
              "tcp-keepalive": str(spec.tcp_keepalive)}
    if spec.cluster_mode:
        values["cluster-enabled"] = "yes"
    return values


class ElastiCacheRedis(pulumi.ComponentResource):
    url: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    endpoints: tuple[Endpoint, ...]

    def __init__(self, name: str, spec: ElastiCacheSpec, opts: pulumi.ResourceOptions | None = None):
        super().__init__("langgraph:platform:ElastiCacheRedis", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(parent=self, protect=spec.protect)
        key = AwsResource("aws:kms/key:Key", f"{name}-key", {
            "description": f"{name}: ElastiCache at rest", "enableKeyRotation": True, "deletionWindowInDays": 30},
            stateful)
        token = random_password(f"{name}-auth-token", 64, child)
        cluster = invoke("aws:eks/getCluster:getCluster", {"name": spec.eks_cluster_name},
                         pulumi.InvokeOutputOptions(parent=self))
        group = AwsResource("aws:ec2/securityGroup:SecurityGroup", f"{name}-sg", {
            "vpcId": spec.vpc_id, "description": f"{name}: Redis from the EKS cluster only",
            "ingress": [{"protocol": "tcp", "fromPort": PORT, "toPort": PORT,
                         "description": "Redis from the EKS cluster",
                         "securityGroups": [cluster["vpcConfig"]["clusterSecurityGroupId"]]}]}, child)
        subnets = AwsResource("aws:elasticache/subnetGroup:SubnetGroup", f"{name}-subnets", {
            "subnetIds": list(spec.subnet_ids), "description": f"{name}: private subnets"}, child)
        family = f"valkey{spec.engine_version.split('.')[0]}"
        params = AwsResource("aws:elasticache/parameterGroup:ParameterGroup", f"{name}-params", {
            "family": family, "description": f"{name}: the seed's settings",
            "parameters": [{"name": k, "value": v} for k, v in sorted(parameters(spec).items())]}, child)
        sharding = ({"clusterMode": "enabled", "numNodeGroups": spec.shards, "replicasPerNodeGroup": spec.replicas}
                    if spec.cluster_mode else {"numCacheClusters": spec.replicas + 1})
        replication = AwsResource("aws:elasticache/replicationGroup:ReplicationGroup", f"{name}-group", {
            "description": f"{name}: LangGraph run coordination",
            "engine": "valkey",
            "engineVersion": spec.engine_version,
            "nodeType": spec.node_type,
            "port": PORT,
            **sharding,
            "automaticFailoverEnabled": True,
            "multiAzEnabled": True,
            "atRestEncryptionEnabled": True,
            "kmsKeyId": key.arn,
            "transitEncryptionEnabled": True,
            "authToken": token.result,
            "subnetGroupName": subnets.name,
            "securityGroupIds": [group.id],
            "parameterGroupName": params.name,
            "snapshotRetentionLimit": spec.snapshot_retention_days,
            "snapshotWindow": "03:00-04:00",
            "maintenanceWindow": "sun:04:30-sun:05:30",
            "finalSnapshotIdentifier": f"{name}-final",
            "autoMinorVersionUpgrade": True,
            "applyImmediately": False,
        }, stateful)
        self.endpoint = (replication.configuration_endpoint_address if spec.cluster_mode
                         else replication.primary_endpoint_address)
        self.endpoints = (Endpoint("redis", (PORT,), cidr=spec.vpc_cidr),)
        self.url = pulumi.Output.secret(pulumi.Output.format("rediss://:{0}@{1}:{2}/0", token.result, self.endpoint, PORT))
        self.register_outputs({"endpoint": self.endpoint})
