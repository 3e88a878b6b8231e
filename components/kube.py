"""The kubernetes provider, and Kubernetes objects registered with it by their own apiVersion and kind."""

from __future__ import annotations

import functools
from typing import Any

import pulumi

from .by_token import TokenProvider, TypedProvider, env_bool, env_text, provider_options

# The settings the typed `pulumi_kubernetes.Provider` reads from the environment of `pulumi up`
# when the program gives none (kubeconfig a path, the others booleans sent as JSON).
_ENV_BOOLEANS = {
    "deleteUnreachable": "PULUMI_K8S_DELETE_UNREACHABLE",
    "enableConfigMapMutable": "PULUMI_K8S_ENABLE_CONFIGMAP_MUTABLE",
    "enablePatchForce": "PULUMI_K8S_ENABLE_PATCH_FORCE", "enableSecretMutable": "PULUMI_K8S_ENABLE_SECRET_MUTABLE",
    "enableServerSideApply": "PULUMI_K8S_ENABLE_SERVER_SIDE_APPLY",
    "skipUpdateUnreachable": "PULUMI_K8S_SKIP_UPDATE_UNREACHABLE",
    "suppressDeprecationWarnings": "PULUMI_K8S_SUPPRESS_DEPRECATION_WARNINGS",
    "suppressHelmHookWarnings": "PULUMI_K8S_SUPPRESS_HELM_HOOK_WARNINGS",
    "upsertExistingObjects": "PULUMI_K8S_UPSERT_EXISTING_OBJECTS",
}
KUBERNETES_PROVIDER = TypedProvider(
    json_inputs=("alwaysRender", "helmReleaseSettings", "kubeClientSettings", *_ENV_BOOLEANS),
    env_defaults={"kubeconfig": lambda: env_text("KUBECONFIG"),
                  **{key: functools.partial(env_bool, variable) for key, variable in _ENV_BOOLEANS.items()}})

def kubernetes_provider(name: str, inputs: dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> TokenProvider:
    """The kubernetes provider, `inputs` named as the engine receives them (`enableServerSideApply`)."""
    return TokenProvider("kubernetes", KUBERNETES_PROVIDER, name, inputs, opts)

# Versions an API group has served a kind under. The type token (and so the URN) holds the
# version: when ours moves, aliases with the other versions' tokens make the engine update the
# object in place instead of creating a new one and deleting the old, which is the same object.
API_VERSIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("configuration.konghq.com", "KongUpstreamPolicy"): ("v1beta1", "v1"),
    ("gateway.networking.k8s.io", "GatewayClass"): ("v1beta1", "v1"),
    ("gateway.networking.k8s.io", "Gateway"): ("v1beta1", "v1"),
    ("gateway.networking.k8s.io", "HTTPRoute"): ("v1beta1", "v1"),
}


def type_token(api_version: str, kind: str) -> str:
    """`apps/v1`, `Deployment` -> `kubernetes:apps/v1:Deployment` (the core group is `core`)."""
    group_version = api_version if "/" in api_version else f"core/{api_version}"
    return f"kubernetes:{group_version}:{kind}"


def former_types(api_version: str, kind: str) -> list[str]:
    """Type tokens of the kind under the group's other versions."""
    group, _, version = api_version.rpartition("/")
    return [type_token(f"{group}/{other}", kind) for other in API_VERSIONS.get((group, kind), ()) if other != version]


def _moved_aliases(api_version: str, kind: str, aliases: list) -> list[pulumi.Alias]:
    """An alias per former type, and per former type for each alias the caller gives (a renamed
    object whose version also moved)."""
    moved = []
    for former in former_types(api_version, kind):
        moved.append(pulumi.Alias(type_=former))
        moved += [pulumi.Alias(name=a.name, type_=former, parent=a.parent, stack=a.stack, project=a.project)
                  for a in aliases if isinstance(a, pulumi.Alias) and a.type_ is ...]
    return moved


@functools.cache
def _provider_options(kind: str) -> pulumi.ResourceOptions:
    """The typed classes' options: the provider's version, and for a Secret its secret outputs.
    Built once per kind: `ResourceOptions.merge` copies the options it is given and never changes them."""
    options = provider_options("kubernetes")
    if kind == "Secret":
        # As the typed Secret class does: the provider's returned data stays secret too.
        options = pulumi.ResourceOptions.merge(
            options, pulumi.ResourceOptions(additional_secret_outputs=["data", "stringData"]))
    return options


class KubeObject(pulumi.CustomResource):
    """Any Kubernetes object, built-in or custom, registered under its type token
    (`kubernetes:apps/v1:Deployment`) with the object itself as inputs.

    The engine sees exactly what the typed `pulumi_kubernetes` classes would send (they too pass
    apiVersion, kind, metadata, spec through), without importing their modules: those cost
    about 0.6 s of every run, more than the rest of the program together. It also carries
    top-level fields that `apiextensions.CustomResource` drops (KongPlugin's `plugin`, `config`).
    What the typed classes add besides is here too: `status` as an output, aliases when a kind's
    apiVersion moves (`API_VERSIONS`), and `get` to read an object that exists already.
    """

    metadata: pulumi.Output[dict]
    status: pulumi.Output[dict | None]
    """What the cluster reports, e.g. a LoadBalancer Service's address."""

    def __init__(self, name: str, obj: dict, opts: pulumi.ResourceOptions | None = None):
        api_version, kind = obj["apiVersion"], obj["kind"]
        moved = _moved_aliases(api_version, kind, list((opts.aliases if opts else None) or []))
        extra = _provider_options(kind)
        if moved:
            extra = pulumi.ResourceOptions.merge(extra, pulumi.ResourceOptions(aliases=moved))
        # `status` is not ours to set: None keeps it out of the inputs and makes it an output.
        super().__init__(type_token(api_version, kind), name, {**obj, "status": None},
                         pulumi.ResourceOptions.merge(opts, extra))

    @classmethod
    def get(cls, name: str, api_version: str, kind: str, id: pulumi.Input[str],
            opts: pulumi.ResourceOptions | None = None) -> KubeObject:
        """Read the existing object `namespace/name` (one a Helm chart created): the engine looks
        it up and never changes it. Its `metadata`, `spec` and `status` are outputs."""
        obj = cls.__new__(cls)
        # As the typed classes' get(): every property unset, so all of them come back as outputs.
        props = dict.fromkeys(("apiVersion", "kind", "metadata", "spec", "status"))
        pulumi.CustomResource.__init__(obj, type_token(api_version, kind), name, props, pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions.merge(_provider_options(kind), pulumi.ResourceOptions(id=id))))
        return obj


def metadata_name(obj: KubeObject) -> pulumi.Output[str]:
    """The object's name once the engine has created it."""
    return obj.metadata.apply(lambda metadata: metadata["name"])


def load_balancer_address(service: KubeObject) -> pulumi.Output[str | None]:
    """A LoadBalancer Service's first ingress hostname (AWS) or IP; None while it is pending."""

    def first(status: dict | None) -> str | None:
        ingress = ((status or {}).get("loadBalancer") or {}).get("ingress") or [{}]
        return ingress[0].get("hostname") or ingress[0].get("ip")

    return service.status.apply(first)
