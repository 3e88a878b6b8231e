"""CI workflows: valid against GitHub's schema, clean under zizmor, pinned and least-privileged;
and the PR plan script they run produces the comment."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent


def _load(path: Path) -> dict:
    # PyYAML reads the `on:` key as True.
    return {("on" if key is True else key): value for key, value in yaml.safe_load(path.read_text()).items()}


def _steps(workflow: dict):
    for job in workflow["jobs"].values():
        yield from job.get("steps", [])


def check_jsonschema(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *map(str, paths)],
                          capture_output=True, text=True)


def zizmor(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "zizmor"), "--offline", str(path)], capture_output=True, text=True)


def test_workflows_exist():
    assert {p.name for p in WORKFLOWS} == {"pr.yml", "preview.yml", "deploy.yml", "pulumi-up.yml"}


def test_schema_valid_and_a_broken_copy_is_not(tmp_path):
    result = check_jsonschema(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text((ROOT / ".github/workflows/pr.yml").read_text().replace("    steps:", "    stepz:", 1))
    assert check_jsonschema(broken).returncode == 1


def test_zizmor_finds_nothing_and_catches_an_unpinned_action(tmp_path):
    result = zizmor(ROOT / ".github" / "workflows")
    assert result.returncode == 0, result.stdout + result.stderr
    bad = tmp_path / "pr.yml"
    text = (ROOT / ".github/workflows/pr.yml").read_text()
    bad.write_text(re.sub(r"actions/checkout@[0-9a-f]{40}", "actions/checkout@v7", text))
    result = zizmor(bad)
    assert result.returncode != 0 and "unpinned-uses" in result.stdout


def test_actions_pinned_by_sha_and_least_privilege():
    for path in WORKFLOWS:
        workflow = _load(path)
        assert workflow["permissions"] == {"contents": "read"}, path.name
        text = path.read_text()
        assert "write-all" not in text and "pull_request_target" not in text
        for line in re.findall(r"uses:\s*(\S+.*)", text):
            assert re.match(r"[\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d", line) or line.startswith("$/"), f"{path.name}: {line}"
        for step in _steps(workflow):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False
        for job in workflow["jobs"].values():
            granted = {k for k, v in job.get("permissions", {}).items() if v == "write"}
            assert granted <= {"pull-requests", "id-token"}, f"{path.name}: {granted}"


def test_pr_checks_run_tests_then_plan_both_stacks_with_policies():
    workflow = _load(ROOT / ".github/workflows/pr.yml")
    assert set(workflow["on"]) == {"pull_request"}
    runs = [step.get("run", "") for step in _steps(workflow)]
    assert "make test" in runs
    assert "head/.ci/pr-plan base head plan-comment.md" in runs
    comment = next(s for s in _steps(workflow) if s.get("uses", "").startswith("marocchino/sticky-pull-request-comment@"))
    assert comment["with"] == {"header": "offline-plan", "path": "plan-comment.md"}
    assert workflow["jobs"]["plan"]["permissions"] == {"contents": "read", "pull-requests": "write"}


def test_preview_needs_credentials_and_uses_the_policy_pack():
    job = _load(ROOT / ".github/workflows/preview.yml")["jobs"]["preview"]
    assert job["strategy"]["matrix"]["stack"] == ["dev", "prod"]
    preview = next(s for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions@"))
    assert preview["with"]["command"] == "preview" and preview["with"]["diff"] is True
    assert preview["with"]["policyPacks"] == "policy"
    assert preview["with"]["policyPackConfigs"] == "policy/config.${{ matrix.stack }}.json"
    assert preview["if"] == "steps.creds.outputs.enabled == 'true'"
    assert "::notice title=pulumi preview skipped::" in job["steps"][0]["run"]


def test_deploy_runs_dev_then_prod_in_their_environments():
    deploy = _load(ROOT / ".github/workflows/deploy.yml")
    assert deploy["on"] == {"push": {"branches": ["main"]}}
    assert deploy["jobs"]["up-dev"]["needs"] == "test" and deploy["jobs"]["up-prod"]["needs"] == "up-dev"
    assert [deploy["jobs"][j]["with"]["stack"] for j in ("up-dev", "up-prod")] == ["dev", "prod"]
    up = _load(ROOT / ".github/workflows/pulumi-up.yml")["jobs"]["up"]
    assert up["environment"] == "${{ inputs.stack }}"
    action = next(s for s in up["steps"] if s.get("uses", "").startswith("pulumi/actions@"))
    assert action["with"]["command"] == "up" and action["with"]["policyPacks"] == "policy"


def _pr_plan(base: Path, head: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(head / ".ci" / "pr-plan"), str(base), str(head), str(out)],
                          capture_output=True, text=True)


@pytest.fixture(scope="module")
def head_copy(tmp_path_factory) -> Path:
    """The repository's files with this test's interpreter as `.venv`, like the workflow's head checkout."""
    head = tmp_path_factory.mktemp("head")
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    for name in files:
        if (ROOT / name).is_file():
            (head / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, head / name)
    (head / ".venv").symlink_to(BIN.parent, target_is_directory=True)
    return head


def test_pr_plan_comment_for_an_unchanged_head(head_copy, tmp_path):
    result = _pr_plan(head_copy, head_copy, tmp_path / "comment.md")
    assert result.returncode == 0, result.stderr
    comment = (tmp_path / "comment.md").read_text()
    assert "**`dev`**: no changes" in comment and "**`prod`**: no changes" in comment
    assert comment.count("0 mandatory and 0 advisory violation(s)") == 2


def test_pr_plan_against_a_base_without_the_plan_tool(head_copy, tmp_path):
    base = tmp_path / "base"
    base.mkdir()
    result = _pr_plan(base, head_copy, tmp_path / "comment.md")
    assert result.returncode == 0, result.stderr
    comment = (tmp_path / "comment.md").read_text()
    assert re.search(r"\*\*`dev`\*\*: \d+ to add, 0 to change, 0 to remove", comment)


def test_pr_plan_fails_on_a_mandatory_violation(head_copy, tmp_path):
    head = tmp_path / "head"
    shutil.copytree(head_copy, head, symlinks=True)
    config = head / "policy" / "config.prod.json"
    config.write_text(config.read_text().replace('"minReplicas": 3', '"minReplicas": 20'))
    result = _pr_plan(head_copy, head, tmp_path / "comment.md")
    assert result.returncode == 1
    assert "[mandatory] k8s-hpa-minimum" in (tmp_path / "comment.md").read_text()
