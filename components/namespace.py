"""A tier's namespace: Pod Security labels, default-deny, and the seed's resource isolation.

The seed isolates each tier in a namespace with resource limits. Here the ResourceQuota and the
LimitRange are derived from what the tier itself is configured to run, so the quota never blocks
a planned pod (an HPA at its maximum in the middle of a rollout included) and leaves no room for
much else.

Quota, for each of requests.cpu, requests.memory, limits.cpu, limits.memory:

    hard = sum over the tier's workloads of (max_pods + max_surge) x per_pod

and `pods` = sum of (max_pods + max_surge), where
- per_pod is what one pod is charged: the sum over its containers (an init container is charged
  instead when it is larger, so a tier's init containers must be no larger than that sum), each
  value rounded up to 1m CPU / 1 byte first, so the quota never falls short by a rounding;
- max_pods is the most pods the workload runs: its replicas, or its autoscaler's maximum;
- max_surge is the head-room a rolling update adds on top (the Deployment's maxSurge as a
  number of pods; 0 for a Job).
Pods that were replaced and are still terminating count against a quota too: a rollout whose old
pods drain slower than new ones become ready then waits for them: the ReplicaSet retries the
refused pod once they are gone (the rollout slows, it does not fail).

LimitRange: one pod may not be charged more than the largest planned pod (a `Pod` max), so that
one oversized pod cannot spend what the planned ones need; a container that declares nothing gets
the smallest planned pod's requests and limits, so that it is admitted inside the budget rather
than refused by the quota for lacking them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import pulumi

from stackconfig.quantity import parse_quantity

from . import netpol
from .kube import KubeObject

PodSecurityLevel = Literal["restricted", "baseline", "privileged"]
# Pinned, not `latest`: with `latest` a cluster upgrade can tighten the profile under running
# workloads. This is the minor our manifests are validated against; move it with the clusters.
POD_SECURITY_VERSION = "v1.31"
QUOTA_KEYS = ("requests.cpu", "requests.memory", "limits.cpu", "limits.memory")
_BINARY_SUFFIXES = (("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10))


def _charged(key: str, text: str) -> int:
    """What Kubernetes charges for quantity `text`: millicores for CPU, bytes for memory, rounded up."""
    value = parse_quantity(text)
    return math.ceil(value * 1000) if key.endswith("cpu") else math.ceil(value)


def format_cpu(millicores: int) -> str:
    return str(millicores // 1000) if millicores % 1000 == 0 else f"{millicores}m"


def format_memory(size: int) -> str:
    for suffix, unit in _BINARY_SUFFIXES:
        if size and size % unit == 0:
            return f"{size // unit}{suffix}"
    return str(size)


def _format(key: str, amount: int) -> str:
    return format_cpu(amount) if key.endswith("cpu") else format_memory(amount)


@dataclass(frozen=True)
class ComputeResources:
    """Requests and limits of a container, or (summed with `combined`) of a whole pod."""

    cpu_request: str
    memory_request: str
    cpu_limit: str
    memory_limit: str

    def __post_init__(self) -> None:
        for kind in ("cpu", "memory"):
            request, limit = getattr(self, f"{kind}_request"), getattr(self, f"{kind}_limit")
            if parse_quantity(request) > parse_quantity(limit):
                raise ValueError(f"{kind} request {request} exceeds its limit {limit}")

    def charged(self, key: str) -> int:
        """Millicores or bytes charged for `key` (one of QUOTA_KEYS)."""
        kind, resource = key.split(".")
        return _charged(key, getattr(self, f"{resource}_{'request' if kind == 'requests' else 'limit'}"))

    def as_resources(self) -> dict:
        """The `resources` block of a container spec (or of a chart's values)."""
        return {"requests": {"cpu": self.cpu_request, "memory": self.memory_request},
                "limits": {"cpu": self.cpu_limit, "memory": self.memory_limit}}


def combined(*containers: ComputeResources) -> ComputeResources:
    """A pod's charge: the sum of its containers' requests and limits."""
    total = {key: sum(c.charged(key) for c in containers) for key in QUOTA_KEYS}
    return ComputeResources(
        cpu_request=_format("cpu", total["requests.cpu"]), memory_request=_format("memory", total["requests.memory"]),
        cpu_limit=_format("cpu", total["limits.cpu"]), memory_limit=_format("memory", total["limits.memory"]))


@dataclass(frozen=True)
class Workload:
    """Pods of one kind that a tier runs."""

    name: str
    pod: ComputeResources
    """What one pod is charged (see `combined` for pods with several containers)."""
    max_pods: int
    """Most pods at once in steady state: replicas, or the autoscaler's maximum."""
    max_surge: int = 0
    """Extra pods a rolling update adds on top of max_pods (the Deployment's maxSurge)."""

    def __post_init__(self) -> None:
        if self.max_pods < 1 or self.max_surge < 0:
            raise ValueError(f"workload {self.name}: max_pods must be >= 1 and max_surge >= 0, "
                             f"not {self.max_pods} and {self.max_surge}")

    @property
    def pods_at_peak(self) -> int:
        return self.max_pods + self.max_surge


@dataclass(frozen=True)
class Tier:
    """What a tier's namespace is built from."""

    namespace: str
    labels: dict[str, str]
    workloads: tuple[Workload, ...]
    pod_security: PodSecurityLevel = "restricted"
    pod_security_version: str = POD_SECURITY_VERSION

    def __post_init__(self) -> None:
        if not self.workloads:
            raise ValueError(f"tier {self.namespace}: no workloads to size its quota from")


@dataclass(frozen=True)
class NamespaceObjects:
    """The objects `namespace_objects` renders for a tier."""

    namespace: dict
    default_deny: dict
    quota: dict
    limit_range: dict


def quota_hard(workloads: tuple[Workload, ...]) -> dict[str, str]:
    """The ResourceQuota's `hard` map (see the module docstring for the formula)."""
    hard = {"pods": str(sum(w.pods_at_peak for w in workloads))}
    for key in QUOTA_KEYS:
        hard[key] = _format(key, sum(w.pods_at_peak * w.pod.charged(key) for w in workloads))
    return hard


def _limits(workloads: tuple[Workload, ...]) -> list[dict]:
    def pick(choose, key: str) -> str:
        return _format(key, choose(w.pod.charged(key) for w in workloads))

    return [
        {"type": "Pod", "max": {"cpu": pick(max, "limits.cpu"), "memory": pick(max, "limits.memory")}},
        {"type": "Container",
         "defaultRequest": {"cpu": pick(min, "requests.cpu"), "memory": pick(min, "requests.memory")},
         "default": {"cpu": pick(min, "limits.cpu"), "memory": pick(min, "limits.memory")}},
    ]


def namespace_objects(tier: Tier) -> NamespaceObjects:
    """The tier's Namespace (Pod Security enforced, audited and warned at one pinned version), its
    default-deny NetworkPolicy, and its ResourceQuota and LimitRange."""
    pod_security = {}
    for mode in ("enforce", "audit", "warn"):
        pod_security[f"pod-security.kubernetes.io/{mode}"] = tier.pod_security
        pod_security[f"pod-security.kubernetes.io/{mode}-version"] = tier.pod_security_version

    def meta(name: str) -> dict:
        return {"name": name, "namespace": tier.namespace, "labels": tier.labels}

    return NamespaceObjects(
        namespace={"apiVersion": "v1", "kind": "Namespace",
                   "metadata": {"name": tier.namespace, "labels": {**tier.labels, **pod_security}}},
        default_deny=netpol.default_deny(tier.namespace, tier.labels),
        quota={"apiVersion": "v1", "kind": "ResourceQuota", "metadata": meta("compute"),
               "spec": {"hard": quota_hard(tier.workloads)}},
        limit_range={"apiVersion": "v1", "kind": "LimitRange", "metadata": meta("compute"),
                     "spec": {"limits": _limits(tier.workloads)}},
    )


def register_namespace(name: str, tier: Tier, parent: pulumi.Resource) -> KubeObject:
    """Registers the tier's namespace objects as children of `parent` and returns the Namespace,
    for `depends_on` of everything placed in it.

    Names are `<name>-namespace`, `<name>-default-deny`, `<name>-quota`, `<name>-limits`.
    """
    objects = namespace_objects(tier)
    namespace = KubeObject(f"{name}-namespace", objects.namespace, pulumi.ResourceOptions(parent=parent))
    inside = pulumi.ResourceOptions(parent=parent, depends_on=[namespace])
    KubeObject(f"{name}-default-deny", objects.default_deny, inside)
    KubeObject(f"{name}-quota", objects.quota, inside)
    KubeObject(f"{name}-limits", objects.limit_range, inside)
    return namespace
