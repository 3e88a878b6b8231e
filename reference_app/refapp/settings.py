"""Every knob of the app, read from the environment once at start.

Names follow the official LangGraph server where it has one (`DATABASE_URI`, `N_JOBS_PER_WORKER`,
`LANGGRAPH_POSTGRES_POOL_MAX_SIZE`, `BG_JOB_TIMEOUT_SECS`, `REDIS_URI`, `REDIS_CLUSTER`, ...), so one
Deployment spec fits both; the seed's `ProductionConfig` names that the app tier already sets
(`MAX_CONCURRENT_EXECUTIONS`, `NODE_TIMEOUT`, `RETRY_*`, `HEALTH_CHECK_TIMEOUT`, `REDIS_TIMEOUT`) are
honoured too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")

DEFAULT_SERVICE_NAME = "langgraph-reference-app"


class SettingsError(ValueError):
    """A variable is missing or has a value the app cannot use; the message names it."""


@dataclass(frozen=True)
class Settings:
    """The app's configuration; `load_settings` documents where each field comes from."""

    database_uri: str
    pool_min_size: int
    pool_max_size: int
    pool_timeout_seconds: float
    max_concurrent_runs: int
    run_timeout_seconds: float
    node_timeout_seconds: float
    retry_max_attempts: int
    retry_initial_interval_seconds: float
    retry_backoff_factor: float
    retry_jitter: bool
    health_check_timeout_seconds: float
    disabled_graphs_file: str | None
    disabled_graphs_refresh_seconds: float
    otlp_endpoint: str | None
    service_name: str
    host: str
    port: int
    log_level: str
    graceful_shutdown_seconds: float
    redis_uri: str | None
    redis_cluster: bool
    redis_max_connections: int
    redis_timeout_seconds: float
    redis_key_prefix: str
    run_lock_ttl_seconds: float


def _get(env: Mapping[str, str], name: str, cast: Callable[[str], T], default: T,
         check: Callable[[T], bool], allowed: str) -> T:
    """`env[name]` converted by `cast` and accepted by `check`; `default` when unset or empty."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = cast(raw)
    except ValueError:
        value = None
    if value is None or not check(value):
        raise SettingsError(f"{name}={raw!r} is not allowed; allowed: {allowed}")
    return value


def _bool(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
REDIS_SCHEMES = ("redis", "rediss", "unix")


def _redis_uri(env: Mapping[str, str], cluster: bool) -> str | None:
    """REDIS_URI when set; the error never repeats the value, which holds the password."""
    uri = env.get("REDIS_URI", "").strip()
    if not uri:
        return None
    scheme = urlsplit(uri).scheme
    if scheme not in REDIS_SCHEMES:
        raise SettingsError(f"REDIS_URI is not a Redis URL (value not shown: it may hold a password); "
                            f"allowed: {', '.join(s + '://...' for s in REDIS_SCHEMES)}")
    if cluster and scheme == "unix":
        raise SettingsError("REDIS_CLUSTER=true needs a redis:// or rediss:// REDIS_URI: a cluster has no unix socket")
    return uri


def load_settings(env: Mapping[str, str]) -> Settings:
    """Settings from `env` (normally `os.environ`); SettingsError names the first bad variable."""
    database_uri = env.get("DATABASE_URI", "").strip() or env.get("POSTGRES_URI", "").strip()
    if not database_uri:
        raise SettingsError("DATABASE_URI (or POSTGRES_URI) is not set: the app checkpoints to PostgreSQL")
    positive = "a number > 0"
    # The official server's knob wins; the seed's name is an alias for apps configured like the seed.
    concurrency_var = "N_JOBS_PER_WORKER" if env.get("N_JOBS_PER_WORKER", "").strip() else "MAX_CONCURRENT_EXECUTIONS"
    pool_max = _get(env, "LANGGRAPH_POSTGRES_POOL_MAX_SIZE", int, 150, lambda v: v >= 1, "an integer >= 1")
    pool_min = _get(env, "LANGGRAPH_CHECKPOINTER_POSTGRES_POOL_MIN_SIZE", int, 1,
                    lambda v: 0 <= v <= pool_max, f"an integer from 0 to the pool maximum ({pool_max})")
    level = _get(env, "LOG_LEVEL", str.upper, "INFO", lambda v: v in LOG_LEVELS, ", ".join(LOG_LEVELS))
    cluster = _get(env, "REDIS_CLUSTER", _bool, False, lambda _: True, "true or false")
    otlp = (env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
            or env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip() or None)
    return Settings(
        database_uri=database_uri,
        pool_min_size=pool_min,
        pool_max_size=pool_max,
        pool_timeout_seconds=_get(env, "LANGGRAPH_CHECKPOINTER_POSTGRES_POOL_TIMEOUT_SECONDS", float, 15.0,
                                  lambda v: v > 0, positive),
        # 0 means "no jobs on this pod" to the official server; this app has no queue workers to hand
        # runs to, so it refuses 0 rather than accept requests it can never run.
        max_concurrent_runs=_get(env, concurrency_var, int, 10, lambda v: v >= 1, "an integer >= 1"),
        run_timeout_seconds=_get(env, "BG_JOB_TIMEOUT_SECS", float, 86400.0, lambda v: v > 0, positive),
        node_timeout_seconds=_get(env, "NODE_TIMEOUT", float, 300.0, lambda v: v > 0, positive),
        retry_max_attempts=_get(env, "RETRY_MAX_ATTEMPTS", int, 3, lambda v: v >= 1, "an integer >= 1"),
        retry_initial_interval_seconds=_get(env, "RETRY_INITIAL_INTERVAL_SECONDS", float, 0.5,
                                            lambda v: v >= 0, "a number >= 0"),
        retry_backoff_factor=_get(env, "RETRY_BACKOFF_FACTOR", float, 2.0, lambda v: v >= 1, "a number >= 1"),
        retry_jitter=_get(env, "RETRY_JITTER", _bool, True, lambda _: True, "true or false"),
        health_check_timeout_seconds=_get(env, "HEALTH_CHECK_TIMEOUT", float, 10.0, lambda v: v > 0, positive),
        disabled_graphs_file=env.get("DISABLED_GRAPHS_FILE", "").strip() or None,
        disabled_graphs_refresh_seconds=_get(env, "DISABLED_GRAPHS_REFRESH_SECONDS", float, 5.0,
                                             lambda v: v >= 0, "a number >= 0"),
        otlp_endpoint=otlp,
        service_name=env.get("OTEL_SERVICE_NAME", "").strip() or DEFAULT_SERVICE_NAME,
        host=env.get("HOST", "").strip() or "0.0.0.0",
        port=_get(env, "PORT", int, 8000, lambda v: 1 <= v <= 65535, "1 to 65535"),
        log_level=level,
        graceful_shutdown_seconds=_get(env, "GRACEFUL_SHUTDOWN_SECONDS", float, 25.0, lambda v: v >= 0,
                                       "a number >= 0"),
        redis_uri=_redis_uri(env, cluster),
        redis_cluster=cluster,
        # The official server's knob and default. Not the seed's REDIS_POOL_SIZE (10): redis-py's
        # asyncio pool fails a command rather than wait when it is exhausted.
        redis_max_connections=_get(env, "REDIS_MAX_CONNECTIONS", int, 2000, lambda v: v >= 1, "an integer >= 1"),
        redis_timeout_seconds=_get(env, "REDIS_TIMEOUT", float, 5.0, lambda v: v > 0, positive),
        redis_key_prefix=env.get("REDIS_KEY_PREFIX", "").strip(),
        run_lock_ttl_seconds=_get(env, "RUN_LOCK_TTL_SECONDS", float, 30.0, lambda v: v >= 0.1, "a number >= 0.1"),
    )
