"""The S3 backend: the bucket with the settings of `s3_settings`, its KMS key, optional cross-region
replication, IRSA roles for the app and the PostgreSQL backups, and interface VPC endpoints for S3
and STS so that both reach AWS without leaving the VPC."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import pulumi
from pulumi_aws import ec2, iam, kms, s3

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


def _snake(key: str) -> str:
    """`KMSMasterKeyID` -> `kms_master_key_id`: an S3 API field as pulumi_aws names its argument."""
    key = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", key)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", key).lower()


def snake_keys(value: Any) -> Any:
    """An S3 API request body with every key renamed for pulumi_aws (values, Outputs included, kept)."""
    if isinstance(value, dict):
        return {_snake(key): snake_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [snake_keys(item) for item in value]
    return value


def vpc_endpoint_service(region: str, service: str) -> str:
    return f"{'cn.com.amazonaws' if region.startswith('cn-') else 'com.amazonaws'}.{region}.{service}"


def _configure_bucket(name: str, bucket: s3.Bucket, bucket_settings: settings.BucketSettings, policy: str,
                      parent: pulumi.Resource, region: str | None = None) -> list[pulumi.Resource]:
    """The bucket's settings resources; returns the versioning (replication and lifecycle wait for it)."""
    requests = snake_keys(bucket_settings.requests())
    opts = pulumi.ResourceOptions(parent=parent)
    where = {"region": region} if region else {}
    s3.BucketOwnershipControls(f"{name}-ownership", bucket=bucket.bucket, **where, opts=opts,
                               rule=requests["put_bucket_ownership_controls"]["ownership_controls"]["rules"][0])
    public_access = s3.BucketPublicAccessBlock(f"{name}-public-access", bucket=bucket.bucket, **where, opts=opts,
                                               **requests["put_public_access_block"]["public_access_block_configuration"])
    versioning = s3.BucketVersioning(f"{name}-versioning", bucket=bucket.bucket, **where, opts=opts,
                                     **requests["put_bucket_versioning"])
    s3.BucketServerSideEncryptionConfiguration(
        f"{name}-encryption", bucket=bucket.bucket, **where, opts=opts,
        rules=requests["put_bucket_encryption"]["server_side_encryption_configuration"]["rules"])
    s3.BucketLifecycleConfiguration(
        f"{name}-lifecycle", bucket=bucket.bucket, **where,
        rules=requests["put_bucket_lifecycle_configuration"]["lifecycle_configuration"]["rules"],
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[versioning]))
    # S3 refuses concurrent changes to a bucket's policy and its public access block.
    s3.BucketPolicy(f"{name}-policy", bucket=bucket.bucket, policy=policy, **where,
                    opts=pulumi.ResourceOptions(parent=parent, depends_on=[public_access]))
    return [versioning]


def _irsa_role(name: str, account: ServiceAccountRef, oidc_provider_arn: str, policy: pulumi.Output[str],
               description: str, parent: pulumi.Resource) -> iam.Role:
    role = iam.Role(name, description=description,
                    assume_role_policy=settings.web_identity_trust(oidc_provider_arn, account.namespace, account.name),
                    opts=pulumi.ResourceOptions(parent=parent))
    iam.RolePolicy(f"{name}-policy", role=role.id, policy=policy, opts=pulumi.ResourceOptions(parent=parent))
    return role


def _key(name: str, description: str, protect: bool, parent: pulumi.Resource, region: str | None = None) -> kms.Key:
    return kms.Key(name, description=description, enable_key_rotation=True, deletion_window_in_days=30,
                   **({"region": region} if region else {}),
                   opts=pulumi.ResourceOptions(parent=parent, protect=protect))


def _vpc_endpoints(name: str, params: S3Params, parent: pulumi.Resource) -> None:
    """Interface endpoints for S3 and STS in the private subnets, admitting 443 from the VPC.

    Private DNS makes the regional names (s3.<region>..., sts.<region>...) resolve to the endpoints'
    addresses inside the VPC, which is what the app's egress (the VPC CIDR on 443) allows. For S3,
    private DNS answers every resolver in the VPC, not only inbound ones: with a gateway endpoint
    present AWS would otherwise route in-VPC traffic to S3's public addresses, outside that egress.
    """
    opts = pulumi.ResourceOptions(parent=parent)
    group = ec2.SecurityGroup(
        f"{name}-endpoints", vpc_id=params.vpc_id, description="HTTPS from the VPC to the S3 and STS interface endpoints",
        ingress=[{"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": [params.vpc_cidr],
                  "description": "HTTPS from the VPC"}],
        egress=[], opts=opts)
    for service in VPC_ENDPOINT_SERVICES:
        ec2.VpcEndpoint(
            f"{name}-{service}-endpoint", vpc_id=params.vpc_id, vpc_endpoint_type="Interface",
            service_name=vpc_endpoint_service(params.region, service), subnet_ids=list(params.private_subnet_ids),
            security_group_ids=[group.id], private_dns_enabled=True,
            dns_options={"private_dns_only_for_inbound_resolver_endpoint": False} if service == "s3" else None,
            opts=opts)


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

    bucket = s3.Bucket(f"{name}-bucket", bucket=bucket_name, force_destroy=False,
                       opts=pulumi.ResourceOptions(parent=parent, protect=protect))
    versioned = _configure_bucket(f"{name}-bucket", bucket, bucket_settings(key_arn),
                                  settings.bucket_policy(bucket_name, params.region), parent)

    replica_name = None
    if params.replication_region:
        replica_region = params.replication_region
        replica_name = settings.s3_bucket_name(bucket_prefix, pulumi.get_stack(), params.account_id, "replica")
        replica_key = _key(f"{name}-replica-key", f"SSE-KMS for s3://{replica_name}", protect, parent, replica_region)
        replica = s3.Bucket(f"{name}-replica", bucket=replica_name, force_destroy=False, region=replica_region,
                            opts=pulumi.ResourceOptions(parent=parent, protect=protect))
        versioned += _configure_bucket(f"{name}-replica", replica, bucket_settings(replica_key.arn),
                                       settings.bucket_policy(replica_name, replica_region), parent, replica_region)
        role = iam.Role(f"{name}-replication", assume_role_policy=settings.replication_trust(),
                        description=f"S3 replication of s3://{bucket_name} to s3://{replica_name}",
                        opts=pulumi.ResourceOptions(parent=parent))
        role_policy = iam.RolePolicy(f"{name}-replication-policy", role=role.id, opts=pulumi.ResourceOptions(parent=parent),
                                     policy=pulumi.Output.all(key_arn, replica_key.arn).apply(
                                         lambda arns: settings.replication_role_policy(
                                             bucket_name, replica_name, params.region, replica_region, *arns)))
        configuration = snake_keys(settings.replication(role.arn, replica_name, replica_region, replica_key.arn))
        s3.BucketReplicationConfig(f"{name}-replication", bucket=bucket.bucket, **configuration,
                                   opts=pulumi.ResourceOptions(parent=parent, depends_on=[*versioned, role_policy]))

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
