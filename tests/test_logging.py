"""The log pipeline: the reference app's real lines against the index template (both directions),
a real Fluent Bit running the rendered parser/filters/output on those lines, the ILM policy and
template bodies, and the `Logging` component's registrations for the dev and prod defaults.

Fluent Bit is 1.8.15 built from the npm registry's source (tests/engines/fluentbit.py says why and
what differs from the 5.1.1 the chart deploys). Its Elasticsearch is a local HTTPS endpoint that
records the `_bulk` requests: there is no Elasticsearch here, so the documents are checked against
the template's mapping, not indexed.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import math
import os
import ssl
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from components.logging import eck_manifests as m
from components.logging import index_template as t
from components.logging.fluent_bit_config import FluentBitPipeline, custom_parsers, standalone_config
from components.pins import CHARTS, IMAGES
from reference_app.refapp.log_fields import LOG_FIELDS
from tests.engines import fluentbit
from tests.engines.crd_sources import SOURCES
from tests.engines.crd_validate import CrdCatalog
from tests.engines.observability_program import APP_NAMESPACE, run
from tests.engines.otlp import OtlpReceiver
from tests.engines.postgres import new_server
from tests.engines.procs import free_port, start, stop_pid, wait_for
from tests.engines.reference_app import ReferenceApp
from tests.test_manifests import kubernetes_validate
from tools.mock_engine import Plan

ROOT = Path(__file__).resolve().parent.parent
JSON_TYPES = {"keyword": str, "text": str, "date": str, "float": float, "long": int, "boolean": bool}
PASSWORD = "fake-fluent-bit-password"


# --- the app's real log lines ------------------------------------------------------------------

@pytest.fixture(scope="module")
def app_lines(tmp_path_factory) -> list[str]:
    """Raw stdout lines of the reference app serving runs that succeed, fail, retry and interrupt,
    with tracing on (trace ids in the lines)."""
    work = tmp_path_factory.mktemp("refapp-logs")
    pg, otlp = new_server(), OtlpReceiver()
    app = ReferenceApp(pg.dsn(), work / "app.log", {
        "LANGGRAPH_POSTGRES_POOL_MAX_SIZE": "4", "RETRY_INITIAL_INTERVAL_SECONDS": "0.05", "RETRY_JITTER": "false",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{otlp.port}", "OTEL_BSP_SCHEDULE_DELAY": "100"})
    try:
        app.start()
        assert app.run("support_ticket", ticket="printer on fire", customer_id="c-1").status_code == 200
        assert app.run("support_ticket", ticket="t", customer_id="c-2", fail=True).status_code == 500
        assert app.run("order_refund", order_id="o-1", amount=20, flaky=1).status_code == 200
        interrupted = app.run("order_refund", order_id="o-2", amount=900)
        thread_id = interrupted.json()["thread_id"]
        assert app.resume("order_refund", thread_id, True).status_code == 200
    finally:
        app.close()
        otlp.close()
        pg.cleanup()
    return [line for line in app.log.read_text().splitlines() if line.strip()]


def _check_type(kind: str, value: object) -> bool:
    expected = JSON_TYPES[kind]
    return isinstance(value, expected) and not (expected is int and isinstance(value, bool))


def test_template_maps_the_app_contract_and_nothing_the_pipeline_does_not_add():
    properties = t.index_template(replicas=0)["template"]["mappings"]["properties"]
    assert {name: spec["type"] for name, spec in t.app_mappings().items()} == LOG_FIELDS
    assert set(properties) == set(LOG_FIELDS) | set(t.PIPELINE_FIELDS)
    with pytest.raises(ValueError, match="types the template does not map"):
        t.app_mappings({**LOG_FIELDS, "tokens": "integer"})
    with pytest.raises(ValueError, match="collide"):
        t.app_mappings({**LOG_FIELDS, "stream": "keyword"})


def test_every_field_the_app_writes_is_mapped_with_its_type_and_every_mapped_field_is_written(app_lines):
    mappings = t.app_mappings()
    written: set[str] = set()
    for raw in app_lines:
        line = json.loads(raw)
        unmapped = set(line) - set(mappings)
        assert not unmapped, f"fields {unmapped} are not in the index template: {raw}"
        for name, value in line.items():
            assert _check_type(mappings[name]["type"], value), f"{name}={value!r} is not a {mappings[name]['type']}"
        written |= set(line)
    assert written == set(mappings), f"mapped but never written: {set(mappings) - written}"


# --- a real Fluent Bit on those lines ----------------------------------------------------------

@dataclasses.dataclass
class Tls:
    ca: Path
    cert: Path
    key: Path


def _make_tls(directory: Path) -> Tls:
    """A throwaway CA and a server certificate for 127.0.0.1 signed by it."""
    now = datetime.now(timezone.utc)

    def cert(subject: str, key, issuer_name, issuer_key, ca: bool):
        builder = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
                   .issuer_name(issuer_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if not ca:
            builder = builder.add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1")), x509.DNSName("localhost")]), False)
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-ca")])
    ca_cert = cert("test-ca", ca_key, ca_name, ca_key, True)
    server_cert = cert("localhost", server_key, ca_name, ca_key, False)
    paths = Tls(directory / "ca.crt", directory / "server.crt", directory / "server.key")
    paths.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths.cert.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()))
    return paths


class BulkRecorder:
    """An HTTPS endpoint answering `_bulk` like Elasticsearch does when every item succeeds."""

    def __init__(self, tls: Tls) -> None:
        requests: list[tuple[dict, list[dict]]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
                requests.append(({"path": self.path, **dict(self.headers)}, lines))
                answer = json.dumps({"took": 1, "errors": False, "items": []}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.requests = requests
        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls.cert, tls.key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def documents(self) -> list[tuple[dict, dict]]:
        """(action, document) pairs of every bulk request so far."""
        pairs = []
        for _, lines in list(self.requests):
            pairs += list(zip(lines[0::2], lines[1::2]))
        return pairs


POD, OTHER_POD, CONTAINER_ID = "refapp-6f7c9d-x2x4q", "noisy-5d8f-abcde", "c" * 64


def _cri(lines: list[str], start: datetime) -> str:
    """The lines as the container runtime writes them to /var/log/containers (CRI format)."""
    out = []
    for index, line in enumerate(lines):
        stamp = (start + timedelta(milliseconds=index)).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")
        out.append(f"{stamp} stdout F {line}")
    return "\n".join(out) + "\n"


def _pod_meta(namespace: str, pod: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": pod, "namespace": namespace, "uid": "7d3c1c4e-0000-4000-8000-000000000001",
                         "labels": {"app.kubernetes.io/name": "refapp", "pod-template-hash": "6f7c9d"}},
            "spec": {"nodeName": "node-1", "containers": [{"name": "app", "image": "refapp:test"}]},
            "status": {"containerStatuses": [{"name": "app", "image": "refapp:test", "imageID": "sha256:feed",
                                              "containerID": f"containerd://{CONTAINER_ID}"}]}}


@pytest.fixture(scope="module")
def shipped(app_lines, tmp_path_factory):
    """Run Fluent Bit with the program's pipeline (only its paths and hosts pointed here) over the
    app's lines and over another namespace's; return what reached the bulk endpoint."""
    binary = fluentbit.binary()
    work = tmp_path_factory.mktemp("fluent-bit")
    logs, meta = work / "containers", work / "meta"
    logs.mkdir()
    meta.mkdir()
    tls = _make_tls(work)
    recorder = BulkRecorder(tls)
    start_time = datetime.now(timezone.utc)
    (logs / f"{POD}_{APP_NAMESPACE}_app-{CONTAINER_ID}.log").write_text(_cri(app_lines, start_time))
    (logs / f"{OTHER_POD}_kube-system_noisy-{'d' * 64}.log").write_text(_cri(['{"event": "not ours"}'], start_time))
    for namespace, pod in ((APP_NAMESPACE, POD), ("kube-system", OTHER_POD)):
        (meta / f"{namespace}_{pod}.meta").write_text(json.dumps(_pod_meta(namespace, pod)))

    deployed = m.fluent_bit_pipeline(_spec())
    pipeline = dataclasses.replace(
        deployed, es_host="127.0.0.1", es_port=recorder.port, es_ca_file=str(tls.ca), log_dir=str(logs),
        db_file=None, kube_url=f"https://127.0.0.1:{free_port()}", kube_meta_preload_cache_dir=str(meta))
    (work / "parsers.conf").write_text(custom_parsers())
    (work / "fluent-bit.conf").write_text(standalone_config(pipeline, str(work / "parsers.conf")))
    env = {"PATH": os.environ["PATH"], deployed.es_password_env: PASSWORD}
    process = start([str(binary), "-c", str(work / "fluent-bit.conf")], work / "fluent-bit.log", env=env)
    try:
        wait_for(lambda: len(recorder.documents()) >= len(app_lines), timeout=60,
                 what="Fluent Bit shipping every app line")
    finally:
        stop_pid(process.pid)
        recorder.server.shutdown()
    return {"deployed": deployed, "requests": recorder.requests, "documents": recorder.documents(),
            "log": (work / "fluent-bit.log").read_text()}


def _matches_mapping(mapping: dict, value: object, where: str) -> list[str]:
    """Problems of `value` against one mapping entry (objects recursively; flattened takes any object)."""
    if "properties" in mapping:
        if not isinstance(value, dict):
            return [f"{where} is not an object"]
        problems = []
        for key, inner in value.items():
            if key not in mapping["properties"]:
                problems.append(f"{where}.{key} is not mapped")
            else:
                problems += _matches_mapping(mapping["properties"][key], inner, f"{where}.{key}")
        return problems
    kind = mapping["type"]
    if kind == "flattened":
        return [] if isinstance(value, dict) else [f"{where} is not an object"]
    if kind == "date":
        try:
            datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return [f"{where}={value!r} is not an ISO date"]
        return []
    return [] if _check_type(kind, value) else [f"{where}={value!r} is not a {kind}"]


def test_fluent_bit_turns_the_app_lines_into_documents_the_template_maps(app_lines, shipped):
    root = {"properties": t.index_template(replicas=0)["template"]["mappings"]["properties"]}
    documents = [doc for _, doc in shipped["documents"]]
    assert len(documents) == len(app_lines), shipped["log"][-2000:]
    for raw, document in zip(app_lines, documents):
        line = json.loads(raw)
        assert _matches_mapping(root, document, "doc") == []
        # Lossless: every field of the line arrives with its value and JSON type (Fluent Bit prints
        # doubles with 16 significant digits; the template's `float` keeps 7).
        exact = {key: value for key, value in line.items() if not isinstance(value, float)}
        assert {key: document[key] for key in exact} == exact
        for key in set(line) - set(exact):
            assert isinstance(document[key], float) and math.isclose(document[key], line[key], rel_tol=1e-12)
        assert document["kubernetes"]["namespace_name"] == APP_NAMESPACE
        assert document["kubernetes"]["pod_name"] == POD
        assert document["stream"] == "stdout"
        # The record time is the line's own timestamp (to Fluent Bit's millisecond precision).
        assert document["@timestamp"] == line["timestamp"][:23] + "Z"


def test_fluent_bit_writes_daily_langgraph_indices_named_by_the_line_time(shipped):
    for action, document in shipped["documents"]:
        day = datetime.fromisoformat(document["timestamp"].replace("Z", "+00:00")).strftime("%Y.%m.%d")
        assert action == {"create": {"_index": f"langgraph-{day}"}}


def test_fluent_bit_ships_only_the_app_namespace_as_its_own_user(shipped):
    assert all(doc.get("event") != "not ours" for _, doc in shipped["documents"])
    expected = "Basic " + base64.b64encode(f"{m.FLUENT_BIT_USER}:{PASSWORD}".encode()).decode()
    for headers, _ in shipped["requests"]:
        assert headers["path"] == "/_bulk"
        assert headers["Authorization"] == expected


def test_test_pipeline_differs_from_the_deployed_one_only_in_paths_and_hosts(shipped):
    deployed = shipped["deployed"]
    same = {"app_namespace", "es_user", "es_password_env"}
    assert {f.name for f in dataclasses.fields(FluentBitPipeline)} - same == {
        "es_host", "es_port", "es_ca_file", "log_dir", "db_file", "kube_url", "kube_meta_preload_cache_dir"}
    assert deployed.es_host == "langgraph-es-http.logging.svc" and deployed.kube_meta_preload_cache_dir is None
    assert deployed.es_ca_file == f"{m.FLUENT_BIT_CA_MOUNT}/{m.CA_KEY}"


# --- ILM policy and index template bodies ------------------------------------------------------

# The request bodies' keys as Elasticsearch's `PUT _index_template` and `PUT _ilm/policy` APIs
# document them (9.x), and the actions each ILM phase allows.
TEMPLATE_KEYS = {"index_patterns", "composed_of", "template", "priority", "version", "_meta", "data_stream",
                 "allow_auto_create", "ignore_missing_component_templates", "deprecated"}
TEMPLATE_TEMPLATE_KEYS = {"settings", "mappings", "aliases", "lifecycle", "data_stream_options"}
MAPPING_PARAMETERS = {"keyword": {"type", "ignore_above"}, "text": {"type"}, "date": {"type"},
                      "float": {"type"}, "long": {"type"}, "boolean": {"type"}, "flattened": {"type"}}
PHASE_ACTIONS = {"hot": {"rollover", "set_priority", "unfollow", "readonly", "shrink", "forcemerge", "downsample",
                         "searchable_snapshot"},
                 "delete": {"wait_for_snapshot", "delete"}}


def _mapping_problems(properties: dict, where: str = "") -> list[str]:
    problems = []
    for name, spec in properties.items():
        if "properties" in spec:
            problems += _mapping_problems(spec["properties"], f"{where}{name}.")
            continue
        allowed = MAPPING_PARAMETERS.get(spec.get("type"))
        if allowed is None or set(spec) - allowed:
            problems.append(f"{where}{name}: {spec}")
    return problems


@pytest.mark.parametrize("replicas", [0, 1])
def test_index_template_body_has_the_api_shape(replicas):
    body = t.index_template(replicas)
    assert set(body) <= TEMPLATE_KEYS and set(body["template"]) <= TEMPLATE_TEMPLATE_KEYS
    assert body["index_patterns"] == ["langgraph-*"] and isinstance(body["priority"], int)
    settings = body["template"]["settings"]
    assert settings == {"index.lifecycle.name": t.POLICY_NAME, "index.number_of_shards": 1,
                        "index.number_of_replicas": replicas}
    assert body["template"]["mappings"]["dynamic"] is False
    assert _mapping_problems(body["template"]["mappings"]["properties"]) == []
    assert _mapping_problems({"x": {"type": "integer"}}) != []  # the checker itself refuses unknown types


def test_ilm_policy_deletes_after_the_retention_and_has_the_api_shape():
    body = t.ilm_policy(30)
    assert set(body) == {"policy"} and set(body["policy"]) <= {"phases", "_meta"}
    phases = body["policy"]["phases"]
    for phase, spec in phases.items():
        assert set(spec) <= {"min_age", "actions"} and set(spec["actions"]) <= PHASE_ACTIONS[phase]
    assert phases["delete"] == {"min_age": "30d", "actions": {"delete": {}}}
    assert "rollover" not in phases["hot"]["actions"]
    with pytest.raises(ValueError):
        t.ilm_policy(0)


# --- the component under the mock engine -------------------------------------------------------

def _spec(**overrides) -> m.LoggingSpec:
    fields = dict(app_namespace=APP_NAMESPACE, elasticsearch_nodes=1, storage_size="5Gi", memory="2Gi",
                  retention_days=3, api_server_cidrs=("10.0.0.0/16",), monitoring_namespace="monitoring")
    return m.LoggingSpec(**{**fields, **overrides})


@pytest.fixture(scope="module")
def plans(tmp_path_factory) -> dict[str, Plan]:
    return {stack: run(stack, tmp_path_factory.mktemp(stack)) for stack in ("dev", "prod")}


def _inputs(plan: Plan, kind: str, name: str) -> dict:
    return plan.kube_object(kind, name).inputs


def _release(plan: Plan, chart: str):
    return next(r for r in plan.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == chart)


@pytest.mark.parametrize("stack, nodes, memory, heap, kibanas, retention",
                         [("dev", 1, "2Gi", 1024, 1, 3), ("prod", 3, "4Gi", 2048, 2, 30)])
def test_elasticsearch_kibana_and_ilm_sized_per_environment(plans, stack, nodes, memory, heap, kibanas, retention):
    plan = plans[stack]
    es = _inputs(plan, "Elasticsearch", m.ES_NAME)["spec"]
    node_set = es["nodeSets"][0]
    container = node_set["podTemplate"]["spec"]["containers"][0]
    assert es["version"] == IMAGES["elasticsearch"].tag and node_set["count"] == nodes
    assert container["resources"]["limits"]["memory"] == container["resources"]["requests"]["memory"] == memory
    assert container["env"] == [{"name": "ES_JAVA_OPTS", "value": f"-Xms{heap}m -Xmx{heap}m"}]
    assert _inputs(plan, "Kibana", m.KIBANA_NAME)["spec"]["count"] == kibanas
    files = _inputs(plan, "ConfigMap", m.SETUP_CONFIGMAP)["data"]
    assert json.loads(files["ilm-policy.json"])["policy"]["phases"]["delete"]["min_age"] == f"{retention}d"
    template = json.loads(files["index-template.json"])
    assert template["template"]["settings"]["index.number_of_replicas"] == min(1, nodes - 1)


def test_pinned_charts_and_the_fluent_bit_release_waits_for_the_template(plans):
    for plan in plans.values():
        for chart in ("eck-operator", "fluent-bit"):
            release = _release(plan, chart)
            assert (release.inputs["version"], release.inputs["repositoryOpts"]["repo"]) == (
                CHARTS[chart].version, CHARTS[chart].repository)
        job = next(r for r in plan.of_type("kubernetes:batch/v1:Job"))
        assert job.inputs["spec"]["template"]["spec"]["containers"][0]["image"] == IMAGES["curl"].ref
        assert job.urn in _release(plan, "fluent-bit").dependencies
        es = plan.kube_object("Elasticsearch", m.ES_NAME)
        assert _release(plan, "eck-operator").urn in es.dependencies
        values = _release(plan, "fluent-bit").inputs["values"]
        assert values["config"]["outputs"].count("Logstash_Prefix     langgraph") == 1
        assert values["env"][0]["valueFrom"]["secretKeyRef"]["name"] == m.FLUENT_BIT_PASSWORD_SECRET


def test_namespaces_pod_security_levels(plans):
    levels = {ns.inputs["metadata"]["name"]: ns.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
              for ns in plans["dev"].of_type("kubernetes:core/v1:Namespace")}
    assert {k: v for k, v in levels.items() if k != "tracing"} == {
        "logging": "restricted", "elastic-system": "restricted", "logging-agents": "privileged"}


def test_jaeger_user_only_where_traces_are_stored_in_elasticsearch(plans):
    def users(plan: Plan) -> set[str]:
        es = _inputs(plan, "Elasticsearch", m.ES_NAME)
        return {user["secretName"] for user in es["spec"]["auth"]["fileRealm"]}

    assert users(plans["dev"]) == {m.user_secret_name(m.FLUENT_BIT_USER)}
    assert users(plans["prod"]) == {m.user_secret_name(m.FLUENT_BIT_USER), m.user_secret_name(m.JAEGER_USER)}
    roles = json.loads(_inputs(plans["prod"], "Secret", m.ROLES_SECRET)["stringData"]["roles.yml"])
    assert roles[m.FLUENT_BIT_ROLE]["indices"] == [{"names": ["langgraph-*"], "privileges": ["create_doc", "create_index"]}]
    # Passwords never appear in the plan in clear.
    secret = _inputs(plans["prod"], "Secret", m.user_secret_name(m.JAEGER_USER))
    assert secret["stringData"]["password"] == "[secret]"


def test_network_policies_open_exactly_the_documented_paths(plans):
    es = _inputs(plans["prod"], "NetworkPolicy", "elasticsearch")["spec"]
    http_from = es["ingress"][0]["from"]
    namespaces = {peer.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
                  for peer in http_from}
    assert namespaces == {None, "elastic-system", "logging-agents", "monitoring", "tracing"}
    assert es["ingress"][1] == {"from": [{"podSelector": {"matchLabels": m.ES_POD_LABELS}}],
                                "ports": [{"protocol": "TCP", "port": 9300}]}
    dev_namespaces = {peer.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
                      for peer in _inputs(plans["dev"], "NetworkPolicy", "elasticsearch")["spec"]["ingress"][0]["from"]}
    assert "tracing" not in dev_namespaces
    fluent = _inputs(plans["dev"], "NetworkPolicy", "fluent-bit")["spec"]
    assert {"protocol": "TCP", "port": 9200} in fluent["egress"][2]["ports"]
    assert fluent["egress"][1]["to"] == [{"ipBlock": {"cidr": "10.0.0.0/16"}}]


def test_outputs_and_endpoints(plans):
    assert plans["dev"].outputs["kibana_url"] == "https://langgraph-kb-http.logging.svc:5601"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_built_in_objects_pass_kubernetes_validate_strict(plans, stack, tmp_path):
    objects = [r.inputs for r in plans[stack].resources if r.type.startswith("kubernetes:")
               and not r.type.startswith(("kubernetes:helm.sh", "kubernetes:elasticsearch", "kubernetes:kibana"))]
    files = []
    for index, obj in enumerate(objects):
        clean = {k: v for k, v in obj.items() if k != "status" and v is not None}
        path = tmp_path / f"{index:03}.json"
        path.write_text(json.dumps(clean))
        files.append(path)
    result = kubernetes_validate(*files)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def catalog() -> CrdCatalog:
    return CrdCatalog(SOURCES, ROOT / ".cache" / "crd-schemas")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_elasticsearch_and_kibana_pass_the_eck_crd_schemas(plans, catalog, stack):
    for kind, name in (("Elasticsearch", m.ES_NAME), ("Kibana", m.KIBANA_NAME)):
        assert catalog.validate(_inputs(plans[stack], kind, name)) == []
    broken = json.loads(json.dumps(_inputs(plans[stack], "Kibana", m.KIBANA_NAME)))
    broken["spec"]["replicas"] = 2  # `count` is ECK's field
    assert catalog.validate(broken) != []


def test_spec_refuses_what_cannot_work():
    with pytest.raises(ValueError, match="namespaces must differ"):
        _spec(agent_namespace="logging")
    with pytest.raises(ValueError, match="api_server_cidrs"):
        _spec(api_server_cidrs=())
    assert m.heap_megabytes("3Gi") == 1536
