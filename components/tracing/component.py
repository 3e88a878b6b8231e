"""`Tracing`: Jaeger v2 (pinned chart), in memory in dev and on the logging cluster's Elasticsearch in prod."""

from __future__ import annotations

import pulumi

from .. import helm
from ..connections import Endpoint
from ..kube import KubeObject
from ..logging import ElasticsearchAccess
from ..namespace import POD_SECURITY_VERSION, Tier, Workload, register_namespace
from ..pins import CHARTS
from . import jaeger_manifests as m


class Tracing(pulumi.ComponentResource):
    """Jaeger v2 receiving OTLP from the app namespace."""

    url: pulumi.Output[str]
    """The Jaeger UI, in-cluster."""
    endpoints: tuple[Endpoint, ...]
    """OTLP gRPC/HTTP, where the app's egress must reach."""
    app_env: dict[str, str]
    """OTEL_* settings for the app's (and the workers') environment."""

    def __init__(self, name: str, spec: m.TracingSpec, elasticsearch: ElasticsearchAccess | None = None,
                 opts: pulumi.ResourceOptions | None = None, pod_security_version: str = POD_SECURITY_VERSION):
        super().__init__("langgraph:platform:Tracing", name, None, opts)
        if (spec.storage == "elasticsearch") != (elasticsearch is not None):
            raise ValueError("Tracing: storage elasticsearch needs the logging cluster's access, and only it does")
        tier = Tier(spec.namespace, m.LABELS,
                    (Workload("jaeger", m.JAEGER, max_pods=spec.replicas, max_surge=m.max_surge(spec)),),
                    pod_security_version=pod_security_version)
        ns = register_namespace(name, tier, self)
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[ns])
        ready: list[pulumi.Resource] = [ns, KubeObject(f"{name}-netpol", m.network_policy(spec), in_ns)]
        if elasticsearch is not None:
            secret, ca = m.secret_and_ca(spec, elasticsearch.password, elasticsearch.ca_certificate)
            ready += [KubeObject(f"{name}-es-password", secret, in_ns), KubeObject(f"{name}-es-ca", ca, in_ns)]
            config = m.rendered_config(spec, elasticsearch.url, elasticsearch.username)
        else:
            config = m.rendered_config(spec)
        helm.release(f"{name}-jaeger", CHARTS["jaeger"], spec.namespace, m.values(spec, config),
                     pulumi.ResourceOptions(parent=self, depends_on=ready))

        self.url = pulumi.Output.from_input(spec.ui_url)
        self.app_env = m.app_env(spec)
        self.endpoints = (Endpoint("tracing", (m.PORTS.otlp_grpc, m.PORTS.otlp_http), namespace=spec.namespace,
                                   pod_labels=m.POD_LABELS),)
        self.register_outputs({"url": self.url})
