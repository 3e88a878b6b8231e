"""`Edge`: Kong as the Gateway API implementation, TLS by cert-manager, redirect, rate limit."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from . import edge_manifests as m
from .helm import ConfigFile, release
from .kube import KubeObject, load_balancer_address
from .namespace import register_namespace
from .pins import BUNDLES, CHARTS


@dataclass
class EdgeArgs:
    spec: m.EdgeSpec
    """What to build (edge config and the app it fronts)."""
    app: pulumi.Resource
    """The app tier; routes, plugin and upstream policy live in its namespace."""
    cert_manager: pulumi.Resource | None
    """cert-manager, when the stack installs it (else the cluster runs it already)."""


class Edge(pulumi.ComponentResource):
    """Gateway, routes and certificates in front of the app tier."""

    url: pulumi.Output[str]
    load_balancer_hostname: pulumi.Output[str | None] | None

    def __init__(self, name: str, args: EdgeArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("langgraph:platform:Edge", name, None, opts)
        spec, edge = args.spec, args.spec.edge

        # `name` as the prefix keeps the names (and URNs) the namespace and its default-deny had.
        ns = register_namespace(name, m.kong_tier(spec), self)
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[ns])
        # Charts install after the policies their pods need, not just after default-deny.
        kong_ready: list[pulumi.Resource] = [ns, KubeObject(f"{name}-kong-netpol", m.kong_network_policy(spec), in_ns)]
        if edge.tls.mode == "acme":
            KubeObject(f"{name}-acme-solver-netpol", m.acme_solver_network_policy(spec), in_ns)
        controllers = [r for r in (args.cert_manager,) if r is not None]
        if edge.install_gateway_api_crds:
            controllers.append(ConfigFile(f"{name}-gateway-api-crds", BUNDLES["gateway-api-crds"].url,
                                          pulumi.ResourceOptions(parent=self)))
        kong = release(f"{name}-kong", CHARTS["kong"], edge.namespace, m.kong_values(spec),
                       pulumi.ResourceOptions(parent=self, depends_on=[*kong_ready, *controllers]))
        controllers.append(kong)
        # The load balancer's DNS name, to point the host name at: read from the chart's proxy Service.
        self.load_balancer_hostname = None
        if edge.service_type == "LoadBalancer":
            proxy = KubeObject.get(f"{name}-kong-proxy", "v1", "Service", f"{edge.namespace}/{m.KONG_PROXY_SERVICE}",
                                   pulumi.ResourceOptions(parent=self, depends_on=[kong]))
            self.load_balancer_hostname = load_balancer_address(proxy)

        after_controllers = pulumi.ResourceOptions(parent=self, depends_on=controllers)
        KubeObject(f"{name}-gateway-class", m.gateway_class(spec), after_controllers)
        KubeObject(f"{name}-issuer", m.issuer(spec), after_controllers)
        KubeObject(f"{name}-certificate", m.certificate(spec), after_controllers)
        gateway = KubeObject(f"{name}-gateway", m.gateway(spec), after_controllers)

        in_app = pulumi.ResourceOptions(parent=self, depends_on=[*controllers, gateway, args.app])
        KubeObject(f"{name}-rate-limit", m.rate_limit_plugin(spec), in_app)
        KubeObject(f"{name}-upstream-policy", m.upstream_policy(spec), in_app)
        KubeObject(f"{name}-https-redirect", m.redirect_route(spec), in_app)
        if not spec.canary:
            KubeObject(f"{name}-route", m.app_route(spec), in_app)

        self.url = pulumi.Output.from_input(f"https://{edge.hostname}")
        self.register_outputs({"url": self.url})
