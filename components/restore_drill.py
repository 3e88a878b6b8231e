"""`RestoreDrill`: the seed's weekly restore test as a CronJob running `python -m ops restore-drill` from the
operations image, with the stack outputs it is driven by in a Secret (they hold credentials), and for
RDS an IRSA role allowed exactly the restore, describe and delete calls of the drill."""

from __future__ import annotations

import dataclasses
import json

import pulumi

from ops.restore.cronjob import OUTPUTS_KEY, RestoreDrillJobSpec, rds_drill_policy, restore_drill_objects

from .aws import AwsResource
from .kube import KubeObject
from .namespace import ComputeResources, Workload

# The drill's pod (the quota of the app namespace it runs in).
POD = ComputeResources("100m", "256Mi", "1", "1Gi")


def workload(spec: RestoreDrillJobSpec) -> Workload:
    return Workload(spec.name, POD, max_pods=1)


class RestoreDrill(pulumi.ComponentResource):
    def __init__(self, name: str, spec: RestoreDrillJobSpec, outputs: dict[str, pulumi.Input],
                 depends_on: list[pulumi.Resource], rds: tuple[pulumi.Input[str], str] | None = None,
                 oidc_provider_arn: str | None = None, opts: pulumi.ResourceOptions | None = None):
        """`outputs`: the stack outputs the drill reads; `rds`: (source instance ARN, account ARN prefix of
        its drill copies) for an RDS drill, whose role trusts the cluster's OIDC provider."""
        super().__init__("langgraph:platform:RestoreDrill", name, None, opts)
        after = pulumi.ResourceOptions(parent=self, depends_on=depends_on)
        if rds is not None:
            issuer = oidc_provider_arn.split(":oidc-provider/", 1)[1]
            role = AwsResource("aws:iam/role:Role", f"{name}-role", {"assumeRolePolicy": json.dumps({
                "Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"Federated": oidc_provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringEquals": {
                        f"{issuer}:sub": f"system:serviceaccount:{spec.namespace}:{spec.name}",
                        f"{issuer}:aud": "sts.amazonaws.com"}}}]})},
                pulumi.ResourceOptions(parent=self))
            policy = pulumi.Output.all(*rds).apply(lambda arns: json.dumps(rds_drill_policy(*arns)))
            AwsResource("aws:iam/rolePolicy:RolePolicy", f"{name}-policy", {"role": role.id, "policy": policy},
                        pulumi.ResourceOptions(parent=self))
            # The ServiceAccount carries the role (IRSA); the builder annotates it.
            spec = dataclasses.replace(spec, iam_role_arn=role.arn)
        secret = KubeObject(f"{name}-outputs", {
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": spec.outputs_secret, "namespace": spec.namespace, "labels": dict(spec.all_labels)},
            "stringData": {OUTPUTS_KEY: pulumi.Output.secret(pulumi.Output.json_dumps(outputs))},
        }, after)
        for obj in restore_drill_objects(spec):
            KubeObject(f"{name}-{obj['kind'].lower()}", obj,
                       pulumi.ResourceOptions(parent=self, depends_on=[*depends_on, secret]))
        self.register_outputs({})
