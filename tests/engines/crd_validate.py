"""Validate custom objects against the openAPIV3Schema of the CRD release we install, strictly.

The CRD's structural schema is translated keyword by keyword into JSON Schema 2020-12 and checked
with `jsonschema`, after applying the schema's defaults as the API server does:

- unknown fields are rejected (the API server's strict field validation) except under
  `x-kubernetes-preserve-unknown-fields: true`; value-only branches (allOf/anyOf/oneOf/not) never
  reject fields, as in Kubernetes, where only the structural part of a schema decides what is kept;
- `x-kubernetes-int-or-string` accepts an integer or a string and nothing else;
- `x-kubernetes-list-type: set` rejects duplicate items, `map` duplicate `x-kubernetes-list-map-keys`;
- `metadata` is checked against Kubernetes' ObjectMeta (strict) plus the CRD's own name rules, and a
  cluster-scoped kind must carry no namespace;
- types, required fields, enums, patterns and numeric/length/size bounds are checked.

Not checked: CEL rules (`x-kubernetes-validations`: no CEL evaluator with Kubernetes' libraries is
available in Python here), `format` (date-time, int32, ...), and anything admission webhooks or
controllers decide. A schema keyword outside the list this module translates raises, so a CRD
that starts using one cannot be half-checked silently.
"""

from __future__ import annotations

import copy
import functools
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import kubernetes_validate
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource

from .crd_fetch import load_sources
from .crd_sources import CrdSource

# The cluster minor the stacks pin (stackconfig kubernetes.version) and test_manifests validates against:
# its built-in kinds are kubernetes-validate's business, every other apiVersion/kind needs a CRD here.
KUBERNETES_VERSION = "1.31.0"
_DEFINITIONS = (Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
                / f"v{KUBERNETES_VERSION}-local-strict" / "_definitions.json")
_OBJECT_META = "https://kubernetes.io/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

_COPIED = ("required", "enum", "pattern", "minLength", "maxLength", "minimum", "maximum",
           "minItems", "maxItems", "maxProperties")
_NOT_CHECKED = ("description", "format", "x-kubernetes-map-type", "x-kubernetes-validations")
_TRANSLATED = ("type", "properties", "items", "additionalProperties", "allOf", "anyOf", "oneOf", "not", "default",
               "x-kubernetes-int-or-string", "x-kubernetes-preserve-unknown-fields",
               "x-kubernetes-list-type", "x-kubernetes-list-map-keys")
_KNOWN = frozenset(_COPIED + _NOT_CHECKED + _TRANSLATED)


class UnsupportedSchema(ValueError):
    """The CRD schema uses a keyword this translator does not implement."""


class NoSchema(LookupError):
    """No CRD source covers this apiVersion/kind."""


def to_json_schema(schema: dict[str, Any], structural: bool = True, where: str = "") -> dict[str, Any]:
    """JSON Schema 2020-12 for one OpenAPI v3 structural schema node (`structural`: decides pruning)."""
    unknown = set(schema) - _KNOWN
    if unknown:
        raise UnsupportedSchema(f"{where or '/'}: schema keywords {sorted(unknown)} are not translated")
    out: dict[str, Any] = {key: schema[key] for key in _COPIED if key in schema}
    if schema.get("x-kubernetes-int-or-string"):
        out["type"] = ["integer", "string"]
    elif "type" in schema:
        out["type"] = schema["type"]
    if "properties" in schema:
        out["properties"] = {name: to_json_schema(sub, structural, f"{where}/{name}")
                             for name, sub in schema["properties"].items()}
    if isinstance(schema.get("items"), dict):
        out["items"] = to_json_schema(schema["items"], structural, f"{where}/[]")
    additional = schema.get("additionalProperties")
    if isinstance(additional, dict):
        out["additionalProperties"] = to_json_schema(additional, structural, f"{where}/*")
    elif isinstance(additional, bool):
        out["additionalProperties"] = additional
    elif (structural and schema.get("type") == "object"
          and schema.get("x-kubernetes-preserve-unknown-fields") is not True):
        out["additionalProperties"] = False  # the API server's strict field validation rejects anything else
    for junctor in ("allOf", "anyOf", "oneOf"):
        if junctor in schema:
            out[junctor] = [to_json_schema(sub, False, f"{where}/{junctor}") for sub in schema[junctor]]
    if "not" in schema:
        out["not"] = to_json_schema(schema["not"], False, f"{where}/not")
    list_type = schema.get("x-kubernetes-list-type")
    if list_type == "set":
        out["uniqueItems"] = True
    elif list_type == "map":
        out["x-kubernetes-list-map-keys"] = schema["x-kubernetes-list-map-keys"]
    return out


def apply_defaults(schema: dict[str, Any], value: Any) -> None:
    """Fill missing fields with the schema's defaults in place, top-down, as the API server does before validating."""
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for name, sub in properties.items():
            if name not in value and "default" in sub:
                value[name] = copy.deepcopy(sub["default"])
        additional = schema.get("additionalProperties")
        for name, item in value.items():
            if name in properties:
                apply_defaults(properties[name], item)
            elif isinstance(additional, dict):
                apply_defaults(additional, item)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            apply_defaults(schema["items"], item)


def _unique_map_keys(validator, keys: list[str], instance: Any, schema: dict) -> Iterator[ValidationError]:
    """`x-kubernetes-list-type: map`: no two items may share the values of the map keys."""
    if not validator.is_type(instance, "array"):
        return
    seen: dict[str, int] = {}
    for index, item in enumerate(instance):
        if isinstance(item, dict):
            key = json.dumps([item.get(k) for k in keys])
            if key in seen:
                yield ValidationError(f"items {seen[key]} and {index} have the same {'/'.join(keys)} {key}")
            seen[key] = index


_Validator = jsonschema.validators.extend(jsonschema.Draft202012Validator,
                                          {"x-kubernetes-list-map-keys": _unique_map_keys})


@dataclass(frozen=True)
class CrdVersion:
    """One served version of one CRD, from one source."""

    source: CrdSource
    module_version: str
    crd: dict[str, Any]
    version: dict[str, Any]

    @cached_property
    def validator(self) -> jsonschema.protocols.Validator:
        schema = to_json_schema(self.version["schema"])
        own_metadata = self.version["schema"].get("properties", {}).get("metadata", {})
        schema["properties"]["metadata"] = {"allOf": [{"$ref": _OBJECT_META}, to_json_schema(own_metadata, False)]}
        return _Validator(schema, registry=_registry())


class CrdCatalog:
    """Every CRD of the given sources, by (group, version, kind)."""

    def __init__(self, sources: tuple[CrdSource, ...], cache_dir: Path, go: str | None = None):
        self.by_gvk: dict[tuple[str, str, str], CrdVersion] = {}
        self.owners: dict[tuple[str, str], list[str]] = {}
        entries = load_sources(sources, cache_dir, go)
        for source in sources:
            entry = entries[source.pin]
            for crd in entry["crds"]:
                self.owners.setdefault((crd["group"], crd["kind"]), []).append(source.pin)
                for version in crd["versions"]:
                    if version["served"]:
                        key = (crd["group"], version["name"], crd["kind"])
                        self.by_gvk[key] = CrdVersion(source, entry["version"], crd, version)

    def lookup(self, api_version: str, kind: str) -> CrdVersion:
        group, _, version = api_version.rpartition("/")
        found = self.by_gvk.get((group, version, kind))
        if found is None:
            served = sorted(v for g, v, k in self.by_gvk if (g, k) == (group, kind))
            raise NoSchema(f"{api_version} {kind}: " + (
                f"the installed CRD serves {', '.join(served)} only" if served else
                "no CRD source covers it: add the chart or bundle that installs it to components/pins.py "
                "and its Go module to tests/engines/crd_sources.py"))
        return found

    def validate(self, obj: dict[str, Any]) -> list[str]:
        """Every violation in `obj`, one line each ("path: message"); empty when it is valid."""
        crd_version = self.lookup(obj.get("apiVersion", ""), obj.get("kind", ""))
        defaulted = copy.deepcopy(obj)
        apply_defaults(crd_version.version["schema"], defaulted)
        errors = [f"/{'/'.join(map(str, e.absolute_path))}: {_short(e.message)}"
                  for e in crd_version.validator.iter_errors(defaulted)]
        if crd_version.crd["scope"] == "Cluster" and obj.get("metadata", {}).get("namespace"):
            errors.append(f"/metadata/namespace: {obj['kind']} is cluster-scoped")
        return sorted(errors)


def is_built_in(api_version: str, kind: str) -> bool:
    """Whether Kubernetes itself serves this apiVersion/kind (per kubernetes-validate's schemas)."""
    group, _, version = api_version.rpartition("/")
    return (group, version, kind) in _built_in_kinds()


def _short(message: str, limit: int = 300) -> str:
    return message if len(message) <= limit else message[:limit] + "..."


@functools.cache
def _definitions() -> dict[str, Any]:
    return json.loads(_DEFINITIONS.read_text())


@functools.cache
def _registry() -> Registry:
    return Registry().with_resource(_definitions()["$id"], Resource.from_contents(_definitions()))


@functools.cache
def _built_in_kinds() -> frozenset[tuple[str, str, str]]:
    return frozenset((gvk["group"], gvk["version"], gvk["kind"])
                     for definition in _definitions()["$defs"].values()
                     for gvk in definition.get("x-kubernetes-group-version-kind", []))

