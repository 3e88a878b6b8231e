"""`Edge`: Kong as the Gateway API implementation, TLS by cert-manager, redirect, rate limit."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from . import edge_manifests as m
from .kube import KubeObject


@dataclass
class EdgeArgs:
    spec: m.EdgeSpec
    """What to build (edge config and the app it fronts)."""
    app: pulumi.Resource
    """The app tier; routes, plugin and upstream policy live in its namespace."""


class Edge(pulumi.ComponentResource):
    """Gateway, routes and certificates in front of the app tier."""

    url: pulumi.Output[str]

    def __init__(self, name: str, args: EdgeArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("langgraph:platform:Edge", name, None, opts)
        spec, edge = args.spec, args.spec.edge

        ns = KubeObject(f"{name}-namespace", m.namespace(spec), pulumi.ResourceOptions(parent=self))
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[ns])
        KubeObject(f"{name}-default-deny", m.default_deny(spec), in_ns)
        KubeObject(f"{name}-kong-netpol", m.kong_network_policy(spec), in_ns)
        if edge.tls.mode == "acme":
            KubeObject(f"{name}-acme-solver-netpol", m.acme_solver_network_policy(spec), in_ns)
        controllers: list[pulumi.Resource] = [ns]
        if edge.install_gateway_api_crds:
            controllers.append(k8s.yaml.v2.ConfigFile(
                f"{name}-gateway-api-crds",
                file=m.GATEWAY_API_CRDS_URL.format(version=edge.gateway_api_version),
                opts=pulumi.ResourceOptions(parent=self),
            ))
        if edge.install_cert_manager:
            controllers.append(self._release(
                f"{name}-cert-manager", "cert-manager", "https://charts.jetstack.io", edge.cert_manager_chart_version,
                "cert-manager", m.cert_manager_values(spec), create_namespace=True, depends_on=controllers[1:],
            ))
        controllers.append(self._release(
            f"{name}-kong", "kong", "https://charts.konghq.com", edge.kong_chart_version,
            edge.namespace, m.kong_values(spec), depends_on=list(controllers),
        ))

        after_controllers = pulumi.ResourceOptions(parent=self, depends_on=controllers)
        KubeObject(f"{name}-gateway-class", m.gateway_class(spec), after_controllers)
        KubeObject(f"{name}-issuer", m.issuer(spec), after_controllers)
        KubeObject(f"{name}-certificate", m.certificate(spec), after_controllers)
        gateway = KubeObject(f"{name}-gateway", m.gateway(spec), after_controllers)

        in_app = pulumi.ResourceOptions(parent=self, depends_on=[*controllers, gateway, args.app])
        KubeObject(f"{name}-rate-limit", m.rate_limit_plugin(spec), in_app)
        KubeObject(f"{name}-upstream-policy", m.upstream_policy(spec), in_app)
        KubeObject(f"{name}-https-redirect", m.redirect_route(spec), in_app)
        KubeObject(f"{name}-route", m.app_route(spec), in_app)

        self.url = pulumi.Output.from_input(f"https://{edge.hostname}")
        self.register_outputs({"url": self.url})

    def _release(self, name: str, chart: str, repo: str, version: str, namespace: str, values: dict,
                 *, depends_on: list[pulumi.Resource], create_namespace: bool = False) -> k8s.helm.v3.Release:
        return k8s.helm.v3.Release(
            name,
            name=chart,
            chart=chart,
            version=version,
            repository_opts={"repo": repo},
            namespace=namespace,
            create_namespace=create_namespace,
            values=values,
            atomic=True,
            cleanup_on_fail=True,
            timeout=600,
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on),
        )
