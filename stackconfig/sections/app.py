"""`app`: the LangGraph server tier: image, probes, resources, the server's own knobs, queue workers."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from policy.rules.images import image_is_pinned, image_problem

from ..quantity import parse_quantity
from ..types import Cidr, DnsLabel, FieldProblem, Int, Quantity, Section

KEY = "app"


def _image(value: str) -> str:
    problem = image_problem(value)
    if problem:
        raise ValueError(problem)
    return value


Image = Annotated[str, AfterValidator(_image)]
"""A container image reference; a digest must be complete."""


class ResourcesConfig(Section):
    cpu_request: Quantity = "500m"
    """CPU request per pod (seed: 500m)."""
    memory_request: Quantity = "512Mi"
    """Memory request per pod (seed: 512Mi)."""
    cpu_limit: Quantity = "2000m"
    """CPU limit per pod (seed: 2000m)."""
    memory_limit: Quantity = "2Gi"
    """Memory limit per pod (seed: 2Gi)."""

    @model_validator(mode="after")
    def _request_within_limit(self) -> ResourcesConfig:
        for kind in ("cpu", "memory"):
            request, limit = getattr(self, f"{kind}_request"), getattr(self, f"{kind}_limit")
            if parse_quantity(request) > parse_quantity(limit):
                raise FieldProblem(f"{kind}_request", request, f"exceeds {kind}_limit {limit}")
        return self


class ProbeConfig(Section):
    path: str = Field("/ok", pattern=r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]{0,255}$")
    """HTTP path probed on the app port (LangGraph server: /ok; the seed's own app: /health or /ready)."""
    initial_delay_seconds: Int(0, 3600) = 0
    """Seconds before the first probe."""
    period_seconds: Int(1, 3600) = 10
    """Seconds between probes."""
    timeout_seconds: Int(1, 3600) = 5
    """Seconds before a probe counts as failed."""
    failure_threshold: Int(1, 1000) = 3
    """Consecutive failures before the probe fails."""


class ProbesConfig(Section):
    # No defaults here: they come from DEFAULTS["common"], so that setting one field of a probe
    # keeps the others (a default instance would be replaced whole).
    startup: ProbeConfig
    """Gates the other probes until the server is up (24 x 5 s = 2 min to start)."""
    readiness: ProbeConfig
    """Takes a pod out of the Service while it fails (seed: 5 s delay, every 5 s)."""
    liveness: ProbeConfig
    """Restarts a wedged pod (seed: 30 s delay, every 10 s)."""


class TuningConfig(Section):
    """The seed's `ProductionConfig`. Its names are passed to the app as they are (for apps instrumented
    like the seed's); the official server reads none of them, so each is also mapped onto the server's own
    knob (see `server`)."""

    database_pool_size: Int(1, 10_000) = 20
    """DATABASE_POOL_SIZE: connections each pod keeps open; with database_max_overflow it sets the server's LANGGRAPH_POSTGRES_POOL_MAX_SIZE."""
    database_max_overflow: Int(0, 10_000) = 30
    """DATABASE_MAX_OVERFLOW: extra connections a pod may open at peak."""
    database_pool_timeout: Int(1, 3600) = 30
    """DATABASE_POOL_TIMEOUT: seconds to wait for a pooled connection."""
    redis_pool_size: Int(1, 100_000) = 10
    """REDIS_POOL_SIZE: becomes the server's REDIS_MAX_CONNECTIONS unless server.redis_max_connections is set."""
    redis_timeout: Int(1, 3600) = 5
    """REDIS_TIMEOUT: seconds."""
    checkpoint_batch_size: Int(1, 100_000) = 100
    """CHECKPOINT_BATCH_SIZE."""
    checkpoint_compression: bool = True
    """CHECKPOINT_COMPRESSION."""
    checkpoint_ttl_seconds: Int(3600, 3650 * 86_400) = 2_592_000
    """CHECKPOINT_TTL: seconds a thread is kept after its last checkpoint (30 days); the server's LANGGRAPH_THREAD_TTL and the retention job use it."""
    node_timeout_seconds: Int(1, 86_400) = 300
    """NODE_TIMEOUT: seconds one graph node may run."""
    retry_max_attempts: Int(0, 100) = 3
    """RETRY_MAX_ATTEMPTS."""
    retry_backoff_factor: float = Field(2.0, ge=1, le=10)
    """RETRY_BACKOFF_FACTOR."""
    metrics_export_interval: Int(1, 3600) = 30
    """METRICS_EXPORT_INTERVAL: seconds."""
    health_check_timeout: Int(1, 3600) = 10
    """HEALTH_CHECK_TIMEOUT: seconds."""


class ServerConfig(Section):
    """Knobs of the official LangGraph server (`langgraph_api.config`). Unset ones are derived from the seed's
    tuning and the capacity model, so the connection budget uses exactly what the pods are given."""

    postgres_pool_max_size: Int(1, 10_000) | None = None
    """LANGGRAPH_POSTGRES_POOL_MAX_SIZE per pod (server default 150); unset = tuning.database_pool_size + tuning.database_max_overflow."""
    jobs_per_worker: Int(1, 10_000) | None = None
    """N_JOBS_PER_WORKER: runs one pod executes at once (server default 10); unset = capacity.per_instance_concurrency. API pods get 0 when queue workers run the jobs."""
    redis_max_connections: Int(1, 100_000) | None = None
    """REDIS_MAX_CONNECTIONS per pod (server default 2000); unset = tuning.redis_pool_size."""
    bg_job_timeout_seconds: Int(60, 7 * 86_400) = 3600
    """BG_JOB_TIMEOUT_SECS: a run still going after this is cancelled (server default 86400)."""
    thread_ttl_strategy: Literal["delete", "keep_latest"] = "delete"
    """LANGGRAPH_THREAD_TTL strategy: delete whole threads past the TTL, or keep only their latest state."""
    thread_ttl_sweep_interval_minutes: Int(1, 10_080) = 60
    """LANGGRAPH_THREAD_TTL sweep interval in minutes."""


class QueueConfig(Section):
    """Queue workers: a second Deployment of the same image running the server's queue entrypoint."""

    enabled: bool
    """Run jobs in queue-worker pods; API pods then get N_JOBS_PER_WORKER=0."""
    command: tuple[Annotated[str, Field(min_length=1, max_length=256)], ...] = (
        "python", "-m", "langgraph_api.queue_entrypoint")
    """Command of the worker container (the server's queue entrypoint; it serves /ok and /metrics on PORT)."""
    min_replicas: Int(1, 1000) | None = None
    """Minimum workers; unset derives it from the capacity model."""
    max_replicas: Int(1, 1000) | None = None
    """Maximum workers; unset is twice the derived count."""
    resources: ResourcesConfig = ResourcesConfig()
    """Requests and limits per worker pod."""
    autoscaler: Literal["keda", "hpa"]
    """keda: scale on queue depth (pending + running runs per N_JOBS_PER_WORKER) with CPU and memory as secondary triggers; hpa: CPU and memory only."""
    install_keda: bool = True
    """Install KEDA (pinned chart); turn off when the cluster already runs it."""
    keda_polling_seconds: Int(5, 3600) = 15
    """How often KEDA evaluates the queue depth."""
    keda_cooldown_seconds: Int(0, 86_400) = 300
    """Seconds after the last active trigger before KEDA scales the workers back to the minimum."""

    @model_validator(mode="after")
    def _bounds(self) -> QueueConfig:
        if self.min_replicas is not None and self.max_replicas is not None and self.min_replicas > self.max_replicas:
            raise FieldProblem("min_replicas", self.min_replicas, f"is greater than max_replicas {self.max_replicas}")
        return self


class AppConfig(Section):
    name: DnsLabel = "langgraph"
    """Name of the app's Kubernetes objects and the `app.kubernetes.io/name` label."""
    image: Image
    """Container image of the LangGraph server (required). Prod refuses an untagged or `:latest` image: pin a tag or digest."""
    port: Int(1, 65535) = 8000
    """Container port of the LangGraph server."""
    min_replicas: Int(1, 1000) | None = None
    """HPA minimum of the API pods; unset derives it from the capacity model."""
    max_replicas: Int(1, 1000) | None = None
    """HPA maximum of the API pods; unset is twice the derived instance count."""
    resources: ResourcesConfig = ResourcesConfig()
    """Requests and limits per pod."""
    probes: ProbesConfig
    """Startup, readiness and liveness probes."""
    tuning: TuningConfig = TuningConfig()
    """The seed's ProductionConfig (passed as environment, and mapped onto the server's knobs)."""
    server: ServerConfig = ServerConfig()
    """The official server's own settings."""
    queue: QueueConfig
    """Queue workers."""
    cpu_target_utilization: Int(1, 100) = 70
    """HPA target average CPU utilization, percent of request (seed: 70)."""
    memory_target_utilization: Int(1, 100) = 80
    """HPA target average memory utilization, percent of request (seed: 80)."""
    scale_down_stabilization_seconds: Int(0, 3600) = 300
    """HPA scale-down stabilization window: no flapping after a burst."""
    pre_stop_seconds: Int(0, 3600) = 10
    """preStop sleep so the gateway drops the pod before it stops accepting requests."""
    termination_grace_seconds: Int(1, 86_400) = 60
    """Grace period for in-flight graph runs to finish after SIGTERM; must exceed pre_stop_seconds."""
    rollout: Literal["rolling", "canary"] = "rolling"
    """How a new image reaches the API pods: rolling update (maxSurge 1, maxUnavailable 0), or a Flagger canary analysed on the error-rate and P95 queries, rolled back on failure (needs monitoring)."""
    zone_spread: Literal["hard", "soft"]
    """hard: never schedule two more pods in one zone than in another (DoNotSchedule); soft: prefer it (dev clusters often have no zones)."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """LOG_LEVEL of the server."""
    iam_role_arn: str | None = Field(None, pattern=r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$")
    """IAM role for the app's ServiceAccount (IRSA annotation); unset uses the role the checkpoint store creates (S3), or none."""
    automount_service_account_token: bool = False
    """Mount a Kubernetes API token in the pods; LangGraph does not call the API, so off."""
    image_pull_policy: Literal["Always", "IfNotPresent"]
    """Image pull policy (dev IfNotPresent suits images side-loaded into kind; prod Always re-checks the registry)."""
    run_as_user: Int(1000, 2_147_483_647) = 10001
    """UID (and GID) the container runs as; never root."""
    https_egress_cidrs: tuple[Cidr, ...] = ()
    """CIDRs the app may reach on port 443 (LLM APIs); empty allows none. AWS endpoints inside the VPC are opened by the data tier."""

    @model_validator(mode="after")
    def _bounds(self) -> AppConfig:
        if self.min_replicas is not None and self.max_replicas is not None and self.min_replicas > self.max_replicas:
            raise FieldProblem("min_replicas", self.min_replicas, f"is greater than max_replicas {self.max_replicas}")
        if self.termination_grace_seconds <= self.pre_stop_seconds:
            raise FieldProblem("termination_grace_seconds", self.termination_grace_seconds,
                               f"must exceed pre_stop_seconds {self.pre_stop_seconds}")
        return self


MODEL = AppConfig
DEFAULTS: dict[str, dict] = {
    "common": {"probes": {
        "startup": {"period_seconds": 5, "failure_threshold": 24},
        "readiness": {"initial_delay_seconds": 5, "period_seconds": 5},
        "liveness": {"initial_delay_seconds": 30, "period_seconds": 10},
    }},
    "dev": {"image_pull_policy": "IfNotPresent", "zone_spread": "soft", "queue": {"enabled": False, "autoscaler": "hpa"}},
    "prod": {"image_pull_policy": "Always", "zone_spread": "hard", "queue": {"enabled": True, "autoscaler": "keda"}},
}


def cross_checks(config):
    if config.environment == "prod" and not image_is_pinned(config.app.image):
        yield ("app.image", config.app.image,
               "prod needs a pinned image: a tag other than latest (repo:1.4.2) or a digest (repo@sha256:...)")
    if config.app.rollout == "canary" and not config.monitoring.enabled:
        yield ("app.rollout", "canary", "the canary is analysed on Prometheus: enable monitoring, or roll out rolling")
    queue = config.app.queue
    if queue.enabled and queue.autoscaler == "keda" and not config.monitoring.enabled:
        yield ("app.queue.autoscaler", "keda", "scales on the server's queue-depth metric, which needs "
               "monitoring.enabled (Prometheus); use hpa or enable monitoring")
