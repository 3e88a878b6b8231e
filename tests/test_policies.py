"""The policy pack: every policy has a compliant and a violating case made from real plan output,
both stacks pass, and the pack served over Pulumi's analyzer protocol reaches the same verdicts."""

from __future__ import annotations

import copy
import dataclasses
import json
import subprocess
import sys
from collections.abc import Callable

import grpc
import pytest
from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import EnforcementLevel

from policy.rules.catalog import POLICIES
from stackconfig import PROJECT
from tools import plan as plan_cli
from tools.mock_engine import Plan, Resource, run_program
from tools.policy_check import _settings, evaluate, has_mandatory, load_policy_config

from .conftest import ROOT

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"


@pytest.fixture(scope="module")
def aws_tier() -> Plan:
    """A compliant data tier built with pulumi_aws and recorded by the same mock engine."""
    return run_program(ROOT / "tests" / "programs" / "aws_data_tier", PROJECT, "prod", {"aws:region": "us-east-1"})


@pytest.fixture
def full_prod(prod_plan, aws_tier) -> Plan:
    return Plan("prod", copy.deepcopy(prod_plan.resources + aws_tier.resources), prod_plan.outputs)


def _edit(plan: Plan, token: str, change: Callable[[Resource], Resource | None], name: str | None = None) -> Plan:
    """A copy of `plan` where the first `token` resource (named `name`) is replaced by `change(resource)`;
    None removes it."""
    target = next(r for r in plan.resources if r.type == token and (name is None or r.inputs.get("metadata", {}).get("name") == name))
    replaced = change(dataclasses.replace(target, inputs=copy.deepcopy(target.inputs)))
    resources = [replaced if r is target else r for r in plan.resources if r is not target or replaced is not None]
    return Plan(plan.stack, resources, plan.outputs)


def _inputs(mutate: Callable[[dict], None]) -> Callable[[Resource], Resource]:
    def change(resource: Resource) -> Resource:
        mutate(resource.inputs)
        return resource
    return change


def _container(inputs: dict) -> dict:
    return inputs["spec"]["template"]["spec"]["containers"][0]


VIOLATIONS = {
    "k8s-container-resources": (DEPLOYMENT, None, _inputs(lambda i: _container(i)["resources"].pop("limits")), "has no limits for cpu, memory"),
    "k8s-container-probes": (DEPLOYMENT, None, _inputs(lambda i: _container(i).pop("startupProbe")), "lacks startupProbe"),
    "k8s-restricted-security-context": (DEPLOYMENT, None, _inputs(lambda i: _container(i)["securityContext"].update(
        privileged=True, readOnlyRootFilesystem=False)), "is privileged"),
    "k8s-pinned-images": (DEPLOYMENT, None, _inputs(lambda i: _container(i).update(image="ghcr.io/example/app:latest")), "pin a tag"),
    "k8s-hpa-minimum": ("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", None,
                        _inputs(lambda i: i["spec"].update(minReplicas=2)), "minReplicas 2 is below 3"),
    "k8s-replicated-deployment-has-pdb": ("kubernetes:policy/v1:PodDisruptionBudget", None, lambda r: None,
                                          "no PodDisruptionBudget selects its pods"),
    "k8s-namespace-default-deny": ("kubernetes:networking.k8s.io/v1:NetworkPolicy", "default-deny", lambda r: None,
                                   "namespace langgraph has no default-deny NetworkPolicy"),
    "s3-block-public-access": ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", None,
                               _inputs(lambda i: i.update(blockPublicPolicy=False)), "does not block public access"),
    "s3-no-public-acl": ("aws:s3/bucket:Bucket", None, _inputs(lambda i: i.update(acl="public-read")), "makes objects public"),
    "s3-sse-kms": (ENCRYPTION, None, _inputs(lambda i: i["rules"][0]["applyServerSideEncryptionByDefault"].update(
        sseAlgorithm="AES256")), "is not encrypted with SSE-KMS"),
    "s3-versioning": ("aws:s3/bucketVersioning:BucketVersioning", None,
                      _inputs(lambda i: i["versioningConfiguration"].update(status="Suspended")), "is not versioned"),
    "s3-deny-insecure-transport": ("aws:s3/bucketPolicy:BucketPolicy", None,
                                   _inputs(lambda i: i.update(policy=i["policy"].replace('"Deny"', '"Allow"'))),
                                   "does not deny non-TLS requests"),
    "rds-encrypted-private": ("aws:rds/instance:Instance", None,
                              _inputs(lambda i: i.update(storageEncrypted=False, publiclyAccessible=True)), "not encrypted"),
    "rds-prod-resilience": ("aws:rds/instance:Instance", None,
                            _inputs(lambda i: i.update(multiAz=False, backupRetentionPeriod=1)), "not Multi-AZ"),
    "elasticache-encryption": ("aws:elasticache/replicationGroup:ReplicationGroup", None,
                               _inputs(lambda i: i.update(transitEncryptionEnabled=False)), "encryption in transit is off"),
    "protect-stateful-resources": ("aws:rds/instance:Instance", None, lambda r: dataclasses.replace(r, protect=False),
                                   "stateful resource without `protect`"),
}


def _by_policy(violations) -> dict[str, list]:
    found: dict[str, list] = {}
    for v in violations:
        found.setdefault(v.policy, []).append(v)
    return found


def test_every_policy_has_a_violating_case():
    assert {p.name for p in POLICIES} == set(VIOLATIONS)


def test_both_stacks_and_a_compliant_data_tier_pass(dev_plan, prod_plan, full_prod):
    assert evaluate(dev_plan, load_policy_config("dev")) == []
    assert evaluate(prod_plan, load_policy_config("prod")) == []
    assert evaluate(full_prod, load_policy_config("prod")) == [], "the compliant case of every AWS policy"


@pytest.mark.parametrize("policy", VIOLATIONS)
def test_violation_is_mandatory_in_prod(full_prod, policy):
    token, name, change, fragment = VIOLATIONS[policy]
    violations = evaluate(_edit(full_prod, token, change, name), load_policy_config("prod"))
    found = _by_policy(violations)
    assert set(found) == {policy}, violations
    assert any(fragment in v.message for v in found[policy]), found[policy]
    assert all(v.level == EnforcementLevel.MANDATORY for v in violations)


def test_dev_is_advisory_and_prod_only_rules_stay_quiet(dev_plan):
    edited = _edit(dev_plan, DEPLOYMENT, _inputs(lambda i: (_container(i).update(image="app:latest"),
                                                           _container(i)["resources"].pop("limits"))))
    violations = evaluate(edited, load_policy_config("dev"))
    assert {v.policy for v in violations} == {"k8s-container-resources"}
    assert not has_mandatory(violations)


def test_cli_fails_on_mandatory_violations(full_prod, monkeypatch, capsys):
    edited = _edit(full_prod, DEPLOYMENT, _inputs(lambda i: (_container(i).update(image="repo/app:latest"),
                                                            _container(i)["resources"].pop("limits"))))
    edited = _edit(edited, ENCRYPTION, lambda r: None)
    monkeypatch.setattr(plan_cli, "build_plan", lambda stack, config_file=None: edited)
    assert plan_cli.main(["prod", "--policy"]) == 1
    out = capsys.readouterr().out
    for line in ("[mandatory] k8s-pinned-images: langgraph-prod-app-api-deployment: container langgraph runs 'repo/app:latest'",
                 "[mandatory] k8s-container-resources: langgraph-prod-app-api-deployment: container langgraph has no limits",
                 "[mandatory] s3-sse-kms: langgraph-prod-checkpoints-bucket: bucket langgraph-prod-checkpoints-bucket is "
                 "not encrypted with SSE-KMS"):
        assert line in out


def test_cli_passes_the_prod_stack():
    result = subprocess.run([sys.executable, "-m", "tools.plan", "prod", "--json", "--policy"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "0 mandatory and 0 advisory violation(s)" in result.stderr
    json.loads(result.stdout)


# --- the pack served over the analyzer protocol, as `pulumi preview --policy-pack` runs it -----------


@pytest.fixture(scope="module")
def analyzer():
    process = subprocess.Popen([sys.executable, "__main__.py"], cwd=ROOT / "policy", stdout=subprocess.PIPE, text=True)
    try:
        port = int(process.stdout.readline())
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=30)
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
        channel.close()
    finally:
        process.kill()
        process.wait()


def _struct(value: dict) -> struct_pb2.Struct:
    return json_format.ParseDict(value, struct_pb2.Struct())


def _served_verdicts(stub, plan: Plan, config: dict) -> set[tuple[str, str, str]]:
    levels = {EnforcementLevel.ADVISORY: analyzer_pb2.ADVISORY, EnforcementLevel.MANDATORY: analyzer_pb2.MANDATORY,
              EnforcementLevel.DISABLED: analyzer_pb2.DISABLED}
    policy_config = {}
    for policy in POLICIES:
        level, properties = _settings(policy.name, config)
        policy_config[policy.name] = analyzer_pb2.PolicyConfig(enforcementLevel=levels[level], properties=_struct(properties))
    stub.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=policy_config))
    names = {r.name: r.urn for r in plan.resources}
    by_level = {analyzer_pb2.ADVISORY: "advisory", analyzer_pb2.MANDATORY: "mandatory"}
    verdicts = set()
    stack = []
    for r in plan.resources:
        options = analyzer_pb2.AnalyzerResourceOptions(protect=r.protect, parent=names.get(r.parent, ""))
        # A resource policy's diagnostic belongs to the resource under analysis.
        verdicts |= {(d.policyName, by_level[d.enforcementLevel], r.name) for d in stub.Analyze(analyzer_pb2.AnalyzeRequest(
            type=r.type, properties=_struct(r.inputs), urn=r.urn, name=r.name, options=options)).diagnostics}
        stack.append(analyzer_pb2.AnalyzerResource(
            type=r.type, properties=_struct(r.inputs), urn=r.urn, name=r.name, options=options,
            parent=names.get(r.parent, ""), dependencies=list(r.dependencies),
            propertyDependencies={k: analyzer_pb2.AnalyzerPropertyDependencies(urns=list(v))
                                  for k, v in r.property_dependencies.items()}))
    by_urn = {r.urn: r.name for r in plan.resources}
    diagnostics = stub.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=stack)).diagnostics
    return verdicts | {(d.policyName, by_level[d.enforcementLevel], by_urn.get(d.urn, "(stack)")) for d in diagnostics}


def test_served_pack_agrees_with_the_offline_check(analyzer, full_prod):
    config = load_policy_config("prod")
    assert _served_verdicts(analyzer, full_prod, config) == set()
    edited = full_prod
    for policy in ("k8s-container-probes", "k8s-pinned-images", "s3-versioning", "protect-stateful-resources",
                   "k8s-namespace-default-deny"):
        token, name, change, _ = VIOLATIONS[policy]
        edited = _edit(edited, token, change, name)
    offline = {(v.policy, v.level.value, v.resource) for v in evaluate(edited, config)}
    assert {policy for policy, _, _ in offline} == {"k8s-container-probes", "k8s-pinned-images", "s3-versioning",
                                                    "protect-stateful-resources", "k8s-namespace-default-deny"}
    assert _served_verdicts(analyzer, edited, config) == offline
