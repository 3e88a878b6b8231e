"""The Sentinel-managed Redis (Valkey) group's parameters and the config text its processes run.

`redis_conf` and `sentinel_conf` render templates: `${NAME}` placeholders are filled from the
environment by the start-up scripts (`scripts/`), so that a pod and a test on 127.0.0.1 run the
same files, and the password never lands in a ConfigMap. `haproxy_cfg` is read by HAProxy itself,
which expands `"${NAME}"` from its environment.

No directive differs between Valkey 8.1 (the cluster's image) and Redis 7.0 (Debian's
`redis-server`, which the tests run): both accept `replicaof`/`masterauth`/`replica-announce-*`,
`repl-diskless-sync-max-replicas`, Sentinel's `resolve-hostnames`/`announce-hostnames`, report
`role:master` and `min_slaves_good_slaves` in `INFO replication`, answer `SENTINEL
get-master-addr-by-name` and honour `REDISCLI_AUTH` (Valkey keeps the Redis spellings next to its
own `primary` ones). Only the binary names differ (`valkey-*` vs `redis-*`); the scripts take
whichever is installed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Literal, Mapping, Sequence

from stackconfig.quantity import parse_quantity

# maxmemory bounds only the dataset. Outside it but inside the container's limit live allocator
# fragmentation (jemalloc, typically 5-15 %), replica output buffers during a full sync (up to
# 256 MB each by default, not counted by maxmemory), client buffers and the copy-on-write pages a
# BGSAVE fork duplicates while writes continue. 70 % leaves 30 % for those: with the seed's 2gb
# dataset that is a 3Gi limit. Eviction (allkeys-lru) starts before the kernel's OOM killer would.
MAXMEMORY_FRACTION = 0.7

REDIS_PORT, SENTINEL_PORT, EXPORTER_PORT, HAPROXY_STATS_PORT = 6379, 26379, 9121, 8404

EvictionPolicy = Literal["noeviction", "allkeys-lru", "volatile-lru", "allkeys-lfu", "volatile-lfu", "volatile-ttl"]
_SAVE_RULE = re.compile(r"[0-9]{1,9} [0-9]{1,9}")
_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?")


@dataclass(frozen=True)
class Resources:
    """A container's CPU request and limit and its memory (request = limit: no overcommit for a data store)."""

    cpu_request: str
    cpu_limit: str
    memory: str

    def manifest(self) -> dict:
        return {"requests": {"cpu": self.cpu_request, "memory": self.memory},
                "limits": {"cpu": self.cpu_limit, "memory": self.memory}}


@dataclass(frozen=True)
class Endpoint:
    """A host name (or address) and TCP port."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class RedisSentinelSpec:
    """Everything the Redis group is built from: plain values, validated on construction."""

    name: str
    namespace: str
    password_secret: str
    """Kubernetes Secret holding the password shared by Redis, Sentinel and HAProxy's health check.
    It goes verbatim into config lines and HAProxy's inline AUTH: letters and digits only (a
    pulumi-random password with special=False)."""
    password_key: str = "password"
    labels: Mapping[str, str] = field(default_factory=dict)
    replicas: int = 2
    """Replicas of the master: the StatefulSet runs replicas + 1 Redis pods."""
    sentinels: int = 3
    master_name: str = "langgraph"
    down_after_ms: int = 5000
    failover_timeout_ms: int = 10000
    parallel_syncs: int = 1
    maxmemory_policy: EvictionPolicy = "allkeys-lru"
    save: tuple[str, ...] = ("900 1", "300 10", "60 10000")
    tcp_keepalive: int = 60
    timeout: int = 300
    storage_size: str = "8Gi"
    storage_class: str | None = None
    redis_resources: Resources = Resources("250m", "1", "3Gi")
    sentinel_resources: Resources = Resources("50m", "200m", "64Mi")
    haproxy_resources: Resources = Resources("100m", "500m", "128Mi")
    exporter_resources: Resources = Resources("25m", "100m", "64Mi")
    haproxy_replicas: int = 2
    require_separate_nodes: bool = False
    """Hard pod anti-affinity (prod); soft otherwise, so that a one-node dev cluster still schedules."""
    redis_image: str = "valkey"
    haproxy_image: str = "haproxy"
    exporter_image: str = "redis-exporter"
    """Keys of `components.pins.IMAGES` (the server's also names its binaries and labels)."""
    redis_image_ref: str | None = None
    """The server image when the stack overrides the pinned one (`redis.image`); None uses the pin."""
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] = "IfNotPresent"
    client_pod_labels: Mapping[str, str] = field(default_factory=dict)
    client_namespace: str | None = None
    """Namespace of those client pods when it is not this one (the app's)."""
    sentinel_clients: tuple[dict, ...] = ()
    """Further NetworkPolicy peers that may ask the Sentinels (the auto-recovery service triggers failovers)."""
    """Pods (of this namespace) allowed to reach the master endpoint and the Sentinels."""
    monitoring_namespace: str | None = None
    """Namespace allowed to scrape the exporters; None admits no scraper."""
    cluster_domain: str = "cluster.local"

    def __post_init__(self) -> None:
        problems = []
        if not _NAME.fullmatch(self.name):
            problems.append(f"name {self.name!r} must be a DNS label of at most 40 characters (pod names append suffixes)")
        if self.replicas < 1:
            problems.append(f"replicas={self.replicas}: Sentinel needs at least one replica to fail over to")
        if self.sentinels < 3 or self.sentinels % 2 == 0:
            problems.append(f"sentinels={self.sentinels}: use an odd number of at least 3, so that a majority survives one loss")
        if self.down_after_ms <= 0 or self.failover_timeout_ms <= 0 or self.parallel_syncs < 1:
            problems.append("down_after_ms, failover_timeout_ms and parallel_syncs must be positive")
        if not re.fullmatch(r"[A-Za-z0-9_-]+", self.master_name):
            problems.append(f"master_name {self.master_name!r} may hold letters, digits, '_' and '-' only")
        bad_rules = [rule for rule in self.save if not _SAVE_RULE.fullmatch(rule)]
        if bad_rules:
            problems.append(f"save rules {bad_rules} are not 'seconds changes'")
        if self.haproxy_replicas < 1:
            problems.append(f"haproxy_replicas={self.haproxy_replicas} must be at least 1")
        try:
            if self.maxmemory_bytes < 1 << 20:
                problems.append(f"redis memory {self.redis_resources.memory} leaves less than 1 MiB of maxmemory")
        except ValueError as error:
            problems.append(f"redis memory: {error}")
        if problems:
            raise ValueError("invalid Redis Sentinel parameters: " + "; ".join(problems))

    @property
    def quorum(self) -> int:
        """Sentinels that must agree the master is down: a majority, so a partitioned minority cannot fail over."""
        return self.sentinels // 2 + 1

    @property
    def maxmemory_bytes(self) -> int:
        return math.floor(parse_quantity(self.redis_resources.memory) * MAXMEMORY_FRACTION)

    @property
    def min_replicas_to_write(self) -> int:
        """With two or more replicas, a master that has lost every replica (the old master on the
        wrong side of a partition) refuses writes after 10 s instead of accepting writes that the
        failover will discard. With a single replica that would stop writes whenever the replica
        restarts, so it stays off."""
        return 1 if self.replicas >= 2 else 0

    @property
    def redis_pods(self) -> int:
        return self.replicas + 1

    @property
    def redis_headless(self) -> str:
        return f"{self.name}-headless"

    @property
    def sentinel_name(self) -> str:
        return f"{self.name}-sentinel"

    @property
    def sentinel_headless(self) -> str:
        return f"{self.sentinel_name}-headless"

    @property
    def haproxy_name(self) -> str:
        return f"{self.name}-haproxy"

    @property
    def master_service(self) -> str:
        """The Service in front of HAProxy: the host of REDIS_URI."""
        return self.name

    def _host(self, pod: str, service: str) -> str:
        return f"{pod}.{service}.{self.namespace}.svc.{self.cluster_domain}"

    def redis_endpoints(self) -> list[Endpoint]:
        """Stable per-pod host names of the Redis StatefulSet (its headless Service publishes them)."""
        return [Endpoint(self._host(f"{self.name}-{i}", self.redis_headless), REDIS_PORT) for i in range(self.redis_pods)]

    def sentinel_endpoints(self) -> list[Endpoint]:
        return [Endpoint(self._host(f"{self.sentinel_name}-{i}", self.sentinel_headless), SENTINEL_PORT)
                for i in range(self.sentinels)]

    def master_endpoint(self) -> Endpoint:
        return Endpoint(f"{self.master_service}.{self.namespace}.svc.{self.cluster_domain}", REDIS_PORT)


def redis_conf(spec: RedisSentinelSpec) -> str:
    """redis.conf for every Redis pod; `start-redis.sh` fills the placeholders and adds `replicaof`."""
    lines = [
        "# Filled in by start-redis.sh from its environment; it appends `replicaof` on replicas.",
        "bind ${BIND_ADDRESS}",
        "port ${REDIS_PORT}",
        "dir ${REDIS_DATA_DIR}",
        "daemonize no",
        'logfile ""',
        "requirepass ${REDIS_PASSWORD}",
        "masterauth ${REDIS_PASSWORD}",
        "# Replicas announce their stable host name, not the pod IP that changes on every restart,",
        "# so that Sentinel's view and the start-up scripts' answers survive pod rescheduling.",
        "replica-announce-ip ${MY_HOST}",
        "replica-announce-port ${REDIS_PORT}",
        "replica-read-only yes",
        "# A full sync waits for more replicas to share one transfer: all of them at a bootstrap,",
        "# otherwise 1 s (not the default 5) so that a restarted replica is in sync, and its pod",
        "# ready for the rolling update to move on, that much sooner.",
        f"repl-diskless-sync-max-replicas {spec.replicas}",
        "repl-diskless-sync-delay 1",
        f"min-replicas-to-write {spec.min_replicas_to_write}",
        "min-replicas-max-lag 10",
        f"maxmemory {spec.maxmemory_bytes}",
        f"maxmemory-policy {spec.maxmemory_policy}",
        *(f"save {rule}" for rule in spec.save),
        "appendonly no",
        f"tcp-keepalive {spec.tcp_keepalive}",
        f"timeout {spec.timeout}",
    ]
    return "\n".join(lines) + "\n"


def sentinel_conf(spec: RedisSentinelSpec) -> str:
    """sentinel.conf; `start-sentinel.sh` fills in the master it found and the host names."""
    name = spec.master_name
    lines = [
        "# Filled in by start-sentinel.sh from its environment (MASTER_HOST/MASTER_PORT: the master it found).",
        "bind ${BIND_ADDRESS}",
        "port ${SENTINEL_PORT}",
        "dir ${SENTINEL_DATA_DIR}",
        "daemonize no",
        'logfile ""',
        "# Sentinel uses requirepass both for its clients and towards the other Sentinels.",
        "requirepass ${REDIS_PASSWORD}",
        "sentinel resolve-hostnames yes",
        "sentinel announce-hostnames yes",
        "sentinel announce-ip ${MY_HOST}",
        "sentinel announce-port ${SENTINEL_PORT}",
        f"sentinel monitor {name} ${{MASTER_HOST}} ${{MASTER_PORT}} {spec.quorum}",
        f"sentinel auth-pass {name} ${{REDIS_PASSWORD}}",
        f"sentinel down-after-milliseconds {name} {spec.down_after_ms}",
        f"sentinel failover-timeout {name} {spec.failover_timeout_ms}",
        f"sentinel parallel-syncs {name} {spec.parallel_syncs}",
    ]
    return "\n".join(lines) + "\n"


# Clients that subscribe or block (pub/sub, BLPOP) stay silent for long stretches; Redis's own
# `timeout` closes idle ordinary clients, so the proxy's idle limit only has to outlast those.
PROXY_IDLE_TIMEOUT = "1h"


def _writable_master(spec: RedisSentinelSpec) -> str:
    """What HAProxy's check expects from INFO replication.

    `role:master` alone would also admit an old master that comes back from a freeze or a
    partition still calling itself master, until Sentinel demotes it (it asks replicas for INFO
    only every 10 s). With min-replicas-to-write on, such a master has no good replica and refuses
    writes anyway, so the check also requires `min_slaves_good_slaves` >= 1 (INFO prints it right
    after `connected_slaves` in Redis 7.0 and Valkey 8.1): traffic goes only to a master that
    accepts writes, never to two.
    """
    if spec.min_replicas_to_write:
        return "rstring role:master\\r\\nconnected_slaves:[0-9]+\\r\\nmin_slaves_good_slaves:[1-9]"
    return "string role:master"


def haproxy_cfg(spec: RedisSentinelSpec, servers: Sequence[Endpoint], *, bind_host: str = "",
                port: int = REDIS_PORT, stats_port: int = HAPROXY_STATS_PORT) -> str:
    """haproxy.cfg: one TCP frontend whose backend sends traffic only to the master that takes writes.

    Every Redis server is checked each second (every half second while down, so a promoted
    replica takes traffic about a second after it qualifies) with AUTH, PING and INFO replication;
    two failed checks mark it down and close its sessions, so that clients reconnect to the new
    master instead of writing to a demoted or frozen one. Host names are re-resolved through the
    cluster DNS (a restarted pod keeps its name, not its IP). `bind_host` and the ports let the
    tests run it on loopback.
    """
    server_lines = [f"    server {spec.name}-{i} {server}" for i, server in enumerate(servers)]
    lines = [
        "global",
        "    log stdout format raw local0 info",
        "    maxconn 4096",
        "",
        "defaults",
        "    mode tcp",
        "    log global",
        "    option tcplog",
        "    option dontlognull",
        "    timeout connect 2s",
        f"    timeout client {PROXY_IDLE_TIMEOUT}",
        f"    timeout server {PROXY_IDLE_TIMEOUT}",
        "    timeout check 1s",
        "",
        "resolvers cluster",
        "    parse-resolv-conf",
        "    hold valid 5s",
        "",
        "frontend redis",
        f"    bind {bind_host}:{port}",
        "    option clitcpka",
        "    default_backend redis_master",
        "",
        "backend redis_master",
        "    option srvtcpka",
        "    option tcp-check",
        "    tcp-check connect",
        '    tcp-check send "AUTH ${REDIS_PASSWORD}\\r\\n"',
        "    tcp-check expect string +OK",
        "    tcp-check send PING\\r\\n",
        "    tcp-check expect string +PONG",
        "    tcp-check send info\\ replication\\r\\n",
        f"    tcp-check expect {_writable_master(spec)}",
        "    tcp-check send QUIT\\r\\n",
        "    tcp-check expect string +OK",
        "    default-server check inter 1s downinter 500ms fall 2 rise 2 on-marked-down shutdown-sessions "
        "resolvers cluster init-addr last,libc,none",
        *server_lines,
        "",
        "frontend stats",
        "    mode http",
        f"    bind {bind_host}:{stats_port}",
        "    timeout client 10s",
        "    # Readiness: HAProxy starts with every server UP until its first checks fail, so it would",
        "    # send some new clients to replicas; it is ready once at most one server is left.",
        "    monitor-uri /ready",
        "    monitor fail if { nbsrv(redis_master) gt 1 }",
        "    http-request use-service prometheus-exporter if { path /metrics }",
    ]
    return "\n".join(lines) + "\n"
