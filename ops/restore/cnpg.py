"""CloudNativePG: a scratch Cluster bootstrapped from the source's Barman Cloud object store.

The scratch Cluster names the store only as a recovery source (`externalClusters[].plugin`), never
as its WAL archiver: archiving the promoted copy under the source's server name would mix a
foreign timeline into the production archive. It keeps the source's image (the same major
version), parameters (a recovering server needs max_connections and friends at least as high),
storage size, service account template (IRSA for the store) and the application owner's Secret
(so that the source's credentials open the copy).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

from ..kube import CNPG_GROUP, CNPG_VERSION, TIMEOUT_SECONDS, ApiException, Kube
from .labels import DRILL_LABELS

BARMAN_PLUGIN = "barman-cloud.cloudnative-pg.io"
HEALTHY_PHASE = "Cluster in healthy state"
_SERVER_FIELDS = ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields", "annotations",
                  "ownerReferences", "selfLink")


def scratch_cluster(source: dict[str, Any], name: str, target_time: str | None = None) -> dict[str, Any]:
    """The scratch Cluster that recovers `source` (a Cluster as the API returns it) from its object store."""
    spec, source_name = source["spec"], source["metadata"]["name"]
    plugin = next((p for p in spec.get("plugins", []) if p.get("name") == BARMAN_PLUGIN), None)
    if plugin is None or "barmanObjectName" not in plugin.get("parameters", {}):
        raise ValueError(f"Cluster {source_name} does not back up through the {BARMAN_PLUGIN} plugin")
    parameters = plugin["parameters"]
    initdb = spec.get("bootstrap", {}).get("initdb", {})
    recovery: dict[str, Any] = {"source": "origin"}
    recovery.update({key: initdb[key] for key in ("database", "owner", "secret") if key in initdb})
    if target_time:
        recovery["recoveryTarget"] = {"targetTime": target_time}
    scratch_spec: dict[str, Any] = {
        "instances": 1,
        "imageName": spec["imageName"],
        "storage": copy.deepcopy(spec["storage"]),
        "postgresql": {"parameters": dict(spec.get("postgresql", {}).get("parameters", {}))},
        "bootstrap": {"recovery": recovery},
        "externalClusters": [{"name": "origin", "plugin": {"name": BARMAN_PLUGIN, "parameters": {
            "barmanObjectName": parameters["barmanObjectName"],
            "serverName": parameters.get("serverName", source_name)}}}],
    }
    for key in ("resources", "serviceAccountTemplate"):
        if key in spec:
            scratch_spec[key] = copy.deepcopy(spec[key])
    return {"apiVersion": f"{CNPG_GROUP}/{CNPG_VERSION}", "kind": "Cluster",
            "metadata": {"name": name, "namespace": source["metadata"]["namespace"],
                         "labels": {**DRILL_LABELS, "langgraph.dev/restore-drill-of": source_name}},
            "spec": scratch_spec}


def _swap(value: Any, old: str, new: str) -> Any:
    """`value` with every `cnpg.io/cluster: old` selector made `new`."""
    if isinstance(value, dict):
        return {k: (new if k == "cnpg.io/cluster" and v == old else _swap(v, old, new)) for k, v in value.items()}
    if isinstance(value, list):
        return [_swap(item, old, new) for item in value]
    return value


def scratch_network_policy(source_policy: dict[str, Any], source_name: str, name: str,
                           drill_namespace: str) -> dict[str, Any]:
    """The source instances' NetworkPolicy for the scratch instances (same store, DNS and API egress),
    also admitting the drill's pods, which connect to the copy directly."""
    policy = _swap(copy.deepcopy(source_policy), source_name, name)
    metadata = {k: v for k, v in policy["metadata"].items() if k not in _SERVER_FIELDS}
    policy["metadata"] = {**metadata, "name": f"{name}-instances",
                          "labels": {**metadata.get("labels", {}), **DRILL_LABELS}}
    policy["spec"].setdefault("ingress", []).append({
        "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": drill_namespace}},
                  "podSelector": {"matchLabels": dict(DRILL_LABELS)}}],
        "ports": [{"protocol": "TCP", "port": 5432}]})
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": policy["metadata"],
            "spec": policy["spec"]}


class CnpgRestore:
    """Create the scratch Cluster (and its NetworkPolicy), wait until it is ready, delete both."""

    def __init__(self, kube: Kube, namespace: str, source_name: str, scratch_name: str, drill_namespace: str,
                 target_time: str | None = None):
        self.kube, self.namespace, self.source_name, self.name = kube, namespace, source_name, scratch_name
        self.drill_namespace, self.target_time = drill_namespace, target_time
        self.created: list[str] = []

    def create(self) -> None:
        source = self.kube.cnpg_cluster(self.namespace, self.source_name)
        try:
            policy = self.kube.networking.read_namespaced_network_policy(
                f"{self.source_name}-instances", self.namespace, _request_timeout=TIMEOUT_SECONDS)
        except ApiException as error:
            if error.status != 404:
                raise
            policy = None
        if policy is not None:
            body = scratch_network_policy(self.kube.api_client.sanitize_for_serialization(policy), self.source_name,
                                          self.name, self.drill_namespace)
            self.kube.networking.create_namespaced_network_policy(self.namespace, body,
                                                                  _request_timeout=TIMEOUT_SECONDS)
            self.created.append(f"NetworkPolicy {body['metadata']['name']}")
        self.kube.custom.create_namespaced_custom_object(
            CNPG_GROUP, CNPG_VERSION, self.namespace, "clusters", scratch_cluster(source, self.name, self.target_time),
            _request_timeout=TIMEOUT_SECONDS)
        self.created.append(f"Cluster {self.name}")

    def wait_ready(self, timeout: float, poll: float, tick: Callable[[str], None] = lambda phase: None) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.kube.cnpg_cluster(self.namespace, self.name).get("status", {})
            phase = status.get("phase", "pending")
            if phase == HEALTHY_PHASE and status.get("readyInstances", 0) >= 1:
                return
            tick(phase)
            time.sleep(poll)
        raise TimeoutError(f"Cluster {self.name} not ready within {timeout:g} s")

    @property
    def host(self) -> str:
        """The read/write Service CloudNativePG creates for the copy."""
        return f"{self.name}-rw.{self.namespace}.svc:5432"

    def teardown(self) -> list[str]:
        removed = []
        for kind, name in (entry.split(" ", 1) for entry in reversed(self.created)):
            try:
                if kind == "Cluster":
                    self.kube.custom.delete_namespaced_custom_object(CNPG_GROUP, CNPG_VERSION, self.namespace,
                                                                     "clusters", name, _request_timeout=TIMEOUT_SECONDS)
                else:
                    self.kube.networking.delete_namespaced_network_policy(name, self.namespace,
                                                                          _request_timeout=TIMEOUT_SECONDS)
            except ApiException as error:
                if error.status != 404:
                    raise
            removed.append(f"{kind} {name}")
        self.created.clear()
        return removed
