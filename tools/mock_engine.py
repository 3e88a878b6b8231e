"""Run a Pulumi program in-process under a mock engine that records every registration.

The program is the real `__main__.py`; the engine is Pulumi's own unit-test mock monitor,
subclassed to keep what the real engine decides on: each `RegisterResource` request's type token,
name, parent, URN (computed as the engine does), options (protect, dependencies, provider,
deleteBeforeReplace, ignoreChanges, aliases, retainOnDelete) and inputs exactly as serialized
for the engine (camelCase, secrets masked). Reads of existing objects are kept apart: they
change nothing. Invokes the program needs get realistic answers (see `INVOKES`). Creates are
answered as MockMonitor answers them, without its round trip through Python values and in the
calling thread, and a few SDK functions are replaced for the run by cheaper ones with the same
results (`_SDK_SHORTCUTS`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import functools
import gc
import logging
import re
import runpy
import sys
import threading
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TypeVar

import pulumi
from google.protobuf import struct_pb2
from pulumi import _types
from pulumi.runtime import mocks, resource, rpc, settings
from pulumi.runtime.proto import resource_pb2, source_pb2
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from .mock_aws import INVOKES, Aws, created_state

SECRET = "[secret]"
ROOT_STACK_TYPE = "pulumi:pulumi:Stack"
_SIG = rpc._special_sig_key  # marks a secret, asset, archive, resource or output value
_SECRET_VALUE = rpc._special_secret_sig
T = TypeVar("T")


@dataclass(frozen=True)
class Resource:
    """One registration, as the engine would see it."""

    type: str
    name: str
    parent: str | None
    inputs: dict[str, Any]
    urn: str = ""
    protect: bool = False
    dependencies: tuple[str, ...] = ()
    property_dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Per input, the URNs it depends on (policies see them; not part of the JSON plan)."""
    provider: str | None = None
    """URN of the provider that manages it (the default provider's when none is given)."""
    delete_before_replace: bool = False
    ignore_changes: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    """URNs it was known by before, including those inherited from its parent's aliases."""
    retain_on_delete: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"type": self.type, "name": self.name, "parent": self.parent, "urn": self.urn,
                "protect": self.protect, "retainOnDelete": self.retain_on_delete,
                "deleteBeforeReplace": self.delete_before_replace, "ignoreChanges": list(self.ignore_changes),
                "aliases": list(self.aliases), "provider": self.provider,
                "dependencies": sorted(self.dependencies), "inputs": self.inputs}


@dataclass(frozen=True)
class Read:
    """An existing object the program reads (`opts.id`): the engine looks it up, never changes it."""

    type: str
    name: str
    parent: str | None
    urn: str
    id: str
    provider: str | None

    def as_json(self) -> dict[str, Any]:
        return {"type": self.type, "name": self.name, "parent": self.parent, "urn": self.urn, "id": self.id,
                "provider": self.provider}


@dataclass
class Plan:
    stack: str
    resources: list[Resource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    reads: list[Read] = field(default_factory=list)

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
        return {"stack": self.stack, "resources": [r.as_json() for r in self.resources],
                "reads": [r.as_json() for r in self.reads], "outputs": self.outputs}


def clean(value: Any, secret: bool = False) -> Any:
    """Engine-serialized value -> plain JSON: integral numbers as ints, and every scalar inside a
    secret replaced by "[secret]" (maps and lists keep their shape, so a Secret's keys still show)."""
    if isinstance(value, dict):
        if value.get(_SIG) == _SECRET_VALUE:
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


def struct_values(struct: struct_pb2.Struct) -> dict[str, Any]:
    """A Struct as plain values, as `json_format.MessageToDict` gives it (numbers as floats), read
    straight from its fields: a third faster, and a plan reads every registration's inputs."""
    return {key: _value(item) for key, item in struct.fields.items()}


def _value(value: struct_pb2.Value) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "struct_value":
        return struct_values(value.struct_value)
    if kind == "list_value":
        return [_value(item) for item in value.list_value.values]
    return None if kind in (None, "null_value") else getattr(value, kind)


# --- URNs, as the engine builds them -------------------------------------------------------------

def make_urn(stack: str, project: str, parent_urn: str, type_: str, name: str) -> str:
    """A child's type is qualified by its parent's qualified type, except under the root stack."""
    qualified = type_
    if parent_urn:
        parent_type = parent_urn.split("::")[2]
        if parent_type != ROOT_STACK_TYPE:
            qualified = f"{parent_type}${type_}"
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


def _urn_name(urn: str) -> str:
    return urn.split("::", 3)[3]


def _urn_type(urn: str) -> str:
    return urn.split("::")[2].split("$")[-1]


def _urn_stack_project(urn: str) -> tuple[str, str]:
    stack, project = urn.removeprefix("urn:pulumi:").split("::")[:2]
    return stack, project


def _parent_name(urn: str) -> str | None:
    """Name in a parent URN; None for the stack itself."""
    if not urn:
        return None
    return None if _urn_type(urn) == ROOT_STACK_TYPE else _urn_name(urn)


# --- what the mock "provider" answers ------------------------------------------------------------

def _load_balancer_hostname(namespace: str, name: str, region: str) -> str:
    """An NLB hostname as the AWS Load Balancer Controller's names look (k8s-<ns>-<name>-<hash>)."""
    digest = "".join(f"{zlib.crc32(f'{salt}/{namespace}/{name}'.encode()):08x}" for salt in "abcd")
    return f"k8s-{namespace[:8]}-{name[:8]}-{digest[:10]}-{digest[10:26]}.elb.{region}.amazonaws.com"


def _kube_status(type_: str, obj: dict, aws: Aws) -> dict:
    """What the cluster fills in that the program may read: a LoadBalancer Service's address."""
    if type_ == "kubernetes:core/v1:Service" and (obj.get("spec") or {}).get("type") == "LoadBalancer":
        meta = obj.get("metadata") or {}
        hostname = _load_balancer_hostname(meta.get("namespace") or "default", meta.get("name") or "", aws.region)
        return {"status": {"loadBalancer": {"ingress": [{"hostname": hostname}]}}}
    return {}


def _read_kube_object(type_: str, object_id: str, aws: Aws) -> dict:
    """The live object behind `namespace/name`. Offline there is no cluster: objects that
    programs read are the ones charts create to expose them, so a Service reads as a LoadBalancer."""
    group_version, kind = type_.split(":")[1:]
    namespace, _, name = object_id.rpartition("/")
    obj: dict[str, Any] = {"apiVersion": group_version.removeprefix("core/"), "kind": kind,
                           "metadata": {"name": name, **({"namespace": namespace} if namespace else {})}}
    if type_ == "kubernetes:core/v1:Service":
        obj["spec"] = {"type": "LoadBalancer"}
    return {**obj, **_kube_status(type_, obj, aws)}


def created_id(name: str) -> str:
    """The id the mock provider gives a created resource."""
    return f"{name}-id"


class _PlanMocks(pulumi.runtime.Mocks):
    """A created resource's state is its inputs plus what the cluster fills in; its id is its name."""

    def __init__(self, aws: Aws):
        self.aws = aws

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        if args.resource_id:  # a read or an import: the object exists already
            kube = args.typ.startswith("kubernetes:")
            return args.resource_id, _read_kube_object(args.typ, args.resource_id, self.aws) if kube else args.inputs
        return created_id(args.name), {**args.inputs, **self.filled_in(args.typ, args.name, args.inputs)}

    def filled_in(self, type_: str, name: str, inputs: dict) -> dict:
        """What the provider adds to a created resource's inputs."""
        return {**_kube_status(type_, inputs, self.aws), **created_state(type_, name, inputs, self.aws)}

    def call(self, args: pulumi.runtime.MockCallArgs):
        answer = INVOKES.get(args.token)
        return answer(args.args, self.aws) if answer else {}


# --- the recording monitor ----------------------------------------------------------------------

class _CallsInline(concurrent.futures.ThreadPoolExecutor):
    """The run loop's executor: it runs each call at once, in the calling thread.

    The SDK sends every monitor call through `run_in_executor`, made for a real engine at the end
    of a gRPC channel. Our monitor answers a create in Python with no waiting, so a thread hop
    per call (handing it over, waking the loop again) only costs: about 0.01 s of a prod plan's
    run. The calls MockMonitor answers itself go to `_MockMonitorThread`."""

    def submit(self, fn, /, *args, **kwargs):
        done: concurrent.futures.Future = concurrent.futures.Future()
        try:
            done.set_result(fn(*args, **kwargs))
        except BaseException as error:  # handed to the awaiting coroutine, as a worker thread would
            done.set_exception(error)
        return done


class _MockMonitorThread:
    """The thread, with its own event loop, on which MockMonitor answers what it answers itself
    (the stack, imports, reads, invokes).

    MockMonitor serializes its answers with `_sync_await`, which pumps the calling thread's event
    loop; on the run's own loop, in the middle of one of its callbacks, that would run other
    registrations nested inside it. So those calls wait for this thread instead. `close()` joins
    it and closes its loop, so that no loop is left for the garbage collector to close at
    interpreter exit, after the sockets it holds (asyncio then prints `Exception ignored in
    BaseEventLoop.__del__ ... Invalid file descriptor: -1`)."""

    def __init__(self) -> None:
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="mock-monitor")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: int | None = None

    def run(self, call: Callable[[], T]) -> T:
        if threading.get_ident() == self._thread:
            return call()  # a call made while answering one: already here
        return self._pool.submit(self._in_loop, call).result()

    def _in_loop(self, call: Callable[[], T]) -> T:
        if self._loop is None:
            self._loop, self._thread = asyncio.new_event_loop(), threading.get_ident()
            asyncio.set_event_loop(self._loop)
        return call()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        if self._loop is not None:
            self._loop.close()


class _RecordingMonitor(mocks.MockMonitor):
    def __init__(self, mocks_: _PlanMocks, record: list[Resource], reads: list[Read],
                 own_answers: _MockMonitorThread):
        super().__init__(mocks_)
        self.record, self.reads, self.own_answers = record, reads, own_answers
        self._aliases_by_urn: dict[str, tuple[str, tuple[str, ...]]] = {}
        self._created_states: dict[str, tuple[str, struct_pb2.Struct]] = {}
        self.created_values: dict[int, tuple[struct_pb2.Struct, dict]] = {}
        """Each create answer's state (by the id of the Struct the SDK reads) as plain values."""

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        return make_urn(settings.get_stack(), settings.get_project(), parent, type_, name)

    def _aliases(self, request, urn: str) -> tuple[str, ...]:
        stack, project = settings.get_stack(), settings.get_project()
        own = []
        for alias in request.aliases:
            if alias.WhichOneof("alias") == "urn":
                own.append(alias.urn)
                continue
            spec = alias.spec
            # An empty parentUrn (the SDK sends one when the alias names no parent) means "same parent".
            parent = "" if spec.noParent else spec.parentUrn or request.parent
            own.append(make_urn(spec.stack or stack, spec.project or project, parent, spec.type or request.type,
                                spec.name or request.name))
        # As the engine does for alias specs: each alias of the parent implies one for the child,
        # its name re-prefixed when it was derived from the parent's name.
        inherited = []
        parent_name, parent_aliases = self._aliases_by_urn.get(request.parent, ("", ()))
        for parent_alias in parent_aliases:
            for child in (urn, *own):
                name = _urn_name(child)
                if name.startswith(parent_name):
                    name = _urn_name(parent_alias) + name[len(parent_name):]
                inherited.append(make_urn(*_urn_stack_project(parent_alias), parent_alias, _urn_type(child), name))
        return tuple(dict.fromkeys(a for a in (*own, *inherited) if a != urn))

    def _provider(self, request, custom: bool) -> str | None:
        """The provider the engine uses: the one given, else the package's default provider."""
        if request.provider:
            return request.provider.rsplit("::", 1)[0]  # a reference is `urn::id`
        if not custom or request.type.startswith("pulumi:providers:"):
            return None
        version = re.sub(r"[.+-]", "_", request.version)
        package = request.type.split(":")[0]
        return make_urn(settings.get_stack(), settings.get_project(), "", f"pulumi:providers:{package}",
                        f"default_{version}" if version else "default")

    def RegisterResource(self, request):
        if request.type == ROOT_STACK_TYPE:
            return self.own_answers.run(functools.partial(super().RegisterResource, request))
        inputs = struct_values(request.object)
        urn = self._record(request, inputs)
        if request.importId:  # an import: the mocks answer with the existing object
            return self.own_answers.run(functools.partial(super().RegisterResource, request))
        return self._created(request, urn, inputs)

    def _created(self, request, urn: str, inputs: dict) -> resource_pb2.RegisterResourceResponse:
        """MockMonitor's answer to a create, without its round trip.

        MockMonitor deserializes the inputs, asks the mocks, and serializes the state back: about
        a quarter of a prod plan's run. A created resource's state is its inputs plus what
        `filled_in` adds, so the answer is the inputs as they came, with those fields set (a test
        holds it to MockMonitor's own answer, request for request). The state is deserialized
        only if the program looks the resource up by URN (`pulumi:pulumi:getResource`)."""
        state = struct_pb2.Struct()
        state.CopyFrom(request.object)
        filled = self.mocks.filled_in(request.type, request.name, inputs)
        if filled:
            state.update(filled)
        id_ = created_id(request.name)
        self._created_states[urn] = (id_, state)
        response = resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=state)
        # Held, so that the SDK reads this very Struct (protobuf hands out one object per field
        # while it lives): `_created_values_as_read` finds its values by its id.
        answer = response.object
        self.created_values[id(answer)] = (answer, {**inputs, **{key: _value(state.fields[key]) for key in filled}})
        return response

    def _record(self, request, inputs: dict) -> str:
        """Record the registration as the engine sees it; its URN."""
        urn = self.make_urn(request.parent, request.type, request.name)
        aliases = self._aliases(request, urn)
        self._aliases_by_urn[urn] = (request.name, aliases)
        self.record.append(Resource(
            type=request.type,
            name=request.name,
            parent=_parent_name(request.parent),
            inputs=clean(inputs),
            urn=urn,
            protect=bool(request.protect),
            dependencies=tuple(request.dependencies),
            property_dependencies={key: tuple(deps.urns) for key, deps in request.propertyDependencies.items()},
            provider=self._provider(request, request.custom),
            delete_before_replace=bool(request.deleteBeforeReplace),
            ignore_changes=tuple(request.ignoreChanges),
            aliases=aliases,
            retain_on_delete=bool(request.retainOnDelete),
        ))
        return urn

    def ReadResource(self, request):
        self.reads.append(Read(type=request.type, name=request.name, parent=_parent_name(request.parent),
                               urn=self.make_urn(request.parent, request.type, request.name), id=request.id,
                               provider=self._provider(request, True)))
        return self.own_answers.run(functools.partial(super().ReadResource, request))

    def Invoke(self, request):
        return self.own_answers.run(functools.partial(self._invoke, request))

    def _invoke(self, request):
        if request.tok == "pulumi:pulumi:getResource":
            urn = request.args.fields["urn"].string_value
            if urn in self._created_states and urn not in self.resources:
                id_, state = self._created_states[urn]
                self.resources[urn] = mocks.MockMonitor.ResourceRegistration(urn, id_, rpc.deserialize_properties(state))
        return super().Invoke(request)


# --- what the SDK computes for an engine and a plan does not need --------------------------------
# Each entry replaces one SDK function for the run, with the same result for what a plan reads.
# They are the SDK's own functions, some private: if a release renames one, plans only get slower.

def _no_stack_trace(sdk_get_stack_trace):
    """The SDK sends the engine a source position with every resource: it walks the whole Python
    stack (`traceback.extract_stack`, a file URI per frame), some 0.1 s of a prod plan, and the
    plan records none of it. An empty trace means "no position", as for code without source."""
    return source_pb2.StackTrace


def _direct_urns(sdk_create_urn):
    """Before every registration the SDK builds the resource's URN from its name, type and
    parent URN as a chain of outputs (an `Output.all` and two applies: three tasks), and uses it
    only when no engine is there to answer. Those are plain strings by then, so the same string
    is computed directly; anything else (an alias's outputs) takes the SDK's own path."""

    def create_urn(name, type_, parent=None, project=None, stack=None):
        if isinstance(name, str) and isinstance(type_, str) and isinstance(parent, str) and parent:
            return pulumi.Output.from_input(f"{parent[:parent.rfind('::')]}${type_}::{name}")
        return sdk_create_urn(name, type_, parent, project, stack)

    return create_urn


def _cached_per_class(sdk_resource_types):
    """Reading a registration's outputs, the SDK resolves its class's annotations again
    (`typing.get_type_hints`) every time; a class's annotations do not change during a run."""
    return functools.lru_cache(maxsize=None)(sdk_resource_types)


_PLAIN_SCALARS = frozenset((str, int, float, bool, type(None)))
_NOT_PLAIN = object()


def _plain_copy(value: Any) -> Any:
    """A copy of `value` if it is JSON-shaped (dicts with string keys, lists, strings, numbers,
    booleans, None, each of exactly that type) and carries no special signature, else `_NOT_PLAIN`."""
    kind = type(value)
    if kind is dict:
        if _SIG in value:
            return _NOT_PLAIN
        copy = {}
        for key, item in value.items():
            item = _plain_copy(item)
            if type(key) is not str or item is _NOT_PLAIN:
                return _NOT_PLAIN
            copy[key] = item
        return copy
    if kind is list:
        items = [_plain_copy(item) for item in value]
        return _NOT_PLAIN if _NOT_PLAIN in items else items
    return value if kind in _PLAIN_SCALARS else _NOT_PLAIN


def _plain_values_directly(sdk_serialize_property):
    """The SDK serializes an input value node by node, a coroutine each, and a JSON-shaped value
    (most of a rendered manifest) comes out as a copy of itself when no key is to be renamed: no
    type to translate by, and the resource's own name translation the identity. Such a value is
    copied directly (about 0.02 s of a prod plan's run); anything else (outputs, resources, input
    types, tuples) takes the SDK's path, which calls back here for each part."""
    identity = pulumi.Resource.translate_input_property

    async def serialize_property(value, deps, property_key, resource_obj=None, input_transformer=None, typ=None,
                                 keep_output_values=False, exclude_resource_refs_from_deps=False,
                                 return_protobuf_value=False):
        if not return_protobuf_value:
            if type(value) in _PLAIN_SCALARS:
                return value
            if typ in (None, Any) and getattr(input_transformer, "__func__", input_transformer) in (None, identity):
                copy = _plain_copy(value)
                if copy is not _NOT_PLAIN:
                    return copy
        return await sdk_serialize_property(value, deps, property_key, resource_obj, input_transformer, typ,
                                            keep_output_values, exclude_resource_refs_from_deps, return_protobuf_value)

    return serialize_property


def _as_read(value: Any) -> Any:
    """`value` (plain values of a Struct) as the SDK reads it: without null map entries; or
    `_NOT_PLAIN` where the SDK reads more into it (a special signature, an unknown)."""
    kind = type(value)
    if kind is dict:
        if _SIG in value:
            return _NOT_PLAIN
        read = {}
        for key, item in value.items():
            item = _as_read(item)
            if item is _NOT_PLAIN:
                return _NOT_PLAIN
            if item is not None:
                read[key] = item
        return read
    if kind is list:
        items = [_as_read(item) for item in value]
        return _NOT_PLAIN if _NOT_PLAIN in items else items
    return _NOT_PLAIN if value == rpc.UNKNOWN else value


def _created_values_as_read(sdk_deserialize_properties):
    """The SDK reads a create's answer by deserializing its state node by node (about 0.02 s of a
    prod plan's run), a Struct our monitor built from values it holds as plain values. Those are
    read directly, where they are plain; anything else (another Struct, a secret, an unknown, a
    caller dropping internal keys) takes the SDK's path."""

    def deserialize_properties(props_struct, keep_unknowns=None, keep_internal=True):
        created = getattr(settings.get_monitor(), "created_values", None)
        held = created.pop(id(props_struct), None) if created else None
        if held is not None and held[0] is props_struct and keep_internal is not False:
            read = _as_read(held[1])
            if read is not _NOT_PLAIN:
                return read
        return sdk_deserialize_properties(props_struct, keep_unknowns, keep_internal)

    return deserialize_properties


def _names_kept(sdk_translate_output_properties):
    """Reading every output, the SDK translates its names and types node by node, a call each;
    a resource that renames nothing (its `translate_output_property` the identity) and declares no
    type for the output gets a copy of the value. A plain value is copied directly; anything else
    (a type, a secret, a resource renaming its outputs) takes the SDK's path."""
    identity = pulumi.Resource.translate_output_property

    def translate_output_properties(output, output_transformer, typ=None, transform_using_type_metadata=False,
                                    path=None, return_none_on_dict_type_mismatch=False):
        if ((typ is None or (typ is dict and type(output) is dict))
                and getattr(output_transformer, "__func__", output_transformer) is identity):
            copy = _plain_copy(output)
            if copy is not _NOT_PLAIN:
                return copy
        return sdk_translate_output_properties(output, output_transformer, typ, transform_using_type_metadata, path,
                                               return_none_on_dict_type_mismatch)

    return translate_output_properties


def _unknowns_found_directly(sdk_contains_unknowns):
    """Every output resolved is searched for unknowns, a call per node; a plain scalar holds none,
    and containers are walked in one loop. The same answer, cycles included."""
    from pulumi.output import Unknown

    def contains_unknowns(val):
        if type(val) in _PLAIN_SCALARS:
            return False
        seen, pending = set(), [val]
        while pending:
            item = pending.pop()
            if isinstance(item, Unknown):
                return True
            if isinstance(item, (dict, list)) and id(item) not in seen:
                seen.add(id(item))
                pending.extend(item.values() if isinstance(item, dict) else item)
        return False

    return contains_unknowns


def _plain_dependency_lists(sdk_resolve_depends_on_urns):
    """A resource's `depends_on` is resolved as an input of inputs: an output made of the list and
    one of each item, each awaited. A plain list of resources depends on exactly those, expanded
    (a component to its children) as the SDK expands them; anything else takes the SDK's path."""

    async def resolve_depends_on_urns(depends_on, from_resource=None):
        if type(depends_on) is list and all(isinstance(item, pulumi.Resource) for item in depends_on):
            return set(await rpc._expand_dependencies(set(depends_on), from_resource))
        return await sdk_resolve_depends_on_urns(depends_on, from_resource)

    return resolve_depends_on_urns


def _debug_lines_unsent(sdk_debug):
    """The SDK logs two debug lines per registration (one waiting for the resource's URN), which
    MockEngine passes to Python logging at debug level; where that level is off, they are dropped
    before they are made."""

    def debug(msg, resource=None, stream_id=None, ephemeral=None):
        engine = settings.get_engine()
        if isinstance(engine, mocks.MockEngine) and not engine.logger.isEnabledFor(logging.DEBUG):
            return
        sdk_debug(msg, resource, stream_id, ephemeral)

    return debug


_SDK_SHORTCUTS = ((resource, "_get_stack_trace", _no_stack_trace), (resource, "create_urn", _direct_urns),
                  (_types, "resource_types", _cached_per_class), (rpc, "serialize_property", _plain_values_directly),
                  (rpc, "deserialize_properties", _created_values_as_read),
                  (rpc, "translate_output_properties", _names_kept),
                  (rpc, "contains_unknowns", _unknowns_found_directly),
                  (resource, "_resolve_depends_on_urns", _plain_dependency_lists),
                  (pulumi.log, "debug", _debug_lines_unsent))


@contextlib.contextmanager
def _sdk_shortcuts():
    """The SDK functions in `_SDK_SHORTCUTS` replaced, for the run."""
    replaced = []
    try:
        for module, name, shortcut in _SDK_SHORTCUTS:
            sdk_function = getattr(module, name, None)
            if sdk_function is not None:
                setattr(module, name, shortcut(sdk_function))
                replaced.append((module, name, sdk_function))
        yield
    finally:
        for module, name, sdk_function in replaced:
            setattr(module, name, sdk_function)


@contextlib.contextmanager
def _collector_paused():
    """No automatic cyclic garbage collection while a program runs.

    A plan allocates hundreds of thousands of short-lived objects (outputs, futures, protobuf
    messages) beside every module the program imported, and each automatic collection walks
    them all again. A run is bounded, so its cycles wait for the first collection after it
    (callers that plan many times in one process, like the tests, still get their memory back)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def run_program(program_dir: Path, project: str, stack: str, config: dict[str, str],
                secret_keys: list[str] | tuple[str, ...] = (), record: list[Resource] | None = None) -> Plan:
    """Run `program_dir/__main__.py` for `stack` with `config`; return what it registered.

    `record` receives the registrations as they happen, so a caller still sees them when the
    program raises (a config error must leave it empty).
    """
    record = [] if record is None else record
    # A loop of its own, closed afterwards, and MockMonitor's thread joined and its loop closed,
    # so that nothing of a run outlives it. The loop's executor has no thread to join.
    loop = asyncio.new_event_loop()
    loop.set_default_executor(_CallsInline())
    asyncio.set_event_loop(loop)
    monitor_thread = _MockMonitorThread()
    try:
        with _sdk_shortcuts(), _collector_paused():
            return contextvars.Context().run(_run, Path(program_dir), project, stack, config, list(secret_keys),
                                             record, monitor_thread)
    finally:
        loop.close()
        monitor_thread.close()
        asyncio.set_event_loop(None)


def _run(program_dir: Path, project: str, stack: str, config: dict[str, str], secret_keys: list[str],
         record: list[Resource], monitor_thread: _MockMonitorThread) -> Plan:
    pulumi.runtime.set_all_config(dict(config), secret_keys)
    settings.ROOT.set(None)
    reads: list[Read] = []
    engine_mocks = _PlanMocks(Aws.from_config(project, config))
    pulumi.runtime.set_mocks(engine_mocks, project=project, stack=stack, preview=False,
                             monitor=_RecordingMonitor(engine_mocks, record, reads, monitor_thread))
    # The outputs the SDK waits on before a program ends: set_mocks keeps the last run's, and a run
    # that failed leaves its failed ones there, which this run would wait on (on a closed loop).
    settings.SETTINGS.outputs = set()
    if str(program_dir) not in sys.path:
        sys.path.insert(0, str(program_dir))
    main = str(program_dir / "__main__.py")
    _sync_await(run_pulumi_func(lambda: runpy.run_path(main, run_name="__main__")))
    root = settings.get_root_resource()
    exported = _sync_await(rpc.serialize_properties(root.outputs, {})) if root.outputs else None
    values = clean(struct_values(exported)) if exported is not None else {}
    outputs = {key: values.get(key) for key in root.outputs}
    # Registration order depends on asyncio scheduling; names are hierarchical, so sort by them.
    return Plan(stack=stack, resources=sorted(record, key=lambda r: (r.name, r.type)), outputs=outputs,
                reads=sorted(reads, key=lambda r: (r.name, r.type)))
