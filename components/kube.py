"""Glue between the pure builders' plain objects and the typed pulumi_kubernetes classes."""

from __future__ import annotations

import re

import pulumi
from pulumi_kubernetes import _utilities


def as_args(obj: dict) -> dict:
    """An object's top-level camelCase keys (metadata, spec, automountServiceAccountToken, ...)
    as the SDK's snake_case keyword arguments; nested keys pass through unchanged."""
    return {re.sub(r"(?<!^)([A-Z])", r"_\1", key).lower(): value for key, value in obj.items()}


class KubeObject(pulumi.CustomResource):
    """Any Kubernetes object, by its own apiVersion and kind, through the kubernetes provider.

    `pulumi_kubernetes.apiextensions.CustomResource` only carries `spec`; KongPlugin keeps
    `plugin` and `config` at the top level, so CRD instances are registered with this instead.
    """

    def __init__(self, name: str, obj: dict, opts: pulumi.ResourceOptions | None = None):
        api_version, kind = obj["apiVersion"], obj["kind"]
        group_version = api_version if "/" in api_version else f"core/{api_version}"
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(version=_utilities.get_version()))
        super().__init__(f"kubernetes:{group_version}:{kind}", name, dict(obj), opts)

