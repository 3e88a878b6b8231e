"""NetworkPolicy pieces shared by the tiers (plain objects, like the builders).

Kubernetes reads an empty peer list (`from: []`, `to: []`) or an empty `ports: []` as "every
source / destination / port", the opposite of what an empty list of allowed peers looks like.
`network_policy` therefore refuses any rule holding an empty list: a rule open to everything
must say so by leaving the key out.
"""

from __future__ import annotations

from collections.abc import Iterable

# Where a pod reaches the Kubernetes API: the `kubernetes` Service's port, and the API server's
# own port, which is what NetworkPolicy sees after the Service address is translated.
API_SERVER_PORTS = (443, 6443)


def tcp(*ports: int) -> list[dict]:
    return [{"protocol": "TCP", "port": port} for port in ports]


def namespace_peer(name: str) -> dict:
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}


def ip_peers(cidrs: Iterable[str]) -> list[dict]:
    """One ipBlock peer per CIDR; refuses none, which would render an empty (allow-all) peer list."""
    peers = [{"ipBlock": {"cidr": cidr}} for cidr in cidrs]
    if not peers:
        raise ValueError("no CIDRs given for a NetworkPolicy peer list; an empty list would admit every address")
    return peers


def dns_egress() -> dict:
    """Egress to the cluster DNS (kube-dns / CoreDNS in kube-system) over UDP and TCP."""
    return {
        "to": [{**namespace_peer("kube-system"), "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
    }


def api_server_egress(cidrs: Iterable[str]) -> dict:
    """Egress to the Kubernetes API server at `cidrs`."""
    return {"to": ip_peers(cidrs), "ports": tcp(*API_SERVER_PORTS)}


def _check_rules(name: str, namespace: str, spec: dict) -> None:
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        for index, rule in enumerate(spec.get(direction, [])):
            for key in (peers_key, "ports"):
                if key in rule and not rule[key]:
                    raise ValueError(
                        f"NetworkPolicy {namespace}/{name}: {direction}[{index}].{key} is an empty list, which "
                        f"Kubernetes reads as every {'port' if key == 'ports' else 'peer'}; leave the key out to "
                        "mean that, or name at least one")


def network_policy(name: str, namespace: str, labels: dict[str, str], spec: dict) -> dict:
    """A NetworkPolicy; raises ValueError if a rule holds an empty `from`, `to` or `ports` list."""
    _check_rules(name, namespace, spec)
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": spec,
    }


def default_deny(namespace: str, labels: dict[str, str]) -> dict:
    """Denies all traffic to and from every pod of `namespace`; other policies open what is needed."""
    return network_policy("default-deny", namespace, labels, {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
