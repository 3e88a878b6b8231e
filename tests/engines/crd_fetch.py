"""Fetch CRD sources' CustomResourceDefinitions from the Go module proxy, cached as JSON in the repo.

One `go mod download -json module@version ...` fetches the missing modules' zips (verified against the checksum
database, or against a recorded `h1:` hash where the database does not list the module) into a
throw-away module cache; the CRDs are read from the zip, kustomize patches applied, and only what
validation needs (group, kind, scope, each version's openAPIV3Schema) is written to
`.cache/crd-schemas/` (git-ignored), so later runs make no network call and do not need `go`.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import os
import posixpath
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import yaml

from .crd_sources import CrdSource

CACHE_FORMAT = 1


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe loader (C-accelerated: the CRD files are megabytes) that reads a bare `=` as the string it is.

    YAML 1.1 gives `=` the `value` tag, which PyYAML has no constructor for; prometheus-operator's
    AlertmanagerConfig `matchType` enum lists a bare `=`.
    """


_Loader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))
# Kustomization keys that change nothing in a CRD's schema (configurations only teach kustomize name references).
_INERT_KUSTOMIZE_KEYS = {"apiVersion", "kind", "resources", "patches", "patchesJson6902", "configurations",
                         "commonLabels", "commonAnnotations", "labels"}


class CrdFetchError(RuntimeError):
    """The module could not be fetched, verified or read."""


def cache_path(cache_dir: Path, source: CrdSource) -> Path:
    return cache_dir / f"{source.module.replace('/', '_')}@{source.module_version}.json"


def load_sources(sources: tuple[CrdSource, ...] | list[CrdSource], cache_dir: Path,
                 go: str | None = None) -> dict[str, dict[str, Any]]:
    """pin -> {"module", "version", "paths", "crds": [...]}: from the cache, else fetched (all in one `go` call)."""
    entries = {source.pin: _cached(source, cache_dir) for source in sources}
    missing = [source for source in sources if entries[source.pin] is None]
    if missing:
        go = go or shutil.which("go")
        if go is None:
            raise CrdFetchError("`go` is not on PATH: it downloads CRD sources from the Go module proxy")
        with tempfile.TemporaryDirectory(prefix="crd-gomod-") as modcache:
            zips = download(missing, go, Path(modcache))
            for source in missing:
                entries[source.pin] = _store(source, read_crds(zips[source.pin], source), cache_dir)
    return entries


def _cached(source: CrdSource, cache_dir: Path) -> dict[str, Any] | None:
    path = cache_path(cache_dir, source)
    if not path.is_file():
        return None
    cached = json.loads(path.read_text())
    return cached if cached.get("format") == CACHE_FORMAT and cached.get("paths") == list(source.paths) else None


def _store(source: CrdSource, crds: list[dict[str, Any]], cache_dir: Path) -> dict[str, Any]:
    entry = {"format": CACHE_FORMAT, "module": source.module, "version": source.module_version,
             "paths": list(source.paths), "crds": crds}
    path = cache_path(cache_dir, source)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(entry))
    partial.replace(path)  # atomic: an interrupted run leaves no half-written cache entry
    return entry


def download(sources: list[CrdSource], go: str, modcache: Path) -> dict[str, Path]:
    """`go mod download` the sources' modules into `modcache` (go fetches them in parallel); pin -> verified zip."""
    recorded = {(s.module, s.module_version): s.sums[s.module_version] for s in sources if s.module_version in s.sums}
    env = os.environ | {
        "GOMODCACHE": str(modcache),
        "GOFLAGS": "-modcacherw",  # so the temporary cache can be deleted
        "GO111MODULE": "on",
        "GOSUMDB": "sum.golang.org",
        # Only a module whose hash we record skips the checksum database; every other one is verified by it.
        "GONOSUMDB": ",".join(sorted({module for module, _ in recorded})),
        "GONOSUMCHECK": "", "GOINSECURE": "", "GOPRIVATE": "", "GONOPROXY": "",
    }
    wanted = [f"{s.module}@{s.module_version}" for s in sources]
    try:
        result = subprocess.run([go, "mod", "download", "-json", *wanted],
                                cwd=modcache, env=env, capture_output=True, text=True, timeout=600)
    except OSError as error:
        raise CrdFetchError(f"go mod download {' '.join(wanted)} could not run: {error}") from error
    infos = {(info.get("Path"), info.get("Version")): info for info in _json_stream(result.stdout)}
    zips = {}
    for source in sources:
        key = (source.module, source.module_version)
        info = infos.get(key, {})
        if "Error" in info or "Zip" not in info:
            raise CrdFetchError(f"go mod download {source.module}@{source.module_version} failed "
                                f"({result.returncode}): {info.get('Error') or result.stderr.strip()}")
        if key in recorded and info.get("Sum") != recorded[key]:
            raise CrdFetchError(f"{source.module}@{source.module_version}: zip hash {info.get('Sum')} "
                                f"is not the recorded {recorded[key]}")
        zips[source.pin] = Path(info["Zip"])
    return zips


def _json_stream(text: str) -> list[dict[str, Any]]:
    """`go mod download -json` prints one JSON object per module, back to back."""
    decoder, objects, index = json.JSONDecoder(), [], 0
    while index < len(text):
        if text[index].isspace():
            index += 1
            continue
        obj, index = decoder.raw_decode(text, index)
        objects.append(obj)
    return objects


def read_crds(zip_path: Path, source: CrdSource) -> list[dict[str, Any]]:
    """Every CustomResourceDefinition the source's paths name, reduced to what validation needs."""
    prefix = f"{source.module}@{source.module_version}/"
    with zipfile.ZipFile(zip_path) as archive:
        files = {name[len(prefix):]: name for name in archive.namelist() if name.startswith(prefix)}

        def read(relative: str) -> str:
            if relative not in files:
                raise CrdFetchError(f"{source.module}@{source.module_version} has no {relative}")
            return archive.read(files[relative]).decode()

        documents: list[dict[str, Any]] = []
        for path in source.paths:
            if f"{path}/kustomization.yaml" in files:
                documents += _kustomize(path, read)
            else:
                matched = sorted(name for name in files if fnmatch.fnmatchcase(name, path))
                if not matched:
                    raise CrdFetchError(f"{source.module}@{source.module_version}: nothing matches {path}")
                documents += [doc for name in matched for doc in _yaml_documents(read(name))]
    crds = [_reduce(doc) for doc in documents if doc.get("kind") == "CustomResourceDefinition"]
    if not crds:
        raise CrdFetchError(f"{source.module}@{source.module_version}: no CustomResourceDefinition in {source.paths}")
    return crds


def _yaml_documents(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.load_all(text, Loader=_Loader) if doc]


def _kustomize(directory: str, read) -> list[dict[str, Any]]:
    """The subset of `kustomize build` that CRD directories use: resources plus JSON 6902 patches."""
    kustomization = yaml.load(read(f"{directory}/kustomization.yaml"), Loader=_Loader) or {}
    unsupported = set(kustomization) - _INERT_KUSTOMIZE_KEYS
    if unsupported:
        raise CrdFetchError(f"{directory}/kustomization.yaml uses {sorted(unsupported)}, "
                            "which this reader does not apply")
    documents: list[dict[str, Any]] = []
    for resource in kustomization.get("resources") or []:
        path = posixpath.normpath(posixpath.join(directory, resource))
        try:
            documents += _yaml_documents(read(path))
        except CrdFetchError:
            documents += _kustomize(path, read)  # a resource may be a directory with its own kustomization
    for patch in (kustomization.get("patches") or []) + (kustomization.get("patchesJson6902") or []):
        operations = yaml.load(read(posixpath.normpath(posixpath.join(directory, patch["path"]))), Loader=_Loader)
        if not isinstance(operations, list):
            raise CrdFetchError(f"{directory}: {patch['path']} is a strategic-merge patch, "
                                "which this reader does not apply")
        name = (patch.get("target") or {}).get("name")
        targets = [doc for doc in documents if doc.get("metadata", {}).get("name") == name]
        if len(targets) != 1:
            raise CrdFetchError(f"{directory}: patch {patch['path']} targets {name!r}, found {len(targets)} documents")
        for operation in operations:
            _apply_json_patch(targets[0], operation)
    return documents


def _apply_json_patch(document: dict[str, Any], operation: dict[str, Any]) -> None:
    """RFC 6902 add / replace / remove on `document` in place."""
    op, pointer = operation["op"], operation["path"]
    tokens = [token.replace("~1", "/").replace("~0", "~") for token in pointer.split("/")[1:]]
    parent: Any = document
    for token in tokens[:-1]:
        parent = parent[int(token)] if isinstance(parent, list) else parent[token]
    last = tokens[-1]
    if op in ("add", "replace"):
        value = copy.deepcopy(operation["value"])
        if isinstance(parent, list):
            index = len(parent) if last == "-" else int(last)
            if op == "add":
                parent.insert(index, value)
            else:
                parent[index] = value
        else:
            if op == "replace" and last not in parent:
                raise CrdFetchError(f"replace of missing {pointer}")
            parent[last] = value
    elif op == "remove":
        del parent[int(last) if isinstance(parent, list) else last]
    else:
        raise CrdFetchError(f"JSON patch op {op!r} at {pointer} is not supported")


def _reduce(crd: dict[str, Any]) -> dict[str, Any]:
    spec = crd["spec"]
    return {
        "name": crd["metadata"]["name"],
        "group": spec["group"],
        "kind": spec["names"]["kind"],
        "scope": spec["scope"],
        "versions": [{"name": v["name"], "served": v.get("served", True),
                      "schema": (v.get("schema") or {}).get("openAPIV3Schema")}
                     for v in spec["versions"]],
    }
