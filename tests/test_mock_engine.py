"""The recording mock engine: URNs and options as the engine decides on them, aliases resolved,
realistic invoke answers through the real `pulumi_aws` functions, `KubeObject` status, aliases and
reads, no event loop or thread left behind by a run, no cyclic collection walking it nor teardown
after it, creates answered as MockMonitor itself answers them, and the SDK functions a run
replaces giving the SDK's own results."""

from __future__ import annotations

import asyncio
import enum
import functools
import gc
import json
import logging
import os
import subprocess
import sys
import textwrap
import threading
import warnings
import zlib
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import pulumi
import pytest
from google.protobuf import json_format, struct_pb2
from hypothesis import given, settings
from hypothesis import strategies as st
from pulumi import _types
from pulumi.runtime import mocks, resource, rpc
from pulumi.runtime.proto import resource_pb2

from tools import mock_engine
from tools.mock_aws import EXAMPLE_ACCOUNT_ID
from tools.mock_engine import Plan, make_urn, run_program
from tools.plan import build_plan

STACK_PREFIX = "urn:pulumi:dev::proj::"


def _run(tmp_path: Path, source: str, config: dict[str, str] | None = None) -> Plan:
    program = tmp_path / "program"
    program.mkdir(exist_ok=True)
    (program / "__main__.py").write_text(textwrap.dedent(source))
    return run_program(program, "proj", "dev", config or {})


CONFIG_MAP = 'lambda name: {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"a": "1"}}'


def test_urns_carry_the_parent_type_chain_but_not_the_root_stack(tmp_path):
    plan = _run(tmp_path, f"""
        import pulumi
        from components.kube import KubeObject
        cm = {CONFIG_MAP}
        KubeObject("top", cm("top"))
        outer = pulumi.ComponentResource("test:index:Outer", "outer")
        inner = pulumi.ComponentResource("test:index:Inner", "outer-inner", None, pulumi.ResourceOptions(parent=outer))
        KubeObject("outer-cm", cm("cm"), pulumi.ResourceOptions(parent=inner))
    """)
    urns = {r.name: r.urn for r in plan.resources}
    assert urns["top"] == STACK_PREFIX + "kubernetes:core/v1:ConfigMap::top"
    assert urns["outer"] == STACK_PREFIX + "test:index:Outer::outer"
    assert urns["outer-cm"] == STACK_PREFIX + "test:index:Outer$test:index:Inner$kubernetes:core/v1:ConfigMap::outer-cm"
    assert plan.one("kubernetes:core/v1:ConfigMap", "outer-cm").parent == "outer-inner"


def test_options_the_engine_acts_on_are_recorded(tmp_path):
    plan = _run(tmp_path, f"""
        import pulumi
        import pulumi_kubernetes as k8s
        from components.kube import KubeObject
        cm = {CONFIG_MAP}
        cluster = k8s.Provider("cluster", context="kind-dev")
        first = KubeObject("first", cm("first"))
        KubeObject("second", cm("second"), pulumi.ResourceOptions(
            provider=cluster, protect=True, retain_on_delete=True, delete_before_replace=True,
            ignore_changes=["data", "metadata.annotations"], depends_on=[first]))
    """)
    first, second = (plan.one("kubernetes:core/v1:ConfigMap", name) for name in ("first", "second"))
    assert (second.protect, second.retain_on_delete, second.delete_before_replace) == (True, True, True)
    assert (first.protect, first.retain_on_delete, first.delete_before_replace) == (False, False, False)
    assert second.ignore_changes == ("data", "metadata.annotations") and first.ignore_changes == ()
    assert second.provider == STACK_PREFIX + "pulumi:providers:kubernetes::cluster"
    assert first.provider.startswith(STACK_PREFIX + "pulumi:providers:kubernetes::default_4_")
    assert second.dependencies == (first.urn,)
    assert json.loads(json.dumps(second.as_json()))["retainOnDelete"] is True


def test_aliases_are_resolved_to_urns_including_those_a_parent_passes_on(tmp_path):
    plan = _run(tmp_path, f"""
        import pulumi
        from components.kube import KubeObject
        cm = {CONFIG_MAP}
        app = pulumi.ComponentResource("test:index:App", "app-v2", None,
                                       pulumi.ResourceOptions(aliases=[pulumi.Alias(name="app")]))
        KubeObject("app-v2-config", cm("c"), pulumi.ResourceOptions(parent=app))
        KubeObject("renamed", cm("r"), pulumi.ResourceOptions(parent=app, aliases=[pulumi.Alias(name="before")]))
        KubeObject("moved-in", cm("m"), pulumi.ResourceOptions(parent=app, aliases=[pulumi.Alias(parent=None)]))
    """)
    aliases = {r.name: r.aliases for r in plan.resources}
    chain = STACK_PREFIX + "test:index:App$kubernetes:core/v1:ConfigMap::"
    assert aliases["app-v2"] == (STACK_PREFIX + "test:index:App::app",)
    # The parent's old name re-prefixes a child named after it, as the engine derives it.
    assert aliases["app-v2-config"] == (chain + "app-config",)
    # A URN holds the parent's type, not its name: the parent's rename leaves this one's URN as it was.
    assert aliases["renamed"] == (chain + "before",)
    assert aliases["moved-in"][0] == STACK_PREFIX + "kubernetes:core/v1:ConfigMap::moved-in"


def test_kube_object_aliases_a_moved_api_version_and_keeps_status_out_of_the_inputs(tmp_path):
    plan = _run(tmp_path, """
        import pulumi
        from components.kube import KubeObject
        KubeObject("upstream", {"apiVersion": "configuration.konghq.com/v1", "kind": "KongUpstreamPolicy",
                                "metadata": {"name": "app"}, "spec": {}},
                   pulumi.ResourceOptions(aliases=[pulumi.Alias(name="old-upstream")]))
    """)
    upstream = plan.one("kubernetes:configuration.konghq.com/v1:KongUpstreamPolicy")
    old = STACK_PREFIX + "kubernetes:configuration.konghq.com/v1beta1:KongUpstreamPolicy::"
    assert {old + "upstream", old + "old-upstream"} <= set(upstream.aliases)
    assert set(upstream.inputs) == {"apiVersion", "kind", "metadata", "spec"}


def test_load_balancer_status_and_reads_of_existing_objects(tmp_path):
    plan = _run(tmp_path, """
        import pulumi
        from components.kube import KubeObject, load_balancer_address
        def service(name, kind):
            return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "edge"},
                    "spec": {"type": kind, "ports": [{"port": 80}]}}
        lb = KubeObject("lb", service("proxy", "LoadBalancer"))
        internal = KubeObject("internal", service("api", "ClusterIP"))
        read = KubeObject.get("kong-proxy", "v1", "Service", "kong/kong-gateway-proxy")
        pulumi.export("created", load_balancer_address(lb))
        pulumi.export("internal", load_balancer_address(internal))
        pulumi.export("read", load_balancer_address(read))
        pulumi.export("read_metadata", read.metadata)
    """, {"aws:region": "eu-west-1"})
    assert plan.outputs["created"].endswith(".elb.eu-west-1.amazonaws.com")
    assert plan.outputs["created"].startswith("k8s-edge-proxy-")
    assert plan.outputs["internal"] is None
    assert plan.outputs["read"].startswith("k8s-kong-kong-gat") and plan.outputs["read"] != plan.outputs["created"]
    assert plan.outputs["read_metadata"] == {"name": "kong-gateway-proxy", "namespace": "kong"}
    assert [r.name for r in plan.resources] == ["internal", "lb"], "a read is not a managed resource"
    (read,) = plan.reads
    assert (read.type, read.id, read.urn) == ("kubernetes:core/v1:Service", "kong/kong-gateway-proxy",
                                              STACK_PREFIX + "kubernetes:core/v1:Service::kong-proxy")
    assert plan.as_json()["reads"] == [read.as_json()]


INVOKES = """
    import pulumi
    import pulumi_aws as aws
    me = aws.get_caller_identity()
    region = aws.get_region()
    partition = aws.get_partition()
    zones = aws.get_availability_zones(exclude_names=[f"{region.region}b"], state="available")
    pulumi.export("identity", {"account": me.account_id, "arn": me.arn, "id": me.id, "user": me.user_id})
    pulumi.export("region", {"region": region.region, "endpoint": region.endpoint})
    pulumi.export("partition", {"partition": partition.partition, "dns_suffix": partition.dns_suffix,
                                "reverse": partition.reverse_dns_prefix})
    pulumi.export("zones", {"names": zones.names, "ids": zones.zone_ids, "groups": zones.group_names,
                            "state": zones.state})
"""


def test_account_region_partition_and_zones_follow_the_stack_config(tmp_path):
    plan = _run(tmp_path, INVOKES, {"proj:aws": json.dumps({"account_id": "210987654321", "region": "eu-west-1"})})
    assert plan.outputs["identity"] == {
        "account": "210987654321", "id": "210987654321", "user": "AROAEXAMPLEPLANROLE01:offline-plan",
        "arn": "arn:aws:sts::210987654321:assumed-role/offline-plan/offline-plan"}
    assert plan.outputs["region"] == {"region": "eu-west-1",
                                      "endpoint": "ec2.eu-west-1.amazonaws.com"}
    assert plan.outputs["partition"] == {"partition": "aws", "dns_suffix": "amazonaws.com", "reverse": "com.amazonaws"}
    assert plan.outputs["zones"] == {"names": ["eu-west-1a", "eu-west-1c"], "ids": ["euw1-az1", "euw1-az3"],
                                     "groups": ["eu-west-1"], "state": "available"}


def test_without_aws_config_the_answers_are_the_documentation_examples(tmp_path):
    plan = _run(tmp_path, INVOKES)
    assert plan.outputs["identity"]["account"] == EXAMPLE_ACCOUNT_ID
    assert plan.outputs["region"]["region"] == "us-east-1" and plan.outputs["zones"]["ids"][0] == "use1-az1"
    china = _run(tmp_path, INVOKES, {"aws:region": "cn-north-1"})
    assert china.outputs["partition"] == {"partition": "aws-cn", "dns_suffix": "amazonaws.com.cn",
                                          "reverse": "cn.com.amazonaws"}
    assert china.outputs["identity"]["arn"].startswith("arn:aws-cn:sts::")


POLICY_DOCUMENT = """
    import json
    import pulumi
    import pulumi_aws as aws
    doc = aws.iam.get_policy_document(policy_id="checkpoints", statements=[
        {"sid": "ReadWrite", "actions": ["s3:PutObject", "s3:GetObject", "s3:GetObject"],
         "resources": ["arn:aws:s3:::b/&{aws:userid}/*", "arn:aws:s3:::b/shared&public/*"],
         "principals": [{"type": "AWS", "identifiers": ["arn:aws:iam::123456789012:role/a",
                                                         "arn:aws:iam::123456789012:role/b"]},
                        {"type": "Service", "identifiers": ["eks.amazonaws.com"]}],
         "conditions": [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["true"]},
                        {"test": "StringLike", "variable": "s3:prefix", "values": ["b/", "a/"]}]},
        {"effect": "Deny", "actions": ["s3:*"], "resources": ["*"],
         "principals": [{"type": "*", "identifiers": ["*"]}]},
    ])
    merged = aws.iam.get_policy_document(
        statements=[{"sid": "ReadWrite", "actions": ["s3:GetObject"], "resources": ["*"]}],
        override_policy_documents=[json.dumps({"Statement": [{"Sid": "ReadWrite", "Effect": "Deny",
                                                              "Action": "s3:*", "Resource": "*"}]})])
    pulumi.export("doc", {"json": doc.json, "minified": doc.minified_json, "id": doc.id, "version": doc.version})
    pulumi.export("merged", json.loads(merged.json))
"""

EXPECTED_POLICY = """{
  "Version": "2012-10-17",
  "Id": "checkpoints",
  "Statement": [
    {
      "Sid": "ReadWrite",
      "Effect": "Allow",
      "Action": [
        "s3:PutObject",
        "s3:GetObject"
      ],
      "Resource": [
        "arn:aws:s3:::b/shared\\u0026public/*",
        "arn:aws:s3:::b/${aws:userid}/*"
      ],
      "Principal": {
        "AWS": [
          "arn:aws:iam::123456789012:role/b",
          "arn:aws:iam::123456789012:role/a"
        ],
        "Service": "eks.amazonaws.com"
      },
      "Condition": {
        "Bool": {
          "aws:SecureTransport": "true"
        },
        "StringLike": {
          "s3:prefix": [
            "b/",
            "a/"
          ]
        }
      }
    },
    {
      "Effect": "Deny",
      "Action": "s3:*",
      "Resource": "*",
      "Principal": "*"
    }
  ]
}"""


def test_policy_documents_render_as_the_provider_writes_them(tmp_path):
    outputs = _run(tmp_path, POLICY_DOCUMENT).outputs
    doc = outputs["doc"]
    assert doc["json"] == EXPECTED_POLICY
    # Go's encoding/json escapes &, < and > even in the compact form.
    assert doc["minified"] == json.dumps(json.loads(EXPECTED_POLICY), separators=(",", ":")).replace("&", "\\u0026")
    assert doc["id"] == str(zlib.crc32(EXPECTED_POLICY.encode())) and doc["version"] == "2012-10-17"
    assert outputs["merged"] == {"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadWrite", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}


def _unclosed_loops() -> set[int]:
    gc.collect()
    return {id(o) for o in gc.get_objects() if isinstance(o, asyncio.AbstractEventLoop) and not o.is_closed()}


def test_a_run_leaves_no_event_loop_or_executor_thread_behind():
    before = _unclosed_loops()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        build_plan("dev")
        gc.collect()
    # An unclosed loop is closed by the garbage collector with a ResourceWarning, or survives to
    # interpreter exit and prints the `BaseEventLoop.__del__` traceback.
    assert not [w for w in caught if "unclosed event loop" in str(w.message)]
    assert _unclosed_loops() <= before
    assert not [t.name for t in threading.enumerate() if t.name.startswith(("asyncio_", "mock-monitor"))]


def test_the_collector_is_paused_during_a_run_and_restored_after_it(tmp_path):
    plan = _run(tmp_path, """
        import gc
        import pulumi
        pulumi.export("collecting", gc.isenabled())
    """)
    assert plan.outputs["collecting"] is False
    assert gc.isenabled()


def test_a_plan_process_ends_with_its_output_out_and_its_code_but_without_the_teardown():
    # The interpreter's teardown (its final collection, freeing every module) is skipped: an
    # atexit handler never runs. What the process printed is all out, and its code is kept.
    probe = textwrap.dedent("""
        import atexit, runpy, sys
        atexit.register(lambda: print("torn down", file=sys.stderr))
        sys.argv = ["tools.plan", *sys.argv[1:]]
        runpy.run_module("tools.plan", run_name="__main__")
    """)
    root = Path(__file__).resolve().parent.parent
    buffered = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}
    planned = subprocess.run([sys.executable, "-c", probe, "dev", "--json"], cwd=root, capture_output=True,
                             text=True, timeout=120, env=buffered)
    assert planned.returncode == 0, planned.stderr[-2000:]
    assert "torn down" not in planned.stderr
    # The whole document, to its last line: it is well over a pipe's buffer.
    assert planned.stdout.endswith("}\n") and len(json.loads(planned.stdout)["resources"]) > 50
    refused = subprocess.run([sys.executable, "-c", probe, "nosuchstack"], cwd=root, capture_output=True,
                             text=True, timeout=120, env=buffered)
    assert (refused.returncode, "torn down" in refused.stderr) == (2, False)
    assert "Pulumi.nosuchstack.yaml" in refused.stderr


@pytest.mark.parametrize("command", [["tools.plan", "dev"], ["tools.bench", "--once", "empty"]])
def test_a_plan_process_runs_without_the_collector_or_pydantic_plugins(command):
    # What the process is set to when it ends: both entry points that plan once and exit.
    probe = textwrap.dedent("""
        import gc, os, runpy, sys
        import tools.process_end as end
        ending = end.exit_after_plan
        def report(code):
            print("collecting", gc.isenabled(), os.environ.get("PYDANTIC_DISABLE_PLUGINS"), file=sys.stderr)
            ending(code)
        end.exit_after_plan = report
        sys.argv = sys.argv[1:]
        runpy.run_module(sys.argv[0], run_name="__main__")
    """)
    ended = subprocess.run([sys.executable, "-c", probe, *command], cwd=Path(__file__).resolve().parent.parent,
                           capture_output=True, text=True, timeout=120)
    assert ended.returncode == 0, ended.stderr[-2000:]
    assert ended.stderr.split("collecting")[-1].split() == ["False", "__all__"]


def test_a_monitor_call_that_fails_inline_fails_the_program_and_not_the_next_run(tmp_path, monkeypatch):
    # Monitor calls run in the calling thread: an error answering one reaches the program's await.
    # The failed run's outputs stay with it: the next run in the process does not wait on them.
    program = f"""
        from components.kube import KubeObject
        KubeObject("cm", ({CONFIG_MAP})("settings"))
    """

    def refused(self, request, urn, inputs):
        raise RuntimeError(f"cannot create {request.name}")

    with monkeypatch.context() as patched:
        patched.setattr(mock_engine._RecordingMonitor, "_created", refused)
        with pytest.raises(Exception, match="cannot create cm"):
            _run(tmp_path, program)
    assert [r.name for r in _run(tmp_path, program).resources] == ["cm"]


def _present(value):
    """`value` without null map entries, at any depth."""
    if isinstance(value, dict):
        return {k: _present(v) for k, v in value.items() if v is not None}
    return [_present(v) for v in value] if isinstance(value, list) else value


def test_creates_are_answered_as_the_mock_monitor_itself_answers_them(monkeypatch):
    # Every create of both stacks, answered our way and MockMonitor's way (deserialize, ask the
    # mocks, serialize back): the same URN, id, and state as the program reads it. MockMonitor's
    # round trip lifts a nested secret to its top-level property (reading the state does that too)
    # and so drops a null inside it, which the engine treats as absent anyway: `_present` does too.
    answered, differ = [], []
    ours = mock_engine._RecordingMonitor._created

    def both(self, request, urn, inputs):
        fast = ours(self, request, urn, inputs)
        reference = self.own_answers.run(functools.partial(mocks.MockMonitor.RegisterResource, self, request))
        answered.append(request.type)
        read = [(answer.urn, answer.id,
                 _present(self.own_answers.run(functools.partial(rpc.deserialize_properties, answer.object))))
                for answer in (fast, reference)]
        if read[0] != read[1]:
            differ.append(request.name)
        return fast

    monkeypatch.setattr(mock_engine._RecordingMonitor, "_created", both)
    for stack in ("dev", "prod"):
        build_plan(stack)
    assert not differ
    # The answers that add fields are among them: a LoadBalancer's address, ARNs, RDS endpoints.
    assert {"kubernetes:core/v1:Service", "aws:rds/instance:Instance", "aws:kms/key:Key"} <= set(answered)


def test_a_created_resource_looked_up_by_urn_has_its_state(tmp_path):
    # `ResourceOptions(urn=...)` rehydrates a resource through `pulumi:pulumi:getResource`.
    plan = _run(tmp_path, f"""
        import pulumi
        from components.kube import KubeObject
        created = KubeObject("cm", ({CONFIG_MAP})("settings"))
        # Once it exists, as the engine requires.
        again = created.urn.apply(lambda urn: pulumi.CustomResource(
            "kubernetes:core/v1:ConfigMap", "cm", {{"data": None, "metadata": None}}, pulumi.ResourceOptions(urn=urn)))
        pulumi.export("data", again.apply(lambda resource: resource.data))
        pulumi.export("name", again.apply(lambda resource: resource.metadata["name"]))
    """)
    assert plan.outputs == {"data": {"a": "1"}, "name": "settings"}


_URN_PART = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20)


@settings(max_examples=60, deadline=None)
@given(name=_URN_PART, type_=_URN_PART, parent=st.builds(make_urn, _URN_PART, _URN_PART, st.just(""), _URN_PART, _URN_PART))
def test_urns_the_run_computes_directly_are_the_sdks(name, type_, parent):
    sdk_create_urn = resource.create_urn

    async def both():
        with mock_engine._sdk_shortcuts():
            ours = resource.create_urn(name, type_, parent)
        theirs = sdk_create_urn(name, type_, parent)
        return [(await urn.future(), await urn.is_known(), await urn.is_secret()) for urn in (ours, theirs)]

    ours, theirs = asyncio.run(both())
    assert ours == theirs
    assert resource.create_urn is sdk_create_urn


def test_the_sdk_functions_a_run_replaces_exist_and_are_restored_after_it():
    # A release that renamed one would make plans slower without a word: the suite says it.
    originals = {name: getattr(module, name) for module, name, _ in mock_engine._SDK_SHORTCUTS}
    build_plan("dev")
    assert {name: getattr(module, name) for module, name, _ in mock_engine._SDK_SHORTCUTS} == originals


def test_resource_types_the_run_caches_are_the_sdks():
    from components.helm import HelmRelease
    from components.kube import KubeObject

    classes = (KubeObject, HelmRelease, pulumi.CustomResource)
    theirs = [_types.resource_types(cls) for cls in classes]
    with mock_engine._sdk_shortcuts():
        ours = [_types.resource_types(cls) for cls in classes]
        assert _types.resource_types(KubeObject) is ours[0]
    assert ours == theirs and theirs[0]


class _Tier(str, enum.Enum):
    API = "api"


def _nested(inner: st.SearchStrategy) -> st.SearchStrategy:
    return (st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
            | st.tuples(st.sampled_from(["output", "secret", "tuple"]), inner))


_LEAF = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=4)
# A value as a program passes it: JSON-shaped, with here and there what is not (an output, a
# secret, a tuple, a str enum), each of which the SDK serializes its own way.
_INPUT = st.recursive(_LEAF | st.just(_Tier.API), _nested, max_leaves=12)


def _materialized(spec, outputs: list):
    """`_INPUT`'s markers made into what they stand for (outputs need the running loop); each
    output made is added to `outputs`."""
    if isinstance(spec, tuple):
        kind, inner = spec[0], _materialized(spec[1], outputs)
        if kind == "tuple":
            return (inner,)
        outputs.append(pulumi.Output.from_input(inner) if kind == "output" else pulumi.Output.secret(inner))
        return outputs[-1]
    if isinstance(spec, dict):
        return {k: _materialized(v, outputs) for k, v in spec.items()}
    return [_materialized(v, outputs) for v in spec] if isinstance(spec, list) else spec


@settings(max_examples=150, deadline=None)
@given(spec=_INPUT, how=st.sampled_from([(None, None), (str.upper, None), (None, dict[str, str]),
                                         (pulumi.Resource.translate_input_property.__get__(object()), None)]))
def test_values_the_run_serializes_directly_are_serialized_as_the_sdk_does(spec, how):
    # Each way a name may be translated: none, a resource's own renaming, by type, the identity.
    transformer, typ = how
    sdk_serialize_property = rpc.serialize_property

    async def serialized():
        outputs, deps = [], []
        value = _materialized(spec, outputs)
        try:
            return await rpc.serialize_property(value, deps, "key", None, transformer, typ), deps
        except AssertionError as refused:  # a list where the type says map: refused alike
            return repr(refused)
        finally:  # none left pending for the SDK's next run to wait on
            await asyncio.gather(*(output.future() for output in outputs))

    theirs = asyncio.run(serialized())
    with mock_engine._sdk_shortcuts():
        ours = asyncio.run(serialized())
    assert ours == theirs
    assert rpc.serialize_property is sdk_serialize_property


_STRUCT_LEAF = st.none() | st.booleans() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=4)
# A state as a create's answer carries it: plain values, and here and there what the SDK reads
# more into (an unknown, a secret's signature).
_STATE = st.dictionaries(st.text(max_size=4), st.recursive(
    _STRUCT_LEAF | st.just(rpc.UNKNOWN),
    lambda inner: (st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
                   | inner.map(lambda value: {rpc._special_sig_key: rpc._special_secret_sig, "value": value})),
    max_leaves=12), max_size=4)


def _plain(value) -> bool:
    if isinstance(value, dict):
        return rpc._special_sig_key not in value and all(map(_plain, value.values()))
    return all(map(_plain, value)) if isinstance(value, list) else value != rpc.UNKNOWN


@settings(max_examples=200, deadline=None)
@given(state=_STATE)
def test_create_answers_the_run_reads_directly_are_read_as_the_sdk_reads_them(state):
    struct = struct_pb2.Struct()
    struct.update(state)
    answer = resource_pb2.RegisterResourceResponse(object=struct).object
    values = mock_engine.struct_values(answer)
    assert values == json_format.MessageToDict(answer)
    sdk_reads = []

    def sdk_deserialize_properties(*args):
        sdk_reads.append(args)
        return rpc.deserialize_properties(*args)

    monitor = SimpleNamespace(created_values={id(answer): (answer, values)})
    with mock.patch.object(mock_engine.settings, "get_monitor", return_value=monitor):
        ours = mock_engine._created_values_as_read(sdk_deserialize_properties)(answer)
    assert ours == rpc.deserialize_properties(answer)
    # Plain states are read directly; the others by the SDK. Each answer is read once.
    assert bool(sdk_reads) != _plain(state)
    assert not monitor.created_values


@settings(max_examples=200, deadline=None)
@given(state=_STATE, how=st.sampled_from([(None, "identity"), (dict, "identity"), (dict[str, int], "identity"),
                                          (int, "identity"), (None, "upper"), (None, "identity-by-type")]))
def test_outputs_the_run_reads_directly_are_translated_as_the_sdk_translates_them(state, how):
    # Each way an output's names may be translated: none (a resource's own identity), by a
    # renaming resource, or by type metadata; each type the value may be declared as.
    typ, naming = how
    transformer = str.upper if naming == "upper" else pulumi.Resource.translate_output_property.__get__(object())
    by_type = naming == "identity-by-type"
    sdk_calls = []

    def sdk_translate(*args):
        sdk_calls.append(args)
        return rpc.translate_output_properties(*args)

    def translated(translate):
        try:
            return translate(state, transformer, typ, by_type)
        except AssertionError as refused:  # a value the declared type does not allow: refused alike
            return repr(refused)

    ours = translated(mock_engine._names_kept(sdk_translate))
    assert ours == translated(rpc.translate_output_properties)
    # A plain value kept as it is named is copied directly, not by the SDK, and not shared.
    direct = typ in (None, dict) and naming != "upper" and rpc._special_sig_key not in repr(state)
    assert bool(sdk_calls) != direct
    assert ours is not state


def _with_unknowns(spec):
    """`spec` with each 1.5 made an Unknown, and a cycle wherever a map holds the key "cycle"."""
    from pulumi.output import Unknown

    if isinstance(spec, dict):
        made = {k: _with_unknowns(v) for k, v in spec.items()}
        if "cycle" in made:
            made["cycle"] = [made]
        return made
    if isinstance(spec, list):
        return [_with_unknowns(v) for v in spec]
    return Unknown() if spec == 1.5 else spec


@settings(max_examples=200, deadline=None)
@given(spec=st.recursive(_LEAF | st.just(1.5), lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(["a", "b", "cycle"]), inner, max_size=3), max_leaves=12))
def test_unknowns_the_run_finds_directly_are_the_ones_the_sdk_finds(spec):
    value = _with_unknowns(spec)
    assert mock_engine._unknowns_found_directly(rpc.contains_unknowns)(value) == rpc.contains_unknowns(value)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_plans_are_the_same_without_the_sdk_shortcuts(stack, monkeypatch):
    # What each shortcut stands for, over a whole stack: the URNs, dependencies (a component's
    # expanded to its children), inputs, options and outputs the program ends up with.
    fast = build_plan(stack).as_json()
    monkeypatch.setattr(mock_engine, "_SDK_SHORTCUTS", ())
    assert build_plan(stack).as_json() == fast
    assert any(resource["dependencies"] for resource in fast["resources"]) and fast["outputs"]


def test_the_programs_dependency_lists_are_resolved_directly(monkeypatch):
    sdk_calls = []

    async def sdk_resolve(depends_on, from_resource=None):
        sdk_calls.append(depends_on)
        return set()

    monkeypatch.setattr(mock_engine, "_SDK_SHORTCUTS", tuple(
        (module, name, (lambda _: mock_engine._plain_dependency_lists(sdk_resolve))
         if name == "_resolve_depends_on_urns" else shortcut) for module, name, shortcut in mock_engine._SDK_SHORTCUTS))
    build_plan("prod")
    assert sdk_calls == []  # every dependency list of the program is a plain list of resources


@pytest.mark.parametrize("level", [logging.WARNING, logging.DEBUG])
def test_debug_lines_are_dropped_only_where_the_mock_engine_would_not_log_them(level):
    logger = logging.getLogger("mock-engine-debug-test")
    logger.setLevel(level)
    sent = []
    with mock.patch.object(mock_engine.settings, "get_engine", return_value=mocks.MockEngine(logger)):
        mock_engine._debug_lines_unsent(lambda *args: sent.append(args))("registering", None, None, None)
    assert sent == ([] if level == logging.WARNING else [("registering", None, None, None)])
    with mock.patch.object(mock_engine.settings, "get_engine", return_value=SimpleNamespace()):
        mock_engine._debug_lines_unsent(lambda *args: sent.append(args))("to a real engine")
    assert sent[-1][0] == "to a real engine"
