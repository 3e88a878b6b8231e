"""`python -m tools.plan diff`: what changes between two --json plans as the engine would act on it,
as text or a PR comment: option changes, replacements for URN changes without an alias, and list
changes by identity."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tools.mock_engine import run_program
from tools.plan_diff import diff_plans, input_changes, parse_property_path, render_markdown, render_text

from .conftest import ROOT


@pytest.fixture(scope="module")
def dev_json(dev_plan) -> dict:
    return json.loads(json.dumps(dev_plan.as_json()))


def _resource(plan: dict, type_suffix: str, predicate=lambda r: True) -> dict:
    return next(r for r in plan["resources"] if r["type"].endswith(type_suffix) and predicate(r))


def _deployment(plan: dict) -> dict:
    return _resource(plan, ":Deployment")


def _cli_diff(tmp_path: Path, base: dict, head: dict) -> list[str]:
    (tmp_path / "base.json").write_text(json.dumps(base))
    (tmp_path / "head.json").write_text(json.dumps(head))
    result = subprocess.run([sys.executable, "-m", "tools.plan", "diff", str(tmp_path / "base.json"),
                             str(tmp_path / "head.json")], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_one_replica_change_is_exactly_what_is_printed(dev_json, tmp_path):
    head = copy.deepcopy(dev_json)
    deployment = _deployment(head)
    before = deployment["inputs"]["spec"].get("replicas")
    deployment["inputs"]["spec"]["replicas"] = 7
    assert _cli_diff(tmp_path, dev_json, head) == [
        "Plan diff for stack dev: 0 to add, 1 to change, 0 to remove",
        f"~ kubernetes:apps/v1:Deployment {deployment['name']}",
        f"    spec.replicas: {json.dumps(before) if before is not None else '(absent)'} -> 7",
    ]


def test_a_flipped_protect_is_exactly_the_change_reported(dev_json, tmp_path):
    head = copy.deepcopy(dev_json)
    namespace = _resource(head, ":Namespace")
    namespace["protect"] = True
    assert _cli_diff(tmp_path, dev_json, head) == [
        "Plan diff for stack dev: 0 to add, 1 to change, 0 to remove",
        f"~ kubernetes:core/v1:Namespace {namespace['name']}",
        "    (protect): false -> true",
    ]


def test_a_renamed_resource_is_exactly_one_replacement(dev_json, tmp_path):
    head = copy.deepcopy(dev_json)
    pdb = _resource(head, ":PodDisruptionBudget")
    old_name = pdb["name"]
    pdb["name"], pdb["urn"] = f"{old_name}-v2", f"{pdb['urn']}-v2"
    assert _cli_diff(tmp_path, dev_json, head) == [
        "Plan diff for stack dev: 0 to add, 0 to change, 1 to replace, 0 to remove",
        f"+- kubernetes:policy/v1:PodDisruptionBudget {old_name}-v2",
        f"    name was {old_name}; no alias covers the old URN",
        "    (one Kubernetes object: deleting the old resource after creating the new one deletes it)",
    ]


def test_an_alias_turns_the_rename_into_an_update(dev_json):
    head = copy.deepcopy(dev_json)
    pdb = _resource(head, ":PodDisruptionBudget")
    pdb["aliases"] = [pdb["urn"]]
    pdb["name"], pdb["urn"] = f"{pdb['name']}-v2", f"{pdb['urn']}-v2"
    diff = diff_plans(dev_json, head)
    assert (len(diff.changed), len(diff.replaced), diff.added, diff.removed) == (1, 0, [], [])
    assert "an alias carries it over (no replacement)" in render_text(diff)


def test_one_inserted_list_element_is_one_change(dev_json):
    head = copy.deepcopy(dev_json)
    netpol = _resource(head, ":NetworkPolicy", lambda r: len(r["inputs"]["spec"].get("egress", [])) >= 2)
    netpol["inputs"]["spec"]["egress"].insert(0, {"to": [{"ipBlock": {"cidr": "10.9.0.0/16"}}]})
    container = _deployment(head)["inputs"]["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [{"name": "FIRST", "value": "1"}, *container.get("env", [])]
    changes = [line for line in render_text(diff_plans(dev_json, head)).splitlines() if line.startswith("    ")]
    assert changes == [
        f"    spec.template.spec.containers[name={container['name']}].env[name=FIRST]: (absent) -> "
        '{"name": "FIRST", "value": "1"}',
        '    spec.egress[0]: (absent) -> {"to": [{"ipBlock": {"cidr": "10.9.0.0/16"}}]}',
    ]


def test_lists_pair_edited_items_and_report_reordering():
    before = {"rules": [{"port": 1}, {"port": 2}, {"port": 3}], "env": [{"name": "A"}, {"name": "B"}]}
    after = {"rules": [{"port": 1}, {"port": 20}, {"port": 3}], "env": [{"name": "B"}, {"name": "A"}]}
    assert [(c.path, c.before, c.after) for c in input_changes(before, after)] == [
        ("env(order)", ["A", "B"], ["B", "A"]), ("rules[1].port", 2, 20)]


def test_changes_under_ignore_changes_are_not_applied(dev_json):
    head = copy.deepcopy(dev_json)
    deployment = _deployment(head)
    deployment["ignoreChanges"] = ["spec.template.spec.containers[*].image"]
    base = copy.deepcopy(dev_json)
    _deployment(base)["ignoreChanges"] = deployment["ignoreChanges"]
    deployment["inputs"]["spec"]["template"]["spec"]["containers"][0]["image"] = "repo/other:2"
    assert diff_plans(base, head).empty
    deployment["inputs"]["spec"]["minReadySeconds"] = 5
    text = render_text(diff_plans(base, head))
    assert "spec.minReadySeconds: (absent) -> 5" in text and "(1 change(s) under ignoreChanges, not applied)" in text
    assert "repo/other" not in text


def test_property_paths_parse_like_the_engines():
    assert parse_property_path('metadata.annotations["konghq.com/plugins"]') == (
        "metadata", "annotations", "konghq.com/plugins")
    assert parse_property_path("spec.containers[0].env[*]") == ("spec", "containers", 0, "env", "*")


def test_deleting_a_protected_resource_is_called_out(dev_json):
    base = copy.deepcopy(dev_json)
    namespace = _resource(base, ":Namespace")
    namespace["protect"] = True
    head = copy.deepcopy(dev_json)
    head["resources"] = [r for r in head["resources"] if r["urn"] != namespace["urn"]]
    text = render_text(diff_plans(base, head))
    removal = f"- kubernetes:core/v1:Namespace {namespace['name']}\n    (protected: the engine refuses to delete it)"
    assert removal in text


PROGRAM = """
    import pulumi
    from components.kube import KubeObject
    app = pulumi.ComponentResource("test:index:App", "app")
    edge = pulumi.ComponentResource("test:index:Edge", "edge")
    KubeObject({name!r}, {{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {{"name": "settings"}},
                         "data": {{"a": "1"}}}}, pulumi.ResourceOptions(parent={parent}, aliases={aliases}))
    KubeObject("other", {{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {{"name": "other"}}}},
               pulumi.ResourceOptions(parent=app))
"""


def _program_plan(tmp_path: Path, label: str, name: str = "settings", parent: str = "app", aliases: str = "[]") -> dict:
    program = tmp_path / label
    program.mkdir()
    (program / "__main__.py").write_text(textwrap.dedent(PROGRAM.format(name=name, parent=parent, aliases=aliases)))
    return json.loads(json.dumps(run_program(program, "proj", "dev", {}).as_json()))


@pytest.mark.parametrize("change, expected", [
    ({"name": "config"}, ["+- kubernetes:core/v1:ConfigMap config",
                          "    name was settings; no alias covers the old URN"]),
    ({"parent": "edge"}, ["+- kubernetes:core/v1:ConfigMap settings",
                          "    parent was app; no alias covers the old URN"]),
    ({"name": "config", "aliases": '[pulumi.Alias(name="settings")]'},
     ["~ kubernetes:core/v1:ConfigMap config", "    name was settings: an alias carries it over (no replacement)"]),
    ({"parent": "edge", "aliases": "[pulumi.Alias(parent=app)]"},
     ["~ kubernetes:core/v1:ConfigMap settings", "    parent was app: an alias carries it over (no replacement)"]),
])
def test_renames_and_reparents_in_a_real_program(tmp_path, change, expected):
    """The URNs and aliases come from the mock engine, as they would from the real one."""
    lines = render_text(diff_plans(_program_plan(tmp_path, "base"), _program_plan(tmp_path, "head", **change)))
    assert lines.splitlines()[1:3] == expected
    assert ("1 to replace" in lines) == expected[0].startswith("+-")


def test_a_reparented_resource_outside_kubernetes_is_replaced_with_its_input_changes(tmp_path):
    def plan(label: str, parent: str, size: int) -> dict:
        program = tmp_path / label
        program.mkdir()
        (program / "__main__.py").write_text(textwrap.dedent(f"""
            import pulumi
            app = pulumi.ComponentResource("test:index:App", "app")
            edge = pulumi.ComponentResource("test:index:Edge", "edge")
            pulumi.CustomResource("test:index:Volume", "data", {{"size": {size}}},
                                  pulumi.ResourceOptions(parent={parent}))
        """))
        return json.loads(json.dumps(run_program(program, "proj", "dev", {}).as_json()))

    assert render_text(diff_plans(plan("base", "app", 1), plan("head", "edge", 2))).splitlines() == [
        "Plan diff for stack dev: 0 to add, 0 to change, 1 to replace, 0 to remove",
        "+- test:index:Volume data", "    parent was app; no alias covers the old URN", "    size: 1 -> 2"]


def test_identical_plans_have_no_changes(dev_json):
    diff = diff_plans(dev_json, copy.deepcopy(dev_json))
    assert diff.empty and render_markdown(diff) == "**`dev`**: no changes"


def test_added_removed_nested_and_output_changes(dev_json):
    head = copy.deepcopy(dev_json)
    removed = head["resources"].pop(next(i for i, r in enumerate(head["resources"]) if r["name"].endswith("-pdb")))
    extra = copy.deepcopy(_resource(head, ":ConfigMap"))
    extra.update(name="extra", urn=extra["urn"].rsplit("::", 1)[0] + "::extra", inputs={"data": {"A": "1"}})
    head["resources"].append(extra)
    container = _deployment(head)["inputs"]["spec"]["template"]["spec"]["containers"][0]
    old_image = container["image"]
    container["image"] = "ghcr.io/example/langgraph-app:0.2.0"
    head["outputs"]["gateway_hostname"] = "lb.example.com"
    text = render_text(diff_plans(dev_json, head))
    assert "Plan diff for stack dev: 1 to add, 1 to change, 1 to remove, 1 output(s) changed" in text
    assert f"- {removed['type']} {removed['name']}" in text
    assert "+ kubernetes:core/v1:ConfigMap extra" in text
    assert (f'spec.template.spec.containers[name={container["name"]}].image: "{old_image}" -> '
            '"ghcr.io/example/langgraph-app:0.2.0"') in text
    assert 'output gateway_hostname: null -> "lb.example.com"' in text


def test_markdown_is_a_summary_then_one_section_per_component(dev_json):
    head = copy.deepcopy(dev_json)
    _deployment(head)["inputs"]["spec"]["replicas"] = 9
    gateway = _resource(head, ":Gateway")
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
