"""`LangGraphApp`: the LangGraph server tier: API pods and optional queue workers, autoscaled, restricted."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from . import app_manifests as m
from .kube import KubeObject, metadata_name
from .namespace import ComputeResources, Tier, Workload, register_namespace


@dataclass
class LangGraphAppArgs:
    spec: m.AppSpec
    """What to build (config, tiers and their sizing, environment, endpoints)."""
    secret_values: dict[str, pulumi.Input[str]]
    """The connection Secret: environment variable -> value (DATABASE_URI, REDIS_URI, ...)."""
    pod_security_version: str
    """Pod Security Standards version the namespace enforces (the cluster's minor, e.g. v1.31)."""
    role_arn: pulumi.Input[str] | None = None
    """IAM role of the ServiceAccount (IRSA), if any."""
    extra_workloads: tuple[Workload, ...] = ()
    """Other pods the app namespace runs (auto-recovery, the restore drill), for its quota."""


def namespace_tier(spec: m.AppSpec, pod_security_version: str, extra: tuple[Workload, ...] = ()) -> Tier:
    """The app namespace sized for every tier at its autoscaling maximum plus one surge pod (with a canary
    rollout the API tier twice: primary and canary), and the other pods it runs."""
    workloads = tuple(
        Workload(tier.name, ComputeResources(tier.resources.cpu_request, tier.resources.memory_request,
                                             tier.resources.cpu_limit, tier.resources.memory_limit),
                 max_pods=tier.sizing.hpa_max * (2 if spec.canary and tier.role == "api" else 1), max_surge=1)
        for tier in spec.tiers)
    return Tier(spec.namespace, spec.labels(), (*workloads, *extra), pod_security_version=pod_security_version)


class LangGraphApp(pulumi.ComponentResource):
    """The app tier in its own namespace."""

    namespace: pulumi.Output[str]
    namespace_resource: pulumi.Resource
    service_name: str
    secret_name: pulumi.Output[str]

    def __init__(self, name: str, args: LangGraphAppArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("langgraph:platform:LangGraphApp", name, None, opts)
        spec = args.spec

        ns = register_namespace(name, namespace_tier(spec, args.pod_security_version, args.extra_workloads), self)
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[ns])
        KubeObject(f"{name}-sa", m.service_account(spec, args.role_arn), in_ns)
        config_map = m.config_map(spec)
        config = KubeObject(f"{name}-config", config_map, in_ns)
        values = {key: pulumi.Output.secret(value) for key, value in sorted(args.secret_values.items())}
        secret = KubeObject(f"{name}-connections", m.secret(spec, values), in_ns)
        # The pods read the ConfigMap and the Secret at start only: their digest in the pod template rolls
        # them when either changes. It is derived from secrets, so the engine keeps it secret too.
        config_hash = pulumi.Output.all(**values).apply(lambda secrets: m.content_hash(config_map["data"], secrets))

        for tier in spec.tiers:
            def named(kind: str) -> tuple[str, list[pulumi.Alias]]:
                # The API tier's objects had tier-less names before queue workers existed: the aliases keep
                # stacks deployed then from replacing them.
                return f"{name}-{tier.role}-{kind}", [pulumi.Alias(name=f"{name}-{kind}")] if tier.role == "api" else []

            deployment_name, aliases = named("deployment")
            deployment = KubeObject(deployment_name, m.deployment(spec, tier, config_hash), pulumi.ResourceOptions(
                parent=self, depends_on=[ns, config, secret], aliases=aliases))
            if tier.autoscaler == "keda":
                KubeObject(f"{name}-{tier.role}-scaledobject", m.scaled_object(spec, tier),
                           pulumi.ResourceOptions(parent=self, depends_on=[deployment]))
            else:
                hpa_name, aliases = named("hpa")
                KubeObject(hpa_name, m.hpa(spec, tier),
                           pulumi.ResourceOptions(parent=self, depends_on=[deployment], aliases=aliases))
            pdb_name, aliases = named("pdb")
            KubeObject(pdb_name, m.pdb(spec, tier),
                       pulumi.ResourceOptions(parent=self, depends_on=[deployment], aliases=aliases))
            netpol_name, aliases = named("netpol")
            KubeObject(netpol_name, m.network_policy(spec, tier), pulumi.ResourceOptions.merge(
                in_ns, pulumi.ResourceOptions(aliases=aliases)))
        # With a canary rollout Flagger creates the apex Service (and the primary and canary ones).
        if not spec.canary:
            KubeObject(f"{name}-service", m.service(spec), in_ns)

        self.namespace_resource = ns
        self.namespace = metadata_name(ns)
        self.service_name = spec.app.name
        self.secret_name = metadata_name(secret)
        self.register_outputs({
            "namespace": self.namespace,
            "service_name": self.service_name,
            "secret_name": self.secret_name,
        })
