"""One run per thread across every replica: a lock per thread in Redis.

The official server refuses a second run on a busy thread with 409 under its `reject` multitask
strategy; replicas of this app share no memory, so the "busy" mark lives in Redis. A run takes
`SET <key> <execution id> NX PX <ttl>`, renews it while it lasts and releases it with a
compare-and-delete script, so a run never frees a lock another run took after its own expired.
The TTL bounds how long a replica that dies mid-run keeps its threads busy.

A run must not proceed without its lock: Redis unreachable at the start refuses the run
(`LockUnavailable`), and a lock that may have expired during the run (renewals failing, or the key
gone or taken over, e.g. evicted or lost in a failover) cancels the run (`RunLockLost`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import AsyncIterator, Awaitable, TypeVar

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import RedisClusterException, RedisError

from .logs import get_logger
from .settings import Settings

T = TypeVar("T")

# What a failed Redis call raises: the client's errors, a cluster client that cannot map the slots,
# and socket errors from outside the client's own wrapping.
REDIS_ERRORS = (RedisError, RedisClusterException, OSError)
# Renew three times per TTL: one failed renewal is survived, two in a row give the lock up while
# it is still held (see Lease.renew_forever).
RENEWALS_PER_TTL = 3
KEY_NAMESPACE = "refapp:thread-run:"

# KEYS[1] the lock, ARGV[1] the holder's token, ARGV[2] the TTL in ms: extend only our own lock.
RENEW_SCRIPT = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
# KEYS[1] the lock, ARGV[1] the holder's token: delete only our own lock.
RELEASE_SCRIPT = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class ThreadBusy(Exception):
    """Another run holds the thread's lock (the official server's 409 under `reject`)."""

    def __init__(self, graph_name: str, thread_id: str) -> None:
        super().__init__(f"thread {thread_id!r} is already running a run")
        self.graph_name, self.thread_id = graph_name, thread_id


class LockUnavailable(Exception):
    """Redis did not answer the lock request: the run was not started."""

    def __init__(self, graph_name: str, thread_id: str, cause: BaseException) -> None:
        # The exception's class only: the message is what a client sees, and a URL never belongs there.
        super().__init__(f"Redis is unavailable ({type(cause).__name__}): the run was not started")
        self.graph_name, self.thread_id, self.cause = graph_name, thread_id, cause


class RunLockLost(Exception):
    """The run's lock may have expired or belongs to another run now: the run was cancelled."""


def create_client(settings: Settings) -> Redis | RedisCluster:
    """The client for `REDIS_URI` (cluster mode with `REDIS_CLUSTER=true`), opened lazily.

    Timeouts are REDIS_TIMEOUT (the seed's name, which the app tier sets); one quick retry covers a
    pooled connection that a failover or an idle timeout closed, without blurring an outage into
    seconds of back-off (redis-py's default is ten retries).
    """
    options = {"socket_timeout": settings.redis_timeout_seconds,
               "socket_connect_timeout": settings.redis_timeout_seconds,
               "retry": Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.1), retries=1),
               "max_connections": settings.redis_max_connections, "decode_responses": True}
    if settings.redis_cluster:
        return RedisCluster.from_url(settings.redis_uri, **options)
    return Redis.from_url(settings.redis_uri, **options)


class Lease:
    """A held lock: renewed in the background until released; `guard` runs work that must stop if it is lost."""

    def __init__(self, locks: RunLocks, key: str, token: str, graph_name: str, thread_id: str) -> None:
        self._locks = locks
        self.key, self.token = key, token
        self._fields = {"graph_name": graph_name, "execution_id": token, "thread_id": thread_id}
        self._lost = asyncio.Event()
        self._renewer: asyncio.Task | None = None

    @property
    def lost(self) -> bool:
        return self._lost.is_set()

    async def renew_forever(self) -> None:
        """Extend the TTL every TTL/3 until cancelled, or mark the lease lost and return.

        The key expires at most one TTL after the last renewal *sent*. A renewal that fails is retried
        at the next tick while that tick still comes before the expiry; otherwise the lock is given
        up before it can expire, so that no second run can take the thread while this one still works.
        """
        ttl = self._locks.ttl_seconds
        interval = ttl / RENEWALS_PER_TTL
        renewed = time.monotonic()
        while True:
            await asyncio.sleep(interval)
            sent = time.monotonic()
            try:
                # A renewal still pending when the key expires would come too late: bound it.
                kept = await asyncio.wait_for(self._locks.renew(self.key, self.token), renewed + ttl - sent)
            except REDIS_ERRORS as exc:  # TimeoutError included (an OSError)
                if time.monotonic() + interval < renewed + ttl:
                    continue
                self._give_up("renewals failed", type(exc).__name__)
                return
            if not kept:
                self._give_up("the key is gone or held by another run", None)
                return
            renewed = sent

    def _give_up(self, why: str, exception_type: str | None) -> None:
        failure = {"exception_type": exception_type} if exception_type else {}
        get_logger().error("run_lock_lost", error=f"the thread's run lock was lost: {why}", **failure,
                           **self._fields)
        self._lost.set()

    async def guard(self, work: Awaitable[T]) -> T:
        """`await work`, cancelled with RunLockLost as soon as the lease is lost."""
        task = asyncio.ensure_future(work)
        watcher = asyncio.ensure_future(self._lost.wait())
        try:
            await asyncio.wait((task, watcher), return_when=asyncio.FIRST_COMPLETED)
        finally:
            watcher.cancel()
            if not task.done():
                task.cancel()
                # Let the graph unwind (its last checkpoint is already written) before answering.
                await asyncio.wait((task,))
        if task.cancelled() and self.lost:
            raise RunLockLost(f"the run lock of thread {self._fields['thread_id']!r} was lost; "
                              "the run was cancelled so that no two runs work on the thread at once")
        return task.result()


class RunLocks:
    """Per-thread run locks in one Redis (or Redis cluster)."""

    def __init__(self, client: Redis | RedisCluster, ttl_seconds: float, key_prefix: str = "") -> None:
        self._client = client
        self.ttl_seconds = ttl_seconds
        self._ttl_ms = max(1, round(ttl_seconds * 1000))
        self._prefix = key_prefix + KEY_NAMESPACE
        self._renew = client.register_script(RENEW_SCRIPT)
        self._release = client.register_script(RELEASE_SCRIPT)

    def key(self, thread_id: str) -> str:
        """The thread's lock key (REDIS_KEY_PREFIX first, as the official server prefixes its keys)."""
        return self._prefix + thread_id

    @contextlib.asynccontextmanager
    async def hold(self, graph_name: str, thread_id: str, token: str) -> AsyncIterator[Lease]:
        """The thread's lock for the block; ThreadBusy or LockUnavailable when it cannot be had."""
        key = self.key(thread_id)
        try:
            taken = await self._client.set(key, token, nx=True, px=self._ttl_ms)
        except REDIS_ERRORS as exc:
            raise LockUnavailable(graph_name, thread_id, exc) from exc
        if not taken:
            raise ThreadBusy(graph_name, thread_id)
        lease = Lease(self, key, token, graph_name, thread_id)
        renewer = asyncio.create_task(lease.renew_forever())
        try:
            yield lease
        finally:
            renewer.cancel()
            await asyncio.wait((renewer,))
            await self._free(lease)

    async def renew(self, key: str, token: str) -> bool:
        return bool(await self._renew(keys=[key], args=[token, self._ttl_ms]))

    async def _free(self, lease: Lease) -> None:
        """Compare-and-delete; a failure only delays the next run on the thread until the TTL ends."""
        try:
            await self._release(keys=[lease.key], args=[lease.token])
        except REDIS_ERRORS as exc:
            get_logger().warning("run_lock_release_failed", exception_type=type(exc).__name__, error=str(exc),
                                 thread_id=lease.key.removeprefix(self._prefix), execution_id=lease.token)

    async def ping(self) -> None:
        """Raises one of REDIS_ERRORS when Redis does not answer (the readiness check)."""
        await self._client.ping()

    async def close(self) -> None:
        await self._client.aclose()
