"""The typed model of one stack's config.

Every section is a top-level Pulumi config key of the project (`langgraph-platform:app`, ...).
Each field's docstring is its documentation: the README's config reference is generated from
this file (`python -m stackconfig.reference`), and a test fails when the two drift apart.
Unknown keys are refused at every level so that a typo never falls back to a default silently.
Defaults of nested settings (`COMMON_DEFAULTS`) and those that differ per environment
(`ENV_DEFAULTS`) are merged under the stack's values.
"""

from __future__ import annotations

import copy
import ipaddress
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from .quantity import check_pg_size, check_redis_size, parse_quantity

Environment = Literal["dev", "prod"]

_DNS_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
_HOSTNAME = r"^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
_CHART_VERSION = r"^v?\d+\.\d+\.\d+$"


class FieldProblem(ValueError):
    """Raised by cross-field validators so the error names the one field at fault."""

    def __init__(self, field: str, value: object, message: str):
        super().__init__(message)
        self.field, self.value, self.message = field, value, message


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


def _quantity(value: str) -> str:
    parse_quantity(value)
    return value


def _cidr(value: str) -> str:
    ipaddress.ip_network(value)
    return value


Quantity = Annotated[str, AfterValidator(_quantity)]
"""A Kubernetes resource quantity (500m, 2Gi)."""
Cidr = Annotated[str, AfterValidator(_cidr)]
"""An IPv4 or IPv6 network (10.0.0.0/16)."""


# --- kubernetes / aws -------------------------------------------------------------------------


class KubernetesConfig(Section):
    context: str | None = None
    """kubeconfig context to deploy into; unset uses the current context (dev: kind, k3d, minikube; prod: the EKS cluster)."""
    namespace: str = Field("langgraph", pattern=_DNS_LABEL)
    """Namespace of the app tier (created by the program)."""


class AwsConfig(Section):
    region: str | None = Field(None, pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
    """AWS region of the account, e.g. us-east-1."""
    account_id: str | None = Field(None, pattern=r"^\d{12}$")
    """12-digit AWS account id the stack deploys into (checked by the AWS provider)."""
    vpc_id: str | None = Field(None, pattern=r"^vpc-[0-9a-f]{8,17}$")
    """VPC of the EKS cluster; the data tier (RDS, ElastiCache) is placed in it."""
    vpc_cidr: Cidr | None = None
    """CIDR of that VPC: the app's egress to RDS and ElastiCache is limited to it."""
    private_subnet_ids: tuple[Annotated[str, Field(pattern=r"^subnet-[0-9a-f]{8,17}$")], ...] = ()
    """Private subnets (at least two, in different AZs) for the data tier."""
    eks_cluster_name: str | None = None
    """Name of the existing EKS cluster."""
    eks_oidc_provider_arn: str | None = Field(None, pattern=r"^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/.+$")
    """ARN of the cluster's IAM OIDC provider, for IRSA roles (app -> S3)."""


# --- app tier ---------------------------------------------------------------------------------


class ResourcesConfig(Section):
    cpu_request: Quantity = "500m"
    """CPU request per app pod (seed: 500m)."""
    memory_request: Quantity = "512Mi"
    """Memory request per app pod (seed: 512Mi)."""
    cpu_limit: Quantity = "2000m"
    """CPU limit per app pod (seed: 2000m)."""
    memory_limit: Quantity = "2Gi"
    """Memory limit per app pod (seed: 2Gi)."""

    @model_validator(mode="after")
    def _request_within_limit(self) -> ResourcesConfig:
        for kind in ("cpu", "memory"):
            request, limit = getattr(self, f"{kind}_request"), getattr(self, f"{kind}_limit")
            if parse_quantity(request) > parse_quantity(limit):
                raise FieldProblem(f"{kind}_request", request, f"exceeds {kind}_limit {limit}")
        return self


class ProbeConfig(Section):
    path: str = Field("/ok", pattern=r"^/\S*$")
    """HTTP path probed on the app port (LangGraph server: /ok; the seed's own app: /health or /ready)."""
    initial_delay_seconds: int = Field(0, ge=0)
    """Seconds before the first probe."""
    period_seconds: int = Field(10, ge=1)
    """Seconds between probes."""
    timeout_seconds: int = Field(5, ge=1)
    """Seconds before a probe counts as failed."""
    failure_threshold: int = Field(3, ge=1)
    """Consecutive failures before the probe fails."""


class ProbesConfig(Section):
    # No defaults here: they come from COMMON_DEFAULTS, so that setting one field of a probe
    # keeps the others (a default instance would be replaced whole).
    startup: ProbeConfig
    """Gates the other probes until the server is up (24 x 5 s = 2 min to start)."""
    readiness: ProbeConfig
    """Takes a pod out of the Service while it fails (seed: 5 s delay, every 5 s)."""
    liveness: ProbeConfig
    """Restarts a wedged pod (seed: 30 s delay, every 10 s)."""


class TuningConfig(Section):
    """The seed's `ProductionConfig`, passed to the app as environment variables."""

    database_pool_size: int = Field(20, ge=1)
    """DATABASE_POOL_SIZE: connections each pod keeps open."""
    database_max_overflow: int = Field(30, ge=0)
    """DATABASE_MAX_OVERFLOW: extra connections a pod may open at peak."""
    database_pool_timeout: int = Field(30, ge=1)
    """DATABASE_POOL_TIMEOUT: seconds to wait for a pooled connection."""
    redis_pool_size: int = Field(10, ge=1)
    """REDIS_POOL_SIZE."""
    redis_timeout: int = Field(5, ge=1)
    """REDIS_TIMEOUT: seconds."""
    checkpoint_batch_size: int = Field(100, ge=1)
    """CHECKPOINT_BATCH_SIZE."""
    checkpoint_compression: bool = True
    """CHECKPOINT_COMPRESSION."""
    checkpoint_ttl_seconds: int = Field(2592000, ge=3600)
    """CHECKPOINT_TTL: seconds a thread's checkpoints are kept (30 days)."""
    node_timeout_seconds: int = Field(300, ge=1)
    """NODE_TIMEOUT: seconds one graph node may run."""
    retry_max_attempts: int = Field(3, ge=0)
    """RETRY_MAX_ATTEMPTS."""
    retry_backoff_factor: float = Field(2.0, ge=1)
    """RETRY_BACKOFF_FACTOR."""
    metrics_export_interval: int = Field(30, ge=1)
    """METRICS_EXPORT_INTERVAL: seconds."""
    health_check_timeout: int = Field(10, ge=1)
    """HEALTH_CHECK_TIMEOUT: seconds."""


class AppConfig(Section):
    name: str = Field("langgraph", pattern=_DNS_LABEL)
    """Name of the app's Kubernetes objects and the `app.kubernetes.io/name` label."""
    image: str = Field(min_length=1)
    """Container image of the LangGraph server (required). Prod refuses an untagged or `:latest` image: pin a tag or digest."""
    port: int = Field(8000, ge=1, le=65535)
    """Container port of the LangGraph server."""
    min_replicas: int | None = Field(None, ge=1)
    """HPA minimum; unset derives it from the capacity model."""
    max_replicas: int | None = Field(None, ge=1)
    """HPA maximum; unset is twice the derived instance count."""
    resources: ResourcesConfig = ResourcesConfig()
    """Requests and limits per pod."""
    probes: ProbesConfig
    """Startup, readiness and liveness probes."""
    tuning: TuningConfig = TuningConfig()
    """Application tuning passed as environment (the seed's ProductionConfig)."""
    cpu_target_utilization: int = Field(70, ge=1, le=100)
    """HPA target average CPU utilization, percent of request (seed: 70)."""
    memory_target_utilization: int = Field(80, ge=1, le=100)
    """HPA target average memory utilization, percent of request (seed: 80)."""
    scale_down_stabilization_seconds: int = Field(300, ge=0, le=3600)
    """HPA scale-down stabilization window: no flapping after a burst."""
    pre_stop_seconds: int = Field(10, ge=0)
    """preStop sleep so the gateway drops the pod before it stops accepting requests."""
    termination_grace_seconds: int = Field(60, ge=1)
    """Grace period for in-flight graph runs to finish after SIGTERM; must exceed pre_stop_seconds."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """LOG_LEVEL of the server."""
    iam_role_arn: str | None = Field(None, pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$")
    """IAM role for the app's ServiceAccount (IRSA annotation); unset adds none."""
    automount_service_account_token: bool = False
    """Mount a Kubernetes API token in the pods; LangGraph does not call the API, so off."""
    image_pull_policy: Literal["Always", "IfNotPresent"]
    """Image pull policy (dev IfNotPresent suits images side-loaded into kind; prod Always re-checks the registry)."""
    run_as_user: int = Field(10001, ge=1000)
    """UID (and GID) the container runs as; never root."""
    https_egress_cidrs: tuple[Cidr, ...] = ()
    """CIDRs the app may reach on port 443 (LLM APIs, AWS endpoints); empty allows none."""

    @field_validator("image")
    @classmethod
    def _image_has_no_spaces(cls, value: str) -> str:
        if any(ch.isspace() for ch in value):
            raise ValueError(f"{value!r} is not an image reference")
        return value

    @model_validator(mode="after")
    def _bounds(self) -> AppConfig:
        if self.min_replicas is not None and self.max_replicas is not None and self.min_replicas > self.max_replicas:
            raise FieldProblem("min_replicas", self.min_replicas, f"is greater than max_replicas {self.max_replicas}")
        if self.termination_grace_seconds <= self.pre_stop_seconds:
            raise FieldProblem("termination_grace_seconds", self.termination_grace_seconds,
                               f"must exceed pre_stop_seconds {self.pre_stop_seconds}")
        return self


class CapacityConfig(Section):
    target_rps: float = Field(gt=0, le=1_000_000)
    """Target graph executions started per second at normal load."""
    avg_execution_seconds: float = Field(gt=0, le=86_400)
    """Average seconds one graph execution runs."""
    peak_factor: float = Field(2.0, ge=1, le=100)
    """Peak load over normal load (seed: 2.0)."""
    safety_margin: float = Field(0.3, ge=0, le=10)
    """Head-room on top of the peak (seed: 0.3 = 30 %)."""
    per_instance_concurrency: int = Field(50, ge=1, le=10_000)
    """Concurrent executions one pod runs (seed: 50); also the app's MAX_CONCURRENT_EXECUTIONS."""
    min_instances: int = Field(ge=1)
    """Floor of the instance count (seed: 3 in prod)."""


# --- edge -------------------------------------------------------------------------------------


class TlsConfig(Section):
    mode: Literal["self-signed", "acme", "acm"]
    """self-signed: cert-manager self-signed issuer; acme: cert-manager ACME (HTTP-01 through the Gateway); acm: an ACM certificate on the AWS NLB."""
    acme_email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    """Account e-mail for ACME (required with mode acme)."""
    acme_server: str = "https://acme-v02.api.letsencrypt.org/directory"
    """ACME directory URL."""
    acm_certificate_arn: str | None = Field(None, pattern=r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/.+$")
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

    requests_per_second: int = Field(ge=1, le=100_000)
    """Sustained requests per second per client (enforced as requests_per_second x 60 per minute)."""
    burst: int = Field(ge=1, le=6_000_000)
    """Most requests one client may send within a single second; between requests_per_second and 60 x requests_per_second."""
    limit_by: Literal["ip", "header"] = "ip"
    """What identifies a client: its IP, or the value of header_name."""
    header_name: str | None = Field(None, pattern=r"^[A-Za-z0-9-]+$")
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
    interval_seconds: int = Field(10, ge=5, le=300)
    """Seconds between the gateway's active health checks of each app pod (and the NLB's of the gateway)."""
    healthy_threshold: int = Field(2, ge=2, le=10)
    """Successes before a target is healthy again."""
    unhealthy_threshold: int = Field(3, ge=2, le=10)
    """Failures before a target is taken out."""


class EdgeConfig(Section):
    hostname: str = Field(pattern=_HOSTNAME, max_length=253)
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
    replicas: int = Field(ge=1, le=50)
    """Gateway (Kong proxy) replicas."""
    namespace: str = Field("kong", pattern=_DNS_LABEL)
    """Namespace of the Kong release and the Gateway."""
    kong_chart_version: str = Field("3.4.1", pattern=_CHART_VERSION)
    """Pinned version of the kong/kong Helm chart."""
    kong_image_tag: str = Field("3.9.3", pattern=r"^\d+\.\d+\.\d+$")
    """Pinned Kong gateway image tag (the chart's default is a floating minor tag)."""
    kic_image_tag: str = Field("3.5.13", pattern=r"^\d+\.\d+\.\d+$")
    """Pinned Kong Ingress Controller image tag."""
    cert_manager_chart_version: str = Field("v1.21.1", pattern=_CHART_VERSION)
    """Pinned version of the jetstack/cert-manager Helm chart."""
    gateway_api_version: str = Field("v1.3.0", pattern=_CHART_VERSION)
    """Gateway API release whose standard CRDs are installed (v1.3.0 is the one KIC 3.5 is built against)."""
    install_gateway_api_crds: bool = True
    """Install the Gateway API CRDs; turn off when the cluster already has them."""
    install_cert_manager: bool = True
    """Install cert-manager; turn off when the cluster already runs it."""
    api_server_cidrs: tuple[Cidr, ...] = ("0.0.0.0/0",)
    """Where Kong's controller may reach the Kubernetes API (ports 443 and 6443); narrow it to the API server's addresses where known."""

    @model_validator(mode="after")
    def _nlb(self) -> EdgeConfig:
        if self.aws_nlb and self.service_type != "LoadBalancer":
            raise FieldProblem("aws_nlb", True, f"needs service_type LoadBalancer, not {self.service_type}")
        if self.tls.mode == "acm" and not self.aws_nlb:
            raise FieldProblem("aws_nlb", False, "tls.mode acm terminates TLS on the AWS NLB: set aws_nlb true")
        return self


# --- data tier (built by later components) ----------------------------------------------------


class PoolerConfig(Section):
    enabled: bool = True
    """Put a pooler (PgBouncer, or RDS Proxy for RDS) in front of PostgreSQL."""
    max_client_connections: int = Field(1000, ge=1, le=100_000)
    """Client connections the pooler accepts (PgBouncer max_client_conn)."""
    default_pool_size: int = Field(50, ge=1)
    """Server connections the pooler opens per database/user."""


class PostgresConfig(Section):
    engine: Literal["cloudnative-pg", "rds"]
    """cloudnative-pg: an in-cluster CloudNativePG cluster; rds: RDS PostgreSQL (needs the AWS ids)."""
    version: str = Field("16", pattern=r"^\d{2}$")
    """PostgreSQL major version."""
    instances: int = Field(ge=1, le=9)
    """CloudNativePG instances (1 primary + replicas)."""
    storage_size: Quantity
    """Volume size per instance (a Kubernetes quantity; RDS rounds up to GiB)."""
    instance_class: str = Field("db.r6g.large", pattern=r"^db\.[a-z0-9]+\.[a-z0-9]+$")
    """RDS instance class."""
    multi_az: bool
    """RDS Multi-AZ standby."""
    read_replica: bool
    """Add a read replica (RDS) for the read-only URL."""
    backup_retention_days: int = Field(ge=0, le=35)
    """Days of automated backups."""
    deletion_protection: bool
    """Refuse deletes of the database."""
    max_connections: int = Field(200, ge=20, le=10_000)
    """max_connections (seed: 200)."""
    reserved_connections: int = Field(10, ge=0)
    """Connections kept back for superusers, replication and monitoring when no pooler is used."""
    shared_buffers: str = "2GB"
    """shared_buffers (seed: 2GB)."""
    effective_cache_size: str = "6GB"
    """effective_cache_size (seed: 6GB)."""
    maintenance_work_mem: str = "512MB"
    """maintenance_work_mem (seed: 512MB)."""
    pooler: PoolerConfig = PoolerConfig()
    """Connection pooler."""
    database: str = Field("langgraph", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    """Database name."""

    _sizes = field_validator("shared_buffers", "effective_cache_size", "maintenance_work_mem")(check_pg_size)

    @property
    def accepted_connections(self) -> int:
        """Client connections the app side may open: the pooler's limit, else the server's own."""
        if self.pooler.enabled:
            return self.pooler.max_client_connections
        return self.max_connections - self.reserved_connections


class RedisConfig(Section):
    engine: Literal["sentinel", "elasticache"] = "sentinel"
    """sentinel: in-cluster Redis with Sentinel; elasticache: AWS ElastiCache (needs the AWS ids)."""
    version: str = Field("7.2", pattern=r"^\d+\.\d+$")
    """Redis version."""
    replicas: int = Field(ge=1, le=5)
    """Replicas of the master."""
    sentinels: int = Field(3, ge=3, le=7)
    """Sentinel processes (an odd number, quorum = majority)."""
    master_name: str = Field("langgraph", pattern=r"^[A-Za-z0-9_-]+$")
    """Sentinel master group name."""
    maxmemory: str = "2gb"
    """maxmemory (seed: 2gb)."""
    maxmemory_policy: Literal["noeviction", "allkeys-lru", "volatile-lru", "allkeys-lfu", "volatile-lfu", "volatile-ttl"] = "allkeys-lru"
    """Eviction policy (seed: allkeys-lru)."""
    save: tuple[Annotated[str, Field(pattern=r"^\d+ \d+$")], ...] = ("900 1", "300 10", "60 10000")
    """RDB snapshot rules, `seconds changes` (seed)."""
    tcp_keepalive: int = Field(60, ge=0)
    """tcp-keepalive seconds (seed: 60)."""
    timeout: int = Field(300, ge=0)
    """Idle client timeout seconds (seed: 300)."""
    storage_size: Quantity = "8Gi"
    """Volume per Redis pod."""

    _maxmemory = field_validator("maxmemory")(check_redis_size)

    @field_validator("sentinels")
    @classmethod
    def _odd(cls, value: int) -> int:
        if value % 2 == 0:
            raise ValueError(f"{value} sentinels cannot form a majority any better than {value - 1}; use an odd number")
        return value


class CheckpointsConfig(Section):
    backend: Literal["minio", "s3"]
    """minio: MinIO in the cluster; s3: an S3 bucket with SSE-KMS (needs the AWS ids)."""
    bucket_name: str = Field("langgraph-checkpoints", pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    """Bucket name prefix (the stack name is appended for uniqueness)."""
    kms_key_arn: str | None = Field(None, pattern=r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)/.+$")
    """KMS key for SSE-KMS; unset creates a dedicated key."""
    noncurrent_version_days: int = Field(30, ge=1)
    """Days old object versions are kept."""
    storage_size: Quantity = "20Gi"
    """MinIO volume size."""



# --- observability ----------------------------------------------------------------------------


class MonitoringConfig(Section):
    enabled: bool = True
    """Deploy kube-prometheus-stack with the seed's dashboards and alerts."""
    namespace: str = Field("monitoring", pattern=_DNS_LABEL)
    """Namespace of the monitoring stack; its Prometheus may scrape the app."""
    chart_version: str = Field("79.5.0", pattern=_CHART_VERSION)
    """Pinned kube-prometheus-stack chart version."""
    retention: str = Field(pattern=r"^\d+[dhw]$")
    """Prometheus retention."""
    storage_size: Quantity
    """Prometheus volume size."""
    scrape_interval: str = Field("30s", pattern=r"^\d+[sm]$")
    """Scrape interval of the app (seed: 30s)."""



class LoggingConfig(Section):
    enabled: bool = True
    """Deploy Fluent Bit -> Elasticsearch (ECK) + Kibana."""
    elasticsearch_nodes: int = Field(ge=1, le=15)
    """Elasticsearch nodes."""
    storage_size: Quantity
    """Volume per Elasticsearch node."""
    retention_days: int = Field(ge=1, le=3650)
    """Days the daily langgraph-YYYY.MM.dd indices are kept (ILM delete phase)."""



class TracingConfig(Section):
    enabled: bool = True
    """Deploy Jaeger v2."""
    storage: Literal["memory", "elasticsearch"]
    """memory: in-memory (dev); elasticsearch: the logging cluster."""
    sampling_ratio: float = Field(ge=0, le=1)
    """Fraction of traces kept."""


# --- the stack --------------------------------------------------------------------------------


class StackConfig(Section):
    environment: Environment
    """dev or prod: picks the defaults below and how strict validation is; unset takes the stack's name when that is dev or prod."""
    kubernetes: KubernetesConfig = KubernetesConfig()
    """Target cluster."""
    aws: AwsConfig = AwsConfig()
    """AWS account and network; required once any component uses AWS."""
    app: AppConfig
    """The LangGraph app tier."""
    capacity: CapacityConfig
    """Capacity model inputs."""
    edge: EdgeConfig
    """Gateway, TLS and rate limiting."""
    postgres: PostgresConfig
    """PostgreSQL."""
    redis: RedisConfig
    """Redis with Sentinel."""
    checkpoints: CheckpointsConfig
    """Object storage for checkpoint files."""
    monitoring: MonitoringConfig
    """Metrics, dashboards, alerts."""
    logging: LoggingConfig
    """Logs."""
    tracing: TracingConfig
    """Traces."""

    def aws_users(self) -> list[str]:
        """The settings that make this stack need an AWS account."""
        users = []
        if self.postgres.engine == "rds":
            users.append("postgres.engine=rds")
        if self.redis.engine == "elasticache":
            users.append("redis.engine=elasticache")
        if self.checkpoints.backend == "s3":
            users.append("checkpoints.backend=s3")
        if self.edge.aws_nlb:
            users.append("edge.aws_nlb=true")
        if self.edge.tls.mode == "acm":
            users.append("edge.tls.mode=acm")
        return users


# Defaults of nested settings that a stack may override one field at a time.
COMMON_DEFAULTS: dict[str, dict] = {
    "app": {"probes": {
        "startup": {"period_seconds": 5, "failure_threshold": 24},
        "readiness": {"initial_delay_seconds": 5, "period_seconds": 5},
        "liveness": {"initial_delay_seconds": 30, "period_seconds": 10},
    }},
}

# Defaults that differ per environment; both layers are merged under the stack file's values.
ENV_DEFAULTS: dict[str, dict] = {
    "dev": {
        "app": {"image_pull_policy": "IfNotPresent"},
        "capacity": {"target_rps": 1, "avg_execution_seconds": 2.0, "min_instances": 1},
        "edge": {
            "hostname": "langgraph.localtest.me",
            "tls": {"mode": "self-signed"},
            "rate_limit": {"requests_per_second": 10, "burst": 20},
            "service_type": "NodePort",
            "aws_nlb": False,
            "replicas": 1,
        },
        "postgres": {
            "engine": "cloudnative-pg", "instances": 1, "storage_size": "5Gi", "multi_az": False,
            "read_replica": False, "backup_retention_days": 1, "deletion_protection": False,
        },
        "redis": {"replicas": 1, "storage_size": "1Gi"},
        "checkpoints": {"backend": "minio", "storage_size": "5Gi"},
        "monitoring": {"retention": "2d", "storage_size": "5Gi"},
        "logging": {"elasticsearch_nodes": 1, "storage_size": "5Gi", "retention_days": 3},
        "tracing": {"storage": "memory", "sampling_ratio": 1.0},
    },
    "prod": {
        "app": {"image_pull_policy": "Always"},
        "capacity": {"min_instances": 3},
        "edge": {
            "tls": {"mode": "acme"},
            "rate_limit": {"requests_per_second": 50, "burst": 100},
            "service_type": "LoadBalancer",
            "aws_nlb": True,
            "replicas": 3,
        },
        "postgres": {
            "engine": "rds", "instances": 3, "storage_size": "100Gi", "multi_az": True,
            "read_replica": True, "backup_retention_days": 7, "deletion_protection": True,
        },
        "redis": {"replicas": 2, "storage_size": "8Gi"},
        "checkpoints": {"backend": "s3"},
        "monitoring": {"retention": "15d", "storage_size": "50Gi"},
        "logging": {"elasticsearch_nodes": 3, "storage_size": "100Gi", "retention_days": 30},
        "tracing": {"storage": "elasticsearch", "sampling_ratio": 0.1},
    },
}


def deep_merge(base: dict, override: dict) -> dict:
    """`override` laid over `base`; nested dicts merge, anything else replaces."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def defaults_for(environment: str) -> dict:
    """Every default of `environment` that the model's fields do not carry themselves."""
    return deep_merge(COMMON_DEFAULTS, ENV_DEFAULTS[environment])
