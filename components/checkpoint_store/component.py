"""`CheckpointStore`: the object store for checkpoint files, one backend chosen by config, the same
outputs whichever it is, and a place in it for the PostgreSQL backups."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pulumi

from ..connections import Endpoint
from ..kube import KubeObject
from ..namespace import Workload
from ..random_tls_postgresql import Resource, random_password
from . import s3 as s3_backend
from . import s3_settings
from . import seaweedfs as weed
from .external import ExternalParams
from .external import endpoints as external_endpoints
from .s3 import S3Params, ServiceAccountRef
from .seaweedfs import Peer, SeaweedParams

Backend = Literal["seaweedfs", "s3", "external"]
BACKUP_SECRET = "checkpoint-store-backup"
# The keys the Barman Cloud plugin's ObjectStore reads its S3 credentials from.
BACKUP_SECRET_KEYS = ("ACCESS_KEY_ID", "ACCESS_SECRET_KEY", "ACCESS_REGION")
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"


@dataclass(frozen=True)
class CheckpointStoreParams:
    """Plain parameters of the store (the platform maps the stack config onto them)."""

    backend: Backend
    bucket_name: str
    """S3: the name's prefix (the stack and account are appended); otherwise the bucket's name."""
    ttl_seconds: int
    """Checkpoint TTL: S3 expires the app's objects after it."""
    namespace: str
    """The data namespace: SeaweedFS and the backups' credential Secret live there."""
    app_peer: Peer
    """The app's pods (they reach the store)."""
    app_service_account: ServiceAccountRef
    backup_peer: Peer
    """The PostgreSQL pods whose Barman Cloud sidecar writes the backups."""
    backup_service_account: ServiceAccountRef
    protect: bool = False
    """Protect the bucket and its key from deletion (prod)."""
    s3: S3Params | None = None
    seaweedfs: SeaweedParams | None = None
    external: ExternalParams | None = None

    def __post_init__(self) -> None:
        if getattr(self, self.backend) is None:
            raise ValueError(f"checkpoint store: backend {self.backend} needs its `{self.backend}` parameters")


@dataclass(frozen=True)
class BackupTarget:
    """Where PostgreSQL backups go in the same store, and how the backup pods authenticate."""

    destination_path: str
    """`s3://<bucket>/postgres/`."""
    endpoint_url: str | None
    """None for AWS S3 (the SDK's regional endpoint)."""
    secret_name: str | None
    """A Secret in the data namespace with BACKUP_SECRET_KEYS; None with IRSA."""
    role_arn: pulumi.Output[str] | None
    """S3: the IRSA role for the backup pods' ServiceAccount (see `service_account_annotations`)."""

    def object_store_configuration(self) -> dict:
        """`spec.configuration` of the Barman Cloud plugin's ObjectStore (compression and retention are the caller's)."""
        config: dict = {"destinationPath": self.destination_path}
        if self.endpoint_url:
            config["endpointURL"] = self.endpoint_url
        if self.secret_name:
            key_id, secret, region = BACKUP_SECRET_KEYS
            config["s3Credentials"] = {"accessKeyId": {"name": self.secret_name, "key": key_id},
                                       "secretAccessKey": {"name": self.secret_name, "key": secret},
                                       "region": {"name": self.secret_name, "key": region}}
        else:
            config["s3Credentials"] = {"inheritFromIAMRole": True}
        return config

    def service_account_annotations(self) -> dict:
        """For the Cluster's `serviceAccountTemplate.metadata.annotations` (IRSA); empty with keys."""
        return {IRSA_ANNOTATION: self.role_arn} if self.role_arn is not None else {}


def backup_secret(namespace: str, access_key: object, secret_key: object, region: str) -> dict:
    """The backup pods' credentials (values: strings or Outputs) under the keys the ObjectStore names."""
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": BACKUP_SECRET, "namespace": namespace,
                         "labels": {"app.kubernetes.io/component": "checkpoint-store",
                                    "app.kubernetes.io/part-of": "langgraph-platform"}},
            "stringData": dict(zip(BACKUP_SECRET_KEYS, (access_key, secret_key, region)))}


def app_config(bucket: str, region: str, endpoint_url: str | None) -> dict[str, str]:
    """The app's plain environment for the store."""
    config = {"CHECKPOINT_BUCKET": bucket, "CHECKPOINT_PREFIX": s3_settings.APP_PREFIX, "AWS_REGION": region}
    if endpoint_url:
        config["AWS_ENDPOINT_URL_S3"] = endpoint_url
    else:
        # IRSA's AssumeRoleWithWebIdentity must go to the regional STS name, which the VPC endpoint
        # answers; the global sts.amazonaws.com is outside the app's egress.
        config["AWS_STS_REGIONAL_ENDPOINTS"] = "regional"
    return config


def seaweed_spec(params: CheckpointStoreParams) -> weed.SeaweedSpec:
    options = params.seaweedfs
    return weed.SeaweedSpec(namespace=params.namespace, bucket=params.bucket_name, storage_size=options.storage_size,
                            peers=(params.app_peer, params.backup_peer), resources=options.resources,
                            storage_class=options.storage_class)


def store_workloads(params: CheckpointStoreParams) -> tuple[Workload, ...]:
    """Pods the store runs in the data namespace (for its quota, known before the namespace exists)."""
    return (seaweed_spec(params).workload(),) if params.backend == "seaweedfs" else ()


def _key_pair(name: str, parent: pulumi.Resource) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
    """A generated access key id (20 upper-case letters and digits, as AWS's look) and secret key."""
    opts = pulumi.ResourceOptions(parent=parent)
    key_id = Resource("random:index/randomString:RandomString", f"{name}-access-key",
                      {"length": 20, "special": False, "lower": False}, opts)
    secret = random_password(f"{name}-secret-key", 40, opts)
    return pulumi.Output.secret(key_id.result), pulumi.Output.secret(secret.result)


class CheckpointStore(pulumi.ComponentResource):
    """The bucket the app keeps checkpoint files in; the same attributes whatever the backend."""

    bucket: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    """The URL the app uses (for S3 the regional endpoint)."""
    region: pulumi.Output[str]
    iam_role_arn: pulumi.Output[str] | None
    """The app's IRSA role (S3 only)."""
    app_env: dict[str, pulumi.Output[str]]
    """Secret environment for the app's connection Secret (access keys; none with IRSA)."""
    app_config: dict[str, str]
    """Plain environment: CHECKPOINT_BUCKET, CHECKPOINT_PREFIX, AWS_REGION, AWS_ENDPOINT_URL_S3 off AWS."""
    endpoints: tuple[Endpoint, ...]
    """Where the app and the backup pods connect (their egress)."""
    backup: BackupTarget
    workloads: tuple[Workload, ...]
    """Pods this store runs in the data namespace, for its quota."""

    def __init__(self, name: str, params: CheckpointStoreParams, depends_on: list[pulumi.Resource] | None = None,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("langgraph:platform:CheckpointStore", name, None, opts)
        # Kubernetes objects wait for their namespace (a component's dependencies are not its children's).
        self._in_namespace = pulumi.ResourceOptions(parent=self, depends_on=list(depends_on or []))
        self.iam_role_arn = None
        self.app_env = {}
        self.workloads = ()
        if params.backend == "s3":
            self._s3(name, params)
        elif params.backend == "seaweedfs":
            self._seaweedfs(name, params)
        else:
            self._external(name, params)
        self.register_outputs({"bucket": self.bucket, "endpoint": self.endpoint, "region": self.region,
                               "iam_role_arn": self.iam_role_arn})

    def _publish(self, bucket: str, endpoint: str, region: str, custom_endpoint: bool) -> None:
        self.bucket = pulumi.Output.from_input(bucket)
        self.endpoint = pulumi.Output.from_input(endpoint)
        self.region = pulumi.Output.from_input(region)
        self.app_config = app_config(bucket, region, endpoint if custom_endpoint else None)

    def _s3(self, name: str, params: CheckpointStoreParams) -> None:
        options = params.s3
        store = s3_backend.build(name, options, params.bucket_name, params.ttl_seconds, params.app_service_account,
                                 params.backup_service_account, params.protect, self)
        self._publish(store.bucket, s3_settings.regional_endpoint(options.region), options.region, custom_endpoint=False)
        self.iam_role_arn = store.app_role_arn
        # Interface endpoints answer inside the VPC on 443 (private DNS), for S3 and for STS.
        self.endpoints = (Endpoint("aws-endpoints", (443,), cidr=options.vpc_cidr),)
        self.backup = BackupTarget(f"s3://{store.bucket}/{s3_settings.BACKUP_PREFIX}", None, None,
                                   store.backup_role_arn)

    def _seaweedfs(self, name: str, params: CheckpointStoreParams) -> None:
        spec = seaweed_spec(params)
        app_key, app_secret = _key_pair(f"{name}-app", self)
        backup_key, backup_secret_key = _key_pair(f"{name}-backup", self)
        identities = pulumi.Output.secret(pulumi.Output.all(app_key, app_secret, backup_key, backup_secret_key).apply(
            lambda keys: weed.identities_config(spec.bucket, (weed.app_identity(keys[0], keys[1]),
                                                              weed.backup_identity(keys[2], keys[3])))))
        opts = self._in_namespace
        config = KubeObject(f"{name}-identities", weed.config_secret(spec, identities), opts)
        policy = KubeObject(f"{name}-netpol", weed.network_policy(spec), opts)
        KubeObject(f"{name}-statefulset", weed.statefulset(spec, identities.apply(weed.config_hash)),
                   pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[config, policy])))
        KubeObject(f"{name}-service", weed.service(spec), opts)
        KubeObject(f"{name}-backup-credentials",
                   backup_secret(params.namespace, backup_key, backup_secret_key, weed.REGION), opts)

        self._publish(spec.bucket, spec.endpoint_url, weed.REGION, custom_endpoint=True)
        self.app_env = {"AWS_ACCESS_KEY_ID": app_key, "AWS_SECRET_ACCESS_KEY": app_secret}
        self.endpoints = (spec.endpoint(),)
        self.workloads = store_workloads(params)
        self.backup = BackupTarget(f"s3://{spec.bucket}/{s3_settings.BACKUP_PREFIX}", spec.endpoint_url,
                                   BACKUP_SECRET, None)

    def _external(self, name: str, params: CheckpointStoreParams) -> None:
        options = params.external
        key_id, secret_key = pulumi.Output.secret(options.access_key_id), pulumi.Output.secret(options.secret_access_key)
        KubeObject(f"{name}-backup-credentials", backup_secret(params.namespace, key_id, secret_key, options.region),
                   self._in_namespace)
        self._publish(params.bucket_name, options.endpoint, options.region, custom_endpoint=True)
        self.app_env = {"AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret_key}
        self.endpoints = external_endpoints(options)
        if not self.endpoints:
            pulumi.log.warn(f"checkpoint store {options.endpoint}: the endpoint names a host, whose network is not "
                            "known here, so no egress to it is opened; give the store's CIDR", self)
        self.backup = BackupTarget(f"s3://{params.bucket_name}/{s3_settings.BACKUP_PREFIX}", options.endpoint,
                                   BACKUP_SECRET, None)
