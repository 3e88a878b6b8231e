"""The checkpoint bucket's settings as plain data: one source for the Pulumi resources (`s3.py`) and
for the tests that apply them through boto3.

Bucket settings are written in the S3 API's own shapes (what boto3 sends and reads back);
`s3.py` turns their keys into the aws provider's (camelCase) property names mechanically. IAM
documents are JSON strings, as both IAM and the provider take them.

The bucket is shared by two writers, each confined to a prefix: the app (`checkpoints/`) and the
PostgreSQL backups (`postgres/`). The prefixes keep the checkpoint TTL from expiring backups (a
lifecycle rule can include a prefix but not exclude one) and keep the app, which faces the
internet, from deleting the backups.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pulumi

APP_PREFIX = "checkpoints/"
BACKUP_PREFIX = "postgres/"
OBJECT_OWNERSHIP = "BucketOwnerEnforced"
"""ACLs off: the bucket owner owns every object, whoever wrote it."""
MINIMUM_TLS = "1.2"
IRSA_AUDIENCE = "sts.amazonaws.com"
APP_KMS_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey")
# What a client of its prefix does: read, write, delete objects and finish or abandon multipart uploads.
OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload",
                  "s3:ListMultipartUploadParts")
_DAY_SECONDS = 86_400


def partition(region: str) -> str:
    """The AWS partition of `region` (aws, aws-cn, aws-us-gov)."""
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws-us-gov" if region.startswith("us-gov-") else "aws"


def dns_suffix(region: str) -> str:
    return "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"


def regional_endpoint(region: str) -> str:
    """The S3 endpoint of `region`; inside the VPC it resolves to the interface endpoint (private DNS)."""
    return f"https://s3.{region}.{dns_suffix(region)}"


def bucket_arn(bucket: str, region: str) -> str:
    return f"arn:{partition(region)}:s3:::{bucket}"


def expiration_days(ttl_seconds: int) -> int:
    """The TTL in whole days (lifecycle rules count days), rounded up so nothing expires early."""
    return max(1, math.ceil(ttl_seconds / _DAY_SECONDS))


def s3_bucket_name(prefix: str, stack: str, account_id: str, suffix: str = "") -> str:
    """`<prefix>-<stack>-<account>[-<suffix>]`: bucket names are global, so the stack and account make it unique."""
    name = "-".join(part for part in (prefix, stack.lower(), account_id, suffix) if part)
    if len(name) > 63:
        raise ValueError(f"S3 bucket name {name!r} is {len(name)} characters; S3 allows 63: "
                         "shorten checkpoints.bucket_name or the stack name")
    return name


@dataclass(frozen=True)
class BucketSettings:
    """Everything the bucket is configured with except its policy and replication."""

    kms_key_arn: str | pulumi.Output[str]
    """The key ARN; Pulumi passes the Output of a key it creates, which stays in place in the requests."""
    current_days: int
    """Days before an object under the app's prefix expires (the checkpoint TTL)."""
    noncurrent_days: int
    abort_upload_days: int

    def requests(self) -> dict[str, dict]:
        """boto3 `put_*` method -> its arguments besides `Bucket`."""
        return {
            "put_bucket_ownership_controls": {"OwnershipControls": {"Rules": [{"ObjectOwnership": OBJECT_OWNERSHIP}]}},
            "put_public_access_block": {"PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True}},
            "put_bucket_versioning": {"VersioningConfiguration": {"Status": "Enabled"}},
            # The bucket key makes S3 ask KMS for a data key per bucket and period, not per object.
            "put_bucket_encryption": {"ServerSideEncryptionConfiguration": {"Rules": [{
                "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": self.kms_key_arn},
                "BucketKeyEnabled": True}]}},
            "put_bucket_lifecycle_configuration": {"LifecycleConfiguration": {"Rules": self.lifecycle_rules()}},
        }

    def lifecycle_rules(self) -> list[dict]:
        return [
            {"ID": "expire-checkpoints", "Status": "Enabled", "Filter": {"Prefix": APP_PREFIX},
             "Expiration": {"Days": self.current_days}},
            # Versioning keeps what expires or is overwritten as noncurrent versions: they go after N days,
            # and the delete markers left with no version behind them go too.
            {"ID": "expire-noncurrent-versions", "Status": "Enabled", "Filter": {},
             "Expiration": {"ExpiredObjectDeleteMarker": True},
             "NoncurrentVersionExpiration": {"NoncurrentDays": self.noncurrent_days}},
            {"ID": "abort-incomplete-uploads", "Status": "Enabled", "Filter": {},
             "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": self.abort_upload_days}},
        ]


def replication(role_arn: str | pulumi.Output[str], destination_bucket: str, region: str,
                replica_key_arn: str | pulumi.Output[str]) -> dict:
    """The source bucket's ReplicationConfiguration: every object, SSE-KMS ones re-encrypted with the replica's key.

    Delete markers are not replicated: a delete in the source (a mistake, or a compromised writer)
    leaves the replica whole; the replica's own lifecycle expires what the source expired.
    """
    return {"Role": role_arn, "Rules": [{
        "ID": "replicate-all", "Priority": 1, "Status": "Enabled", "Filter": {},
        "DeleteMarkerReplication": {"Status": "Disabled"},
        "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
        "Destination": {"Bucket": bucket_arn(destination_bucket, region),
                        "EncryptionConfiguration": {"ReplicaKmsKeyID": replica_key_arn}},
    }]}


def _document(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, indent=2)


def bucket_policy(bucket: str, region: str) -> str:
    """Denies every request made without TLS, or with TLS older than 1.2, whoever makes it."""
    resources = [bucket_arn(bucket, region), f"{bucket_arn(bucket, region)}/*"]
    return _document(
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": resources, "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Sid": "DenyOutdatedTls", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": resources, "Condition": {"NumericLessThan": {"s3:TlsVersion": MINIMUM_TLS}}},
    )


def prefix_policy(bucket: str, region: str, kms_key_arn: str, prefix: str, *, list_whole_bucket: bool) -> str:
    """Objects under `prefix` of `bucket`, and the key they are encrypted with; nothing else.

    Listing is limited to the prefix unless `list_whole_bucket`: Barman Cloud checks that the
    bucket exists with HeadBucket, which S3 authorizes as an unconditioned s3:ListBucket.
    """
    listing: dict = {"Sid": "ListBucket", "Effect": "Allow", "Action": "s3:ListBucket",
                     "Resource": bucket_arn(bucket, region)}
    if not list_whole_bucket:
        listing["Condition"] = {"StringLike": {"s3:prefix": [prefix, f"{prefix}*"]}}
    return _document(
        {"Sid": "Objects", "Effect": "Allow", "Action": list(OBJECT_ACTIONS),
         "Resource": f"{bucket_arn(bucket, region)}/{prefix}*"},
        listing,
        {"Sid": "BucketKey", "Effect": "Allow", "Action": list(APP_KMS_ACTIONS), "Resource": kms_key_arn},
    )


def app_policy(bucket: str, region: str, kms_key_arn: str) -> str:
    """The app's IRSA policy: its prefix of this bucket, this key."""
    return prefix_policy(bucket, region, kms_key_arn, APP_PREFIX, list_whole_bucket=False)


def backup_policy(bucket: str, region: str, kms_key_arn: str) -> str:
    """The PostgreSQL backups' IRSA policy: the `postgres/` prefix of this bucket, this key."""
    return prefix_policy(bucket, region, kms_key_arn, BACKUP_PREFIX, list_whole_bucket=True)


def oidc_issuer(oidc_provider_arn: str) -> str:
    """`arn:aws:iam::<account>:oidc-provider/<issuer>` -> `<issuer>` (the condition keys' prefix)."""
    return oidc_provider_arn.split(":oidc-provider/", 1)[1]


def web_identity_trust(oidc_provider_arn: str, namespace: str, service_account: str) -> str:
    """IRSA: only tokens the cluster issued to `namespace/service_account`, for STS, may assume the role."""
    issuer = oidc_issuer(oidc_provider_arn)
    return _document({
        "Effect": "Allow", "Principal": {"Federated": oidc_provider_arn}, "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{issuer}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                                       f"{issuer}:aud": IRSA_AUDIENCE}},
    })


def replication_trust() -> str:
    return _document({"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole"})


def replication_role_policy(source: str, destination: str, region: str, replica_region: str,
                            source_key_arn: str, replica_key_arn: str) -> str:
    """What S3 needs to copy every version from `source` to `destination`, re-encrypting it."""
    source_arn, destination_arn = bucket_arn(source, region), bucket_arn(destination, replica_region)
    return _document(
        {"Sid": "ReadConfiguration", "Effect": "Allow",
         "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"], "Resource": source_arn},
        {"Sid": "ReadVersions", "Effect": "Allow",
         "Action": ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
         "Resource": f"{source_arn}/*"},
        {"Sid": "WriteReplicas", "Effect": "Allow",
         "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"], "Resource": f"{destination_arn}/*"},
        {"Sid": "DecryptSource", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": source_key_arn},
        {"Sid": "EncryptReplica", "Effect": "Allow", "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
         "Resource": replica_key_arn},
    )
