"""A compliant AWS data tier (bucket, RDS, ElastiCache, KMS), recorded by the policy tests so the
AWS policies are checked against pulumi_aws's real input shapes before the data-tier components exist."""

import json

import pulumi
import pulumi_aws as aws

protected = pulumi.ResourceOptions(protect=True)
key = aws.kms.Key("checkpoints-key", enable_key_rotation=True, opts=protected)
bucket = aws.s3.Bucket("checkpoints", bucket="langgraph-checkpoints-prod", opts=protected)
aws.s3.BucketPublicAccessBlock("checkpoints-public-access", bucket=bucket.id, block_public_acls=True,
                               block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True)
aws.s3.BucketServerSideEncryptionConfiguration("checkpoints-sse", bucket=bucket.id, rules=[{
    "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": key.arn},
    "bucket_key_enabled": True,
}])
aws.s3.BucketVersioning("checkpoints-versioning", bucket=bucket.id, versioning_configuration={"status": "Enabled"})
aws.s3.BucketPolicy("checkpoints-tls-only", bucket=bucket.id, policy=bucket.bucket.apply(lambda name: json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                   "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
                   "Condition": {"Bool": {"aws:SecureTransport": "false"}}}],
})))
aws.rds.Instance("postgres", engine="postgres", engine_version="16", instance_class="db.r6g.large",
                 allocated_storage=100, storage_encrypted=True, publicly_accessible=False, multi_az=True,
                 deletion_protection=True, backup_retention_period=7, opts=protected)
aws.elasticache.ReplicationGroup("redis", description="langgraph", engine="redis", node_type="cache.r7g.large",
                                 num_cache_clusters=3, at_rest_encryption_enabled="true",
                                 transit_encryption_enabled=True, automatic_failover_enabled=True, opts=protected)
