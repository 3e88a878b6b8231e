"""NetworkPolicy pieces shared by the app tier and the edge (plain objects, like the builders)."""

from __future__ import annotations


def tcp(*ports: int) -> list[dict]:
    return [{"protocol": "TCP", "port": port} for port in ports]


def namespace_peer(name: str) -> dict:
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}


def dns_egress() -> dict:
    """Egress to the cluster DNS (kube-dns / CoreDNS in kube-system) over UDP and TCP."""
    return {
        "to": [{**namespace_peer("kube-system"), "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
    }


def network_policy(name: str, namespace: str, labels: dict[str, str], spec: dict) -> dict:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": spec,
    }


def default_deny(namespace: str, labels: dict[str, str]) -> dict:
    """Denies all traffic to and from every pod of `namespace`; other policies open what is needed."""
    return network_policy("default-deny", namespace, labels, {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
