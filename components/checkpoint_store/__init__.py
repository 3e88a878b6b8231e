"""The checkpoint object store: an S3 bucket (prod), SeaweedFS's S3 gateway in the cluster (dev), or an existing S3-compatible endpoint."""
