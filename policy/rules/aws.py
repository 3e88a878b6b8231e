"""AWS guarantees for the data tier: S3, RDS and ElastiCache secure by default, stateful resources protected."""

from __future__ import annotations

import json
from typing import Any

from pulumi_policy import (
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .common import ENVIRONMENT_SCHEMA, dig, is_prod

BUCKET = "aws:s3/bucket:Bucket"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_CLUSTER = "aws:rds/cluster:Cluster"
REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
STATEFUL = (BUCKET, RDS_INSTANCE, RDS_CLUSTER, REPLICATION_GROUP, "aws:kms/key:Key")
PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def _true(value: Any) -> bool:
    return value is True or value == "true"


def _configures(resource, bucket) -> bool:
    """Whether a bucket-level resource (versioning, encryption, ...) belongs to `bucket`."""
    if bucket in (resource.property_dependencies or {}).get("bucket", []):
        return True
    name = bucket.props.get("bucket")
    return name is not None and resource.props.get("bucket") == name


def _bucket_rule(resource_type: str, check, problem: str):
    """A stack policy: every bucket has a `resource_type` resource for which `check(props)` holds."""

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        related = [r for r in args.resources if r.resource_type == resource_type]
        for bucket in (r for r in args.resources if r.resource_type == BUCKET):
            if not any(_configures(r, bucket) and check(r.props) for r in related):
                report(f"bucket {bucket.name} {problem}", bucket.urn)

    return validate


def _blocks_public_access(props: dict) -> bool:
    return all(_true(props.get(flag)) for flag in PUBLIC_ACCESS_FLAGS)


def _sse_kms(props: dict) -> bool:
    rules = props.get("rules") or []
    return bool(rules) and all(
        dig(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm") in ("aws:kms", "aws:kms:dsse") for rule in rules)


def _versioned(props: dict) -> bool:
    return dig(props, "versioningConfiguration", "status") == "Enabled"


def _denies_plain_http(props: dict) -> bool:
    document = props.get("policy")
    try:
        statements = (json.loads(document) if isinstance(document, str) else document or {}).get("Statement", [])
    except (TypeError, ValueError):
        return False
    return any(s.get("Effect") == "Deny" and str(dig(s, "Condition", "Bool", "aws:SecureTransport")).lower() == "false"
               for s in (statements if isinstance(statements, list) else [statements]))


def _check_public_acl(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == BUCKET and str(args.props.get("acl", "")).startswith("public"):
        report(f"bucket ACL {args.props['acl']} makes objects public")


def _check_rds_basics(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in (RDS_INSTANCE, RDS_CLUSTER):
        return
    if not _true(args.props.get("storageEncrypted")):
        report("storage is not encrypted (storageEncrypted)")
    if _true(args.props.get("publiclyAccessible")):
        report("the database is publicly accessible")


def _check_rds_resilience(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in (RDS_INSTANCE, RDS_CLUSTER) or not is_prod(args):
        return
    if args.props.get("replicateSourceDb"):
        return  # a read replica follows its source's backups and protection
    if args.resource_type == RDS_INSTANCE and not _true(args.props.get("multiAz")):
        report("not Multi-AZ: one zone outage stops the database")
    if not _true(args.props.get("deletionProtection")):
        report("deletion protection is off")
    if int(args.props.get("backupRetentionPeriod") or 0) < 7:
        report(f"keeps {args.props.get('backupRetentionPeriod') or 0} days of backups; prod needs at least 7")


def _check_elasticache(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != REPLICATION_GROUP:
        return
    if not _true(args.props.get("atRestEncryptionEnabled")):
        report("encryption at rest is off")
    if not _true(args.props.get("transitEncryptionEnabled")):
        report("encryption in transit is off")


def _check_protected(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type in STATEFUL and is_prod(args) and not args.opts.protect:
        report("stateful resource without `protect`: a mistaken delete would lose data")


POLICIES = [
    StackValidationPolicy(
        name="s3-block-public-access",
        description="Every S3 bucket has a public access block with all four settings on.",
        validate=_bucket_rule(PUBLIC_ACCESS_BLOCK, _blocks_public_access, "does not block public access"),
    ),
    ResourceValidationPolicy(
        name="s3-no-public-acl",
        description="No S3 bucket has a public ACL.",
        validate=_check_public_acl,
    ),
    StackValidationPolicy(
        name="s3-sse-kms",
        description="Every S3 bucket encrypts with SSE-KMS by default.",
        validate=_bucket_rule(ENCRYPTION, _sse_kms, "is not encrypted with SSE-KMS"),
    ),
    StackValidationPolicy(
        name="s3-versioning",
        description="Every S3 bucket is versioned.",
        validate=_bucket_rule(VERSIONING, _versioned, "is not versioned"),
    ),
    StackValidationPolicy(
        name="s3-deny-insecure-transport",
        description="Every S3 bucket's policy denies requests that do not use TLS.",
        validate=_bucket_rule(BUCKET_POLICY, _denies_plain_http, "does not deny non-TLS requests (aws:SecureTransport)"),
    ),
    ResourceValidationPolicy(
        name="rds-encrypted-private",
        description="RDS storage is encrypted and never publicly accessible.",
        validate=_check_rds_basics,
    ),
    ResourceValidationPolicy(
        name="rds-prod-resilience",
        description="In prod RDS is Multi-AZ, deletion-protected and keeps at least 7 days of backups.",
        validate=_check_rds_resilience,
        config_schema=ENVIRONMENT_SCHEMA,
    ),
    ResourceValidationPolicy(
        name="elasticache-encryption",
        description="ElastiCache replication groups encrypt at rest and in transit.",
        validate=_check_elasticache,
    ),
    ResourceValidationPolicy(
        name="protect-stateful-resources",
        description="In prod buckets, databases, caches and KMS keys are protected from deletion.",
        validate=_check_protected,
        config_schema=ENVIRONMENT_SCHEMA,
    ),
]
