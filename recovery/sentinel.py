"""Asking the Sentinels about the master and forcing a failover."""

from __future__ import annotations

from dataclasses import dataclass

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

TIMEOUT_SECONDS = 2.0
# Sentinel flags meaning the master does not answer it: subjectively / objectively down, or no link at all.
DOWN_FLAGS = frozenset({"s_down", "o_down", "disconnected"})


class SentinelError(RuntimeError):
    """No Sentinel answered, or the one asked refused."""


@dataclass(frozen=True)
class MasterView:
    """One Sentinel's view of the master."""

    sentinel: str
    """`host:port` of the Sentinel that answered."""
    address: str
    flags: frozenset[str]

    @property
    def down(self) -> bool:
        return bool(self.flags & DOWN_FLAGS)


class Sentinels:
    """The Sentinels of one master, asked in order until one answers."""

    def __init__(self, addresses: tuple[str, ...], master_name: str, password: str | None):
        self._addresses = addresses
        self._master = master_name
        self._password = password

    def _client(self, address: str) -> redis.Redis:
        host, port = address.rsplit(":", 1)
        # No retries: each Sentinel is asked once, the next one is the retry.
        return redis.Redis(host=host, port=int(port), password=self._password, socket_timeout=TIMEOUT_SECONDS,
                           socket_connect_timeout=TIMEOUT_SECONDS, decode_responses=True,
                           retry=Retry(NoBackoff(), 0))

    def master(self) -> MasterView:
        """The first answering Sentinel's view of the master (`SENTINEL MASTER`)."""
        failures = []
        for address in self._addresses:
            try:
                with self._client(address) as sentinel:
                    reply = sentinel.execute_command("SENTINEL", "MASTER", self._master)
            except redis.RedisError as error:
                failures.append(f"{address}: {error}")
                continue
            state = reply if isinstance(reply, dict) else dict(zip(reply[::2], reply[1::2]))
            flags = state["flags"]
            flags = flags if isinstance(flags, (set, frozenset)) else set(str(flags).split(","))
            return MasterView(address, f"{state['ip']}:{state['port']}", frozenset(flags))
        raise SentinelError("no Sentinel answered: " + "; ".join(failures))

    def failover(self, address: str) -> None:
        """`SENTINEL FAILOVER` on the Sentinel at `address`: it promotes a replica without asking the
        others for agreement, which is what a lost quorum needs."""
        try:
            with self._client(address) as sentinel:
                sentinel.execute_command("SENTINEL", "FAILOVER", self._master)
        except redis.RedisError as error:
            raise SentinelError(f"{address}: {error}") from None
