"""Pure builders of the log store: the ECK operator's values, Elasticsearch, Kibana, their users
and roles, the setup Job (ILM policy + index template), Fluent Bit's values and every
NetworkPolicy of the three namespaces.

Field names follow the pinned releases (`components/pins.py`): ECK 3.5.0's
`elasticsearch.k8s.elastic.co/v1` and `kibana.k8s.elastic.co/v1`, the eck-operator and
fluent/fluent-bit 0.58.1 charts' values.

Namespaces and Pod Security:
- `elastic-system` (the operator) and `logging` (Elasticsearch, Kibana, the setup Job) are
  `restricted`: at 3.5.0 the operator chart runs non-root without capabilities, and ECK gives
  Elasticsearch (>= 8.8) and Kibana pods a RuntimeDefault seccomp profile, no privilege escalation
  and no capabilities; what `restricted` also wants (runAsNonRoot on Kibana, seccomp on the
  operator) is set here.
- Fluent Bit's namespace is `privileged`: it mounts the node's /var/log (hostPath), which both
  `baseline` and `restricted` forbid. The pod itself is not privileged: no capabilities, no
  privilege escalation, read-only root and read-only logs; it runs as uid 0 only because kubelet
  writes the log files root-owned with mode 0640.

TLS: the operator signs every Elasticsearch/Kibana certificate (HTTP and transport) with one CA
that the program creates (ECK's `ca-dir`), instead of a self-signed CA per cluster that nobody
outside the `logging` namespace can see. Clients in other namespaces get its public certificate
as a ConfigMap, and ECK keeps rotating the leaf certificates by itself.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from stackconfig.quantity import parse_quantity

from .. import netpol
from ..namespace import ComputeResources
from ..pins import IMAGES
from . import index_template
from .fluent_bit_config import FluentBitPipeline, pipeline_config

ES_NAME = KIBANA_NAME = "langgraph"
ES_HTTP_PORT, ES_TRANSPORT_PORT, KIBANA_PORT, FLUENT_BIT_METRICS_PORT = 9200, 9300, 5601, 2020
OPERATOR_WEBHOOK_PORT = 9443
LABELS = {"app.kubernetes.io/part-of": "langgraph-platform", "app.kubernetes.io/component": "logging"}
ES_POD_LABELS = {"elasticsearch.k8s.elastic.co/cluster-name": ES_NAME}
KIBANA_POD_LABELS = {"kibana.k8s.elastic.co/name": KIBANA_NAME}
OPERATOR_POD_LABELS = {"app.kubernetes.io/name": "elastic-operator"}
FLUENT_BIT_POD_LABELS = {"app.kubernetes.io/name": "fluent-bit"}
SETUP_POD_LABELS = {"app.kubernetes.io/name": "elasticsearch-setup"}

# The global CA: a Secret in the operator's namespace, mounted where `config.caDir` points.
GLOBAL_CA_SECRET, GLOBAL_CA_DIR = "eck-global-ca", "/etc/eck/ca"
# Its public certificate, as a ConfigMap in every namespace whose pods call Elasticsearch.
CA_CONFIGMAP, CA_KEY = "elasticsearch-ca", "ca.crt"
# ECK's names for what it creates from ES_NAME/KIBANA_NAME.
ES_SERVICE, KIBANA_SERVICE = f"{ES_NAME}-es-http", f"{KIBANA_NAME}-kb-http"
ELASTIC_USER_SECRET = f"{ES_NAME}-es-elastic-user"
ROLES_SECRET = "elasticsearch-roles"
FLUENT_BIT_USER, FLUENT_BIT_ROLE = "fluent-bit", "langgraph_logs_writer"
JAEGER_USER, JAEGER_ROLE = "jaeger", "jaeger_writer"
FLUENT_BIT_PASSWORD_SECRET, PASSWORD_ENV = "fluent-bit-elasticsearch", "ELASTICSEARCH_PASSWORD"
FLUENT_BIT_CA_MOUNT = "/fluent-bit/etc/elasticsearch-ca"
SETUP_CONFIGMAP = "elasticsearch-setup"

# Sizes that the config does not set. Elasticsearch's memory comes from the config (heap = half).
ES_CPU_REQUEST, ES_CPU_LIMIT = "500m", "2"
KIBANA = ComputeResources(cpu_request="200m", memory_request="1Gi", cpu_limit="1", memory_limit="1Gi")
OPERATOR = ComputeResources(cpu_request="100m", memory_request="150Mi", cpu_limit="1", memory_limit="1Gi")
FLUENT_BIT = ComputeResources(cpu_request="50m", memory_request="64Mi", cpu_limit="500m", memory_limit="256Mi")
SETUP = ComputeResources(cpu_request="50m", memory_request="32Mi", cpu_limit="200m", memory_limit="64Mi")
# curl needs no passwd entry, home or writable path: a high UID keeps clear of host UIDs.
CURL_UID = 10100


@dataclass(frozen=True)
class LoggingSpec:
    """What the lead fills from the `logging` config section and the cluster settings."""

    app_namespace: str
    """Whose container logs are shipped."""
    elasticsearch_nodes: int
    storage_size: str
    memory: str
    """Per Elasticsearch node; the JVM heap is half of it."""
    retention_days: int
    api_server_cidrs: tuple[str, ...]
    monitoring_namespace: str
    """Grafana reads Elasticsearch from here; Prometheus scrapes Fluent Bit from here."""
    tracing_namespace: str | None = None
    """Jaeger's namespace when it stores traces in this cluster (a `jaeger` user is made for it)."""
    namespace: str = "logging"
    agent_namespace: str = "logging-agents"
    operator_namespace: str = "elastic-system"
    storage_class: str | None = None
    """None: the cluster's default StorageClass."""
    image_pull_policy: str = "IfNotPresent"
    max_nodes: int = 100
    """Most Kubernetes nodes the cluster runs: Fluent Bit runs one pod on each (sizes its quota)."""

    def __post_init__(self) -> None:
        if self.elasticsearch_nodes < 1:
            raise ValueError(f"elasticsearch_nodes must be >= 1, not {self.elasticsearch_nodes}")
        if len({self.namespace, self.agent_namespace, self.operator_namespace}) != 3:
            raise ValueError("the logging, agent and operator namespaces must differ (different Pod Security levels)")
        if not self.api_server_cidrs:
            raise ValueError("api_server_cidrs is empty: the operator and Fluent Bit must reach the API server")

    @property
    def replicas(self) -> int:
        """Replicas of each index: one where a second node can hold it, none on a single node."""
        return min(1, self.elasticsearch_nodes - 1)

    @property
    def es_host(self) -> str:
        return f"{ES_SERVICE}.{self.namespace}.svc"

    @property
    def es_url(self) -> str:
        return f"https://{self.es_host}:{ES_HTTP_PORT}"

    @property
    def kibana_url(self) -> str:
        return f"https://{KIBANA_SERVICE}.{self.namespace}.svc:{KIBANA_PORT}"


def heap_megabytes(memory: str) -> int:
    """Half the container's memory, in MiB (the JVM's -Xms/-Xmx)."""
    return math.floor(parse_quantity(memory) / 2 / 2**20)


def es_resources(spec: LoggingSpec) -> ComputeResources:
    # Memory request = limit: Elasticsearch sizes itself by it and must not be the first evicted.
    return ComputeResources(cpu_request=ES_CPU_REQUEST, memory_request=spec.memory,
                            cpu_limit=ES_CPU_LIMIT, memory_limit=spec.memory)


def _restricted_pod(uid: int | None = None) -> dict:
    context: dict = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
    if uid is not None:
        context |= {"runAsUser": uid, "runAsGroup": uid, "fsGroup": uid}
    return context


RESTRICTED_CONTAINER = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                        "readOnlyRootFilesystem": True, "runAsNonRoot": True}


# --- the operator -----------------------------------------------------------------------------

def operator_values(ca_checksum: str) -> dict:
    """eck-operator chart values: our CA as the operator's global CA, and restricted pods.

    `ca_checksum` restarts the operator when the CA changes: it reads `caDir` only at start."""
    return {
        "resources": OPERATOR.as_resources(),
        "podSecurityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "podAnnotations": {"checksum/global-ca": ca_checksum},
        "config": {"caDir": GLOBAL_CA_DIR},
        "volumes": [{"name": "global-ca", "secret": {"secretName": GLOBAL_CA_SECRET}}],
        "volumeMounts": [{"name": "global-ca", "mountPath": GLOBAL_CA_DIR, "readOnly": True}],
        # Basic license: ECK runs the free tier unless an enterprise license Secret is added; no trial.
        "telemetry": {"disabled": True},
    }


# --- Elasticsearch and Kibana -----------------------------------------------------------------

def elasticsearch(spec: LoggingSpec) -> dict:
    """The cluster: `elasticsearch_nodes` nodes of every role, file-realm users for the clients."""
    heap = heap_megabytes(spec.memory)
    volume_claim: dict = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": spec.storage_size}}}
    if spec.storage_class:
        volume_claim["storageClassName"] = spec.storage_class
    users = [{"secretName": user_secret_name(FLUENT_BIT_USER)}]
    if spec.tracing_namespace:
        users.append({"secretName": user_secret_name(JAEGER_USER)})
    return {
        "apiVersion": "elasticsearch.k8s.elastic.co/v1",
        "kind": "Elasticsearch",
        "metadata": {"name": ES_NAME, "namespace": spec.namespace, "labels": LABELS},
        "spec": {
            "version": IMAGES["elasticsearch"].tag,
            "auth": {"fileRealm": users, "roles": [{"secretName": ROLES_SECRET}]},
            "nodeSets": [{
                "name": "default",
                "count": spec.elasticsearch_nodes,
                "config": {
                    # No mmap, so no vm.max_map_count sysctl: that needs a privileged init container,
                    # which `restricted` forbids. Costs some search speed, nothing at this volume.
                    "node.store.allow_mmap": False,
                    # Egress is denied: the GeoIP downloader could only fail and log.
                    "ingest.geoip.downloader.enabled": False,
                },
                "podTemplate": {
                    "metadata": {"labels": LABELS},
                    "spec": {
                        # ECK's own default (fsGroup 1000, RuntimeDefault) plus runAsNonRoot, which
                        # `restricted` wants at the pod level for ECK's init containers too.
                        "securityContext": {"fsGroup": 1000, **_restricted_pod()},
                        "containers": [{
                            "name": "elasticsearch",
                            "resources": es_resources(spec).as_resources(),
                            "env": [{"name": "ES_JAVA_OPTS", "value": f"-Xms{heap}m -Xmx{heap}m"}],
                        }],
                    },
                },
                "volumeClaimTemplates": [{"metadata": {"name": "elasticsearch-data"}, "spec": volume_claim}],
            }],
        },
    }


def kibana(spec: LoggingSpec) -> dict:
    """Kibana, two instances once Elasticsearch itself is replicated."""
    return {
        "apiVersion": "kibana.k8s.elastic.co/v1",
        "kind": "Kibana",
        "metadata": {"name": KIBANA_NAME, "namespace": spec.namespace, "labels": LABELS},
        "spec": {
            "version": IMAGES["kibana"].tag,
            "count": kibana_count(spec),
            "elasticsearchRef": {"name": ES_NAME},
            "podTemplate": {
                "metadata": {"labels": LABELS},
                "spec": {
                    # ECK sets uid 1000 but not runAsNonRoot, which `restricted` requires.
                    "securityContext": {"fsGroup": 1000, **_restricted_pod()},
                    "containers": [{"name": "kibana", "resources": KIBANA.as_resources()}],
                },
            },
        },
    }


def kibana_count(spec: LoggingSpec) -> int:
    return 1 if spec.elasticsearch_nodes == 1 else 2


# --- users and roles --------------------------------------------------------------------------

def user_secret_name(user: str) -> str:
    return f"elasticsearch-user-{user}"


def roles(spec: LoggingSpec) -> dict[str, dict]:
    """Elasticsearch roles of the file-realm users: each may write its own indices, nothing else."""
    defined = {FLUENT_BIT_ROLE: {
        "cluster": ["monitor"],
        "indices": [{"names": [index_template.INDEX_PATTERN], "privileges": ["create_doc", "create_index"]}],
    }}
    if spec.tracing_namespace:
        # Jaeger creates its index templates at start (create_mappings) and reads what it wrote.
        defined[JAEGER_ROLE] = {
            "cluster": ["monitor", "manage_index_templates"],
            "indices": [{"names": ["jaeger-*"], "privileges": ["all"]}],
        }
    return defined


def roles_secret(spec: LoggingSpec) -> dict:
    # roles.yml is YAML; JSON is YAML, and needs no YAML library at run time.
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": ROLES_SECRET, "namespace": spec.namespace, "labels": LABELS},
            "stringData": {"roles.yml": json.dumps(roles(spec), indent=2, sort_keys=True)}}


def user_secret(spec: LoggingSpec, user: str, role: str, password) -> dict:
    """A file-realm user (ECK reads `kubernetes.io/basic-auth` Secrets with an optional `roles` key)."""
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/basic-auth",
            "metadata": {"name": user_secret_name(user), "namespace": spec.namespace, "labels": LABELS},
            "stringData": {"username": user, "password": password, "roles": role}}


def password_secret(name: str, namespace: str, password) -> dict:
    """A client's copy of its password, in the client's own namespace."""
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": name, "namespace": namespace, "labels": LABELS},
            "stringData": {"password": password}}


def global_ca_secret(namespace: str, certificate, private_key) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": GLOBAL_CA_SECRET, "namespace": namespace, "labels": LABELS},
            "stringData": {"ca.crt": certificate, "ca.key": private_key}}


def ca_configmap(namespace: str, certificate) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": CA_CONFIGMAP, "namespace": namespace, "labels": LABELS},
            "data": {CA_KEY: certificate}}


# --- the setup Job: ILM policy and index template ---------------------------------------------

SETUP_SCRIPT = """\
set -eu
# PUTs are idempotent: a re-run (a new Job after a change) leaves the same policy and template.
es() {
  curl --silent --show-error --fail-with-body --cacert /etc/elasticsearch-ca/ca.crt \\
    --user "elastic:${ELASTIC_PASSWORD}" --header 'Content-Type: application/json' "$@"
}
until es "${ES_URL}/_cluster/health?wait_for_status=yellow&timeout=10s" >/dev/null; do
  echo "waiting for Elasticsearch at ${ES_URL}"; sleep 5
done
es -X PUT "${ES_URL}/_ilm/policy/${POLICY}" --data @/etc/elasticsearch-setup/ilm-policy.json
echo
es -X PUT "${ES_URL}/_index_template/${TEMPLATE}" --data @/etc/elasticsearch-setup/index-template.json
echo
"""


def setup_payloads(spec: LoggingSpec) -> dict[str, str]:
    """What the Job PUTs, as the ConfigMap's files."""
    return {
        "ilm-policy.json": json.dumps(index_template.ilm_policy(spec.retention_days), indent=2, sort_keys=True),
        "index-template.json": json.dumps(index_template.index_template(spec.replicas), indent=2, sort_keys=True),
    }


def setup_configmap(spec: LoggingSpec) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": SETUP_CONFIGMAP, "namespace": spec.namespace, "labels": LABELS},
            "data": {**setup_payloads(spec), "setup.sh": SETUP_SCRIPT}}


def setup_job(spec: LoggingSpec, name: str) -> dict:
    """A Job that applies the ILM policy and the index template as the `elastic` user.

    `name` carries a hash of the payloads (the caller's): a changed policy or template is a new Job,
    which runs again; an unchanged one is left alone."""
    return {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "namespace": spec.namespace, "labels": LABELS},
        "spec": {
            "backoffLimit": 6,
            # Room for Elasticsearch's first start (image pulls, volume provisioning).
            "activeDeadlineSeconds": 1800,
            "template": {
                "metadata": {"labels": {**LABELS, **SETUP_POD_LABELS}},
                "spec": {
                    "restartPolicy": "OnFailure",
                    "automountServiceAccountToken": False,
                    "securityContext": _restricted_pod(CURL_UID),
                    "containers": [{
                        "name": "setup",
                        "image": IMAGES["curl"].ref,
                        "imagePullPolicy": spec.image_pull_policy,
                        "command": ["/bin/sh", "/etc/elasticsearch-setup/setup.sh"],
                        "env": [
                            {"name": "ES_URL", "value": spec.es_url},
                            {"name": "POLICY", "value": index_template.POLICY_NAME},
                            {"name": "TEMPLATE", "value": index_template.TEMPLATE_NAME},
                            {"name": "ELASTIC_PASSWORD", "valueFrom": {"secretKeyRef": {
                                "name": ELASTIC_USER_SECRET, "key": "elastic"}}},
                        ],
                        "resources": SETUP.as_resources(),
                        "securityContext": RESTRICTED_CONTAINER,
                        "volumeMounts": [
                            {"name": "setup", "mountPath": "/etc/elasticsearch-setup", "readOnly": True},
                            {"name": "ca", "mountPath": "/etc/elasticsearch-ca", "readOnly": True},
                        ],
                    }],
                    "volumes": [
                        {"name": "setup", "configMap": {"name": SETUP_CONFIGMAP}},
                        {"name": "ca", "configMap": {"name": CA_CONFIGMAP}},
                    ],
                },
            },
        },
    }


# --- Fluent Bit -------------------------------------------------------------------------------

def fluent_bit_pipeline(spec: LoggingSpec) -> FluentBitPipeline:
    return FluentBitPipeline(app_namespace=spec.app_namespace, es_host=spec.es_host, es_port=ES_HTTP_PORT,
                             es_user=FLUENT_BIT_USER, es_password_env=PASSWORD_ENV,
                             es_ca_file=f"{FLUENT_BIT_CA_MOUNT}/{CA_KEY}")


def fluent_bit_values(spec: LoggingSpec) -> dict:
    """fluent/fluent-bit chart values: a DaemonSet reading only what it needs from the node."""
    return {
        "kind": "DaemonSet",
        # The chart's `helm test` pod pulls busybox:latest; nothing here runs it.
        "testFramework": {"enabled": False},
        "resources": FLUENT_BIT.as_resources(),
        "podSecurityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "securityContext": {"runAsUser": 0, "runAsNonRoot": False, "privileged": False,
                            "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]}},
        # App pods may run on tainted (dedicated) nodes; their logs are still wanted.
        "tolerations": [{"operator": "Exists", "effect": "NoSchedule"}],
        "env": [{"name": PASSWORD_ENV, "valueFrom": {"secretKeyRef": {
            "name": FLUENT_BIT_PASSWORD_SECRET, "key": "password"}}}],
        # Only /var/log (kubelet's pod logs and their /var/log/containers links) and the offsets DB;
        # not the chart's /var/lib/docker/containers or /etc/machine-id, which nothing here reads.
        "daemonSetVolumes": [
            {"name": "varlog", "hostPath": {"path": "/var/log"}},
            {"name": "state", "hostPath": {"path": "/var/fluent-bit/state", "type": "DirectoryOrCreate"}},
        ],
        "daemonSetVolumeMounts": [
            {"name": "varlog", "mountPath": "/var/log", "readOnly": True},
            {"name": "state", "mountPath": "/var/fluent-bit/state"},
        ],
        "extraVolumes": [{"name": "elasticsearch-ca", "configMap": {"name": CA_CONFIGMAP}}],
        "extraVolumeMounts": [{"name": "elasticsearch-ca", "mountPath": FLUENT_BIT_CA_MOUNT, "readOnly": True}],
        "config": pipeline_config(fluent_bit_pipeline(spec)),
    }


# --- NetworkPolicies --------------------------------------------------------------------------

def _pods(labels: dict[str, str], namespace: str | None = None) -> dict:
    peer = {"podSelector": {"matchLabels": dict(labels)}}
    return {**netpol.namespace_peer(namespace), **peer} if namespace else peer


def elasticsearch_clients(spec: LoggingSpec) -> list[dict]:
    """Every peer that calls Elasticsearch's HTTP port."""
    peers = [
        _pods(KIBANA_POD_LABELS),
        _pods(SETUP_POD_LABELS),
        _pods(OPERATOR_POD_LABELS, spec.operator_namespace),
        _pods(FLUENT_BIT_POD_LABELS, spec.agent_namespace),
        netpol.namespace_peer(spec.monitoring_namespace),  # Grafana's Elasticsearch datasource
    ]
    if spec.tracing_namespace:
        peers.append(netpol.namespace_peer(spec.tracing_namespace))
    return peers


def logging_network_policies(spec: LoggingSpec) -> list[dict]:
    ns = spec.namespace
    es = netpol.network_policy("elasticsearch", ns, LABELS, {
        "podSelector": {"matchLabels": ES_POD_LABELS},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [
            {"from": elasticsearch_clients(spec), "ports": netpol.tcp(ES_HTTP_PORT)},
            {"from": [_pods(ES_POD_LABELS)], "ports": netpol.tcp(ES_TRANSPORT_PORT)},
        ],
        "egress": [netpol.dns_egress(), {"to": [_pods(ES_POD_LABELS)], "ports": netpol.tcp(ES_TRANSPORT_PORT)}],
    })
    to_es = {"to": [_pods(ES_POD_LABELS)], "ports": netpol.tcp(ES_HTTP_PORT)}
    kibana_policy = netpol.network_policy("kibana", ns, LABELS, {
        "podSelector": {"matchLabels": KIBANA_POD_LABELS},
        "policyTypes": ["Ingress", "Egress"],
        # The operator checks Kibana's health; operators reach the UI with a port-forward.
        "ingress": [{"from": [_pods(OPERATOR_POD_LABELS, spec.operator_namespace)], "ports": netpol.tcp(KIBANA_PORT)}],
        "egress": [netpol.dns_egress(), to_es],
    })
    setup = netpol.network_policy("elasticsearch-setup", ns, LABELS, {
        "podSelector": {"matchLabels": SETUP_POD_LABELS},
        "policyTypes": ["Ingress", "Egress"],
        "egress": [netpol.dns_egress(), to_es],
    })
    return [es, kibana_policy, setup]


def operator_network_policy(spec: LoggingSpec) -> dict:
    return netpol.network_policy("elastic-operator", spec.operator_namespace, LABELS, {
        "podSelector": {"matchLabels": OPERATOR_POD_LABELS},
        "policyTypes": ["Ingress", "Egress"],
        # The API server calls the validating webhook.
        "ingress": [{"from": netpol.ip_peers(spec.api_server_cidrs), "ports": netpol.tcp(OPERATOR_WEBHOOK_PORT)}],
        "egress": [
            netpol.dns_egress(),
            netpol.api_server_egress(spec.api_server_cidrs),
            {"to": [_pods(ES_POD_LABELS, spec.namespace)], "ports": netpol.tcp(ES_HTTP_PORT)},
            {"to": [_pods(KIBANA_POD_LABELS, spec.namespace)], "ports": netpol.tcp(KIBANA_PORT)},
        ],
    })


def fluent_bit_network_policy(spec: LoggingSpec) -> dict:
    return netpol.network_policy("fluent-bit", spec.agent_namespace, LABELS, {
        "podSelector": {"matchLabels": FLUENT_BIT_POD_LABELS},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"from": [netpol.namespace_peer(spec.monitoring_namespace)],
                     "ports": netpol.tcp(FLUENT_BIT_METRICS_PORT)}],
        "egress": [
            netpol.dns_egress(),
            # The Kubernetes filter reads pod metadata.
            netpol.api_server_egress(spec.api_server_cidrs),
            {"to": [_pods(ES_POD_LABELS, spec.namespace)], "ports": netpol.tcp(ES_HTTP_PORT)},
        ],
    })
