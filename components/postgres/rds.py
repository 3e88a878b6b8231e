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

from ..aws import AwsResource, invoke
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

        key = AwsResource("aws:kms/key:Key", f"{name}-key", {
            "description": f"{name}: RDS storage, Performance Insights, secrets", "enableKeyRotation": True,
            "deletionWindowInDays": 30}, stateful)
        subnets = AwsResource("aws:rds/subnetGroup:SubnetGroup", f"{name}-subnets",
                              {"subnetIds": list(spec.subnet_ids)}, child)
        cluster = invoke("aws:eks/getCluster:getCluster", {"name": spec.eks_cluster_name},
                         pulumi.InvokeOutputOptions(parent=self))
        from_cluster = {"protocol": "tcp", "fromPort": PORT, "toPort": PORT,
                        "description": "PostgreSQL from the EKS cluster",
                        "securityGroups": [cluster["vpcConfig"]["clusterSecurityGroupId"]]}
        # Only the EKS cluster's security group (its nodes and pods) may connect.
        security_group = AwsResource("aws:ec2/securityGroup:SecurityGroup", f"{name}-sg", {
            "vpcId": spec.vpc_id, "description": f"{name}: PostgreSQL from the EKS cluster only",
            "ingress": [from_cluster]}, child)
        proxy_group = AwsResource("aws:ec2/securityGroup:SecurityGroup", f"{name}-proxy-sg", {
            "vpcId": spec.vpc_id, "description": f"{name}: RDS Proxy from the EKS cluster only",
            "ingress": [from_cluster],
            "egress": [{"protocol": "tcp", "fromPort": PORT, "toPort": PORT, "description": "to the database",
                        "securityGroups": [security_group.id]}]}, child)
        AwsResource("aws:ec2/securityGroupRule:SecurityGroupRule", f"{name}-from-proxy", {
            "type": "ingress", "protocol": "tcp", "fromPort": PORT, "toPort": PORT,
            "securityGroupId": security_group.id, "sourceSecurityGroupId": proxy_group.id,
            "description": "PostgreSQL from RDS Proxy"}, child)
        family = f"postgres{spec.version}"
        parameters = AwsResource("aws:rds/parameterGroup:ParameterGroup", f"{name}-params", {
            "family": family, "description": f"{name}: the seed's tuning in RDS units",
            "parameters": [{"name": key_, "value": value,
                            "applyMethod": "pending-reboot" if key_ in RDS_STATIC else "immediate"}
                           for key_, value in sorted(spec.parameters.items())]}, child)
        primary = AwsResource("aws:rds/instance:Instance", f"{name}-primary", {
            "engine": "postgres",
            "engineVersion": spec.version,
            "instanceClass": spec.instance_class,
            "allocatedStorage": spec.storage_gib,
            "maxAllocatedStorage": spec.storage_gib * 4,
            "storageType": "gp3",
            "storageEncrypted": True,
            "kmsKeyId": key.arn,
            "multiAz": spec.multi_az,
            "dbSubnetGroupName": subnets.name,
            "vpcSecurityGroupIds": [security_group.id],
            "parameterGroupName": parameters.name,
            "publiclyAccessible": False,
            "username": spec.admin_user,
            # RDS generates the master password and keeps it in Secrets Manager, rotated.
            "manageMasterUserPassword": True,
            "masterUserSecretKmsKeyId": key.key_id,
            "backupRetentionPeriod": spec.backup_retention_days,
            "backupWindow": "03:00-04:00",
            "maintenanceWindow": "sun:04:30-sun:05:30",
            "copyTagsToSnapshot": True,
            "deleteAutomatedBackups": False,
            "deletionProtection": spec.deletion_protection,
            "skipFinalSnapshot": False,
            "finalSnapshotIdentifier": f"{name}-final",
            "performanceInsightsEnabled": True,
            "performanceInsightsKmsKeyId": key.arn,
            "performanceInsightsRetentionPeriod": 7,
            "enabledCloudwatchLogsExports": ["postgresql", "upgrade"],
            "autoMinorVersionUpgrade": True,
            "caCertIdentifier": "rds-ca-rsa2048-g1",
        }, stateful)
        replicas = [AwsResource("aws:rds/instance:Instance", f"{name}-replica-{index}", {
            "replicateSourceDb": primary.identifier,
            "instanceClass": spec.instance_class,
            "storageEncrypted": True,
            "kmsKeyId": key.arn,
            "vpcSecurityGroupIds": [security_group.id],
            "parameterGroupName": parameters.name,
            "publiclyAccessible": False,
            "performanceInsightsEnabled": True,
            "performanceInsightsKmsKeyId": key.arn,
            "deletionProtection": spec.deletion_protection,
            "skipFinalSnapshot": True,
            "autoMinorVersionUpgrade": True,
            "caCertIdentifier": "rds-ca-rsa2048-g1",
        }, stateful) for index in range(spec.read_replicas)]

        # RDS Proxy authenticates the app with its role's credentials from Secrets Manager.
        app_secret = AwsResource("aws:secretsmanager/secret:Secret", f"{name}-app-credentials", {
            "kmsKeyId": key.arn, "description": f"{name}: the app role, for RDS Proxy"}, child)
        AwsResource("aws:secretsmanager/secretVersion:SecretVersion", f"{name}-app-credentials", {
            "secretId": app_secret.id,
            "secretString": pulumi.Output.secret(pulumi.Output.all(app_user, app_password).apply(
                lambda values: json.dumps({"username": values[0], "password": values[1]})))}, child)
        proxy_role = AwsResource("aws:iam/role:Role", f"{name}-proxy-role", {
            "assumeRolePolicy": json.dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "rds.amazonaws.com"}, "Action": "sts:AssumeRole"}]})}, child)
        AwsResource("aws:iam/rolePolicy:RolePolicy", f"{name}-proxy-secrets", {
            "role": proxy_role.id,
            "policy": pulumi.Output.all(app_secret.arn, key.arn).apply(lambda arns: json.dumps({
                "Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": arns[0]},
                    {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": arns[1],
                     "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.*.amazonaws.com"}}},
                ]}))}, child)
        proxy = AwsResource("aws:rds/proxy:Proxy", f"{name}-proxy", {
            "engineFamily": "POSTGRESQL",
            "requireTls": True,
            "idleClientTimeout": 1800,
            "roleArn": proxy_role.arn,
            "vpcSubnetIds": list(spec.subnet_ids),
            "vpcSecurityGroupIds": [proxy_group.id],
            "auths": [{"authScheme": "SECRETS", "iamAuth": "DISABLED", "secretArn": app_secret.arn,
                       "clientPasswordAuthType": "POSTGRES_SCRAM_SHA_256"}],
        }, child)
        AwsResource("aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup", f"{name}-proxy-pool", {
            "dbProxyName": proxy.name,
            "connectionPoolConfig": {
                "maxConnectionsPercent": spec.proxy_max_connections_percent,
                "maxIdleConnectionsPercent": math.floor(spec.proxy_max_connections_percent / 2),
                "connectionBorrowTimeout": 30,
                "sessionPinningFilters": ["EXCLUDE_VARIABLE_SETS"]},
        }, child)
        AwsResource("aws:rds/proxyTarget:ProxyTarget", f"{name}-proxy-target", {
            "dbProxyName": proxy.name, "targetGroupName": "default", "dbInstanceIdentifier": primary.identifier}, child)

        self.proxy_endpoint = proxy.endpoint
        self.primary_identifier = primary.identifier
        self.primary_endpoint = primary.address
        self.readonly_endpoint = replicas[0].address if replicas else primary.address
        self.master_secret_arn = primary.master_user_secrets.apply(lambda secrets: secrets[0]["secretArn"] if secrets else "")
        self.register_outputs({"proxy_endpoint": self.proxy_endpoint, "primary_endpoint": self.primary_endpoint,
                               "readonly_endpoint": self.readonly_endpoint})
