"""Helm releases of the pinned third-party charts (`components/pins.py`), installed the same way
everywhere, and the one manifest bundle installed from a URL.

Both are registered under their type tokens, as `components/kube.py` does for objects: importing
`pulumi_kubernetes.helm` or `.yaml` loads the provider's client-side chart and YAML renderers and
`requests` with them, about a tenth of a prod plan, for two classes that only pass their inputs
through. `tests/test_plan_imports.py` compares what the engine receives, request for request,
with what `pulumi_kubernetes.helm.v3.Release` and `.yaml.v2.ConfigFile` send.
"""

from __future__ import annotations

import pulumi

from .by_token import provider_options
from .pins import Chart

RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"
CONFIG_FILE_TYPE = "kubernetes:yaml/v2:ConfigFile"

RELEASE_PROPERTIES = (
    "allowNullValues", "atomic", "chart", "cleanupOnFail", "createNamespace", "dependencyUpdate", "description",
    "devel", "disableCRDHooks", "disableOpenapiValidation", "disableWebhooks", "forceUpdate", "keyring", "lint",
    "manifest", "maxHistory", "name", "namespace", "postrender", "recreatePods", "renderSubchartNotes", "replace",
    "repositoryOpts", "resetValues", "resourceNames", "reuseValues", "skipAwait", "skipCrds", "status",
    "takeOwnership", "timeout", "valueYamlFiles", "values", "verify", "version", "waitForJobs")
"""The typed Release's properties by engine name: those the program leaves unset are outputs."""


def _provider_options(opts: pulumi.ResourceOptions | None) -> pulumi.ResourceOptions:
    """The typed classes' options: the provider's version under the caller's."""
    return pulumi.ResourceOptions.merge(provider_options("kubernetes"), opts)


class HelmRelease(pulumi.CustomResource):
    """A Helm release (`kubernetes:helm.sh/v3:Release`) with its inputs named as the engine receives them."""

    status: pulumi.Output[dict]
    """The release's name, revision, chart and app version once installed."""

    def __init__(self, name: str, inputs: dict, opts: pulumi.ResourceOptions | None = None):
        unknown = set(inputs) - set(RELEASE_PROPERTIES)
        if unknown:
            raise KeyError(f"not a Release input: {sorted(unknown)}")
        # The typed class sends `compat: "true"` with every release, whatever the caller gives.
        props = {**dict.fromkeys(RELEASE_PROPERTIES), **inputs, "compat": "true", "status": None}
        super().__init__(RELEASE_TYPE, name, props, _provider_options(opts))


class ConfigFile(pulumi.ComponentResource):
    """The objects of one YAML file or URL, which the provider reads and applies itself
    (`kubernetes:yaml/v2:ConfigFile`, a component the provider constructs)."""

    resources: pulumi.Output[list | None]
    """The objects it created."""

    def __init__(self, name: str, file: str, opts: pulumi.ResourceOptions | None = None):
        props = {"file": file, "resourcePrefix": None, "skipAwait": None, "resources": None}
        super().__init__(CONFIG_FILE_TYPE, name, props, _provider_options(opts), remote=True)


def release(name: str, chart: Chart, namespace: str, values: dict, opts: pulumi.ResourceOptions) -> HelmRelease:
    """An atomic release (a failed install or upgrade rolls back) of `chart` into an existing `namespace`."""
    return HelmRelease(name, {
        "name": chart.name,
        "chart": chart.name,
        "version": chart.version,
        "repositoryOpts": {"repo": chart.repository},
        "namespace": namespace,
        "values": values,
        "atomic": True,
        "cleanupOnFail": True,
        "timeout": 600,
    }, opts)
