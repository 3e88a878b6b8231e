"""Every policy of the pack, for the pack itself and for the offline check (tools.policy_check)."""

from pulumi_policy import EnforcementLevel

from . import aws, kubernetes

POLICIES = [*kubernetes.POLICIES, *aws.POLICIES]

# Mandatory unless the stack's policy config says otherwise (config.dev.json makes dev advisory).
DEFAULT_ENFORCEMENT = EnforcementLevel.MANDATORY
