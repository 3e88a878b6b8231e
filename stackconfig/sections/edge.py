"""`edge`: the gateway (Kong on Gateway API), TLS, rate limiting and health checks."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ..types import HOSTNAME, DnsLabel, FieldProblem, HttpsUrl, Int, Section

KEY = "edge"


class TlsConfig(Section):
    mode: Literal["self-signed", "acme", "acm"]
    """self-signed: cert-manager self-signed issuer; acme: cert-manager ACME (HTTP-01 through the Gateway); acm: an ACM certificate on the AWS NLB."""
    acme_email: str | None = Field(None, pattern=r"^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,63}$")
    """Account e-mail for ACME (required with mode acme)."""
    acme_server: HttpsUrl = "https://acme-v02.api.letsencrypt.org/directory"
    """ACME directory URL (https)."""
    acm_certificate_arn: str | None = Field(None, pattern=r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]{1,128}$")
    """ACM certificate the NLB terminates TLS with (required with mode acm)."""

    @model_validator(mode="after")
    def _mode_inputs(self) -> TlsConfig:
        if self.mode == "acme" and not self.acme_email:
            raise FieldProblem("acme_email", None, "required with mode acme")
        if self.mode == "acm" and not self.acm_certificate_arn:
            raise FieldProblem("acm_certificate_arn", None, "required with mode acm")
        return self


class RateLimitConfig(Section):
    """Per-client limit enforced by Kong's rate-limiting plugin, counted in each gateway replica."""

    requests_per_second: Int(1, 100_000)
    """Sustained requests per second per client (enforced as requests_per_second x 60 per minute)."""
    burst: Int(1, 6_000_000)
    """Most requests one client may send within a single second; between requests_per_second and 60 x requests_per_second."""
    limit_by: Literal["ip", "header"] = "ip"
    """What identifies a client: its IP (the real client address: the NLB passes it by proxy protocol), or the value of header_name."""
    header_name: str | None = Field(None, pattern=r"^[A-Za-z0-9-]{1,128}$")
    """Header that identifies a client when limit_by is header."""

    @model_validator(mode="after")
    def _sensible(self) -> RateLimitConfig:
        if self.burst < self.requests_per_second:
            raise FieldProblem("burst", self.burst, f"is below requests_per_second {self.requests_per_second}: "
                               "the per-second cap would undercut the sustained rate")
        if self.burst > 60 * self.requests_per_second:
            raise FieldProblem("burst", self.burst, f"exceeds a whole minute's allowance "
                               f"(60 x requests_per_second = {60 * self.requests_per_second}); it could never be used")
        if self.limit_by == "header" and not self.header_name:
            raise FieldProblem("header_name", None, "required with limit_by header")
        return self


class HealthCheckConfig(Section):
    interval_seconds: Int(5, 300) = 10
    """Seconds between the gateway's active health checks of each app pod (and the NLB's of the gateway)."""
    healthy_threshold: Int(2, 10) = 2
    """Successes before a target is healthy again."""
    unhealthy_threshold: Int(2, 10) = 3
    """Failures before a target is taken out."""


class EdgeConfig(Section):
    hostname: str = Field(pattern=HOSTNAME, max_length=253)
    """Public host name of the app (the Gateway listener and the certificate)."""
    tls: TlsConfig
    """How the certificate is issued."""
    rate_limit: RateLimitConfig
    """Per-client rate limit."""
    health_check: HealthCheckConfig = HealthCheckConfig()
    """Load-balancer health checks on the app's health path."""
    service_type: Literal["LoadBalancer", "NodePort", "ClusterIP"]
    """Type of the gateway's proxy Service (dev NodePort suits kind and minikube)."""
    aws_nlb: bool
    """Annotate the proxy Service for an internet-facing AWS NLB (needs the AWS Load Balancer Controller)."""
    replicas: Int(1, 50)
    """Gateway (Kong proxy) replicas (prod floor: 2)."""
    namespace: DnsLabel = "kong"
    """Namespace of the Kong release and the Gateway."""
    install_gateway_api_crds: bool = True
    """Install the Gateway API CRDs (the pinned release); turn off when the cluster already has them."""
    install_cert_manager: bool = True
    """Install cert-manager (pinned chart, in the `cert-manager` namespace); turn off when the cluster already runs it."""

    @model_validator(mode="after")
    def _nlb(self) -> EdgeConfig:
        if self.aws_nlb and self.service_type != "LoadBalancer":
            raise FieldProblem("aws_nlb", True, f"needs service_type LoadBalancer, not {self.service_type}")
        if self.tls.mode == "acm" and not self.aws_nlb:
            raise FieldProblem("aws_nlb", False, "tls.mode acm terminates TLS on the AWS NLB: set aws_nlb true")
        return self


MODEL = EdgeConfig
DEFAULTS: dict[str, dict] = {
    "dev": {
        "hostname": "langgraph.localtest.me",
        "tls": {"mode": "self-signed"},
        "rate_limit": {"requests_per_second": 10, "burst": 20},
        "service_type": "NodePort",
        "aws_nlb": False,
        "replicas": 1,
    },
    "prod": {
        "tls": {"mode": "acme"},
        "rate_limit": {"requests_per_second": 50, "burst": 100},
        "service_type": "LoadBalancer",
        "aws_nlb": True,
        "replicas": 3,
    },
}
