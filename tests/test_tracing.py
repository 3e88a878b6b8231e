"""Jaeger v2: the rendered Collector configuration, the app's OTEL_* environment as the real
OpenTelemetry SDK reads it, and the `Tracing` component's registrations for dev and prod.

No Jaeger binary can be had here (no Debian package or wheel; the Go module proxy refuses to build
`cmd/jaeger` because its go.mod has replace directives), and Jaeger publishes no JSON schema of its
configuration (it is Go structs): the configuration is checked for the structure a Collector
insists on at start, with field names taken from the Jaeger 2.19.0 sources.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

from components.logging import eck_manifests as logging_manifests
from components.pins import CHARTS
from components.tracing import jaeger_manifests as m
from components.tracing.jaeger_config import ElasticsearchBackend, jaeger_config, problems
from tests.engines.observability_program import APP_NAMESPACE, run
from tests.test_manifests import kubernetes_validate
from tools.mock_engine import Plan


@pytest.fixture(scope="module")
def plans(tmp_path_factory) -> dict[str, Plan]:
    return {stack: run(stack, tmp_path_factory.mktemp(stack)) for stack in ("dev", "prod")}


def _release(plan: Plan):
    return plan.one("kubernetes:helm.sh/v3:Release", "tracing-jaeger")


BACKEND = ElasticsearchBackend(url="https://langgraph-es-http.logging.svc:9200", username="jaeger",
                               password_file="/etc/p/password", ca_file="/etc/ca/ca.crt", replicas=1)


@pytest.mark.parametrize("storage, backend", [("memory", None), ("elasticsearch", BACKEND)])
def test_config_has_the_structure_a_collector_starts_with(storage, backend):
    config = jaeger_config(storage, 1000, backend)
    assert problems(config) == []
    receivers = config["receivers"]["otlp"]["protocols"]
    assert (receivers["grpc"]["endpoint"], receivers["http"]["endpoint"]) == ("0.0.0.0:4317", "0.0.0.0:4318")
    assert config["extensions"]["jaeger_query"]["http"]["endpoint"] == "0.0.0.0:16686"
    # The chart's probes call /status on 13133: the health endpoint must listen beyond localhost.
    assert config["extensions"]["healthcheckv2"]["http"]["endpoint"] == "0.0.0.0:13133"


def test_structure_check_catches_a_broken_config():
    config = jaeger_config("memory")
    broken = copy.deepcopy(config)
    broken["service"]["pipelines"]["traces"]["exporters"] = ["otlp"]
    assert "exporters: otlp is used but not defined" in problems(broken)
    broken = copy.deepcopy(config)
    broken["exporters"]["jaeger_storage_exporter"]["trace_storage"] = "elsewhere"
    assert problems(broken) == ["storage: elsewhere is not a jaeger_storage backend"]
    broken = copy.deepcopy(config)
    del broken["service"]["extensions"][2]
    assert problems(broken) == ["extensions: healthcheckv2 is defined but not enabled"]


def test_elasticsearch_backend_reads_its_password_from_a_file_and_trusts_the_logging_ca():
    backend = jaeger_config("elasticsearch", elasticsearch=BACKEND)["extensions"]["jaeger_storage"]["backends"]
    es = backend["primary_store"]["elasticsearch"]
    assert es["auth"] == {"basic": {"username": "jaeger", "password_file": "/etc/p/password"}}
    assert es["tls"] == {"ca_file": "/etc/ca/ca.crt"}
    assert es["indices"]["index_prefix"] == "jaeger" and es["indices"]["spans"] == {"shards": 1, "replicas": 1}
    with pytest.raises(ValueError):
        jaeger_config("elasticsearch")


@pytest.mark.parametrize("ratio", [1.0, 0.1, 0.0])
def test_app_env_is_what_the_opentelemetry_sdk_reads(monkeypatch, ratio):
    spec = m.TracingSpec(app_namespace=APP_NAMESPACE, storage="memory", sampling_ratio=ratio,
                         monitoring_namespace="monitoring")
    env = m.app_env(spec)
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://jaeger.tracing.svc:4318"
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    # The reference app builds its TracerProvider without a sampler: the SDK takes it from the env.
    sampler = TracerProvider().sampler
    assert isinstance(sampler, ParentBased)
    root = sampler._root  # the sampler a trace without a parent goes through
    assert isinstance(root, TraceIdRatioBased) and root.rate == ratio


def test_spec_refuses_inconsistent_storage():
    with pytest.raises(ValueError, match="endpoint"):
        m.TracingSpec(app_namespace="a", storage="elasticsearch", sampling_ratio=0.1, monitoring_namespace="m")
    with pytest.raises(ValueError, match="sampling_ratio"):
        m.TracingSpec(app_namespace="a", storage="memory", sampling_ratio=1.5, monitoring_namespace="m")


def test_dev_runs_one_in_memory_jaeger(plans):
    values = _release(plans["dev"]).inputs["values"]
    release = _release(plans["dev"]).inputs
    assert (release["chart"], release["version"]) == ("jaeger", CHARTS["jaeger"].version)
    assert values["jaeger"]["replicas"] == 1 and "strategy" not in values["jaeger"]
    backends = values["userconfig"]["extensions"]["jaeger_storage"]["backends"]
    assert set(backends["primary_store"]) == {"memory"}
    assert plans["dev"].outputs["app_env"]["OTEL_TRACES_SAMPLER_ARG"] == "1.0"
    assert plans["dev"].outputs["jaeger_url"] == "http://jaeger.tracing.svc:16686"


def test_prod_stores_in_the_logging_cluster_with_its_own_user(plans):
    plan = plans["prod"]
    values = _release(plan).inputs["values"]
    es = values["userconfig"]["extensions"]["jaeger_storage"]["backends"]["primary_store"]["elasticsearch"]
    assert es["server_urls"] == ["https://langgraph-es-http.logging.svc:9200"]
    assert es["auth"]["basic"]["username"] == logging_manifests.JAEGER_USER
    mounts = {mount["mountPath"] for mount in values["jaeger"]["extraVolumeMounts"]}
    assert {es["auth"]["basic"]["password_file"].rsplit("/", 1)[0], es["tls"]["ca_file"].rsplit("/", 1)[0]} == mounts
    secret = plan.kube_object("Secret", m.PASSWORD_SECRET)
    assert secret.inputs["metadata"]["namespace"] == "tracing" and secret.inputs["stringData"]["password"] == "[secret]"
    assert secret.urn in _release(plan).dependencies
    assert values["jaeger"]["replicas"] == 2 and values["jaeger"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert plan.outputs["app_env"]["OTEL_TRACES_SAMPLER_ARG"] == "0.1"


def test_network_policy_admits_the_app_to_otlp_and_monitoring_to_ui_and_metrics(plans):
    for stack, reaches_es in (("dev", False), ("prod", True)):
        spec = plans[stack].kube_object("NetworkPolicy", "jaeger").inputs["spec"]
        assert spec["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 4317}, {"protocol": "TCP", "port": 4318}]
        assert spec["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"] == {
            "kubernetes.io/metadata.name": APP_NAMESPACE}
        assert spec["ingress"][1]["ports"] == [{"protocol": "TCP", "port": 16686}, {"protocol": "TCP", "port": 8888}]
        to_es = [rule for rule in spec["egress"] if {"protocol": "TCP", "port": 9200} in rule.get("ports", [])]
        assert bool(to_es) == reaches_es


def test_restricted_namespace_and_pods(plans):
    for plan in plans.values():
        ns = next(r for r in plan.of_type("kubernetes:core/v1:Namespace") if r.inputs["metadata"]["name"] == "tracing")
        assert ns.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
        jaeger = _release(plan).inputs["values"]["jaeger"]
        assert jaeger["podSecurityContext"]["runAsNonRoot"] and jaeger["podSecurityContext"]["seccompProfile"]
        assert jaeger["securityContext"]["capabilities"] == {"drop": ["ALL"]}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_tracing_objects_pass_kubernetes_validate_strict(plans, stack, tmp_path):
    objects = [r.inputs for r in plans[stack].resources
               if r.type.startswith("kubernetes:core") or r.type.startswith("kubernetes:networking")
               if r.parent == "tracing"]
    assert objects
    files = []
    for index, obj in enumerate(objects):
        path = Path(tmp_path / f"{index:03}.json")
        path.write_text(json.dumps({k: v for k, v in obj.items() if k != "status" and v is not None}))
        files.append(path)
    result = kubernetes_validate(*files)
    assert result.returncode == 0, result.stdout + result.stderr
