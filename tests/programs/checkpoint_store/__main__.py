"""The checkpoint store alone, its backend and parameters from config, for the mock-engine tests.

Config: `backend`, `ttl_seconds`, `protect`, and the backend's parameters as an object under its
name (`s3`, `seaweedfs`, `external`); the external store's keys are the config secrets
`access_key_id` and `secret_access_key`.
"""

import dataclasses

import pulumi

from components.checkpoint_store.component import CheckpointStore, CheckpointStoreParams
from components.checkpoint_store.external import ExternalParams
from components.checkpoint_store.s3 import S3Params, ServiceAccountRef
from components.checkpoint_store.seaweedfs import Peer, SeaweedParams

config = pulumi.Config()
backend = config.require("backend")
backend_params = config.get_object(backend) or {}
params = CheckpointStoreParams(
    backend=backend,
    bucket_name="langgraph-checkpoints",
    ttl_seconds=config.require_int("ttl_seconds"),
    namespace="langgraph-data",
    app_peer=Peer("langgraph", {"app.kubernetes.io/name": "langgraph"}),
    app_service_account=ServiceAccountRef("langgraph", "langgraph"),
    backup_peer=Peer("langgraph-data", {"cnpg.io/cluster": "postgres"}),
    backup_service_account=ServiceAccountRef("langgraph-data", "postgres"),
    protect=config.get_bool("protect") or False,
    s3=S3Params(**{**backend_params, "private_subnet_ids": tuple(backend_params.get("private_subnet_ids", ()))})
    if backend == "s3" else None,
    seaweedfs=SeaweedParams(**backend_params) if backend == "seaweedfs" else None,
    external=ExternalParams(**backend_params, access_key_id=config.require_secret("access_key_id"),
                            secret_access_key=config.require_secret("secret_access_key"))
    if backend == "external" else None,
)
store = CheckpointStore("checkpoints", params)

pulumi.export("bucket", store.bucket)
pulumi.export("endpoint", store.endpoint)
pulumi.export("region", store.region)
pulumi.export("iam_role_arn", store.iam_role_arn)
pulumi.export("app_env", store.app_env)
pulumi.export("app_config", store.app_config)
pulumi.export("endpoints", [dataclasses.asdict(endpoint) for endpoint in store.endpoints])
pulumi.export("backup_configuration", store.backup.object_store_configuration())
pulumi.export("backup_annotations", store.backup.service_account_annotations())
pulumi.export("workloads", [workload.name for workload in store.workloads])
