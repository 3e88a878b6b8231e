"""The policy pack: only assembles the policies; they live in `rules/`."""

from pulumi_policy import PolicyPack

from rules.catalog import DEFAULT_ENFORCEMENT, POLICIES

PolicyPack(name="langgraph-platform", enforcement_level=DEFAULT_ENFORCEMENT, policies=POLICIES)
