"""Benchmark: how long a killed Redis master takes to be replaced, with our Sentinel timings and
with the Bitnami chart's defaults, on real processes on 127.0.0.1 (the engine tests' harness).

    python -m tools.bench_failover [--kills 5] [--only ours|bitnami]

Each round kills the current master with SIGKILL, then measures until every Sentinel names a
promoted replica that reports role:master ("new master"), and until a write through HAProxy
succeeds ("endpoint"). The old master then restarts through its start-up script and rejoins as a
replica before the next round. Prints the median and the range of each over the rounds.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import tempfile
import time
from pathlib import Path

import redis

from components.redis.sentinel_config import RedisSentinelSpec
from tests.engines.redis import RedisGroup

SETTINGS = {
    "ours": RedisSentinelSpec(name="redis", namespace="bench", password_secret="unused"),
    # The Bitnami chart's sentinel.downAfterMilliseconds and sentinel.failoverTimeout defaults.
    "bitnami": RedisSentinelSpec(name="redis", namespace="bench", password_secret="unused",
                                 down_after_ms=60000, failover_timeout_ms=180000),
}


def _writable(group: RedisGroup) -> bool:
    try:
        return group.proxy(timeout=0.5).set("bench", "1") is True
    except redis.RedisError:
        return False


def one_kill(group: RedisGroup, limit: float) -> tuple[float, float]:
    """Seconds from kill -9 of the master to a new master, and to a write through HAProxy."""
    old = group.wait_ready(timeout=60)
    old.kill(signal.SIGKILL)
    killed = time.monotonic()

    def new_master() -> bool:
        views = set(group.sentinel_views())
        return len(views) == 1 and None not in views and old.address not in views and \
            group.role(group.node_at(views.pop())) == "master"

    group.wait(new_master, limit, "a new master")
    promoted = time.monotonic() - killed
    group.wait(lambda: _writable(group), 30, "a write through HAProxy")
    writable = time.monotonic() - killed
    old.start()
    group.wait(lambda: group.agreed() and group.role(old) == "slave", 60, "the old master back as a replica")
    return promoted, writable


def run(name: str, kills: int) -> dict[str, list[float]]:
    spec = SETTINGS[name]
    # Generous: Sentinel waits down-after, then may wait out an election timeout before a retry.
    limit = 3 * spec.down_after_ms / 1000 + 30
    results: dict[str, list[float]] = {"new master": [], "endpoint": []}
    with tempfile.TemporaryDirectory(prefix="bench-failover-") as directory:
        group = RedisGroup.build(spec, Path(directory))
        try:
            group.start_servers_first()
            for round_ in range(1, kills + 1):
                promoted, writable = one_kill(group, limit)
                results["new master"].append(promoted)
                results["endpoint"].append(writable)
                print(f"  {name} kill {round_}: new master {promoted:.2f} s, writes through HAProxy {writable:.2f} s",
                      flush=True)
        finally:
            group.stop()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--only", choices=sorted(SETTINGS))
    args = parser.parse_args(argv)
    names = [args.only] if args.only else list(SETTINGS)
    summary = {}
    for name in names:
        spec = SETTINGS[name]
        print(f"{name}: down-after-milliseconds {spec.down_after_ms}, failover-timeout {spec.failover_timeout_ms}, "
              f"{args.kills} kills", flush=True)
        summary[name] = run(name, args.kills)
    print(f"\n{'settings':10} {'measure':12} {'median':>8} {'min':>8} {'max':>8}")
    for name, results in summary.items():
        for measure, values in results.items():
            print(f"{name:10} {measure:12} {statistics.median(values):7.2f}s {min(values):7.2f}s {max(values):7.2f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
