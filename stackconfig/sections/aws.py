"""`aws`: the existing AWS account and network that prod's managed services live in."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from ..types import AWS_ACCOUNT, FieldProblem, RoutableCidr, Section

KEY = "aws"

# Settings every AWS-backed component needs.
REQUIRED = ("region", "account_id", "vpc_id", "vpc_cidr", "private_subnet_ids", "eks_cluster_name",
            "eks_oidc_provider_arn")


def _vpc_sized(value: str) -> str:
    prefix = ipaddress.ip_network(value).prefixlen
    if not 16 <= prefix <= 28:
        raise ValueError(f"{value!r}: an AWS VPC CIDR has a prefix between /16 and /28")
    return value


SubnetId = Annotated[str, Field(pattern=r"^subnet-[0-9a-f]{8,17}$")]


class AwsConfig(Section):
    region: str | None = Field(None, pattern=r"^[a-z]{2}(-gov)?-[a-z]+-[0-9]$")
    """AWS region of the account, e.g. us-east-1."""
    account_id: str | None = Field(None, pattern=AWS_ACCOUNT)
    """12-digit AWS account id the stack deploys into (checked by the AWS provider)."""
    vpc_id: str | None = Field(None, pattern=r"^vpc-[0-9a-f]{8,17}$")
    """VPC of the EKS cluster; the data tier (RDS, ElastiCache) is placed in it."""
    vpc_cidr: Annotated[RoutableCidr, AfterValidator(_vpc_sized)] | None = None
    """CIDR of that VPC: the app's egress to RDS, ElastiCache and the S3/STS endpoints is limited to it."""
    private_subnet_ids: tuple[SubnetId, ...] = ()
    """Private subnets (at least two, in different AZs) for the data tier and the VPC endpoints."""
    eks_cluster_name: str | None = Field(None, pattern=r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$")
    """Name of the existing EKS cluster."""
    eks_oidc_provider_arn: str | None = Field(None, pattern=r"^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/[A-Za-z0-9./_-]{1,200}$")
    """ARN of the cluster's IAM OIDC provider, for IRSA roles (app -> S3)."""
    s3_sts_endpoints: Literal["create", "existing"] = "create"
    """How the app reaches S3 and STS (IRSA) without leaving the VPC: `create` adds interface VPC endpoints with private DNS in the private subnets; `existing` means the VPC already has interface endpoints for both. Either way the app's egress to them is the VPC CIDR on 443."""

    @model_validator(mode="after")
    def _unique_subnets(self) -> AwsConfig:
        if len(set(self.private_subnet_ids)) != len(self.private_subnet_ids):
            duplicate = next(s for s in self.private_subnet_ids if self.private_subnet_ids.count(s) > 1)
            raise FieldProblem("private_subnet_ids", list(self.private_subnet_ids),
                               f"lists {duplicate} twice; each subnet counts once")
        return self


MODEL = AwsConfig
DEFAULTS: dict[str, dict] = {}


def cross_checks(config):
    users = config.aws_users()
    if not users:
        return
    for name in REQUIRED:
        value = getattr(config.aws, name)
        if not value:
            yield (f"aws.{name}", value, f"required because {', '.join(users)}")
    if 0 < len(config.aws.private_subnet_ids) < 2:
        yield ("aws.private_subnet_ids", list(config.aws.private_subnet_ids),
               "needs at least two subnets in different availability zones")
