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
import pulumi_aws.ec2 as ec2
import pulumi_aws.eks as eks
import pulumi_aws.elasticache as elasticache
import pulumi_aws.kms as kms
import pulumi_random as random

from components.connections import Endpoint

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
        key = kms.Key(f"{name}-key", description=f"{name}: ElastiCache at rest", enable_key_rotation=True,
                      deletion_window_in_days=30, opts=stateful)
        token = random.RandomPassword(f"{name}-auth-token", length=64, special=False, opts=child)
        cluster = eks.get_cluster_output(name=spec.eks_cluster_name, opts=pulumi.InvokeOutputOptions(parent=self))
        group = ec2.SecurityGroup(
            f"{name}-sg", vpc_id=spec.vpc_id, description=f"{name}: Redis from the EKS cluster only",
            ingress=[ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=PORT, to_port=PORT,
                                                  description="Redis from the EKS cluster",
                                                  security_groups=[cluster.vpc_config.cluster_security_group_id])],
            opts=child)
        subnets = elasticache.SubnetGroup(f"{name}-subnets", subnet_ids=list(spec.subnet_ids),
                                          description=f"{name}: private subnets", opts=child)
        family = f"valkey{spec.engine_version.split('.')[0]}"
        params = elasticache.ParameterGroup(
            f"{name}-params", family=family, description=f"{name}: the seed's settings",
            parameters=[elasticache.ParameterGroupParameterArgs(name=k, value=v) for k, v in sorted(parameters(spec).items())],
            opts=child)
        sharding = ({"cluster_mode": "enabled", "num_node_groups": spec.shards, "replicas_per_node_group": spec.replicas}
                    if spec.cluster_mode else {"num_cache_clusters": spec.replicas + 1})
        replication = elasticache.ReplicationGroup(
            f"{name}-group",
            description=f"{name}: LangGraph run coordination",
            engine="valkey",
            engine_version=spec.engine_version,
            node_type=spec.node_type,
            port=PORT,
            **sharding,
            automatic_failover_enabled=True,
            multi_az_enabled=True,
            at_rest_encryption_enabled=True,
            kms_key_id=key.arn,
            transit_encryption_enabled=True,
            auth_token=token.result,
            subnet_group_name=subnets.name,
            security_group_ids=[group.id],
            parameter_group_name=params.name,
            snapshot_retention_limit=spec.snapshot_retention_days,
            snapshot_window="03:00-04:00",
            maintenance_window="sun:04:30-sun:05:30",
            final_snapshot_identifier=f"{name}-final",
            auto_minor_version_upgrade=True,
            apply_immediately=False,
            opts=stateful,
        )
        self.endpoint = (replication.configuration_endpoint_address if spec.cluster_mode
                         else replication.primary_endpoint_address)
        self.endpoints = (Endpoint("redis", (PORT,), cidr=spec.vpc_cidr),)
        self.url = pulumi.Output.secret(pulumi.Output.format("rediss://:{0}@{1}:{2}/0", token.result, self.endpoint, PORT))
        self.register_outputs({"endpoint": self.endpoint})
