"""`RedisSentinel`: Valkey (Redis) master + replicas + Sentinels behind HAProxy, the stable endpoint the
LangGraph server's REDIS_URI points at (it cannot speak Sentinel); or ElastiCache (`elasticache.py`).

Both expose `url` (secret), `sentinels` and `master_name` (for Sentinel-aware clients; empty on
ElastiCache), and `endpoints` (where clients connect, for their NetworkPolicy egress).
"""

from __future__ import annotations

import pulumi

from components.connections import Endpoint
from components.kube import KubeObject
from components.namespace import ComputeResources, Workload, combined
from components.random_tls_postgresql import random_password

from . import manifests
from .sentinel_config import REDIS_PORT, SENTINEL_PORT, RedisSentinelSpec


def workloads(spec: RedisSentinelSpec) -> tuple[Workload, ...]:
    """The group's pods, for its namespace's quota (a Redis pod is the server plus its exporter)."""
    def pod(*resources) -> ComputeResources:
        return combined(*(ComputeResources(r.cpu_request, r.memory, r.cpu_limit, r.memory) for r in resources))

    return (Workload("redis", pod(spec.redis_resources, spec.exporter_resources), max_pods=spec.redis_pods),
            Workload("sentinel", pod(spec.sentinel_resources, spec.exporter_resources), max_pods=spec.sentinels),
            Workload("haproxy", pod(spec.haproxy_resources), max_pods=spec.haproxy_replicas, max_surge=1))


class RedisSentinel(pulumi.ComponentResource):
    url: pulumi.Output[str]
    password: pulumi.Output[str]
    sentinels: list[str]
    master_name: str
    endpoints: tuple[Endpoint, ...]

    def __init__(self, name: str, spec: RedisSentinelSpec, depends_on: list[pulumi.Resource],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("langgraph:platform:RedisSentinel", name, None, opts)
        # Letters and digits only: the password goes verbatim into config lines and HAProxy's AUTH check.
        password = random_password(f"{name}-password", 32, pulumi.ResourceOptions(parent=self))
        secret = KubeObject(f"{name}-password", {
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": spec.password_secret, "namespace": spec.namespace, "labels": dict(spec.labels)},
            "stringData": {spec.password_key: password.result},
        }, pulumi.ResourceOptions(parent=self, depends_on=depends_on))
        ready = pulumi.ResourceOptions(parent=self, depends_on=[*depends_on, secret])
        for obj in manifests.objects(spec):
            KubeObject(f"{name}-{obj['kind'].lower()}-{obj['metadata']['name']}", obj, ready)
        self.password = password.result
        master = spec.master_endpoint()
        self.url = pulumi.Output.secret(pulumi.Output.format("redis://:{0}@{1}:{2}/0", password.result,
                                                             master.host, master.port))
        self.sentinels = [str(endpoint) for endpoint in spec.sentinel_endpoints()]
        self.master_name = spec.master_name
        self.endpoints = (
            Endpoint("redis", (REDIS_PORT,), namespace=spec.namespace, pod_labels=manifests.selector(spec, "haproxy")),
            Endpoint("redis-sentinel", (SENTINEL_PORT,), namespace=spec.namespace,
                     pod_labels=manifests.selector(spec, "sentinel")),
        )
        self.register_outputs({"sentinels": self.sentinels, "master_name": self.master_name})
