"""Redis: `SENTINEL FAILOVER <master>` on a healthy group, while a probe writes through the stable
endpoint (redis_url: HAProxy) every 50 ms; reports how long writes failed."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

import redis

from ..checks.redis import endpoint_client, sentinel_client, sentinel_views
from ..outputs import StackOutputs
from ..report import Check, Status
from ..runbooks import RUNBOOKS
from .probe import Probe

PROBE_KEY = "ops:drill:probe"


@dataclass(frozen=True)
class RedisDrillSettings:
    max_outage_seconds: float = 10.0
    timeout_seconds: float = 60.0
    settle_seconds: float = 1.0
    """Writes must keep succeeding this long before the drill calls the endpoint recovered."""
    probe_interval: float = 0.05


def _agreed_master(outputs: StackOutputs, timeout: float) -> str | None:
    views = set(sentinel_views(outputs, timeout).values())
    return views.pop() if len(views) == 1 and None not in views else None


def redis_failover(outputs: StackOutputs, settings: RedisDrillSettings, say=lambda text: None) -> list[Check]:
    """The drill; refuses (FAIL) to start on a group whose Sentinels do not agree on one master."""
    if not outputs.get("redis_sentinels"):
        return [Check("redis-failover", Status.SKIP, "no Sentinels", "this stack's Redis has no Sentinels")]
    name = outputs.require("redis_master_name")
    old = _agreed_master(outputs, 1.0)
    if old is None:
        return [Check("redis-failover", Status.FAIL, "not started", "the Sentinels do not agree on a master: "
                      "fix that first (doctor)", RUNBOOKS["redis-failover"], {"views": sentinel_views(outputs, 1.0)})]
    counter = itertools.count()
    client = endpoint_client(outputs, timeout=0.5)

    def write() -> None:
        client.set(PROBE_KEY, next(counter), ex=300)

    probe = Probe(write, settings.probe_interval).start()
    time.sleep(settings.settle_seconds)  # a baseline of successful writes before the failover
    began = time.monotonic()
    host, port = outputs.sentinel_addresses()[0]
    say(f"SENTINEL FAILOVER {name} (master {old})")
    try:
        sentinel_client(outputs, host, port, timeout=2.0).sentinel_failover(name)
    except redis.RedisError as error:
        probe.stop()
        return [Check("redis-failover", Status.FAIL, "refused", f"SENTINEL FAILOVER: {error}",
                      RUNBOOKS["redis-failover"])]
    new, switched = None, None
    deadline = began + settings.timeout_seconds
    while time.monotonic() < deadline:
        if switched is None:
            named = _agreed_master(outputs, 0.5)
            if named and named != old:
                new, switched = named, time.monotonic() - began
        if switched is not None and probe.succeeded_since(time.monotonic() - settings.settle_seconds) and \
                time.monotonic() - began > switched + settings.settle_seconds:
            break
        time.sleep(0.05)
    result = probe.stop()
    data = {"old_master": old, "new_master": new, "sentinels_switched_seconds": switched, **result.as_data()}
    value = f"outage {result.outage_seconds:.2f} s, {result.failures}/{result.attempts} writes failed"
    if new is None:
        return [Check("redis-failover", Status.FAIL, value, f"no new master named by every Sentinel within "
                      f"{settings.timeout_seconds:g} s", RUNBOOKS["redis-failover"], data)]
    if not result.recovered:
        return [Check("redis-failover", Status.FAIL, value, f"writes through redis_url had not recovered after "
                      f"{settings.timeout_seconds:g} s", RUNBOOKS["redis-failover"], data)]
    detail = f"{old} -> {new}; Sentinels agreed after {switched:.2f} s"
    if result.outage_seconds > settings.max_outage_seconds:
        detail += f"; outage above {settings.max_outage_seconds:g} s"
        return [Check("redis-failover", Status.WARN, value, detail,
                      RUNBOOKS["redis-failover"], data)]
    return [Check("redis-failover", Status.OK, value, detail, None, data)]
