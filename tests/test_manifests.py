"""Rendered Kubernetes objects pass kubernetes-validate --strict (1.31) and checkov in both stacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
KUBERNETES_VERSION = "1.31.0"
KUBERNETES_VALIDATE = Path(sys.executable).parent / "kubernetes-validate"
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
SKIPS = yaml.safe_load((Path(__file__).parent / "checkov_skips.yaml").read_text())
BUILT_IN = {"Namespace", "ServiceAccount", "ConfigMap", "Secret", "Deployment", "Service",
            "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy"}


def kubernetes_validate(*files: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(KUBERNETES_VALIDATE), "--strict", "-k", KUBERNETES_VERSION, *map(str, files)],
                          capture_output=True, text=True)


def checkov(directory: Path, skips: list[str]) -> dict:
    if not CHECKOV.is_file():
        pytest.fail("checkov is not installed in .venv-checkov; run `make test`")
    command = [str(CHECKOV), "--skip-download", "--framework", "kubernetes", "-d", str(directory), "-o", "json", "--quiet"]
    if skips:
        command += ["--skip-check", ",".join(skips)]
    result = subprocess.run(command, capture_output=True, text=True)
    report = json.loads(result.stdout)
    return report[0] if isinstance(report, list) else report


def _objects(directory: Path) -> list[dict]:
    return [doc for path in sorted(directory.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text())]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_kubernetes_validate_strict(rendered, stack):
    files = sorted(rendered[stack].glob("*.yaml"))
    result = kubernetes_validate(*files)
    assert result.returncode == 0, result.stdout + result.stderr
    kinds = {doc["kind"] for doc in _objects(rendered[stack])}
    assert BUILT_IN <= kinds
    for kind in BUILT_IN:
        assert f"passed for resource {kind.lower()}/" in result.stdout, f"{kind} was not validated"


def test_kubernetes_validate_catches_an_unknown_field(rendered, tmp_path):
    deployment = next(doc for doc in _objects(rendered["prod"]) if doc["kind"] == "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {"tcpSocket": {"port": 8000}}
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(deployment))
    result = kubernetes_validate(broken)
    assert result.returncode != 0 and "livenesProbe" in result.stdout + result.stderr


def test_every_skip_has_a_reason():
    for stack, checks in SKIPS.items():
        assert stack in ("all", "dev", "prod")
        for check, reason in checks.items():
            assert check.startswith("CKV") and len(reason.split()) >= 8, f"{stack}/{check} needs a reason"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_checkov_passes_outside_the_skip_list(rendered, stack):
    skips = [*SKIPS["all"], *SKIPS.get(stack, {})]
    report = checkov(rendered[stack], skips)
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert failed == []
    assert report["summary"]["passed"] > 50, "checkov evaluated too little to mean anything"


def test_checkov_catches_a_privileged_container(rendered, tmp_path):
    deployment = next(doc for doc in _objects(rendered["prod"]) if doc["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["securityContext"] |= {"privileged": True, "allowPrivilegeEscalation": True}
    del container["resources"]["limits"]
    (tmp_path / "broken.yaml").write_text(yaml.safe_dump(deployment))
    failed = {c["check_id"] for c in checkov(tmp_path, [*SKIPS["all"]])["results"]["failed_checks"]}
    assert {"CKV_K8S_16", "CKV_K8S_20", "CKV_K8S_11", "CKV_K8S_13"} <= failed
