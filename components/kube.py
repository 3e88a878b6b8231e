"""Registering Kubernetes objects with the kubernetes provider by their own apiVersion and kind."""

from __future__ import annotations

import pulumi
from pulumi_kubernetes import _utilities


class KubeObject(pulumi.CustomResource):
    """Any Kubernetes object, built-in or custom, registered under its type token
    (`kubernetes:apps/v1:Deployment`) with the object itself as inputs.

    The engine sees exactly what the typed `pulumi_kubernetes` classes would send (they too pass
    apiVersion, kind, metadata, spec through), without importing their modules: those cost
    about 0.6 s of every run, more than the rest of the program together. It also carries
    top-level fields that `apiextensions.CustomResource` drops (KongPlugin's `plugin`, `config`).
    """

    metadata: pulumi.Output[dict]

    def __init__(self, name: str, obj: dict, opts: pulumi.ResourceOptions | None = None):
        api_version, kind = obj["apiVersion"], obj["kind"]
        group_version = api_version if "/" in api_version else f"core/{api_version}"
        extra = pulumi.ResourceOptions(version=_utilities.get_version())
        if kind == "Secret":
            # As the typed Secret class does: the provider's returned data stays secret too.
            extra = pulumi.ResourceOptions.merge(extra, pulumi.ResourceOptions(additional_secret_outputs=["data", "stringData"]))
        super().__init__(f"kubernetes:{group_version}:{kind}", name, dict(obj), pulumi.ResourceOptions.merge(opts, extra))


def metadata_name(obj: KubeObject) -> pulumi.Output[str]:
    """The object's name once the engine has created it."""
    return obj.metadata.apply(lambda metadata: metadata["name"])
