"""The pins table is what the program installs, at exact versions, and Renovate sees every entry of it.

renovate.json is checked against Renovate's own schema (check-jsonschema's vendored copy) plus a
stricter rule the schema lacks (no undeclared keys: a misspelt option would otherwise pass), and its
regex managers are run here, in Python, over components/pins.py: an entry they miss fails the test.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import re
import subprocess
import sys
from collections import Counter
from fnmatch import fnmatchcase
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

import check_jsonschema
import pytest

from components import pins
from stackconfig import validate
from tools.mock_engine import Plan

from .conftest import ROOT, stack_values

RENOVATE = ROOT / "renovate.json"
PINS_PATH = "components/pins.py"
RENOVATE_SCHEMA = Path(check_jsonschema.__file__).parent / "builtin_schemas" / "vendor" / "renovate.json"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"
EXACT_VERSION = re.compile(r"^v?\d+(\.\d+)+(-[0-9A-Za-z.-]+)?$")
SHA_PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}\s+#\s*v\d")
# Venvs, npm installs and caches hold other projects' requirement files; .git holds none.
NOT_OURS = (".git", ".venv", ".venv-checkov", ".venv-langgraph-api", "node_modules", ".cache")


# --- running Renovate's regex managers in Python ---------------------------------------------------

def python_regex(renovate_regex: str) -> str:
    """Renovate writes named groups JavaScript-style, `(?<name>...)`; Python spells them `(?P<name>...)`."""
    return re.sub(r"\(\?<(?=[A-Za-z])", "(?P<", renovate_regex)


def matches_file(pattern: str, path: str) -> bool:
    """Renovate's managerFilePatterns: `/regex/` or a glob."""
    if len(pattern) > 1 and pattern.startswith("/") and pattern.endswith("/"):
        return re.search(python_regex(pattern[1:-1]), path) is not None
    return fnmatchcase(path, pattern)


def pin_managers(config: dict[str, Any]) -> list[dict[str, Any]]:
    return [manager for manager in config.get("customManagers", [])
            if any(matches_file(p, PINS_PATH) for p in manager.get("managerFilePatterns", []))]


def extracted(config: dict[str, Any], text: str) -> list[tuple]:
    """What the regex managers find in `text`: (datasource, depName, packageName, registryUrl, version, digest)."""
    found = []
    for manager in pin_managers(config):
        for match_string in manager["matchStrings"]:
            for match in re.finditer(python_regex(match_string), text):
                groups = match.groupdict()
                found.append((manager["datasourceTemplate"], groups["depName"], groups["packageName"],
                              groups.get("registryUrl"), groups["currentValue"], groups.get("currentDigest")))
    return found


def table_entries(module: ModuleType) -> list[tuple]:
    """The same tuples, from the tables the module defines."""
    entries = [("helm", key, c.name, c.repository, c.version, None) for key, c in module.CHARTS.items()]
    entries += [("docker", key, i.repository, None, i.tag, i.digest) for key, i in module.IMAGES.items()]
    for key, bundle in module.BUNDLES.items():
        repo = re.match(r"https://github\.com/([^/]+/[^/]+)/releases/download/", bundle.url_template)
        entries.append(("github-releases", key, repo.group(1) if repo else bundle.url_template, None,
                        bundle.version, None))
    return entries


def renovate_misses(config: dict[str, Any], text: str, module: ModuleType) -> list[str]:
    """Pins the managers do not extract exactly once with the table's values, and extractions that are no pin."""
    found, expected = Counter(extracted(config, text)), Counter(table_entries(module))
    return ([f"not seen by Renovate: {entry}" for entry in expected - found]
            + [f"extracted but not in the table: {entry}" for entry in found - expected])


def load_pins(text: str, tmp_path: Path) -> ModuleType:
    """Import a variant of components/pins.py written to `tmp_path`."""
    path = tmp_path / "pins_variant.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("pins_variant", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module while the class body runs
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def renovate_config() -> dict[str, Any]:
    return json.loads(RENOVATE.read_text())


def test_renovate_regex_managers_match_every_pin():
    config = renovate_config()
    assert {m["datasourceTemplate"] for m in pin_managers(config)} == {"helm", "docker", "github-releases"}
    text = (ROOT / PINS_PATH).read_text()
    assert renovate_misses(config, text, pins) == []
    assert len(extracted(config, text)) == len(pins.CHARTS) + len(pins.IMAGES) + len(pins.BUNDLES)


@pytest.mark.parametrize("table, line", [
    ("CHARTS", '    "extra": Chart(name="extra", repository="https://charts.example.com", version="1.0.0"),'),
    ("IMAGES", '    "extra": Image("ghcr.io/example/" + "extra", "1.0.0"),'),
    # A duplicate key: the dict literal silently keeps one of the two.
    ("CHARTS", '    "kong": Chart("kong", "https://charts.konghq.com", "3.4.0"),'),
    ("BUNDLES", '    "extra": Bundle("https://example.com/{version}/crds.yaml", "v1.0.0"),'),
])
def test_a_pin_renovate_cannot_see_fails(tmp_path, table, line):
    text = (ROOT / PINS_PATH).read_text()
    opening = text.index("{\n", text.index(f"{table}: dict")) + 2
    variant = text[:opening] + line + "\n" + text[opening:]
    misses = renovate_misses(renovate_config(), variant, load_pins(variant, tmp_path))
    assert misses, "the variant with an unmatched entry was not reported"
    assert all("'kong'" in miss or "'extra'" in miss for miss in misses), misses


# --- renovate.json against Renovate's schema -----------------------------------------------------

def check_renovate_schema(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.renovate", str(path)],
                          capture_output=True, text=True)


def test_renovate_json_passes_renovates_schema():
    result = check_renovate_schema(RENOVATE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_renovates_schema_rejects_a_malformed_manager(tmp_path):
    config = renovate_config()
    config["customManagers"][0]["matchStrings"] = "not a list"
    broken = tmp_path / "renovate.json"
    broken.write_text(json.dumps(config))
    result = check_renovate_schema(broken)
    assert result.returncode == 1 and "matchStrings" in result.stdout + result.stderr, result.stdout


def declared(schema: dict[str, Any], node: dict[str, Any]) -> set[str]:
    """Property names a schema node declares, through $ref, allOf and items (Renovate's schema nests all three)."""
    names = set(node.get("properties", {}))
    ref = node.get("$ref")
    if ref == "#":  # a manager's object takes every top-level option
        names |= set(schema["properties"])
    elif ref:
        names |= declared(schema, schema["definitions"][ref.rsplit("/", 1)[-1]])
    for part in node.get("allOf", []) + ([node["items"]] if isinstance(node.get("items"), dict) else []):
        names |= declared(schema, part)
    return names


def undeclared_keys(config: dict[str, Any]) -> list[str]:
    """Keys Renovate's schema does not declare (it allows any extra key, so a typo would be ignored)."""
    schema = json.loads(RENOVATE_SCHEMA.read_text())
    top = set(schema["properties"]) | {"$schema"}  # JSON Schema's own key, which editors use
    problems = [key for key in config if key not in top]
    for section in ("customManagers", "packageRules"):
        allowed = declared(schema, schema["definitions"][section])
        problems += [f"{section}[{i}].{key}" for i, item in enumerate(config.get(section, []))
                     for key in item if key not in allowed]
    for manager in ("pip_requirements", "npm", "github-actions"):
        allowed = declared(schema, schema["definitions"][manager])
        problems += [f"{manager}.{key}" for key in config.get(manager, {}) if key not in allowed]
    return problems


def test_renovate_json_uses_only_declared_options():
    assert undeclared_keys(renovate_config()) == []


def test_a_misspelt_renovate_option_is_caught():
    config = renovate_config()
    config["packageRules"][0]["matchDepName"] = ["kong"]
    config["customManager"] = []
    assert undeclared_keys(config) == ["customManager", "packageRules[0].matchDepName"]


def test_renovate_covers_every_requirements_file_and_pinned_action():
    config = renovate_config()
    assert {"pip_requirements", "npm", "github-actions", "custom.regex"} <= set(config["enabledManagers"])
    requirement_files = _requirement_files()
    assert "reference_app/requirements.txt" in requirement_files and "requirements.txt" in requirement_files
    patterns = config["pip_requirements"]["managerFilePatterns"]
    assert [f for f in requirement_files if not any(matches_file(p, f) for p in patterns)] == []
    # Renovate's github-actions manager updates a SHA pin and its version comment together.
    assert "helpers:pinGitHubActionDigests" in config["extends"]
    remote = [(path.name, ref) for path in sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
              for ref in _uses(path) if "@" in ref and not ref.startswith("./")]
    assert remote, "no remote action found in the workflows"
    assert [(name, ref) for name, ref in remote if not SHA_PINNED.match(ref)] == []


def _requirement_files() -> list[str]:
    """Every requirements*.txt of the repository, without descending into venvs or caches."""
    found = []
    for directory, subdirectories, files in os.walk(ROOT):
        subdirectories[:] = [d for d in subdirectories if d not in NOT_OURS]
        found += [(Path(directory) / f).relative_to(ROOT).as_posix() for f in files
                  if fnmatchcase(f, "requirements*.txt")]
    return found


def _uses(workflow: Path) -> Iterator[str]:
    """Every `uses:` value with its trailing comment (YAML parsing would drop the comment)."""
    for line in workflow.read_text().splitlines():
        match = re.match(r"^\s*(?:-\s+)?uses:\s*(.+?)\s*$", line)
        if match:
            yield match.group(1)


# --- the table itself, and the plan against it -----------------------------------------------------

def test_every_pin_is_an_exact_version():
    versions = {f"chart {k}": c.version for k, c in pins.CHARTS.items()}
    versions |= {f"image {k}": i.tag for k, i in pins.IMAGES.items()}
    versions |= {f"bundle {k}": b.version for k, b in pins.BUNDLES.items()}
    assert {name: v for name, v in versions.items() if not EXACT_VERSION.match(v)} == {}
    assert all(i.digest is None or re.fullmatch(r"sha256:[0-9a-f]{64}", i.digest) for i in pins.IMAGES.values())
    assert all("{version}" in b.url_template for b in pins.BUNDLES.values())


def _images(node: Any) -> Iterator[str]:
    """Every image reference in a resource's inputs: `image: ref` strings and `image: {repository, tag}` values."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "image" and isinstance(value, str):
                yield value
            elif key == "image" and isinstance(value, dict) and "repository" in value:
                ref = "/".join(filter(None, [value.get("registry"), value["repository"]])) + f":{value.get('tag')}"
                yield ref + (f"@{value['digest']}" if value.get("digest") else "")
            else:
                yield from _images(value)
    elif isinstance(node, list):
        for item in node:
            yield from _images(item)


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)
    elif isinstance(node, str):
        yield node


def off_the_table(plan: Plan) -> list[str]:
    """Charts, bundles and images the plan installs that the table does not pin (the app's image excepted)."""
    charts = {(c.name, c.repository, c.version) for c in pins.CHARTS.values()}
    bundles = {b.url for b in pins.BUNDLES.values()}
    problems = []
    for r in plan.resources:
        if r.type.startswith("kubernetes:helm.sh/"):
            chart = (r.inputs.get("chart"), r.inputs.get("repositoryOpts", {}).get("repo"), r.inputs.get("version"))
            if chart not in charts:
                problems.append(f"{r.name}: chart {chart}")
        elif r.type.startswith("kubernetes:yaml/") and r.inputs.get("file") not in bundles:
            problems.append(f"{r.name}: file {r.inputs.get('file')}")
    # Third-party images come from the table; our own images (the app's, the operations image) and any
    # override from the stack's config.
    config = validate(stack_values(plan.stack), plan.stack).config
    allowed = {i.ref for i in pins.IMAGES.values()} | {config.app.image, config.operations.image, config.redis.image}
    problems += [f"{r.name}: image {image}" for r in plan.resources if r.type.startswith("kubernetes:")
                 for image in _images(r.inputs) if image not in allowed]
    return problems


def test_plan_installs_exactly_the_pinned_charts_bundles_and_images(plan):
    assert any(r.type.startswith("kubernetes:helm.sh/") for r in plan.resources)
    assert any(r.type.startswith("kubernetes:yaml/") for r in plan.resources)
    assert len([image for r in plan.resources for image in _images(r.inputs)]) >= 3  # app, Kong, its controller
    assert off_the_table(plan) == []


def test_a_chart_or_image_off_the_table_is_caught(dev_plan):
    plan = copy.deepcopy(dev_plan)
    release = next(r for r in plan.resources
                   if r.type.startswith("kubernetes:helm.sh/") and r.inputs["chart"] == "kong")
    release.inputs["version"] = "0.0.1"
    release.inputs["values"]["image"]["tag"] = "0.0.2"
    problems = off_the_table(plan)
    assert len(problems) == 2 and "0.0.1" in problems[0] and problems[1].endswith("image kong:0.0.2"), problems
