"""Compare two `tools.plan --json` documents: resources added, removed and changed, and for the
changed ones every input path that differs. Secrets are already "[secret]" in both plans."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

_ABSENT = object()


@dataclass
class Change:
    path: str
    before: Any
    after: Any


@dataclass
class PlanDiff:
    stack: str
    added: list[dict] = field(default_factory=list)
    removed: list[dict] = field(default_factory=list)
    changed: list[tuple[dict, list[Change]]] = field(default_factory=list)
    outputs: list[Change] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.outputs)

    def summary(self) -> str:
        return (f"{len(self.added)} to add, {len(self.changed)} to change, {len(self.removed)} to remove"
                + (f", {len(self.outputs)} output(s) changed" if self.outputs else ""))


def _paths(before: Any, after: Any, path: str = "") -> list[Change]:
    """Every leaf path where `before` and `after` differ (maps by key, lists by index)."""
    if isinstance(before, dict) and isinstance(after, dict):
        changes = []
        for key in sorted(set(before) | set(after), key=str):
            sub = f"{path}.{key}" if path else str(key)
            changes += _paths(before.get(key, _ABSENT), after.get(key, _ABSENT), sub)
        return changes
    if isinstance(before, list) and isinstance(after, list):
        changes = []
        for index in range(max(len(before), len(after))):
            changes += _paths(before[index] if index < len(before) else _ABSENT,
                              after[index] if index < len(after) else _ABSENT, f"{path}[{index}]")
        return changes
    return [] if before == after else [Change(path, before, after)]


def diff_plans(base: dict, head: dict) -> PlanDiff:
    def keyed(plan: dict) -> dict[tuple[str, str], dict]:
        return {(r["type"], r["name"]): r for r in plan["resources"]}

    old, new = keyed(base), keyed(head)
    result = PlanDiff(stack=head.get("stack", base.get("stack", "?")))
    result.added = [new[k] for k in new if k not in old]
    result.removed = [old[k] for k in old if k not in new]
    for key in new.keys() & old.keys():
        changes = _paths(old[key]["inputs"], new[key]["inputs"])
        if old[key]["parent"] != new[key]["parent"]:
            changes.insert(0, Change("(parent)", old[key]["parent"], new[key]["parent"]))
        if changes:
            result.changed.append((new[key], changes))
    result.changed.sort(key=lambda item: item[0]["name"])
    result.outputs = _paths(base.get("outputs", {}), head.get("outputs", {}))
    return result


def _show(value: Any) -> str:
    return "(absent)" if value is _ABSENT else json.dumps(value, sort_keys=True)


def _resource_lines(diff: PlanDiff) -> list[tuple[str | None, list[str]]]:
    """(component, lines) for every added, removed and changed resource."""
    entries = [(r["parent"], [f"+ {r['type']} {r['name']}"]) for r in diff.added]
    entries += [(r["parent"], [f"- {r['type']} {r['name']}"]) for r in diff.removed]
    entries += [(r["parent"], [f"~ {r['type']} {r['name']}"]
                 + [f"    {c.path}: {_show(c.before)} -> {_show(c.after)}" for c in changes])
                for r, changes in diff.changed]
    return entries


def render_text(diff: PlanDiff) -> str:
    lines = [f"Plan diff for stack {diff.stack}: {diff.summary()}"]
    for _, entry in _resource_lines(diff):
        lines += entry
    lines += [f"  output {c.path}: {_show(c.before)} -> {_show(c.after)}" for c in diff.outputs]
    return "\n".join(lines)


def render_markdown(diff: PlanDiff) -> str:
    """A compact PR comment: a summary line, then one collapsible section per component."""
    if diff.empty:
        return f"**`{diff.stack}`**: no changes"
    by_component: dict[str, list[str]] = defaultdict(list)
    for component, entry in _resource_lines(diff):
        by_component[component or "(stack)"] += entry
    if diff.outputs:
        by_component["(outputs)"] += [f"~ {c.path}: {_show(c.before)} -> {_show(c.after)}" for c in diff.outputs]
    parts = [f"**`{diff.stack}`**: {diff.summary()}", ""]
    for component in sorted(by_component):
        body = "\n".join(by_component[component])
        count = sum(1 for line in by_component[component] if line[:1] in "+-~")
        parts += [f"<details><summary><code>{component}</code>: {count} change(s)</summary>", "",
                  "```diff", body, "```", "", "</details>"]
    return "\n".join(parts)
