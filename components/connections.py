"""Connections between tiers (the CDK "Connections" idea): a tier declares the endpoints it accepts
connections on (port and peer), and a client's NetworkPolicy egress is built from those
declarations instead of from port lists of its own.

An endpoint is either inside the cluster (pods of a namespace, selected by labels) or outside it
(a CIDR, e.g. RDS, ElastiCache or VPC interface endpoints inside the VPC).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import netpol


@dataclass(frozen=True)
class Endpoint:
    """Where one tier accepts connections."""

    name: str
    """What it is (postgres, redis, object-store, aws-endpoints, ...)."""
    ports: tuple[int, ...]
    namespace: str | None = None
    """In-cluster: the namespace of the accepting pods."""
    pod_labels: dict[str, str] = field(default_factory=dict)
    """In-cluster: labels selecting the accepting pods (empty: every pod of the namespace)."""
    cidr: str | None = None
    """Outside the cluster: the network the service lives in."""

    def __post_init__(self) -> None:
        if (self.namespace is None) == (self.cidr is None):
            raise ValueError(f"endpoint {self.name}: give exactly one of namespace or cidr")
        if not self.ports:
            raise ValueError(f"endpoint {self.name}: no ports")

    def egress_rule(self) -> dict:
        """The NetworkPolicy egress rule a client needs to reach this endpoint."""
        if self.cidr is not None:
            peer = {"ipBlock": {"cidr": self.cidr}}
        else:
            peer = netpol.namespace_peer(self.namespace)
            if self.pod_labels:
                peer["podSelector"] = {"matchLabels": dict(self.pod_labels)}
        return {"to": [peer], "ports": netpol.tcp(*self.ports)}


def egress_rules(endpoints: list[Endpoint] | tuple[Endpoint, ...]) -> list[dict]:
    """Egress rules for `endpoints`, one per endpoint, in a stable order."""
    return [endpoint.egress_rule() for endpoint in sorted(endpoints, key=lambda e: e.name)]
