"""`LangGraphApp`: the LangGraph server tier (Deployment, Service, HPA, PDB, NetworkPolicy, ...)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from . import app_manifests as m
from .kube import as_args


@dataclass
class LangGraphAppArgs:
    spec: m.AppSpec
    """What to build (config, sizing, neighbouring namespaces)."""
    connections: dict[str, pulumi.Input[str]]
    """Secret environment (DATABASE_URI, POSTGRES_URI, REDIS_URI, ...); absent keys are left out."""


class LangGraphApp(pulumi.ComponentResource):
    """The app tier in its own namespace, restricted and autoscaled."""

    namespace: pulumi.Output[str]
    service_name: pulumi.Output[str]
    secret_name: pulumi.Output[str]

    def __init__(self, name: str, args: LangGraphAppArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("langgraph:platform:LangGraphApp", name, None, opts)
        spec = args.spec
        child = pulumi.ResourceOptions(parent=self)

        ns = k8s.core.v1.Namespace(f"{name}-namespace", **as_args(m.namespace(spec)), opts=child)
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[ns])

        k8s.core.v1.ServiceAccount(f"{name}-sa", **as_args(m.service_account(spec)), opts=in_ns)
        config = k8s.core.v1.ConfigMap(f"{name}-config", **as_args(m.config_map(spec)), opts=in_ns)
        secret = k8s.core.v1.Secret(
            f"{name}-connections",
            metadata={"name": spec.secret_name, "namespace": spec.namespace, "labels": spec.labels},
            type="Opaque",
            string_data={key: pulumi.Output.secret(value) for key, value in args.connections.items()},
            opts=in_ns,
        )
        deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment", **as_args(m.deployment(spec)),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[ns, config, secret]),
        )
        service = k8s.core.v1.Service(f"{name}-service", **as_args(m.service(spec)), opts=in_ns)
        after_deployment = pulumi.ResourceOptions(parent=self, depends_on=[deployment])
        k8s.autoscaling.v2.HorizontalPodAutoscaler(f"{name}-hpa", **as_args(m.hpa(spec)), opts=after_deployment)
        k8s.policy.v1.PodDisruptionBudget(f"{name}-pdb", **as_args(m.pdb(spec)), opts=after_deployment)
        k8s.networking.v1.NetworkPolicy(f"{name}-default-deny", **as_args(m.default_deny(spec)), opts=in_ns)
        k8s.networking.v1.NetworkPolicy(f"{name}-netpol", **as_args(m.network_policy(spec)), opts=in_ns)

        self.namespace = ns.metadata.name
        self.service_name = service.metadata.name
        self.secret_name = secret.metadata.name
        self.register_outputs({
            "namespace": self.namespace,
            "service_name": self.service_name,
            "secret_name": self.secret_name,
        })

