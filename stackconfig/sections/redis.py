"""`redis`: Redis-compatible run coordination: Valkey with Sentinel in the cluster, or ElastiCache."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from components.pins import IMAGES

from ..types import Int, Quantity, Section
from .app import Image

KEY = "redis"


class ElastiCacheConfig(Section):
    node_type: str = Field("cache.r7g.large", pattern=r"^cache\.[a-z0-9]{2,12}\.[a-z0-9]{2,12}$")
    """ElastiCache node type."""
    cluster_mode: bool = False
    """Shard the keyspace (cluster mode enabled; the app then gets REDIS_CLUSTER=true)."""
    shards: Int(1, 500) = 1
    """Shards when cluster_mode is on."""
    snapshot_retention_days: Int(0, 35) = 7
    """Days of automatic snapshots."""


class RedisConfig(Section):
    engine: Literal["sentinel", "elasticache"] = "sentinel"
    """sentinel: Valkey with Sentinel in the cluster, behind an HAProxy master endpoint; elasticache: AWS ElastiCache for Valkey (needs the AWS ids)."""
    image: Image = IMAGES["valkey"].ref
    """Server image of the in-cluster tier: pinned Valkey 8.1 (BSD-licensed, a drop-in LangGraph documents; Redis 8 is AGPL/RSAL/SSPL). Override only with a pinned tag or digest; the start-up scripts run valkey-* or redis-* binaries, whichever the image has."""
    replicas: Int(1, 5)
    """Replicas of the master (prod floor: 2)."""
    sentinels: Int(3, 7) = 3
    """Sentinel processes (an odd number; quorum = majority)."""
    master_name: str = Field("langgraph", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    """Sentinel master group name."""
    down_after_milliseconds: Int(1000, 600_000) = 5000
    """Sentinel down-after-milliseconds (Bitnami's chart uses 60000)."""
    failover_timeout_milliseconds: Int(1000, 3_600_000) = 10000
    """Sentinel failover-timeout (Bitnami's chart uses 180000)."""
    memory_limit: Quantity
    """Memory of each server container (request = limit); maxmemory is 70 % of it, the rest is head-room for fragmentation, replica and client buffers and a save's copy-on-write (seed: 2gb -> 3Gi)."""
    require_separate_nodes: bool
    """Hard pod anti-affinity: never two Redis pods (or two Sentinels) on one node (prod); soft in dev, so one node schedules everything."""
    maxmemory_policy: Literal["noeviction", "allkeys-lru", "volatile-lru", "allkeys-lfu", "volatile-lfu", "volatile-ttl"] = "allkeys-lru"
    """Eviction policy (seed: allkeys-lru)."""
    save: tuple[Annotated[str, Field(pattern=r"^[1-9][0-9]{0,6} [1-9][0-9]{0,9}$")], ...] = ("900 1", "300 10", "60 10000")
    """RDB snapshot rules, `seconds changes` (seed)."""
    tcp_keepalive: Int(0, 86_400) = 60
    """tcp-keepalive seconds (seed: 60)."""
    timeout: Int(0, 86_400) = 300
    """Idle client timeout seconds (seed: 300)."""
    maxclients: Int(100, 1_000_000) = 10000
    """maxclients: the worst case of every pod's REDIS_MAX_CONNECTIONS must fit."""
    storage_size: Quantity
    """Volume per Redis pod."""
    elasticache: ElastiCacheConfig = ElastiCacheConfig()
    """ElastiCache settings (engine elasticache)."""

    @field_validator("sentinels")
    @classmethod
    def _odd(cls, value: int) -> int:
        if value % 2 == 0:
            raise ValueError(f"{value} sentinels cannot form a majority any better than {value - 1}; use an odd number")
        return value


MODEL = RedisConfig
DEFAULTS: dict[str, dict] = {
    "dev": {"replicas": 1, "memory_limit": "1Gi", "storage_size": "1Gi", "require_separate_nodes": False},
    "prod": {"replicas": 2, "memory_limit": "3Gi", "storage_size": "8Gi", "require_separate_nodes": True},
}
