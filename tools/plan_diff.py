"""Compare two `tools.plan --json` documents as the engine would act on them.

Resources are matched by URN, or by a head alias that names a base URN (a rename the alias
carries over). A URN that changes without an alias (rename, reparent, new type token) is a
replacement: the engine creates the new resource and deletes the old one, which for a Kubernetes
object of the same name deletes the object itself. Options the engine acts on (protect,
retainOnDelete, deleteBeforeReplace, ignoreChanges, provider, dependencies) are compared too,
and input changes under the head's ignoreChanges are not applied, so they are counted apart.

Lists are compared by identity: items keyed by `name` when every item has a unique one, others
aligned by difflib's longest matching blocks, so inserting one item is one change.
Secrets are already "[secret]" in both plans.
"""

from __future__ import annotations

import difflib
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

_ABSENT: Any = object()
_IDENTIFIER = re.compile(r"[A-Za-z_$][\w$-]*")
_PATH_TOKEN = re.compile(r'\.?([^.\[\]"]+)|\["((?:[^"\\]|\\.)*)"\]|\[(\d+|\*)\]')
_FLAGS = ("parent", "protect", "retainOnDelete", "deleteBeforeReplace", "provider")


@dataclass
class Change:
    path: str
    before: Any
    after: Any
    ignored: bool = False
    """Under the head's ignoreChanges: the engine does not apply it."""


@dataclass
class Update:
    resource: dict
    changes: list[Change]
    ignored: int = 0
    renamed_from: dict | None = None
    """The base resource, when an alias carries this one over from it."""


@dataclass
class Replacement:
    base: dict
    head: dict
    changes: list[Change]


@dataclass
class PlanDiff:
    stack: str
    added: list[dict] = field(default_factory=list)
    removed: list[dict] = field(default_factory=list)
    changed: list[Update] = field(default_factory=list)
    replaced: list[Replacement] = field(default_factory=list)
    outputs: list[Change] = field(default_factory=list)
    reads_added: list[dict] = field(default_factory=list)
    reads_removed: list[dict] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.replaced or self.outputs
                    or self.reads_added or self.reads_removed)

    def summary(self) -> str:
        replace = f"{len(self.replaced)} to replace, " if self.replaced else ""
        return (f"{len(self.added)} to add, {len(self.changed)} to change, {replace}{len(self.removed)} to remove"
                + (f", {len(self.outputs)} output(s) changed" if self.outputs else ""))


# --- values ----------------------------------------------------------------------------------------

def _canon(value: Any) -> str:
    """Identity of a JSON value (1, 1.0 and true differ)."""
    return json.dumps(value, sort_keys=True)


def _join(path: str, key: str) -> str:
    if _IDENTIFIER.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


def parse_property_path(path: str) -> tuple[Any, ...]:
    """`spec.containers[0]["a.b"]` -> ("spec", "containers", 0, "a.b"); `*` and `[*]` match anything."""
    segments: list[Any] = []
    for plain, quoted, index in _PATH_TOKEN.findall(path):
        if index:
            segments.append("*" if index == "*" else int(index))
        else:
            segments.append(plain or json.loads(f'"{quoted}"'))
    return tuple(segments)


def _step(ignore: list[tuple], segment: Any) -> list[tuple]:
    return [p[1:] for p in ignore if p and p[0] in (segment, "*")]


def _names(items: list) -> list[str] | None:
    """Each item's `name` when every item is a map with a unique string name."""
    names = [item.get("name") if isinstance(item, dict) else None for item in items]
    if all(isinstance(n, str) for n in names) and len(set(names)) == len(names):
        return names
    return None


def _diff(before: Any, after: Any, path: str, ignore: list[tuple], out: list[Change]) -> None:
    if before is _ABSENT and after is _ABSENT:
        return
    if any(not pattern for pattern in ignore):
        if before is _ABSENT or after is _ABSENT or _canon(before) != _canon(after):
            out.append(Change(path, before, after, ignored=True))
    elif isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after), key=str):
            _diff(before.get(key, _ABSENT), after.get(key, _ABSENT), _join(path, key), _step(ignore, key), out)
    elif isinstance(before, list) and isinstance(after, list):
        _diff_lists(before, after, path, ignore, out)
    elif before is _ABSENT or after is _ABSENT or _canon(before) != _canon(after):
        out.append(Change(path, before, after))


def _diff_lists(before: list, after: list, path: str, ignore: list[tuple], out: list[Change]) -> None:
    old_names, new_names = _names(before), _names(after)
    if old_names is not None and new_names is not None:
        old_at = {n: i for i, n in enumerate(old_names)}
        new_at = {n: i for i, n in enumerate(new_names)}
        for name in new_names + [n for n in old_names if n not in new_at]:
            index = new_at.get(name, old_at.get(name))
            _diff(before[old_at[name]] if name in old_at else _ABSENT,
                  after[new_at[name]] if name in new_at else _ABSENT,
                  f"{path}[name={name}]", _step(ignore, index), out)
        kept_old = [n for n in old_names if n in new_at]
        kept_new = [n for n in new_names if n in old_at]
        if kept_old != kept_new:
            out.append(Change(f"{path}(order)", kept_old, kept_new))
        return
    matcher = difflib.SequenceMatcher(None, [_canon(x) for x in before], [_canon(x) for x in after], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        paired = min(i2 - i1, j2 - j1)
        for k in range(paired):  # replaced in place: show what changed inside
            _diff(before[i1 + k], after[j1 + k], f"{path}[{j1 + k}]", _step(ignore, j1 + k), out)
        for i in range(i1 + paired, i2):  # removed: its index in the base
            _diff(before[i], _ABSENT, f"{path}[{i}]", _step(ignore, i), out)
        for j in range(j1 + paired, j2):
            _diff(_ABSENT, after[j], f"{path}[{j}]", _step(ignore, j), out)


def input_changes(before: Any, after: Any, ignore_changes: Sequence[str] = ()) -> list[Change]:
    """Every path where `before` and `after` differ; those under `ignore_changes` marked ignored."""
    out: list[Change] = []
    _diff(before, after, "", [parse_property_path(p) for p in ignore_changes], out)
    return out


# --- resources -------------------------------------------------------------------------------------

def _urn_name(urn: str) -> str:
    return urn.split("::", 3)[3]


def _option_changes(old: dict, new: dict, moved: bool = False) -> list[Change]:
    """Changed options; when the resource `moved` (its URN changed) its parent is told apart."""
    changes = [Change(f"({key})", old.get(key), new.get(key)) for key in _FLAGS
               if old.get(key) != new.get(key) and not (moved and key == "parent")]
    if sorted(old.get("ignoreChanges", [])) != sorted(new.get("ignoreChanges", [])):
        changes.append(Change("(ignoreChanges)", old.get("ignoreChanges", []), new.get("ignoreChanges", [])))
    old_deps, new_deps = set(old.get("dependencies", [])), set(new.get("dependencies", []))
    changes += [Change("(dependsOn)", _urn_name(u), _ABSENT) for u in sorted(old_deps - new_deps)]
    changes += [Change("(dependsOn)", _ABSENT, _urn_name(u)) for u in sorted(new_deps - old_deps)]
    return changes


def _kube_identity(resource: dict) -> tuple | None:
    """The cluster object a resource stands for: API group, kind, namespace, name."""
    token = resource["type"]
    metadata = (resource.get("inputs") or {}).get("metadata")
    if not token.startswith("kubernetes:") or not isinstance(metadata, dict) or "name" not in metadata:
        return None
    group_version, kind = token.split(":")[1:]
    return group_version.split("/")[0], kind, metadata.get("namespace"), metadata["name"]


# How a deleted and a created resource are recognised as one replaced resource, surest first.
_SAME: tuple[Callable[[dict, dict], bool], ...] = (
    lambda old, new: (old["type"], old["name"]) == (new["type"], new["name"]),  # reparented
    lambda old, new: _kube_identity(old) is not None and _kube_identity(old) == _kube_identity(new),
    lambda old, new: old["type"] == new["type"] and _canon(old["inputs"]) == _canon(new["inputs"]),  # renamed
)


def _pair_replacements(created: list[dict], deleted: list[dict]) -> list[tuple[dict, dict]]:
    pairs = []
    for same in _SAME:
        for new in list(created):
            old = next((o for o in deleted if same(o, new)), None)
            if old is not None:
                pairs.append((old, new))
                created.remove(new)
                deleted.remove(old)
    return pairs


def diff_plans(base: dict, head: dict) -> PlanDiff:
    old = {r["urn"]: r for r in base["resources"]}
    new = {r["urn"]: r for r in head["resources"]}
    result = PlanDiff(stack=head.get("stack", base.get("stack", "?")))
    matched: set[str] = set()
    created = []
    for urn, resource in new.items():
        renamed_from = None
        if urn not in old:
            renamed_from = next((a for a in resource.get("aliases", []) if a in old and a not in new), None)
            if renamed_from is None:
                created.append(resource)
                continue
        before = old[renamed_from or urn]
        matched.add(before["urn"])
        changes = _option_changes(before, resource, moved=bool(renamed_from)) + input_changes(
            before["inputs"], resource["inputs"], resource.get("ignoreChanges", []))
        applied = [c for c in changes if not c.ignored]
        if applied or renamed_from:
            result.changed.append(Update(resource, applied, len(changes) - len(applied),
                                         before if renamed_from else None))
    deleted = [r for urn, r in old.items() if urn not in new and urn not in matched]
    for before, after in _pair_replacements(created, deleted):
        changes = _option_changes(before, after, moved=True) + input_changes(before["inputs"], after["inputs"])
        result.replaced.append(Replacement(before, after, changes))
    result.added, result.removed = created, deleted
    result.changed.sort(key=lambda u: u.resource["name"])
    result.replaced.sort(key=lambda r: r.head["name"])
    result.outputs = input_changes(base.get("outputs", {}), head.get("outputs", {}))
    old_reads = {r["urn"]: r for r in base.get("reads", [])}
    new_reads = {r["urn"]: r for r in head.get("reads", [])}
    result.reads_added = [r for u, r in new_reads.items() if u not in old_reads or old_reads[u]["id"] != r["id"]]
    result.reads_removed = [r for u, r in old_reads.items() if u not in new_reads]
    return result


# --- rendering -------------------------------------------------------------------------------------

def _show(value: Any) -> str:
    return "(absent)" if value is _ABSENT else json.dumps(value, sort_keys=True)


def _change_lines(changes: list[Change]) -> list[str]:
    return [f"    {c.path}: {_show(c.before)} -> {_show(c.after)}" for c in changes]


def _moves(old: dict, new: dict) -> str:
    """What about a resource's identity changed: its name, type token or parent."""
    moves = [f"{what} was {before}" for what, before, after in (
        ("name", old["name"], new["name"]), ("type", old["type"], new["type"]),
        ("parent", old["parent"] or "(stack)", new["parent"] or "(stack)")) if before != after]
    return ", ".join(moves) or "URN changed"


def _replaced_lines(item: Replacement) -> list[str]:
    old, new = item.base, item.head
    order = " (delete before replace)" if new.get("deleteBeforeReplace") else ""
    lines = [f"+- {new['type']} {new['name']}{order}", f"    {_moves(old, new)}; no alias covers the old URN"]
    if _kube_identity(old) is not None and _kube_identity(old) == _kube_identity(new) and not order:
        lines.append("    (one Kubernetes object: deleting the old resource after creating the new one deletes it)")
    return lines + _delete_notes(old) + _change_lines(item.changes)


def _delete_notes(resource: dict) -> list[str]:
    notes = []
    if resource.get("protect"):
        notes.append("    (protected: the engine refuses to delete it)")
    if resource.get("retainOnDelete"):
        notes.append("    (retainOnDelete: it leaves the stack but is not deleted)")
    return notes


def _resource_lines(diff: PlanDiff) -> list[tuple[str | None, list[str]]]:
    """(component, lines) for every added, removed, replaced, changed and read resource."""
    entries = [(r["parent"], [f"+ {r['type']} {r['name']}"]) for r in diff.added]
    entries += [(r["parent"], [f"- {r['type']} {r['name']}", *_delete_notes(r)]) for r in diff.removed]
    entries += [(item.head["parent"], _replaced_lines(item)) for item in diff.replaced]
    for update in diff.changed:
        r = update.resource
        lines = [f"~ {r['type']} {r['name']}"]
        if update.renamed_from:
            lines.append(f"    {_moves(update.renamed_from, r)}: an alias carries it over (no replacement)")
        lines += _change_lines(update.changes)
        if update.ignored:
            lines.append(f"    ({update.ignored} change(s) under ignoreChanges, not applied)")
        entries.append((r["parent"], lines))
    entries += [(r["parent"], [f"> read {r['type']} {r['name']} ({r['id']})"]) for r in diff.reads_added]
    entries += [(r["parent"], [f"> no longer read: {r['type']} {r['name']}"]) for r in diff.reads_removed]
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
        count = sum(1 for line in by_component[component] if line[:1] in "+-~>")
        parts += [f"<details><summary><code>{component}</code>: {count} change(s)</summary>", "",
                  "```diff", body, "```", "", "</details>"]
    return "\n".join(parts)
