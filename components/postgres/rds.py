"""PostgreSQL on RDS: Multi-AZ primary, read replicas, RDS Proxy, encryption, backups, protection.

RDS Proxy and prepared statements: the proxy pins a client's session to one database connection
once the session prepares a statement (PostgreSQL's extended protocol with a named statement),
and LangGraph's checkpointer prepares every statement. So the proxy multiplexes nothing for the
app: each app connection holds a server connection for its life. We therefore count the app's
worst case against the server's `max_connections` (not a pooler's client limit: see
`PostgresConfig.accepted_connections`), let the proxy use most of it (`max_connections_percent`),
keep idle pinned connections short-lived (`idle_client_timeout`), and still use the proxy for what
it does give: fast failover to the standby (it holds client connections across a Multi-AZ
failover) and TLS with Secrets Manager authentication. The read-only URL goes to the replica
directly: RDS Proxy read-only endpoints exist for Aurora clusters only.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import pulumi
import pulumi_aws.ec2 as ec2
import pulumi_aws.eks as eks
import pulumi_aws.iam as iam
import pulumi_aws.kms as kms
import pulumi_aws.rds as rds
import pulumi_aws.secretsmanager as secretsmanager

from .tuning import RDS_STATIC

PORT = 5432


@dataclass(frozen=True)
class RdsSpec:
    version: str
    instance_class: str
    storage_gib: int
    multi_az: bool
    read_replicas: int
    backup_retention_days: int
    deletion_protection: bool
    parameters: dict[str, str]
    vpc_id: str
    subnet_ids: tuple[str, ...]
    eks_cluster_name: str
    database: str
    admin_user: str
    protect: bool
    proxy_max_connections_percent: int = 90


class RdsPostgres(pulumi.ComponentResource):
    """An RDS PostgreSQL primary with its replicas and RDS Proxy, reachable only from the EKS cluster."""

    proxy_endpoint: pulumi.Output[str]
    primary_identifier: pulumi.Output[str]
    primary_endpoint: pulumi.Output[str]
    readonly_endpoint: pulumi.Output[str]
    master_secret_arn: pulumi.Output[str]

    def __init__(self, name: str, spec: RdsSpec, app_user: str, app_password: pulumi.Input[str],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("langgraph:platform:RdsPostgres", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(parent=self, protect=spec.protect)

        key = kms.Key(f"{name}-key", description=f"{name}: RDS storage, Performance Insights, secrets",
                      enable_key_rotation=True, deletion_window_in_days=30, opts=stateful)
        subnets = rds.SubnetGroup(f"{name}-subnets", subnet_ids=list(spec.subnet_ids), opts=child)
        cluster = eks.get_cluster_output(name=spec.eks_cluster_name, opts=pulumi.InvokeOutputOptions(parent=self))
        # Only the EKS cluster's security group (its nodes and pods) may connect.
        security_group = ec2.SecurityGroup(
            f"{name}-sg", vpc_id=spec.vpc_id, description=f"{name}: PostgreSQL from the EKS cluster only",
            ingress=[ec2.SecurityGroupIngressArgs(
                protocol="tcp", from_port=PORT, to_port=PORT, description="PostgreSQL from the EKS cluster",
                security_groups=[cluster.vpc_config.cluster_security_group_id])],
            opts=child)
        proxy_group = ec2.SecurityGroup(
            f"{name}-proxy-sg", vpc_id=spec.vpc_id, description=f"{name}: RDS Proxy from the EKS cluster only",
            ingress=[ec2.SecurityGroupIngressArgs(
                protocol="tcp", from_port=PORT, to_port=PORT, description="PostgreSQL from the EKS cluster",
                security_groups=[cluster.vpc_config.cluster_security_group_id])],
            egress=[ec2.SecurityGroupEgressArgs(
                protocol="tcp", from_port=PORT, to_port=PORT, description="to the database",
                security_groups=[security_group.id])],
            opts=child)
        ec2.SecurityGroupRule(f"{name}-from-proxy", type="ingress", protocol="tcp", from_port=PORT, to_port=PORT,
                              security_group_id=security_group.id, source_security_group_id=proxy_group.id,
                              description="PostgreSQL from RDS Proxy", opts=child)
        family = f"postgres{spec.version}"
        parameters = rds.ParameterGroup(
            f"{name}-params", family=family, description=f"{name}: the seed's tuning in RDS units",
            parameters=[rds.ParameterGroupParameterArgs(
                name=key_, value=value, apply_method="pending-reboot" if key_ in RDS_STATIC else "immediate")
                for key_, value in sorted(spec.parameters.items())],
            opts=child)
        primary = rds.Instance(
            f"{name}-primary",
            engine="postgres",
            engine_version=spec.version,
            instance_class=spec.instance_class,
            allocated_storage=spec.storage_gib,
            max_allocated_storage=spec.storage_gib * 4,
            storage_type="gp3",
            storage_encrypted=True,
            kms_key_id=key.arn,
            multi_az=spec.multi_az,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[security_group.id],
            parameter_group_name=parameters.name,
            publicly_accessible=False,
            username=spec.admin_user,
            # RDS generates the master password and keeps it in Secrets Manager, rotated.
            manage_master_user_password=True,
            master_user_secret_kms_key_id=key.key_id,
            backup_retention_period=spec.backup_retention_days,
            backup_window="03:00-04:00",
            maintenance_window="sun:04:30-sun:05:30",
            copy_tags_to_snapshot=True,
            delete_automated_backups=False,
            deletion_protection=spec.deletion_protection,
            skip_final_snapshot=False,
            final_snapshot_identifier=f"{name}-final",
            performance_insights_enabled=True,
            performance_insights_kms_key_id=key.arn,
            performance_insights_retention_period=7,
            enabled_cloudwatch_logs_exports=["postgresql", "upgrade"],
            auto_minor_version_upgrade=True,
            ca_cert_identifier="rds-ca-rsa2048-g1",
            opts=stateful,
        )
        replicas = [rds.Instance(
            f"{name}-replica-{index}",
            replicate_source_db=primary.identifier,
            instance_class=spec.instance_class,
            storage_encrypted=True,
            kms_key_id=key.arn,
            vpc_security_group_ids=[security_group.id],
            parameter_group_name=parameters.name,
            publicly_accessible=False,
            performance_insights_enabled=True,
            performance_insights_kms_key_id=key.arn,
            deletion_protection=spec.deletion_protection,
            skip_final_snapshot=True,
            auto_minor_version_upgrade=True,
            ca_cert_identifier="rds-ca-rsa2048-g1",
            opts=stateful,
        ) for index in range(spec.read_replicas)]

        # RDS Proxy authenticates the app with its role's credentials from Secrets Manager.
        app_secret = secretsmanager.Secret(f"{name}-app-credentials", kms_key_id=key.arn,
                                           description=f"{name}: the app role, for RDS Proxy", opts=child)
        secretsmanager.SecretVersion(
            f"{name}-app-credentials", secret_id=app_secret.id,
            secret_string=pulumi.Output.secret(pulumi.Output.all(app_user, app_password).apply(
                lambda values: json.dumps({"username": values[0], "password": values[1]}))),
            opts=child)
        proxy_role = iam.Role(
            f"{name}-proxy-role",
            assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "rds.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
            opts=child)
        iam.RolePolicy(f"{name}-proxy-secrets", role=proxy_role.id, policy=pulumi.Output.all(app_secret.arn, key.arn).apply(
            lambda arns: json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": arns[0]},
                {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": arns[1],
                 "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.*.amazonaws.com"}}},
            ]})), opts=child)
        proxy = rds.Proxy(
            f"{name}-proxy",
            engine_family="POSTGRESQL",
            require_tls=True,
            idle_client_timeout=1800,
            role_arn=proxy_role.arn,
            vpc_subnet_ids=list(spec.subnet_ids),
            vpc_security_group_ids=[proxy_group.id],
            auths=[rds.ProxyAuthArgs(auth_scheme="SECRETS", iam_auth="DISABLED", secret_arn=app_secret.arn,
                                     client_password_auth_type="POSTGRES_SCRAM_SHA_256")],
            opts=child)
        rds.ProxyDefaultTargetGroup(
            f"{name}-proxy-pool", db_proxy_name=proxy.name,
            connection_pool_config=rds.ProxyDefaultTargetGroupConnectionPoolConfigArgs(
                max_connections_percent=spec.proxy_max_connections_percent,
                max_idle_connections_percent=math.floor(spec.proxy_max_connections_percent / 2),
                connection_borrow_timeout=30,
                session_pinning_filters=["EXCLUDE_VARIABLE_SETS"]),
            opts=child)
        rds.ProxyTarget(f"{name}-proxy-target", db_proxy_name=proxy.name, target_group_name="default",
                        db_instance_identifier=primary.identifier, opts=child)

        self.proxy_endpoint = proxy.endpoint
        self.primary_identifier = primary.identifier
        self.primary_endpoint = primary.address
        self.readonly_endpoint = replicas[0].address if replicas else primary.address
        self.master_secret_arn = primary.master_user_secrets.apply(lambda secrets: secrets[0].secret_arn if secrets else "")
        self.register_outputs({"proxy_endpoint": self.proxy_endpoint, "primary_endpoint": self.primary_endpoint,
                               "readonly_endpoint": self.readonly_endpoint})
