"""`CertManager`: cert-manager (pinned chart) in a namespace of our own: Pod Security restricted,
default-deny, a quota, and exactly the NetworkPolicies it needs. The edge issues its certificates
with it, and the Barman Cloud plugin (PostgreSQL backups) its mutual-TLS certificates."""

from __future__ import annotations

import pulumi

from . import edge_manifests as m
from .helm import release
from .kube import KubeObject
from .namespace import register_namespace
from .pins import CHARTS


class CertManager(pulumi.ComponentResource):
    """`ready` is what issuers and certificates must wait for."""

    ready: pulumi.Resource

    def __init__(self, name: str, spec: m.EdgeSpec, depends_on: list[pulumi.Resource],
                 previous: pulumi.Alias | None = None, opts: pulumi.ResourceOptions | None = None):
        super().__init__("langgraph:platform:CertManager", name, None, opts)
        ns = register_namespace(name, m.cert_manager_tier(spec), self)
        inside = pulumi.ResourceOptions(parent=self, depends_on=[ns])
        policies = [KubeObject(f"{name}-{policy['metadata']['name']}-netpol", policy, inside)
                    for policy in m.cert_manager_network_policies(spec)]
        # `previous`: where the release was before cert-manager became a component of its own (the edge's child).
        self.ready = release(f"{name}-release", CHARTS["cert-manager"], m.CERT_MANAGER_NAMESPACE, m.cert_manager_values(spec),
                             pulumi.ResourceOptions(parent=self, depends_on=[ns, *policies, *depends_on],
                                                    aliases=[previous] if previous else None))
        self.register_outputs({})
