"""Read `Pulumi.<stack>.yaml` into the flat config map the Pulumi engine hands a program.

The file is untrusted input (a pull request can change it, and CI posts our stderr to the PR), so
reading it is bounded and strict, and every error names keys and lines, never values:

- at most `MAX_BYTES` and `MAX_DEPTH` levels, walked from the parser's event stream (no recursion,
  no alias expansion), so no file makes the reader hang or exhaust memory;
- aliases (`*name`) and merge keys (`<<`) are refused: `pulumi config set` never writes them, an
  alias bomb is a few lines, and a value reachable under two keys has no single key to blame;
- keys must be strings and appear once per map (PyYAML keeps the last duplicate silently);
- values must be JSON values: YAML timestamps, `!!binary`, `!!set`, `!!omap` and custom tags are
  refused (quote the value, or tag it `!!str`). Non-finite floats pass as JSON `Infinity`/`NaN`,
  which the config model parses and refuses.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.resolver import Resolver

SECRET_PLACEHOLDER = "[secret]"
MAX_BYTES = 128 * 1024
"""A stack file holds settings and ciphertexts: a few KB. The bound keeps parsing under a second."""
MAX_DEPTH = 32
"""Maps and lists nested deeper than any config section needs."""

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_TAG + name for name in ("str", "int", "float", "bool", "null")}
_KINDS = {_TAG + "int": "a number", _TAG + "float": "a number", _TAG + "bool": "a boolean",
          _TAG + "null": "null", _TAG + "merge": "a merge key (<<)"}
_Parser = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class StackFileError(ValueError):
    """The stack file cannot be used; the message names the key, never the value."""


def _tag_name(tag: str) -> str:
    return "!!" + tag[len(_TAG):] if tag.startswith(_TAG) else tag[:40]


def _line(event: yaml.Event) -> int:
    return event.start_mark.line + 1


class _Frame:
    """A map or list being built, with its key path and, in a map, the key whose value comes next."""

    def __init__(self, value: dict | list, path: tuple):
        self.value, self.path = value, path
        self.key: str | None = None


class _Reader:
    """Builds the document from parser events with an explicit stack."""

    def __init__(self, origin: str, project: str):
        self.origin, self.project = origin, project
        self.resolver, self.constructor = Resolver(), SafeConstructor()

    def fail(self, event: yaml.Event, message: str) -> StackFileError:
        return StackFileError(f"{self.origin}: line {_line(event)}: {message}")

    def dotted(self, path: tuple) -> str:
        """`config.<key>.a.0` -> `project:key.a.0`, the name the config model uses."""
        if len(path) >= 2 and path[0] == "config":
            head = path[1] if ":" in path[1] else f"{self.project}:{path[1]}"
            return ".".join([head, *map(str, path[2:])])
        return ".".join(map(str, path)) or "(document)"

    def read(self, text: str) -> Any:
        stack: list[_Frame] = []
        document: Any = None
        documents = 0
        for event in yaml.parse(text, Loader=_Parser):
            kind = type(event)
            if kind is yaml.ScalarEvent or kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent \
                    or kind is yaml.AliasEvent:
                top = stack[-1] if stack else None
                if top is not None and top.key is None and type(top.value) is dict:
                    top.key = self.key(event, top)
                    continue
                if kind is yaml.ScalarEvent:
                    value: Any = self.scalar(event, top)
                else:
                    value = self.collection(event, top, len(stack))
                    stack.append(_Frame(value, self.child_path(top)))
                if top is None:
                    document = value
                elif type(top.value) is dict:
                    top.value[top.key] = value
                    top.key = None
                else:
                    top.value.append(value)
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                stack.pop()
            elif kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise self.fail(event, "holds more than one YAML document")
        return document

    def child_path(self, top: _Frame | None) -> tuple:
        """Path of the value that comes next in `top` (computed only for maps, lists and errors)."""
        if top is None:
            return ()
        return top.path + ((top.key,) if type(top.value) is dict else (len(top.value),))

    def key(self, event: yaml.Event, frame: _Frame) -> str:
        where = self.dotted(frame.path)
        if isinstance(event, yaml.AliasEvent):
            raise self.fail(event, f"a key under {where} is a YAML alias (*{event.anchor}); write the key out")
        if not isinstance(event, yaml.ScalarEvent):
            raise self.fail(event, f"a key under {where} is a map or list; keys must be strings")
        tag = self.scalar_tag(event)
        shown = event.value if len(event.value) <= 60 else event.value[:57] + "..."
        if tag != _TAG + "str":
            kind = _KINDS.get(tag, _tag_name(tag))
            raise self.fail(event, f"key {shown!r} under {where} is read as {kind}, not a string; quote it")
        if event.value == "":
            raise self.fail(event, f"an empty key under {where}")
        forms = {event.value}
        if frame.path == ("config",):
            # `edge` and `<project>:edge` are the same config key.
            prefix = f"{self.project}:"
            forms.add(event.value.removeprefix(prefix) if event.value.startswith(prefix) else
                      event.value if ":" in event.value else prefix + event.value)
        if any(form in frame.value for form in forms):
            raise self.fail(event, f"duplicate key {self.dotted(frame.path + (event.value,))}: YAML would keep "
                                   "only the last one; remove the other")
        return event.value

    def scalar_tag(self, event: yaml.ScalarEvent) -> str:
        if event.tag is None or event.tag == "!":
            return self.resolver.resolve(ScalarNode, event.value, event.implicit)
        return event.tag

    def scalar(self, event: yaml.ScalarEvent, top: _Frame | None) -> Any:
        tag = self.scalar_tag(event)
        if tag not in _SCALAR_TAGS:
            raise self.fail(event, f"{self.dotted(self.child_path(top))} is a YAML {_tag_name(tag)} value, which "
                                   "has no JSON form; quote it (or tag it !!str) to pass a string")
        node = ScalarNode(tag, event.value, event.start_mark, event.end_mark)
        try:
            # The tag's own constructor, not construct_object, which caches every node it sees.
            return self.constructor.yaml_constructors[tag](self.constructor, node)
        except (ConstructorError, ValueError):
            # e.g. an integer longer than Python converts (4300 digits)
            where = self.dotted(self.child_path(top))
            raise self.fail(event, f"{where} is not a valid {_tag_name(tag)} value") from None

    def collection(self, event: yaml.Event, top: _Frame | None, depth: int) -> dict | list:
        path = self.child_path(top)
        if isinstance(event, yaml.AliasEvent):
            raise self.fail(event, f"{self.dotted(path)} is a YAML alias (*{event.anchor}); aliases are "
                                   "not supported in stack files: write the value out")
        if depth >= MAX_DEPTH:
            raise self.fail(event, f"{self.dotted(path)} is nested more than {MAX_DEPTH} levels deep")
        is_map = isinstance(event, yaml.MappingStartEvent)
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.resolver.resolve(MappingNode if is_map else SequenceNode, None, event.implicit)
        if tag != _TAG + ("map" if is_map else "seq"):
            raise self.fail(event, f"{self.dotted(path)} is a YAML {_tag_name(tag)} value, which has no JSON "
                                   "form; write a plain map or list")
        return {} if is_map else []


def _read_bounded(path: Path) -> str:
    with open(path, "rb") as handle:
        data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise StackFileError(f"{path}: larger than {MAX_BYTES // 1024} KiB; a stack file holds settings only")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise StackFileError(f"{path}: not UTF-8 text (byte {error.start})") from None


def read_document(path: Path, project: str) -> dict[str, Any]:
    """A Pulumi YAML file (stack or project) as plain JSON values; StackFileError naming the key
    when it cannot be. `project` qualifies the keys under `config:` in messages."""
    path = Path(path)
    reader = _Reader(str(path), project)
    try:
        document = reader.read(_read_bounded(path))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        # The problem text, not str(error): that quotes the offending line, which may hold a secret.
        raise StackFileError(f"{path}: {where}invalid YAML: {error.problem or error.context}") from None
    except yaml.YAMLError:
        raise StackFileError(f"{path}: invalid YAML (a control character or a broken encoding)") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise StackFileError(f"{path}: must be a map with a `config` key")
    return document


def _is_secure(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and "secure" in value


def _decrypt_placeholder(value: Any) -> tuple[Any, bool]:
    """`value` with every `secure:` value as a placeholder (ciphertext needs the stack's secrets
    provider; offline every secret reads as one), and whether there was any."""
    if _is_secure(value):
        return SECRET_PLACEHOLDER, True
    if isinstance(value, dict):
        pairs = {k: _decrypt_placeholder(v) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(secure for _, secure in pairs.values())
    if isinstance(value, list):
        items = [_decrypt_placeholder(v) for v in value]
        return [v for v, _ in items], any(secure for _, secure in items)
    return value, False


def _as_config_string(value: Any) -> str:
    """The string the engine hands the program: objects and numbers as JSON (so non-finite
    floats arrive as Infinity/NaN, which json.loads reads back), null as empty."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value)


def load_stack_file(path: Path, project: str) -> tuple[dict[str, str], list[str]]:
    """The config map (`project:key` -> string, objects as JSON) and the keys that are secret.

    A top-level key is secret when a `secure:` value appears anywhere inside it, as Pulumi
    marks it; its other values are then secret too."""
    document = read_document(path, project)
    entries = document.get("config")
    if entries is None:
        return {}, []
    if not isinstance(entries, dict):
        raise StackFileError(f"{path}: `config` must be a map")
    config, secret_keys = {}, []
    for key, value in entries.items():
        full_key = key if ":" in key else f"{project}:{key}"
        plain, secure = _decrypt_placeholder(value)
        if secure:
            secret_keys.append(full_key)
        config[full_key] = _as_config_string(plain)
    return config, secret_keys
