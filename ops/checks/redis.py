"""Redis: the master reached through the stable endpoint (redis_url: HAProxy), and every Sentinel
naming one and the same master, which is the server the endpoint reaches."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from ..outputs import StackOutputs
from ..report import Check, Status
from ..runbooks import RUNBOOKS

if TYPE_CHECKING:
    from ..doctor import Doctor


def _no_retry(timeout: float) -> dict:
    # redis-py retries with backoff by default: a dead server would read as a slow one.
    return {"socket_timeout": timeout, "socket_connect_timeout": timeout, "retry": Retry(NoBackoff(), 0),
            "decode_responses": True}


def endpoint_client(outputs: StackOutputs, timeout: float) -> redis.Redis:
    return redis.Redis.from_url(outputs.require("redis_url"), **_no_retry(timeout))


def sentinel_client(outputs: StackOutputs, host: str, port: int, timeout: float) -> redis.Redis:
    """Sentinels share the servers' password (requirepass in sentinel.conf)."""
    return redis.Redis(host=host, port=port, password=_password(outputs, timeout), **_no_retry(timeout))


def _password(outputs: StackOutputs, timeout: float) -> str | None:
    return endpoint_client(outputs, timeout).connection_pool.connection_kwargs.get("password")


def sentinel_views(outputs: StackOutputs, timeout: float) -> dict[str, str | None]:
    """Each Sentinel's answer to get-master-addr-by-name as 'host:port', None where it gave none."""
    name = outputs.require("redis_master_name")
    views: dict[str, str | None] = {}
    for host, port in outputs.sentinel_addresses():
        try:
            reply = sentinel_client(outputs, host, port, timeout).sentinel_get_master_addr_by_name(
                name, return_responses=True)
            views[f"{host}:{port}"] = f"{reply[0]}:{reply[1]}" if reply else None
        except redis.RedisError:
            views[f"{host}:{port}"] = None
    return views


def redis_checks(doctor: Doctor) -> list[Check]:
    outputs, timeout = doctor.outputs, doctor.settings.timeout
    checks = []
    run_id = None
    try:
        client = endpoint_client(outputs, timeout)
        info = client.info("replication")
        run_id = client.info("server")["run_id"]
        role, replicas = info["role"], info.get("connected_slaves", 0)
        value = f"role {role}, {replicas} replica(s)"
        if role != "master":
            checks.append(Check("redis-endpoint", Status.FAIL, value, "redis_url reaches a replica: writes fail",
                                RUNBOOKS["redis-endpoint"], {"role": role}))
        else:
            checks.append(Check("redis-endpoint", Status.OK, value, "PING, INFO through redis_url", None,
                                {"role": role, "replicas": replicas}))
    except redis.RedisError as error:
        checks.append(Check("redis-endpoint", Status.FAIL, "unreachable", f"redis_url: {error}",
                            RUNBOOKS["redis-endpoint"]))
    checks.append(_sentinels(outputs, timeout, run_id))
    return checks


def _sentinels(outputs: StackOutputs, timeout: float, endpoint_run_id: str | None) -> Check:
    if not outputs.get("redis_sentinels"):
        return Check("redis-sentinels", Status.SKIP, "no Sentinels", "this stack's Redis has no Sentinels")
    views = sentinel_views(outputs, timeout)
    answered = {sentinel: view for sentinel, view in views.items() if view}
    named = sorted(set(answered.values()))
    majority = len(views) // 2 + 1
    value = f"{len(answered)}/{len(views)} answer, master {', '.join(named) or 'none'}"
    data = {"views": views, "masters": named}
    if len(named) > 1:
        return Check("redis-sentinels", Status.FAIL, value, "Sentinels disagree on the master",
                     RUNBOOKS["redis-sentinels"], data)
    if len(answered) < majority:
        return Check("redis-sentinels", Status.FAIL, value, f"fewer than {majority} Sentinels answer: no failover "
                     "possible", RUNBOOKS["redis-sentinels"], data)
    host, _, port = named[0].rpartition(":")
    try:
        socket.getaddrinfo(host, int(port))
        resolvable = True
    except OSError:
        # In-cluster names do not resolve from a laptop: agreement is all that can be said.
        resolvable = False
    if resolvable:
        try:
            named_run_id = redis.Redis(host=host, port=int(port), password=_password(outputs, timeout),
                                       **_no_retry(timeout)).info("server")["run_id"]
        except redis.RedisError:
            return Check("redis-sentinels", Status.FAIL, value, f"the master they name ({named[0]}) does not answer",
                         RUNBOOKS["redis-endpoint"], data)
        if endpoint_run_id and named_run_id != endpoint_run_id:
            return Check("redis-sentinels", Status.FAIL, value, "redis_url reaches another server than the "
                         "Sentinels' master", RUNBOOKS["redis-sentinels"], data)
    if len(answered) < len(views):
        return Check("redis-sentinels", Status.WARN, value, "a Sentinel does not answer",
                     RUNBOOKS["redis-sentinels"], data)
    compared = "redis_url reaches that master" if resolvable else \
        "its name does not resolve here: not compared with redis_url"
    return Check("redis-sentinels", Status.OK, value, f"all agree; {compared}", None, data)
