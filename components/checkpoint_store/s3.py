"""The S3 backend: the bucket with the settings of `s3_settings`, its KMS key, optional cross-region
replication, IRSA roles for the app and the PostgreSQL backups, and interface VPC endpoints for S3
and STS so that both reach AWS without leaving the VPC."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import pulumi

from ..aws import AwsResource
from . import s3_settings as settings

VPC_ENDPOINT_SERVICES = ("s3", "sts")


@dataclass(frozen=True)
class ServiceAccountRef:
    """A Kubernetes ServiceAccount an IRSA role trusts."""

    namespace: str
    name: str


@dataclass(frozen=True)
class S3Params:
    """What the S3 backend needs besides the bucket name and TTL."""

    region: str
    account_id: str
    vpc_id: str
    vpc_cidr: str
    private_subnet_ids: tuple[str, ...]
    oidc_provider_arn: str
    """The EKS cluster's IAM OIDC provider (IRSA)."""
    kms_key_arn: str | None = None
    """An existing key for SSE-KMS; None creates one with rotation on."""
    noncurrent_version_days: int = 30
    abort_incomplete_upload_days: int = 7
    replication_region: str | None = None
    vpc_endpoints: Literal["create", "existing"] = "create"
    """`existing`: the VPC has interface endpoints (private DNS on) for S3 and STS already."""

    def __post_init__(self) -> None:
        if self.kms_key_arn and ":alias/" in self.kms_key_arn:
            # IAM grants use of a key by its key ARN; an alias ARN in a policy's Resource matches nothing.
            raise ValueError(f"checkpoints.kms_key_arn {self.kms_key_arn!r} is an alias: give the key ARN "
                             "(arn:...:kms:<region>:<account>:key/<id>), which the IAM policies can name")
        if self.replication_region == self.region:
            raise ValueError(f"checkpoints.replication_region {self.replication_region!r} is the bucket's own region; "
                             "replicate to another region, or leave it unset")
        if self.vpc_endpoints == "create" and not self.private_subnet_ids:
            raise ValueError("aws.private_subnet_ids: the S3 and STS interface endpoints need the private subnets")


@dataclass(frozen=True)
class S3Store:
    """What the S3 backend created."""

    bucket: str
    kms_key_arn: pulumi.Output[str]
    app_role_arn: pulumi.Output[str]
    backup_role_arn: pulumi.Output[str]
    replica_bucket: str | None


def _camel(key: str) -> str:
    """`KMSMasterKeyID` -> `kmsMasterKeyId`: an S3 API field as the aws provider names it."""
    key = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", key)
    first, *rest = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", key).lower().split("_")
    return first + "".join(word.capitalize() for word in rest)


def camel_keys(value: Any) -> Any:
    """An S3 API request body with every key renamed for the aws provider (values, Outputs included, kept)."""
    if isinstance(value, dict):
        return {_camel(key): camel_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [camel_keys(item) for item in value]
    return value


def vpc_endpoint_service(region: str, service: str) -> str:
    return f"{'cn.com.amazonaws' if region.startswith('cn-') else 'com.amazonaws'}.{region}.{service}"


def _configure_bucket(name: str, bucket: AwsResource, bucket_settings: settings.BucketSettings, policy: str,
                      parent: pulumi.Resource, region: str | None = None) -> list[pulumi.Resource]:
    """The bucket's settings resources; returns the versioning (replication and lifecycle wait for it)."""
    requests = {method: camel_keys(body) for method, body in bucket_settings.requests().items()}
    opts = pulumi.ResourceOptions(parent=parent)
    target = {"bucket": bucket.bucket, **({"region": region} if region else {})}
    AwsResource("aws:s3/bucketOwnershipControls:BucketOwnershipControls", f"{name}-ownership", {
        **target, "rule": requests["put_bucket_ownership_controls"]["ownershipControls"]["rules"][0]}, opts)
    public_access = AwsResource("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", f"{name}-public-access", {
        **target, **requests["put_public_access_block"]["publicAccessBlockConfiguration"]}, opts)
    versioning = AwsResource("aws:s3/bucketVersioning:BucketVersioning", f"{name}-versioning", {
        **target, **requests["put_bucket_versioning"]}, opts)
    AwsResource(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", f"{name}-encryption",
        {**target, "rules": requests["put_bucket_encryption"]["serverSideEncryptionConfiguration"]["rules"]}, opts)
    AwsResource("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", f"{name}-lifecycle", {
        **target, "rules": requests["put_bucket_lifecycle_configuration"]["lifecycleConfiguration"]["rules"]},
        pulumi.ResourceOptions(parent=parent, depends_on=[versioning]))
    # S3 refuses concurrent changes to a bucket's policy and its public access block.
    AwsResource("aws:s3/bucketPolicy:BucketPolicy", f"{name}-policy", {**target, "policy": policy},
                pulumi.ResourceOptions(parent=parent, depends_on=[public_access]))
    return [versioning]


def _irsa_role(name: str, account: ServiceAccountRef, oidc_provider_arn: str, policy: pulumi.Output[str],
               description: str, parent: pulumi.Resource) -> AwsResource:
    role = AwsResource("aws:iam/role:Role", name, {
        "description": description,
        "assumeRolePolicy": settings.web_identity_trust(oidc_provider_arn, account.namespace, account.name),
    }, pulumi.ResourceOptions(parent=parent))
    AwsResource("aws:iam/rolePolicy:RolePolicy", f"{name}-policy", {"role": role.id, "policy": policy},
                pulumi.ResourceOptions(parent=parent))
    return role


def _key(name: str, description: str, protect: bool, parent: pulumi.Resource, region: str | None = None) -> AwsResource:
    return AwsResource("aws:kms/key:Key", name, {
        "description": description, "enableKeyRotation": True, "deletionWindowInDays": 30, "region": region,
    }, pulumi.ResourceOptions(parent=parent, protect=protect))


def _vpc_endpoints(name: str, params: S3Params, parent: pulumi.Resource) -> None:
    """Interface endpoints for S3 and STS in the private subnets, admitting 443 from the VPC.

    Private DNS makes the regional names (s3.<region>..., sts.<region>...) resolve to the endpoints'
    addresses inside the VPC, which is what the app's egress (the VPC CIDR on 443) allows. For S3,
    private DNS answers every resolver in the VPC, not only inbound ones: with a gateway endpoint
    present AWS would otherwise route in-VPC traffic to S3's public addresses, outside that egress.
    """
    opts = pulumi.ResourceOptions(parent=parent)
    group = AwsResource("aws:ec2/securityGroup:SecurityGroup", f"{name}-endpoints", {
        "vpcId": params.vpc_id, "description": "HTTPS from the VPC to the S3 and STS interface endpoints",
        "ingress": [{"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": [params.vpc_cidr],
                     "description": "HTTPS from the VPC"}],
        "egress": [],
    }, opts)
    for service in VPC_ENDPOINT_SERVICES:
        AwsResource("aws:ec2/vpcEndpoint:VpcEndpoint", f"{name}-{service}-endpoint", {
            "vpcId": params.vpc_id, "vpcEndpointType": "Interface",
            "serviceName": vpc_endpoint_service(params.region, service), "subnetIds": list(params.private_subnet_ids),
            "securityGroupIds": [group.id], "privateDnsEnabled": True,
            "dnsOptions": {"privateDnsOnlyForInboundResolverEndpoint": False} if service == "s3" else None,
        }, opts)


def build(name: str, params: S3Params, bucket_prefix: str, ttl_seconds: int, app: ServiceAccountRef,
          backup: ServiceAccountRef, protect: bool, parent: pulumi.Resource) -> S3Store:
    """Registers the S3 backend's resources as children of `parent`; names start with `name`."""
    bucket_name = settings.s3_bucket_name(bucket_prefix, pulumi.get_stack(), params.account_id)
    key_arn: pulumi.Output[str] = (pulumi.Output.from_input(params.kms_key_arn) if params.kms_key_arn else
                                   _key(f"{name}-key", f"SSE-KMS for s3://{bucket_name}", protect, parent).arn)

    def bucket_settings(arn: pulumi.Input[str]) -> settings.BucketSettings:
        return settings.BucketSettings(kms_key_arn=arn, current_days=settings.expiration_days(ttl_seconds),
                                       noncurrent_days=params.noncurrent_version_days,
                                       abort_upload_days=params.abort_incomplete_upload_days)

    bucket = AwsResource("aws:s3/bucket:Bucket", f"{name}-bucket", {"bucket": bucket_name, "forceDestroy": False},
                         pulumi.ResourceOptions(parent=parent, protect=protect))
    versioned = _configure_bucket(f"{name}-bucket", bucket, bucket_settings(key_arn),
                                  settings.bucket_policy(bucket_name, params.region), parent)

    replica_name = None
    if params.replication_region:
        replica_region = params.replication_region
        replica_name = settings.s3_bucket_name(bucket_prefix, pulumi.get_stack(), params.account_id, "replica")
        replica_key = _key(f"{name}-replica-key", f"SSE-KMS for s3://{replica_name}", protect, parent, replica_region)
        replica = AwsResource("aws:s3/bucket:Bucket", f"{name}-replica",
                              {"bucket": replica_name, "forceDestroy": False, "region": replica_region},
                              pulumi.ResourceOptions(parent=parent, protect=protect))
        versioned += _configure_bucket(f"{name}-replica", replica, bucket_settings(replica_key.arn),
                                       settings.bucket_policy(replica_name, replica_region), parent, replica_region)
        role = AwsResource("aws:iam/role:Role", f"{name}-replication", {
            "assumeRolePolicy": settings.replication_trust(),
            "description": f"S3 replication of s3://{bucket_name} to s3://{replica_name}",
        }, pulumi.ResourceOptions(parent=parent))
        role_policy = AwsResource("aws:iam/rolePolicy:RolePolicy", f"{name}-replication-policy", {
            "role": role.id,
            "policy": pulumi.Output.all(key_arn, replica_key.arn).apply(lambda arns: settings.replication_role_policy(
                bucket_name, replica_name, params.region, replica_region, *arns)),
        }, pulumi.ResourceOptions(parent=parent))
        configuration = camel_keys(settings.replication(role.arn, replica_name, replica_region, replica_key.arn))
        AwsResource("aws:s3/bucketReplicationConfig:BucketReplicationConfig", f"{name}-replication",
                    {"bucket": bucket.bucket, **configuration},
                    pulumi.ResourceOptions(parent=parent, depends_on=[*versioned, role_policy]))

    app_role = _irsa_role(f"{name}-app", app, params.oidc_provider_arn,
                          key_arn.apply(lambda arn: settings.app_policy(bucket_name, params.region, arn)),
                          f"The LangGraph app ({app.namespace}/{app.name}): s3://{bucket_name}/{settings.APP_PREFIX}",
                          parent)
    backup_role = _irsa_role(f"{name}-backup", backup, params.oidc_provider_arn,
                             key_arn.apply(lambda arn: settings.backup_policy(bucket_name, params.region, arn)),
                             f"PostgreSQL backups ({backup.namespace}/{backup.name}): "
                             f"s3://{bucket_name}/{settings.BACKUP_PREFIX}", parent)
    if params.vpc_endpoints == "create":
        _vpc_endpoints(name, params, parent)
    return S3Store(bucket=bucket_name, kms_key_arn=key_arn, app_role_arn=app_role.arn,
                   backup_role_arn=backup_role.arn, replica_bucket=replica_name)
