"""Run a Pulumi program in-process under a mock engine that records every registration.

The program is the real `__main__.py`; the engine is Pulumi's own unit-test mock monitor,
subclassed to keep each `RegisterResource` request: type token, name, parent and the inputs
exactly as serialized for the engine (camelCase, secrets marked), with secrets masked.
"""

from __future__ import annotations

import asyncio
import contextvars
import runpy
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks, rpc, settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

SECRET = "[secret]"
_SECRET_SIG = rpc._special_sig_key
_SECRET_VALUE = rpc._special_secret_sig


@dataclass(frozen=True)
class Resource:
    type: str
    name: str
    parent: str | None
    inputs: dict[str, Any]
    # What policies see besides the inputs (not part of the JSON plan).
    urn: str = ""
    protect: bool = False
    dependencies: tuple[str, ...] = ()
    property_dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"type": self.type, "name": self.name, "parent": self.parent, "inputs": self.inputs}


@dataclass
class Plan:
    stack: str
    resources: list[Resource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def of_type(self, token: str) -> list[Resource]:
        return [r for r in self.resources if r.type == token]

    def one(self, token: str, name: str | None = None) -> Resource:
        found = [r for r in self.of_type(token) if name is None or r.name == name]
        if len(found) != 1:
            raise LookupError(f"expected one {token} {name or ''}, found {[r.name for r in found]}")
        return found[0]

    def kube_object(self, kind: str, name: str) -> Resource:
        """The Kubernetes object of `kind` whose metadata.name is `name`."""
        found = [r for r in self.resources if r.type.startswith("kubernetes:") and r.type.endswith(f":{kind}")
                 and (r.inputs.get("metadata") or {}).get("name") == name]
        if len(found) != 1:
            raise LookupError(f"expected one {kind} named {name}, found {len(found)}")
        return found[0]

    def as_json(self) -> dict[str, Any]:
        return {"stack": self.stack, "resources": [r.as_json() for r in self.resources], "outputs": self.outputs}


def clean(value: Any, secret: bool = False) -> Any:
    """Engine-serialized value -> plain JSON: integral numbers as ints, and every scalar inside a
    secret replaced by "[secret]" (maps and lists keep their shape, so a Secret's keys still show)."""
    if isinstance(value, dict):
        if value.get(_SECRET_SIG) == _SECRET_VALUE:
            return clean(value.get("value"), secret=True)
        # Struct maps carry no order; sorted keys keep plans comparable run to run.
        return {k: clean(value[k], secret) for k in sorted(value)}
    if secret:
        return [clean(v, secret) for v in value] if isinstance(value, list) else SECRET
    if isinstance(value, list):
        return [clean(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class _EchoMocks(pulumi.runtime.Mocks):
    """A created resource's state is its inputs; its id is its name."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        return f"{args.name}-id", args.inputs

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}


def _parent_name(urn: str) -> str | None:
    """Name in a parent URN (urn:pulumi:stack::project::type::name); None for the stack itself."""
    if not urn:
        return None
    parts = urn.split("::")
    return None if parts[2].split("$")[-1] == "pulumi:pulumi:Stack" else parts[-1]


class _RecordingMonitor(mocks.MockMonitor):
    def __init__(self, record: list[Resource]):
        super().__init__(_EchoMocks())
        self.record = record

    def RegisterResource(self, request):
        if request.type != "pulumi:pulumi:Stack":
            self.record.append(Resource(
                type=request.type,
                name=request.name,
                parent=_parent_name(request.parent),
                inputs=clean(json_format.MessageToDict(request.object)),
                urn=self.make_urn(request.parent, request.type, request.name),
                protect=bool(request.protect),
                dependencies=tuple(request.dependencies),
                property_dependencies={key: tuple(deps.urns) for key, deps in request.propertyDependencies.items()},
            ))
        return super().RegisterResource(request)


def run_program(program_dir: Path, project: str, stack: str, config: dict[str, str],
                secret_keys: list[str] | tuple[str, ...] = (), record: list[Resource] | None = None) -> Plan:
    """Run `program_dir/__main__.py` for `stack` with `config`; return what it registered.

    `record` receives the registrations as they happen, so a caller still sees them when the
    program raises (a config error must leave it empty).
    """
    record = [] if record is None else record
    # A loop of its own, closed afterwards: one left open is torn down at interpreter exit,
    # after the sockets it watches, and asyncio then prints a traceback.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return contextvars.Context().run(_run, Path(program_dir), project, stack, config, list(secret_keys), record)
    finally:
        loop.close()
        asyncio.set_event_loop(None)


def _run(program_dir: Path, project: str, stack: str, config: dict[str, str], secret_keys: list[str],
         record: list[Resource]) -> Plan:
    pulumi.runtime.set_all_config(dict(config), secret_keys)
    settings.ROOT.set(None)
    pulumi.runtime.set_mocks(_EchoMocks(), project=project, stack=stack, preview=False,
                             monitor=_RecordingMonitor(record))
    if str(program_dir) not in sys.path:
        sys.path.insert(0, str(program_dir))
    main = str(program_dir / "__main__.py")
    _sync_await(run_pulumi_func(lambda: runpy.run_path(main, run_name="__main__")))
    root = settings.get_root_resource()
    exported = _sync_await(rpc.serialize_properties(root.outputs, {})) if root.outputs else None
    values = clean(json_format.MessageToDict(exported)) if exported is not None else {}
    outputs = {key: values.get(key) for key in root.outputs}
    # Registration order depends on asyncio scheduling; names are hierarchical, so sort by them.
    return Plan(stack=stack, resources=sorted(record, key=lambda r: (r.name, r.type)), outputs=outputs)
