"""Run the policy pack offline over a recorded plan, as the engine would during `pulumi preview`.

Resources reach the policies in the engine's own shapes: type token, camelCase inputs,
options (protect), parent and dependencies, so the same functions judge both.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)

from policy.rules.catalog import DEFAULT_ENFORCEMENT, POLICIES

from .mock_engine import Plan

POLICY_DIR = Path(__file__).resolve().parent.parent / "policy"


@dataclass(frozen=True)
class Violation:
    policy: str
    level: EnforcementLevel
    resource: str
    message: str


def load_policy_config(stack: str, path: Path | None = None) -> dict[str, Any]:
    """The stack's policy config (`policy/config.<stack>.json`); empty when there is none."""
    path = path or POLICY_DIR / f"config.{stack}.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def _settings(name: str, config: dict[str, Any]) -> tuple[EnforcementLevel, dict[str, Any]]:
    """Enforcement level and policy config, resolved as the engine does: the policy's own
    entry, then `all`, then the pack's default."""
    level = EnforcementLevel(config["all"]) if "all" in config else DEFAULT_ENFORCEMENT
    own = config.get(name, {})
    if isinstance(own, str):
        return EnforcementLevel(own), {}
    own = dict(own)
    if "enforcementLevel" in own:
        level = EnforcementLevel(own.pop("enforcementLevel"))
    return level, own


def _policy_resources(plan: Plan) -> list[PolicyResource]:
    by_urn: dict[str, PolicyResource] = {}
    for r in plan.resources:
        opts = PolicyResourceOptions(protect=r.protect, ignore_changes=list(r.ignore_changes),
                                     delete_before_replace=r.delete_before_replace, aliases=list(r.aliases),
                                     custom_timeouts=PolicyCustomTimeouts(0, 0, 0), additional_secret_outputs=[])
        by_urn[r.urn] = PolicyResource(r.type, r.inputs, r.urn, r.name, opts, None, None, [], {})
    names = {r.name: r.urn for r in plan.resources}
    for r in plan.resources:
        resource = by_urn[r.urn]
        resource.parent = by_urn.get(names.get(r.parent, ""))
        resource.opts.parent = resource.parent.urn if resource.parent else None
        resource.dependencies = [by_urn[u] for u in r.dependencies if u in by_urn]
        resource.property_dependencies = {k: [by_urn[u] for u in urns if u in by_urn]
                                          for k, urns in r.property_dependencies.items()}
    return list(by_urn.values())


def _reporter(violations: list[Violation], policy: str, level: EnforcementLevel, resource: str):
    """The `report_violation` a policy calls; a stack policy names the resource by its URN."""

    def report(message: str, urn: str | None = None) -> None:
        violations.append(Violation(policy, level, urn.split("::")[-1] if urn else resource, message))

    return report


def evaluate(plan: Plan, config: dict[str, Any]) -> list[Violation]:
    resources = _policy_resources(plan)
    violations: list[Violation] = []
    for policy in POLICIES:
        level, policy_config = _settings(policy.name, config)
        if level == EnforcementLevel.DISABLED:
            continue
        if isinstance(policy, ResourceValidationPolicy):
            for r in resources:
                args = ResourceValidationArgs(r.resource_type, r.props, r.urn, r.name, r.opts, None, policy_config)
                policy.validate(args, _reporter(violations, policy.name, level, r.name))
        else:
            policy.validate(StackValidationArgs(resources, policy_config),
                            _reporter(violations, policy.name, level, "(stack)"))
    return violations


def render(violations: list[Violation], policy_count: int = len(POLICIES)) -> str:
    mandatory = sum(v.level == EnforcementLevel.MANDATORY for v in violations)
    lines = [f"Policies: {policy_count} evaluated, {mandatory} mandatory and "
             f"{len(violations) - mandatory} advisory violation(s)"]
    lines += [f"  [{v.level.value}] {v.policy}: {v.resource}: {v.message}" for v in violations]
    return "\n".join(lines)


def has_mandatory(violations: list[Violation]) -> bool:
    return any(v.level == EnforcementLevel.MANDATORY for v in violations)
