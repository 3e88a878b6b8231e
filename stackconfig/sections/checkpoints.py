"""`checkpoints`: object storage for checkpoint files (S3, SeaweedFS in the cluster, or an existing endpoint)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ..types import FieldProblem, HttpsUrl, Int, Quantity, RoutableCidr, Section

KEY = "checkpoints"


class CheckpointsConfig(Section):
    backend: Literal["seaweedfs", "s3", "external"]
    """s3: an S3 bucket (SSE-KMS, versioning, TLS-only, IRSA; needs the AWS ids); seaweedfs: SeaweedFS's S3 gateway in the cluster (MinIO's community edition is unmaintained); external: an S3-compatible endpoint you run (MinIO/AIStor, Ceph RGW), credentials from config secrets."""
    bucket_name: str = Field("langgraph-checkpoints", pattern=r"^[a-z0-9][a-z0-9-]{1,40}[a-z0-9]$")
    """Bucket name prefix (S3 appends the stack name and account for uniqueness)."""
    kms_key_arn: str | None = Field(None, pattern=r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]{1,256}$")
    """KMS key (its key ARN, not an alias: IAM policies name keys by ARN) for SSE-KMS; unset creates a dedicated key with rotation."""
    noncurrent_version_days: Int(1, 3650) = 30
    """Days old object versions are kept (S3 lifecycle)."""
    abort_incomplete_upload_days: Int(1, 365) = 7
    """Days before incomplete multipart uploads are removed (S3 lifecycle)."""
    replication_region: str | None = Field(None, pattern=r"^[a-z]{2}(-gov)?-[a-z]+-[0-9]$")
    """Replicate the bucket to this region (S3); unset replicates nowhere."""
    storage_size: Quantity
    """SeaweedFS volume size."""
    external_endpoint: HttpsUrl | None = None
    """S3 API endpoint of the external store (required with backend external)."""
    external_region: str = Field("us-east-1", pattern=r"^[a-z0-9-]{2,32}$")
    """Region name the external store expects in signatures."""
    external_cidr: RoutableCidr | None = None
    """Network of the external store, for the clients' egress (derived when the endpoint's host is an address)."""

    @model_validator(mode="after")
    def _external(self) -> CheckpointsConfig:
        if self.backend == "external" and not self.external_endpoint:
            raise FieldProblem("external_endpoint", None, "required with backend external")
        return self


MODEL = CheckpointsConfig
DEFAULTS: dict[str, dict] = {
    "dev": {"backend": "seaweedfs", "storage_size": "5Gi"},
    "prod": {"backend": "s3", "storage_size": "20Gi"},
}
