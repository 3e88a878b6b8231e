"""`python -m tools.plan diff`: what changed between two --json plans, as text or a PR comment."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest

from tools.plan_diff import diff_plans, render_markdown, render_text

from .conftest import ROOT


@pytest.fixture(scope="module")
def dev_json(dev_plan) -> dict:
    return json.loads(json.dumps(dev_plan.as_json()))


def _deployment(plan: dict) -> dict:
    return next(r for r in plan["resources"] if r["type"] == "kubernetes:apps/v1:Deployment")


def test_one_replica_change_is_exactly_what_is_printed(dev_json, tmp_path):
    head = copy.deepcopy(dev_json)
    _deployment(head)["inputs"]["spec"]["replicas"] = 3
    (tmp_path / "base.json").write_text(json.dumps(dev_json))
    (tmp_path / "head.json").write_text(json.dumps(head))
    result = subprocess.run([sys.executable, "-m", "tools.plan", "diff", str(tmp_path / "base.json"), str(tmp_path / "head.json")],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Plan diff for stack dev: 0 to add, 1 to change, 0 to remove",
        "~ kubernetes:apps/v1:Deployment langgraph-dev-app-deployment",
        "    spec.replicas: 1 -> 3",
    ]


def test_identical_plans_have_no_changes(dev_json):
    diff = diff_plans(dev_json, copy.deepcopy(dev_json))
    assert diff.empty and render_markdown(diff) == "**`dev`**: no changes"


def test_added_removed_nested_and_output_changes(dev_json):
    head = copy.deepcopy(dev_json)
    removed = head["resources"].pop(next(i for i, r in enumerate(head["resources"]) if r["name"].endswith("-pdb")))
    head["resources"].append({"type": "kubernetes:core/v1:ConfigMap", "name": "extra", "parent": "langgraph-dev-app",
                              "inputs": {"data": {"A": "1"}}})
    container = _deployment(head)["inputs"]["spec"]["template"]["spec"]["containers"][0]
    container["image"] = "ghcr.io/example/langgraph-app:0.2.0"
    container["ports"].append({"containerPort": 9090, "name": "metrics"})
    head["outputs"]["redis_url"] = "[secret]"
    text = render_text(diff_plans(dev_json, head))
    assert "Plan diff for stack dev: 1 to add, 1 to change, 1 to remove, 1 output(s) changed" in text
    assert f"- {removed['type']} {removed['name']}" in text
    assert "+ kubernetes:core/v1:ConfigMap extra" in text
    assert ('spec.template.spec.containers[0].image: "ghcr.io/example/langgraph-app:0.1.0" -> '
            '"ghcr.io/example/langgraph-app:0.2.0"') in text
    assert 'spec.template.spec.containers[0].ports[1]: (absent) -> {"containerPort": 9090, "name": "metrics"}' in text
    assert 'output redis_url: null -> "[secret]"' in text


def test_markdown_is_a_summary_then_one_section_per_component(dev_json):
    head = copy.deepcopy(dev_json)
    _deployment(head)["inputs"]["spec"]["replicas"] = 2
    gateway = next(r for r in head["resources"] if r["type"].endswith(":Gateway"))
    gateway["inputs"]["spec"]["listeners"][0]["hostname"] = "other.localtest.me"
    markdown = render_markdown(diff_plans(dev_json, head))
    lines = markdown.splitlines()
    assert lines[0] == "**`dev`**: 0 to add, 2 to change, 0 to remove"
    assert markdown.count("<details>") == 2 and markdown.count("</details>") == 2
    assert "<summary><code>langgraph-dev-app</code>: 1 change(s)</summary>" in markdown
    assert "<summary><code>langgraph-dev-edge</code>: 1 change(s)</summary>" in markdown


def test_unreadable_plan_exits_2(tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    result = subprocess.run([sys.executable, "-m", "tools.plan", "diff", str(tmp_path / "bad.json"), str(tmp_path / "bad.json")],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2 and "cannot compare" in result.stderr
