"""The namespace helper: quota and limits sized from the tier, Pod Security pinned, default-deny,
objects Kubernetes' own schemas accept, registered as children of the component that asks."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from fractions import Fraction
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from components.namespace import (QUOTA_KEYS, ComputeResources, Tier, Workload, combined, namespace_objects,
                                  quota_hard)
from stackconfig import PROJECT
from stackconfig.quantity import parse_quantity
from tools.mock_engine import run_program

KUBERNETES_VALIDATE = Path(sys.executable).parent / "kubernetes-validate"
UNIT = {"cpu": Fraction(1, 1000), "memory": Fraction(1)}  # the finest amount Kubernetes charges


def _cpu(millicores: int, style: int) -> str:
    if style == 3:  # finer than Kubernetes charges: rounded up to the next millicore
        return f"{millicores - 1}.5m"
    if style == 0 or millicores % 1000:
        return f"{millicores}m" if style != 2 else f"{millicores // 1000}.{millicores % 1000:03d}"
    return str(millicores // 1000)


def _memory(size: int, style: int) -> str:
    """`size` in KiB written as Ki, Mi (when exact), bytes, decimal kilobytes (not a binary amount),
    or with half a byte more (rounded up to the next byte)."""
    if style == 1 and size % 1024 == 0:
        return f"{size // 1024}Mi"
    if style == 2:
        return str(size * 1024)
    if style == 3:
        return f"{size}k"
    if style == 4:
        return f"{size * 1024}.5"
    return f"{size}Ki"


@st.composite
def resources(draw) -> ComputeResources:
    cpu = sorted(draw(st.lists(st.integers(1, 64_000), min_size=2, max_size=2)))
    memory = sorted(draw(st.lists(st.integers(1, 64 * 2**20), min_size=2, max_size=2)))
    cpu_style, memory_style = draw(st.integers(0, 3)), draw(st.integers(0, 4))
    # Decimal kilobytes (style 3) are smaller than KiB: keep the request below the limit in both.
    return ComputeResources(_cpu(cpu[0], cpu_style), _memory(memory[0], memory_style),
                            _cpu(cpu[1], cpu_style), _memory(memory[1], memory_style))


@st.composite
def workloads(draw) -> tuple[Workload, ...]:
    count = draw(st.integers(1, 4))
    found = []
    for index in range(count):
        max_pods = draw(st.integers(1, 200))
        found.append(Workload(f"w{index}", draw(resources()), max_pods, draw(st.integers(0, max_pods))))
    return tuple(found)


def _amount(pod: ComputeResources, key: str) -> Fraction:
    kind, resource = key.split(".")
    return parse_quantity(getattr(pod, f"{resource}_{'request' if kind == 'requests' else 'limit'}"))


@settings(max_examples=200, deadline=None)
@given(workloads())
def test_quota_admits_every_planned_pod_at_its_limits_during_a_rollout(planned):
    hard = quota_hard(planned)
    assert int(hard["pods"]) == sum(w.max_pods + w.max_surge for w in planned)
    for key in QUOTA_KEYS:
        needed = sum((w.max_pods + w.max_surge) * _amount(w.pod, key) for w in planned)
        granted = parse_quantity(hard[key])
        assert granted >= needed, f"{key}: quota {hard[key]} < {float(needed)} needed"
        # And no more than rounding each pod up to what Kubernetes charges.
        slack = sum(w.max_pods + w.max_surge for w in planned) * UNIT[key.split(".")[1]]
        assert granted < needed + slack, f"{key}: quota {hard[key]} is oversized"


@settings(max_examples=200, deadline=None)
@given(workloads())
def test_limit_range_admits_planned_pods_and_nothing_larger(planned):
    pod_max, container = namespace_objects(Tier("t", {}, planned)).limit_range["spec"]["limits"]
    assert pod_max["type"] == "Pod" and container["type"] == "Container"
    for resource in ("cpu", "memory"):
        largest = parse_quantity(pod_max["max"][resource])
        limits = [_amount(w.pod, f"limits.{resource}") for w in planned]
        assert all(limit <= largest for limit in limits)
        assert largest < max(limits) + UNIT[resource]  # the largest planned pod, not more
        request, limit = (parse_quantity(container[k][resource]) for k in ("defaultRequest", "default"))
        assert request <= limit <= largest


def test_a_pod_is_charged_for_all_its_containers():
    pod = combined(ComputeResources("250m", "256Mi", "1", "1Gi"), ComputeResources("100m", "128Mi", "500m", "512Mi"))
    assert pod == ComputeResources("350m", "384Mi", "1500m", "1536Mi")
    hard = quota_hard((Workload("kong", pod, max_pods=3, max_surge=1),))
    assert hard == {"pods": "4", "requests.cpu": "1400m", "requests.memory": "1536Mi",
                    "limits.cpu": "6", "limits.memory": "6Gi"}


def test_inconsistent_sizes_are_refused():
    with pytest.raises(ValueError, match="cpu request 2 exceeds its limit 1"):
        ComputeResources("2", "1Gi", "1", "1Gi")
    with pytest.raises(ValueError, match="max_pods must be >= 1"):
        Workload("w", ComputeResources("1", "1Gi", "1", "1Gi"), max_pods=0)
    with pytest.raises(ValueError, match="no workloads"):
        Tier("t", {}, ())


TIER = Tier("edge", {"app.kubernetes.io/part-of": "langgraph-platform"},
            (Workload("kong", ComputeResources("250m", "256Mi", "1", "1Gi"), max_pods=2, max_surge=1),),
            pod_security="restricted", pod_security_version="v1.30")


def test_pod_security_is_enforced_audited_and_warned_at_a_pinned_version():
    labels = namespace_objects(TIER).namespace["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
        assert labels[f"pod-security.kubernetes.io/{mode}-version"] == "v1.30"
    assert labels["app.kubernetes.io/part-of"] == "langgraph-platform"


def test_default_deny_covers_every_pod_both_ways():
    deny = namespace_objects(TIER).default_deny
    assert deny["metadata"]["namespace"] == "edge"
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_objects_pass_kubernetes_validate_strict(tmp_path):
    objects = namespace_objects(TIER)
    path = tmp_path / "tier.yaml"
    path.write_text(yaml.safe_dump_all([objects.namespace, objects.default_deny, objects.quota, objects.limit_range]))
    result = subprocess.run([str(KUBERNETES_VALIDATE), "--strict", "-k", "1.31.0", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    for kind in ("namespace", "networkpolicy", "resourcequota", "limitrange"):
        assert f"passed for resource {kind}/" in result.stdout, result.stdout


PROGRAM = textwrap.dedent("""
    import pulumi
    from components.namespace import ComputeResources, Tier, Workload, register_namespace

    class Holder(pulumi.ComponentResource):
        def __init__(self, name):
            super().__init__("test:index:Holder", name)
            tier = Tier("edge", {}, (Workload("kong", ComputeResources("1", "1Gi", "1", "1Gi"), 1),))
            self.namespace = register_namespace(name, tier, self)
            pulumi.export("namespace_urn", self.namespace.urn)

    Holder("tier")
""")


def test_registered_objects_are_children_that_wait_for_the_namespace(tmp_path):
    (tmp_path / "__main__.py").write_text(PROGRAM)
    plan = run_program(tmp_path, PROJECT, "dev", {})
    registered = {r.name: r for r in plan.resources}
    assert set(registered) == {"tier", "tier-namespace", "tier-default-deny", "tier-quota", "tier-limits"}
    namespace_urn = plan.outputs["namespace_urn"]
    assert registered["tier-namespace"].urn == namespace_urn
    for name in ("tier-namespace", "tier-default-deny", "tier-quota", "tier-limits"):
        assert registered[name].parent == "tier"
    for name in ("tier-default-deny", "tier-quota", "tier-limits"):
        assert namespace_urn in registered[name].dependencies, f"{name} does not wait for the namespace"
    assert registered["tier-quota"].inputs["kind"] == "ResourceQuota"
