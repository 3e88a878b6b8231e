"""The weekly restore drill as Kubernetes objects: pure builders for the lead to register.

The job runs `python -m ops restore-drill --json` in the app namespace with the stack outputs
mounted from a Secret (they hold credentials). For CloudNativePG it needs, in the data namespace,
exactly: get/create/delete on Clusters (read the source, create and delete the copy) and on
NetworkPolicies (the copy's, cloned from the source instances'). For RDS it needs no Kubernetes
verbs; its IAM role (IRSA) gets the policy of `rds_drill_policy`. Its own NetworkPolicy lets out
DNS, the API server, PostgreSQL and (RDS) HTTPS to the AWS endpoints; nothing in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from components import netpol
from components.security import restricted_container

from .labels import DRILL_LABELS

OUTPUTS_KEY = "outputs.json"
MOUNT_DIR = "/etc/langgraph-ops"
RUN_AS_USER = 10071
_CRONJOB_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,50}[a-z0-9])?")


@dataclass(frozen=True)
class RestoreDrillJobSpec:
    """What the drill's objects are built from."""

    namespace: str
    """Where the job runs (the app namespace: DRILL_LABELS pods there reach the copy)."""
    image: str
    """An image with this repository's `ops` package and requirements-ops.txt installed."""
    outputs_secret: str
    """Secret in `namespace` whose key `outputs.json` holds `pulumi stack output --json --show-secrets`."""
    engine: Literal["cloudnative-pg", "rds"]
    data_namespace: str | None = None
    """CloudNativePG: the Cluster's namespace."""
    database_peers: Sequence[dict] = ()
    """NetworkPolicy peers of PostgreSQL: the data namespace (CloudNativePG) or the VPC CIDR (RDS)."""
    api_server_cidrs: Sequence[str] = ("0.0.0.0/0",)
    https_cidrs: Sequence[str] = ()
    """RDS: where the AWS API endpoints answer (VPC endpoints' CIDR)."""
    iam_role_arn: str | None = None
    """RDS: the role (IRSA) allowed the calls of `rds_drill_policy`."""
    name: str = "langgraph-restore-drill"
    schedule: str = "23 4 * * 0"
    """Weekly (the seed's restore test), Sunday 04:23 UTC: after the nightly backup, before the week starts."""
    time_zone: str = "Etc/UTC"
    extra_args: Sequence[str] = ()
    active_deadline_seconds: int = 3 * 3600
    image_pull_policy: str = "IfNotPresent"
    labels: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _CRONJOB_NAME.fullmatch(self.name):
            raise ValueError(f"restore drill job name {self.name!r} must be a DNS label of at most 52 characters")
        if self.engine == "cloudnative-pg" and not self.data_namespace:
            raise ValueError("a CloudNativePG restore drill needs data_namespace (where the Cluster lives)")
        if not self.database_peers:
            raise ValueError("database_peers must name where PostgreSQL answers (an empty peer list admits all)")
        if self.engine == "rds" and not self.https_cidrs:
            raise ValueError("an RDS restore drill needs https_cidrs to reach the AWS API")

    @property
    def all_labels(self) -> dict[str, str]:
        return {**self.labels, **DRILL_LABELS}


def _meta(spec: RestoreDrillJobSpec, namespace: str | None = None) -> dict:
    return {"name": spec.name, "namespace": namespace or spec.namespace, "labels": spec.all_labels}


def service_account(spec: RestoreDrillJobSpec) -> dict:
    metadata = _meta(spec)
    if spec.iam_role_arn:
        metadata["annotations"] = {"eks.amazonaws.com/role-arn": spec.iam_role_arn}
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata, "automountServiceAccountToken": False}


def role(spec: RestoreDrillJobSpec) -> dict:
    """In the data namespace: the copy's Cluster and NetworkPolicy, nothing else."""
    verbs = ["get", "create", "delete"]
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": _meta(spec, spec.data_namespace),
            "rules": [{"apiGroups": ["postgresql.cnpg.io"], "resources": ["clusters"], "verbs": verbs},
                      {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"], "verbs": verbs}]}


def role_binding(spec: RestoreDrillJobSpec) -> dict:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": _meta(spec, spec.data_namespace),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": spec.name},
            "subjects": [{"kind": "ServiceAccount", "name": spec.name, "namespace": spec.namespace}]}


def cron_job(spec: RestoreDrillJobSpec) -> dict:
    container = {
        "name": "restore-drill",
        "image": spec.image,
        "imagePullPolicy": spec.image_pull_policy,
        "command": ["python", "-m", "ops", "restore-drill", "--outputs", f"{MOUNT_DIR}/{OUTPUTS_KEY}", "--json",
                    *spec.extra_args],
        "env": [{"name": "HOME", "value": "/tmp"}],
        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
        "securityContext": restricted_container(RUN_AS_USER),
        "volumeMounts": [{"name": "outputs", "mountPath": MOUNT_DIR, "readOnly": True},
                         {"name": "tmp", "mountPath": "/tmp"}],
    }
    pod = {
        "metadata": {"labels": spec.all_labels},
        "spec": {
            "serviceAccountName": spec.name,
            # The one pod that needs the API (CloudNativePG) or IRSA's projected token (RDS) gets it.
            "automountServiceAccountToken": True,
            "restartPolicy": "Never",
            "enableServiceLinks": False,
            "securityContext": {"runAsNonRoot": True, "runAsUser": RUN_AS_USER, "runAsGroup": RUN_AS_USER,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [container],
            "volumes": [
                {"name": "outputs", "secret": {"secretName": spec.outputs_secret,
                                               "items": [{"key": OUTPUTS_KEY, "path": OUTPUTS_KEY}],
                                               "defaultMode": 0o440}},
                {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
            ],
        },
    }
    return {
        "apiVersion": "batch/v1", "kind": "CronJob",
        # It creates and deletes the scratch Cluster through the Kubernetes API, so it needs its token.
        "metadata": {**_meta(spec), "annotations": {
            "checkov.io/skip1": "CKV_K8S_38=calls the Kubernetes API with its least-privilege Role"}},
        "spec": {
            "schedule": spec.schedule,
            "timeZone": spec.time_zone,
            # Two drills at once would restore two copies for nothing.
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 6 * 3600,
            "successfulJobsHistoryLimit": 4,
            "failedJobsHistoryLimit": 4,
            "jobTemplate": {"metadata": {"labels": spec.all_labels}, "spec": {
                # A failed drill is a finding to read, not to retry: a retry would restore another copy.
                "backoffLimit": 0,
                "activeDeadlineSeconds": spec.active_deadline_seconds,
                "ttlSecondsAfterFinished": 14 * 24 * 3600,
                "template": pod,
            }},
        },
    }


def network_policy(spec: RestoreDrillJobSpec) -> dict:
    egress = [netpol.dns_egress(), netpol.api_server_egress(spec.api_server_cidrs),
              {"to": list(spec.database_peers), "ports": netpol.tcp(5432)}]
    if spec.https_cidrs:
        egress.append({"to": netpol.ip_peers(spec.https_cidrs), "ports": netpol.tcp(443)})
    return netpol.network_policy(spec.name, spec.namespace, spec.all_labels, {
        "podSelector": {"matchLabels": dict(DRILL_LABELS)}, "policyTypes": ["Ingress", "Egress"], "egress": egress})


def restore_drill_objects(spec: RestoreDrillJobSpec) -> list[dict]:
    """Every object of the weekly drill, in apply order."""
    rbac = [role(spec), role_binding(spec)] if spec.engine == "cloudnative-pg" else []
    return [service_account(spec), *rbac, network_policy(spec), cron_job(spec)]


def rds_drill_policy(source_instance_arn: str, scratch_arn_prefix: str) -> dict:
    """IAM policy for the RDS drill: restore from the source, and only drill copies to describe and delete
    (`scratch_arn_prefix`: arn:aws:rds:<region>:<account>:db:<source>-drill-)."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "Describe", "Effect": "Allow", "Action": ["rds:DescribeDBInstances"], "Resource": "*"},
        {"Sid": "RestoreFromSource", "Effect": "Allow", "Action": ["rds:RestoreDBInstanceToPointInTime"],
         "Resource": [source_instance_arn, f"{scratch_arn_prefix}*"]},
        {"Sid": "TagCopies", "Effect": "Allow", "Action": ["rds:AddTagsToResource"],
         "Resource": f"{scratch_arn_prefix}*"},
        {"Sid": "DeleteCopies", "Effect": "Allow", "Action": ["rds:DeleteDBInstance"],
         "Resource": f"{scratch_arn_prefix}*",
         "Condition": {"StringEquals": {"aws:ResourceTag/langgraph:restore-drill": "true"}}},
    ]}
