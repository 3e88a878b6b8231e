"""Rendered Gateway API and cert-manager objects pass their CRD schemas (tests/crd_schemas/validate.mjs).

kubernetes-validate covers the built-in kinds only; these custom resources are checked with the
schemas from the npm packages @kubernetes-models/gateway-api and @kubernetes-models/cert-manager.
Those schemas check types, required fields, enums and patterns, but not unknown fields or CEL rules.
"""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CRD_DIR = ROOT / "tests" / "crd_schemas"
STACKS = ("dev", "prod")  # `rendered` (conftest) holds each stack's objects as `tools.plan --out` writes them
# Kinds the program renders that validate.mjs must report ok (not skip).
CHECKED_KINDS = {"GatewayClass", "Gateway", "HTTPRoute", "Issuer", "Certificate"}


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} not found on PATH; install Node.js (make deps)")
    return path


@pytest.fixture(scope="module")
def node() -> str:
    """The node binary, with tests/crd_schemas/node_modules installed from the lock file."""
    # npm writes node_modules/.package-lock.json when an install completes: missing also means half-done.
    if not (CRD_DIR / "node_modules" / ".package-lock.json").is_file():
        result = subprocess.run([_tool("npm"), "ci", "--no-audit", "--no-fund"], cwd=CRD_DIR,
                                capture_output=True, text=True)
        if result.returncode != 0:
            pytest.fail(f"npm ci failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return _tool("node")


def validate(node: str, *files: Path) -> subprocess.CompletedProcess:
    return subprocess.run([node, "validate.mjs", *map(str, files)], cwd=CRD_DIR, capture_output=True, text=True)


def files_of(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.yaml"))


def load_objects(directory: Path) -> list[dict]:
    return [doc for path in files_of(directory) for doc in yaml.safe_load_all(path.read_text()) if doc]


def find(objects: list[dict], kind: str) -> dict:
    return next(obj for obj in objects if obj.get("kind") == kind)


@pytest.mark.parametrize("stack", STACKS)
def test_rendered_custom_resources_match_schemas(node, rendered, stack):
    result = validate(node, *files_of(rendered[stack]))
    assert result.returncode == 0, result.stdout + result.stderr
    expected = Counter(f"ok {obj['kind']}/{obj['metadata']['name']}"
                       for obj in load_objects(rendered[stack]) if obj.get("kind") in CHECKED_KINDS)
    assert {line.split("/")[0].removeprefix("ok ") for line in expected} == CHECKED_KINDS  # all five rendered
    reported = Counter(line for line in result.stdout.splitlines()
                       if line.startswith("ok ") and line.split("/")[0][3:] in CHECKED_KINDS)
    assert reported == expected, result.stdout


def _listener_port_not_int(gateway: dict) -> None:
    gateway["spec"]["listeners"][0]["port"] = "eighty"


def _no_gateway_class(gateway: dict) -> None:
    del gateway["spec"]["gatewayClassName"]


def _dns_names_not_list(certificate: dict) -> None:
    certificate["spec"]["dnsNames"] = "not-a-list"


@pytest.mark.parametrize("kind, mutate, reason", [
    ("Gateway", _listener_port_not_int, "/spec/listeners/0/port must be integer"),
    ("Gateway", _no_gateway_class, "must have required property gatewayClassName"),
    ("Certificate", _dns_names_not_list, "/spec/dnsNames must be array"),
])
def test_broken_object_fails(node, rendered, tmp_path, kind, mutate, reason):
    obj = find(load_objects(rendered["dev"]), kind)
    mutate(obj)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(obj))
    result = validate(node, path)
    assert result.returncode == 1, result.stdout + result.stderr
    line = next((l for l in result.stdout.splitlines() if l.startswith(f"FAIL {kind}/{obj['metadata']['name']}:")), None)
    assert line is not None and reason in line, result.stdout


def test_unknown_fields_are_not_rejected_by_these_schemas(node, rendered, tmp_path):
    """Pins a known limit (see validate.mjs): if a package update makes schemas strict, update its comment."""
    gateway = find(load_objects(rendered["dev"]), "Gateway")
    gateway["spec"]["listeners"][0]["portt"] = 80
    path = tmp_path / "unknown-field.yaml"
    path.write_text(yaml.safe_dump(gateway))
    result = validate(node, path)
    assert result.returncode == 0 and result.stdout.startswith("ok Gateway/"), result.stdout + result.stderr
