"""`python -m tools.plan`: readable tree, JSON document, YAML manifests, exit 2 on bad config."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from tools import plan as plan_cli
from tools.stack_file import SECRET_PLACEHOLDER, load_stack_file

from .conftest import ROOT

REQUIRED_TYPES = {
    "kubernetes:apps/v1:Deployment", "kubernetes:core/v1:Service", "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    "kubernetes:policy/v1:PodDisruptionBudget", "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    "kubernetes:gateway.networking.k8s.io/v1:Gateway", "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
    "kubernetes:cert-manager.io/v1:Issuer",
}


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tools.plan", *args], cwd=ROOT, capture_output=True, text=True)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_json_plan_is_one_document_with_the_contract(stack):
    result = _cli(stack, "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["stack"] == stack and set(document) == {"stack", "resources", "outputs"}
    assert REQUIRED_TYPES <= {r["type"] for r in document["resources"]}
    assert all(set(r) == {"type", "name", "parent", "inputs"} for r in document["resources"])
    names = {r["name"] for r in document["resources"]}
    assert all(r["parent"] is None or r["parent"] in names for r in document["resources"])
    deployment = next(r for r in document["resources"] if r["type"] == "kubernetes:apps/v1:Deployment")
    assert deployment["parent"] == f"langgraph-{stack}-app"
    assert "rollingUpdate" in deployment["inputs"]["spec"]["strategy"], "inputs are camelCase as the engine sees them"


def test_tree_shows_components_facts_and_derivation(capsys):
    assert plan_cli.main(["prod"]) == 0
    out = capsys.readouterr().out
    for fact in ("Capacity: required = 50 rps x 2s x peak 2 x (1 + 0.3) = 260 concurrent",
                 "- langgraph-prod-app  [langgraph:platform:LangGraphApp]",
                 "replicas 6..12 on cpu 70%, memory 80%",
                 "maxSurge=1 maxUnavailable=0",
                 "probes startup=/ok readiness=/ok liveness=/ok",
                 "security nonRoot=True readOnlyRootFS=True drop=ALL seccomp=RuntimeDefault",
                 "listener https HTTPS:443 langgraph.example.com TLS Terminate",
                 "rate limit per ip: 100/s burst, 3000/min sustained",
                 "chart kong 3.4.1", "Outputs:", 'app_url: "https://langgraph.example.com"'):
        assert fact in out, fact


def test_secure_values_become_placeholders_and_stay_masked(tmp_path, capsys):
    stack_file = tmp_path / "Pulumi.dev.yaml"
    document = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    document["config"]["langgraph-platform:database_uri"] = {"secure": "v1:AAAAciphertextAAAA"}
    stack_file.write_text(yaml.safe_dump(document))
    config, secret_keys = load_stack_file(stack_file, "langgraph-platform")
    assert config["langgraph-platform:database_uri"] == SECRET_PLACEHOLDER
    assert secret_keys == ["langgraph-platform:database_uri"]
    assert plan_cli.main(["dev", "--config-file", str(stack_file), "--json"]) == 0
    out = capsys.readouterr().out
    assert "ciphertext" not in out
    assert json.loads(out)["outputs"]["database_url"] == "[secret]"


def test_out_writes_one_yaml_file_per_component(tmp_path):
    result = _cli("dev", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["langgraph-dev-app.yaml", "langgraph-dev-edge.yaml"]
    kinds = {doc["kind"] for doc in yaml.safe_load_all((tmp_path / "langgraph-dev-app.yaml").read_text())}
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "NetworkPolicy"} <= kinds
    edge = list(yaml.safe_load_all((tmp_path / "langgraph-dev-edge.yaml").read_text()))
    assert {"Gateway", "HTTPRoute", "Issuer", "KongPlugin"} <= {doc["kind"] for doc in edge}


def test_bad_config_exits_2_with_the_key_on_stderr(tmp_path):
    stack_file = tmp_path / "bad.yaml"
    stack_file.write_text("config:\n  langgraph-platform:app:\n    image: x:1\n    replicas: 3\n")
    result = _cli("dev", "--config-file", str(stack_file))
    assert result.returncode == 2
    assert "langgraph-platform:app.replicas" in result.stderr and "unknown key" in result.stderr
    assert result.stdout == ""


def test_missing_stack_file_exits_2():
    result = _cli("staging")
    assert result.returncode == 2 and "Pulumi.staging.yaml" in result.stderr


def test_stack_file_value_conversion(tmp_path):
    stack_file = tmp_path / "s.yaml"
    stack_file.write_text("config:\n  aws:region: us-east-1\n  plainkey: true\n  langgraph-platform:app:\n    port: 8000\n")
    config, secret_keys = load_stack_file(stack_file, "langgraph-platform")
    assert config == {"aws:region": "us-east-1", "langgraph-platform:plainkey": "true",
                      "langgraph-platform:app": '{"port": 8000}'}
    assert secret_keys == []
