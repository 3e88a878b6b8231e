"""Helpers the policies share: environment config and reading resources by type."""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from pulumi_policy import PolicyConfigSchema

# Policies that only bind in prod read the stack's environment from their policy config
# (policy/config.<stack>.json); unset means prod, the strict side.
ENVIRONMENT_SCHEMA = PolicyConfigSchema(properties={"environment": {"type": "string", "enum": ["dev", "prod"]}})


def is_prod(args) -> bool:
    return args.get_config().get("environment", "prod") == "prod"


def kind_of(resource_type: str) -> str | None:
    """`kubernetes:apps/v1:Deployment` -> `Deployment`; None for anything not Kubernetes."""
    if not resource_type.startswith("kubernetes:") or resource_type.startswith("kubernetes:helm.sh/"):
        return None
    return resource_type.rsplit(":", 1)[-1]


def dig(obj: Any, *path: str, default: Any = None) -> Any:
    for part in path:
        if not isinstance(obj, Mapping) or part not in obj:
            return default
        obj = obj[part]
    return obj


def pod_spec(kind: str | None, props: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The pod spec inside a workload object, or None for other kinds."""
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
        return dig(props, "spec", "template", "spec")
    if kind == "CronJob":
        return dig(props, "spec", "jobTemplate", "spec", "template", "spec")
    if kind == "Pod":
        return dig(props, "spec")
    return None


def containers(spec: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(description, container) for every init and app container."""
    for field in ("initContainers", "containers"):
        for container in spec.get(field) or []:
            yield f"{'init ' if field == 'initContainers' else ''}container {container.get('name')}", container


def namespace_of(props: Mapping[str, Any]) -> str:
    return dig(props, "metadata", "namespace", default="default")
