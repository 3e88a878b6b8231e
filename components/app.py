"""`LangGraphApp`: the LangGraph server tier (Deployment, Service, HPA, PDB, NetworkPolicy, ...)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from . import app_manifests as m
from .kube import KubeObject, metadata_name


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

        ns = KubeObject(f"{name}-namespace", m.namespace(spec), pulumi.ResourceOptions(parent=self))
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[ns])
        KubeObject(f"{name}-sa", m.service_account(spec), in_ns)
        config = KubeObject(f"{name}-config", m.config_map(spec), in_ns)
        connections = {key: pulumi.Output.secret(value) for key, value in args.connections.items()}
        secret = KubeObject(f"{name}-connections", m.secret(spec, connections), in_ns)
        deployment = KubeObject(f"{name}-deployment", m.deployment(spec),
                                pulumi.ResourceOptions(parent=self, depends_on=[ns, config, secret]))
        service = KubeObject(f"{name}-service", m.service(spec), in_ns)
        after_deployment = pulumi.ResourceOptions(parent=self, depends_on=[deployment])
        KubeObject(f"{name}-hpa", m.hpa(spec), after_deployment)
        KubeObject(f"{name}-pdb", m.pdb(spec), after_deployment)
        KubeObject(f"{name}-default-deny", m.default_deny(spec), in_ns)
        KubeObject(f"{name}-netpol", m.network_policy(spec), in_ns)

        self.namespace = metadata_name(ns)
        self.service_name = metadata_name(service)
        self.secret_name = metadata_name(secret)
        self.register_outputs({
            "namespace": self.namespace,
            "service_name": self.service_name,
            "secret_name": self.secret_name,
        })
