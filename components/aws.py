"""Registering AWS resources and calling AWS functions by type token, without pulumi_aws's typed classes.

The typed classes (`pulumi_aws.s3.Bucket`, ...) cost about a second of every prod plan to import:
their modules and `_inputs` are huge. `AwsResource` sends what they send, from `TYPES` (see
`components/by_token.py`).
"""

from __future__ import annotations

from typing import Any

import pulumi

from .by_token import TokenResource, TypedClass, provider_version

_MANAGED = {"description": "Managed by Pulumi"}

# The types the program registers, as pulumi-aws 7 declares them (the `_internal_init` of each class).
TYPES: dict[str, TypedClass] = {
    "aws:ec2/securityGroup:SecurityGroup": TypedClass(("arn", "ownerId", "tagsAll"), defaults=_MANAGED),
    "aws:ec2/securityGroupRule:SecurityGroupRule": TypedClass(("securityGroupRuleId",)),
    "aws:ec2/vpcEndpoint:VpcEndpoint": TypedClass(("arn", "cidrBlocks", "dnsEntries", "networkInterfaceIds", "ownerId",
                                                    "prefixListId", "requesterManaged", "state", "tagsAll")),
    "aws:elasticache/parameterGroup:ParameterGroup": TypedClass(("arn", "name", "tagsAll"), defaults=_MANAGED),
    "aws:elasticache/replicationGroup:ReplicationGroup": TypedClass(
        ("arn", "clusterEnabled", "configurationEndpointAddress", "engineVersionActual", "memberClusters",
         "primaryEndpointAddress", "readerEndpointAddress", "tagsAll"), secrets=("authToken", "authTokenWo")),
    "aws:elasticache/subnetGroup:SubnetGroup": TypedClass(("arn", "name", "tagsAll", "vpcId"), defaults=_MANAGED),
    "aws:iam/role:Role": TypedClass(("arn", "createDate", "tagsAll", "uniqueId")),
    "aws:iam/rolePolicy:RolePolicy": TypedClass(),
    "aws:kms/key:Key": TypedClass(("arn", "keyId", "tagsAll")),
    "aws:rds/instance:Instance": TypedClass(
        ("address", "arn", "endpoint", "engineVersionActual", "hostedZoneId", "identifier", "latestRestorableTime",
         "listenerEndpoints", "masterUserSecrets", "replicas", "resourceId", "status", "tagsAll",
         "upgradeRolloutOrder"),
        secrets=("password", "passwordWo")),
    "aws:rds/parameterGroup:ParameterGroup": TypedClass(("arn", "name", "tagsAll"), defaults=_MANAGED),
    "aws:rds/proxy:Proxy": TypedClass(("arn", "endpoint", "name", "tagsAll")),
    "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup": TypedClass(("arn", "name")),
    "aws:rds/proxyTarget:ProxyTarget": TypedClass(("endpoint", "port", "rdsResourceId", "targetArn", "trackedClusterId",
                                                    "type")),
    "aws:rds/subnetGroup:SubnetGroup": TypedClass(("arn", "name", "supportedNetworkTypes", "tagsAll", "vpcId"),
                                                   defaults=_MANAGED),
    "aws:s3/bucket:Bucket": TypedClass(
        ("arn", "bucketDomainName", "bucketRegion", "bucketRegionalDomainName", "hostedZoneId", "tagsAll",
         "websiteDomain", "websiteEndpoint"),
        # The class lists its former type twice; the engine sees both aliases, so we send both too.
        former_types=("aws:s3/bucketV2:BucketV2", "aws:s3/bucketV2:BucketV2")),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": TypedClass(
        former_types=("aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",)),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": TypedClass(),
    "aws:s3/bucketPolicy:BucketPolicy": TypedClass(),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": TypedClass(),
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": TypedClass(secrets=("token",)),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": TypedClass(
        former_types=("aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",)),
    "aws:s3/bucketVersioning:BucketVersioning": TypedClass(
        former_types=("aws:s3/bucketVersioningV2:BucketVersioningV2",)),
    "aws:secretsmanager/secret:Secret": TypedClass(("arn", "tagsAll")),
    "aws:secretsmanager/secretVersion:SecretVersion": TypedClass(
        ("arn", "hasSecretStringWo", "secretArn", "versionId"),
        secrets=("secretBinary", "secretString", "secretStringWo")),
}


PROVIDER_VERSION = provider_version("aws")
"""The aws provider plugin the typed classes ask for: the version of the installed pulumi_aws package."""


class AwsResource(TokenResource):
    """An AWS resource registered under its type token (`aws:s3/bucket:Bucket`), as `TYPES` says."""

    TYPES = TYPES
    arn: pulumi.Output[str]
    name: pulumi.Output[str]


def invoke(token: str, args: dict[str, Any], opts: pulumi.InvokeOutputOptions | None = None) -> pulumi.Output[dict]:
    """Call an AWS function (`aws:eks/getCluster:getCluster`) with camelCase args; the result is the
    provider's answer as a dict with camelCase keys."""
    options = pulumi.InvokeOutputOptions.merge(pulumi.InvokeOutputOptions(version=PROVIDER_VERSION), opts)
    return pulumi.runtime.invoke_output(token, args, opts=options)
