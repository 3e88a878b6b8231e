"""Registering AWS resources and calling AWS functions by type token, without pulumi_aws's typed classes.

The typed classes (`pulumi_aws.s3.Bucket`, ...) cost about a second of every prod plan to import:
their modules and `_inputs` are huge. What they send the engine is small and known: the inputs
under their camelCase names, the provider version, and per type a few additions (secret inputs,
aliases for renamed types, input defaults). `AwsResource` sends exactly that, from `TYPES`.
"""

from __future__ import annotations

import importlib.metadata
import re
from dataclasses import dataclass, field
from typing import Any

import pulumi
from packaging.version import Version


@dataclass(frozen=True)
class AwsType:
    """What a pulumi_aws typed class adds to the inputs and options of the resources it registers."""

    outputs: tuple[str, ...] = ()
    """Properties AWS fills in that the program may read: the class's output-only properties, and
    optional inputs AWS names when the program does not (`name`, `identifier`)."""
    secrets: tuple[str, ...] = ()
    """Inputs sent as secrets, and kept secret in the state the provider returns."""
    defaults: dict[str, Any] = field(default_factory=dict)
    """Input values the class sends when the program gives none."""
    former_types: tuple[str, ...] = ()
    """Type tokens the resource had before a rename: aliases keep it in place."""


_MANAGED = {"description": "Managed by Pulumi"}

# The types the program registers, as pulumi-aws 7 declares them (the `_internal_init` of each class).
TYPES: dict[str, AwsType] = {
    "aws:ec2/securityGroup:SecurityGroup": AwsType(("arn", "ownerId", "tagsAll"), defaults=_MANAGED),
    "aws:ec2/securityGroupRule:SecurityGroupRule": AwsType(("securityGroupRuleId",)),
    "aws:ec2/vpcEndpoint:VpcEndpoint": AwsType(("arn", "cidrBlocks", "dnsEntries", "networkInterfaceIds", "ownerId",
                                                "prefixListId", "requesterManaged", "state", "tagsAll")),
    "aws:elasticache/parameterGroup:ParameterGroup": AwsType(("arn", "name", "tagsAll"), defaults=_MANAGED),
    "aws:elasticache/replicationGroup:ReplicationGroup": AwsType(
        ("arn", "clusterEnabled", "configurationEndpointAddress", "engineVersionActual", "memberClusters",
         "primaryEndpointAddress", "readerEndpointAddress", "tagsAll"), secrets=("authToken", "authTokenWo")),
    "aws:elasticache/subnetGroup:SubnetGroup": AwsType(("arn", "name", "tagsAll", "vpcId"), defaults=_MANAGED),
    "aws:iam/role:Role": AwsType(("arn", "createDate", "tagsAll", "uniqueId")),
    "aws:iam/rolePolicy:RolePolicy": AwsType(),
    "aws:kms/key:Key": AwsType(("arn", "keyId", "tagsAll")),
    "aws:rds/instance:Instance": AwsType(
        ("address", "arn", "endpoint", "engineVersionActual", "hostedZoneId", "identifier", "latestRestorableTime",
         "listenerEndpoints", "masterUserSecrets", "replicas", "resourceId", "status", "tagsAll",
         "upgradeRolloutOrder"),
        secrets=("password", "passwordWo")),
    "aws:rds/parameterGroup:ParameterGroup": AwsType(("arn", "name", "tagsAll"), defaults=_MANAGED),
    "aws:rds/proxy:Proxy": AwsType(("arn", "endpoint", "name", "tagsAll")),
    "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup": AwsType(("arn", "name")),
    "aws:rds/proxyTarget:ProxyTarget": AwsType(("endpoint", "port", "rdsResourceId", "targetArn", "trackedClusterId",
                                                "type")),
    "aws:rds/subnetGroup:SubnetGroup": AwsType(("arn", "name", "supportedNetworkTypes", "tagsAll", "vpcId"),
                                               defaults=_MANAGED),
    "aws:s3/bucket:Bucket": AwsType(
        ("arn", "bucketDomainName", "bucketRegion", "bucketRegionalDomainName", "hostedZoneId", "tagsAll",
         "websiteDomain", "websiteEndpoint"),
        # The class lists its former type twice; the engine sees both aliases, so we send both too.
        former_types=("aws:s3/bucketV2:BucketV2", "aws:s3/bucketV2:BucketV2")),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": AwsType(
        former_types=("aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",)),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": AwsType(),
    "aws:s3/bucketPolicy:BucketPolicy": AwsType(),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": AwsType(),
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": AwsType(secrets=("token",)),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": AwsType(
        former_types=("aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",)),
    "aws:s3/bucketVersioning:BucketVersioning": AwsType(former_types=("aws:s3/bucketVersioningV2:BucketVersioningV2",)),
    "aws:secretsmanager/secret:Secret": AwsType(("arn", "tagsAll")),
    "aws:secretsmanager/secretVersion:SecretVersion": AwsType(
        ("arn", "hasSecretStringWo", "secretArn", "versionId"),
        secrets=("secretBinary", "secretString", "secretStringWo")),
}


def semver(pep440: str) -> str:
    """A Python package version as the semver string the engine expects (`7.51.1`, `7.0.0-alpha.2`)."""
    version = Version(pep440)
    major, minor, patch = version.release
    tags = {"a": "alpha", "b": "beta", "rc": "rc"}
    if version.pre is not None:
        prerelease: str | None = f"{tags[version.pre[0]]}.{version.pre[1]}"
    elif version.dev is not None:
        prerelease = f"dev.{version.dev}"
    else:
        prerelease = version.local
    return f"{major}.{minor}.{patch}" + (f"-{prerelease}" if prerelease else "")


PROVIDER_VERSION = semver(importlib.metadata.version("pulumi_aws"))
"""The aws provider plugin the typed classes ask for: the version of the installed pulumi_aws package."""


def _snake(name: str) -> str:
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


class AwsResource(pulumi.CustomResource):
    """An AWS resource registered under its type token (`aws:s3/bucket:Bucket`) with its inputs named
    as the engine receives them (camelCase, nested keys too).

    Every input and every output of `TYPES[type]` is an attribute, an Output, under its engine
    name and, when that has more than one word, under its snake_case name too (`keyId`, `key_id`).
    Nested values stay as the provider returns them: dicts with camelCase keys.
    """

    arn: pulumi.Output[str]
    name: pulumi.Output[str]

    def __init__(self, type_: str, name: str, inputs: dict[str, Any], opts: pulumi.ResourceOptions | None = None):
        declared = TYPES[type_]  # an unknown type is a KeyError: add it to TYPES from its typed class
        props = {**declared.defaults, **{k: v for k, v in inputs.items() if v is not None}}
        for key in declared.secrets:
            if key in props:
                props[key] = pulumi.Output.secret(props[key])
        props |= {key: None for key in declared.outputs if key not in props}
        # The order of the typed classes: the version under the caller's options, the aliases and
        # secret outputs over them.
        options = pulumi.ResourceOptions.merge(pulumi.ResourceOptions(version=PROVIDER_VERSION), opts)
        if declared.former_types:
            options = pulumi.ResourceOptions.merge(options, pulumi.ResourceOptions(
                aliases=[pulumi.Alias(type_=former) for former in declared.former_types]))
        if declared.secrets:
            options = pulumi.ResourceOptions.merge(options, pulumi.ResourceOptions(
                additional_secret_outputs=list(declared.secrets)))
        super().__init__(type_, name, props, options)
        for key in props:
            if _snake(key) != key:
                setattr(self, _snake(key), getattr(self, key))


def invoke(token: str, args: dict[str, Any], opts: pulumi.InvokeOutputOptions | None = None) -> pulumi.Output[dict]:
    """Call an AWS function (`aws:eks/getCluster:getCluster`) with camelCase args; the result is the
    provider's answer as a dict with camelCase keys."""
    options = pulumi.InvokeOutputOptions.merge(pulumi.InvokeOutputOptions(version=PROVIDER_VERSION), opts)
    return pulumi.runtime.invoke_output(token, args, opts=options)
