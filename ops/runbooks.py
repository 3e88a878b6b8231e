"""Which runbook (`docs/runbooks/<Alert>.md`) an on-call engineer opens for each check.

There is one runbook per alert; a check maps to the alert that watches the same thing, or the
closest one where no alert does (the load balancer's health: its usual cause is the pods behind it).
"""

from __future__ import annotations

RUNBOOKS: dict[str, str] = {
    "pods": "LangGraphPodCrashLooping",
    "autoscalers": "LangGraphAutoscalerAtMax",
    "load-balancer": "LangGraphPodCrashLooping",
    "certificate": "CertificateExpiringSoon",
    "postgres-cluster": "PostgresInstanceDown",
    "postgres-reachable": "PostgresDown",
    "postgres-connections": "LangGraphDatabaseConnections",
    "postgres-replication": "PostgresReplicationLag",
    "postgres-long-queries": "LangGraphDatabaseConnections",
    "redis-endpoint": "RedisNoMaster",
    "redis-sentinels": "RedisSentinelQuorumLost",
    "object-store": "LangGraphCheckpointFailures",
    "backup-age": "PostgresBackupTooOld",
    "error-rate": "LangGraphHighErrorRate",
    "latency-p95": "LangGraphHighLatency",
    "restore": "PostgresBackupTooOld",
    "redis-failover": "RedisNoMaster",
    "postgres-failover": "PostgresDown",
}
