"""The rendered Redis, Sentinel and HAProxy configs and the shipped start-up scripts, run as real
`redis-server`, `redis-sentinel` and `haproxy` processes on 127.0.0.1 (master, 2 replicas,
3 Sentinels, HAProxy): failover, the stable master endpoint, and no second master on restarts.

The tests share one group and run in file order; each starts by waiting for a settled group.
"""

from __future__ import annotations

import os
import signal
import socket
import time
import urllib.request

import pytest
import redis

from components.redis import manifests
from components.redis.sentinel_config import RedisSentinelSpec, Resources
from tests.engines.procs import free_port, port_open, start, stop_pid, wait_for
from tests.engines.redis import PASSWORD, Node, RedisGroup, client, seconds_until

SPEC = RedisSentinelSpec(name="redis", namespace="langgraph", password_secret="redis-password",
                         redis_resources=Resources("100m", "500m", "256Mi"))
NEW_MASTER_WITHIN_S = 10.0
# After the Sentinels' switch: the other replica re-attaches to the new master (min-replicas-to-write
# holds writes until it has), then HAProxy, checking a down server every 0.5 s, needs 2 passes.
ENDPOINT_WRITABLE_WITHIN_S = 4.0


@pytest.fixture(scope="module")
def group(tmp_path_factory) -> RedisGroup:
    group = RedisGroup.build(SPEC, tmp_path_factory.mktemp("redis-group"))
    try:  # stop what did start even when the start-up fails
        group.start_servers_first()
        yield group
    finally:
        group.stop()


def test_processes_get_the_environment_their_pods_get(tmp_path):
    """The harness sets the variables the manifests set (loopback values instead), no more, no less."""
    built = RedisGroup.build(SPEC, tmp_path)
    pods = {"redis": manifests.redis_environment(SPEC), "sentinel": manifests.sentinel_environment(SPEC),
            "haproxy": [{"name": "REDIS_PASSWORD"}]}
    for node in built.nodes:
        # POD_NAME only feeds MY_HOST in a pod; PATH is the test machine's.
        assert set(node.env) - {"PATH"} == {e["name"] for e in pods[node.kind]} - {"POD_NAME"}, node.name


def _writable(group: RedisGroup, key: str) -> bool:
    try:
        return group.proxy(timeout=0.5).set(key, "1") is True
    except redis.RedisError:
        return False


def test_rendered_settings_are_in_force(group):
    master = group.wait_ready()
    config = master.client().config_get("*")
    assert int(config["maxmemory"]) == SPEC.maxmemory_bytes == int(256 * 2**20 * 0.7)
    assert (config["maxmemory-policy"], config["save"]) == ("allkeys-lru", "900 1 300 10 60 10000")
    assert (config["tcp-keepalive"], config["timeout"], config["min-replicas-to-write"]) == ("60", "300", "1")
    assert config["replica-announce-ip"] == "localhost"
    state = group.sentinels[0].client().sentinel_master(SPEC.master_name, return_responses=True)
    assert (state["down-after-milliseconds"], state["failover-timeout"], state["parallel-syncs"], state["quorum"]) == (
        5000, 10000, 1, 2)
    # The password from the environment guards servers and Sentinels alike.
    for node in (master, group.sentinels[0]):
        with pytest.raises(redis.AuthenticationError):
            client(node.port, password=None).ping()
    assert group.proxy_servers_up() == [master.name] and group.proxy_ready()
    assert all(group.health(node, "redis-ready") and group.health(node, "redis-alive") for node in group.redis)
    assert all(group.health(node, "sentinel-alive") for node in group.sentinels)


def test_the_exporter_sidecar_settings_scrape_the_server(group, tmp_path):
    """Debian's redis_exporter (1.45; the pod runs the pinned release) with the sidecar's variables,
    the port moved to the test server's."""
    master = group.wait_ready()
    # The Secret's value where the pod reads one.
    env = {e["name"]: PASSWORD if "valueFrom" in e else e["value"] for e in manifests.exporter_environment(SPEC)}
    assert env["REDIS_ADDR"] == "redis://127.0.0.1:6379"
    port = free_port()
    env |= {"REDIS_ADDR": f"redis://127.0.0.1:{master.port}", "REDIS_EXPORTER_WEB_LISTEN_ADDRESS": f"127.0.0.1:{port}",
            "PATH": os.environ["PATH"]}
    exporter = start(["prometheus-redis-exporter"], tmp_path / "exporter.log", env=env)
    try:
        wait_for(lambda: port_open(port), what="the exporter listening")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as health:
            assert health.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            metrics = response.read().decode().splitlines()
    finally:
        stop_pid(exporter.pid)
    assert "redis_up 1" in metrics and "redis_connected_slaves 2" in metrics


def test_killed_master_is_replaced_and_the_endpoint_follows(group):
    old = group.wait_ready()
    acknowledged = group.proxy().pipeline(transaction=False).set("acknowledged", "before-kill").wait(1, 2000).execute()
    assert acknowledged[0] is True and acknowledged[1] >= 1, "WAIT 1: a replica has the write"

    old.kill(signal.SIGKILL)
    killed = time.monotonic()
    survivor = next(node for node in group.redis if node is not old)
    group.wait(lambda: not group.health(survivor, "redis-ready"), 3, "the readiness probe failing a masterless replica")

    def new_master() -> bool:
        views = set(group.sentinel_views())
        return len(views) == 1 and None not in views and old.address not in views and \
            group.role(group.node_at(views.pop())) == "master"

    group.wait(new_master, 2 * NEW_MASTER_WITHIN_S, "a promoted replica named by every Sentinel")
    promoted = time.monotonic() - killed
    group.wait(lambda: _writable(group, "after-kill"), 10, "a write through HAProxy")
    writable = time.monotonic() - killed
    print(f"\nkill -9 master: new master after {promoted:.2f} s, writes through HAProxy after {writable:.2f} s")
    assert promoted < NEW_MASTER_WITHIN_S
    assert writable - promoted < ENDPOINT_WRITABLE_WITHIN_S
    assert group.proxy().get("acknowledged") == "before-kill"

    # The old master's pod restarts: its start-up script asks the Sentinels and it rejoins as a replica.
    old.start()
    group.wait(lambda: group.agreed() and group.role(old) == "slave", 20, "the old master back as a replica")
    assert group.health(old, "redis-ready")
    assert old.client().get("acknowledged") == "before-kill"


def test_without_sentinels_a_restarted_server_follows_the_claimed_master(group):
    master = group.wait_ready()
    bootstrap = group.redis[0]
    if master is bootstrap:  # only when run on its own: the previous test moved the master away
        group.sentinels[0].client().execute_command("SENTINEL", "FAILOVER", SPEC.master_name)
        group.wait(lambda: group.agreed() and group.masters()[0] is not bootstrap, 30, "a failover")
        master = group.masters()[0]
    for sentinel in group.sentinels:
        sentinel.kill(signal.SIGKILL)
    bootstrap.kill(signal.SIGKILL)
    bootstrap.start()
    most = 0

    def following() -> bool:
        nonlocal most
        most = max(most, len(group.masters()))
        if most > 1:
            return True  # the fault is there already: stop waiting, the assertion below reports it
        try:
            info = bootstrap.client(timeout=0.3).info("replication")
        except redis.RedisError:
            return False
        return (info["role"], info.get("master_port"), info.get("master_link_status")) == ("slave", master.port, "up")

    group.wait(following, 15, "the bootstrap server following the current master")
    assert most == 1 and group.masters() == [master], "the bootstrap server must not start a second master"
    for sentinel in group.sentinels:
        sentinel.start()
    group.wait(group.agreed, 20, "the restarted Sentinels naming the current master")
    assert group.sentinel_views() == [master.address] * len(group.sentinels)


def test_a_frozen_master_loses_its_sessions_and_never_shares_the_endpoint(group):
    old = group.wait_ready()
    session = socket.create_connection(("127.0.0.1", group.haproxy.port), timeout=5)
    session.sendall(f"AUTH {PASSWORD}\r\nSET held-session 1\r\n".encode())
    assert _read_lines(session, 2) == [b"+OK", b"+OK"]

    # A hung node or a partition: connections stay open but nothing answers. HAProxy's checks time
    # out, it marks the server down and closes the session, so the client reconnects (to the new
    # master once promoted) instead of waiting on the frozen one until the idle timeout.
    os.kill(old.process.pid, signal.SIGSTOP)
    try:
        session.settimeout(0.2)
        cut = seconds_until(lambda: _closed(session), 8, "HAProxy closing the session to the frozen master")
        group.wait(lambda: _writable(group, "after-freeze"), 20, "writes through HAProxy to a new master")
    finally:
        session.close()
        os.kill(old.process.pid, signal.SIGCONT)
    print(f"\nfrozen master: its session through HAProxy closed after {cut:.2f} s")
    views = set(group.sentinel_views())
    assert len(views) == 1 and old.address not in views
    new = group.node_at(views.pop())

    # Thawed, it calls itself master until Sentinel demotes it (Sentinel polls it every 10 s). It
    # has no replica left, so it takes no writes, and HAProxy's check keeps it out. Watch for 3 s,
    # three times as long as HAProxy needs to admit a server that passes its check.
    watched_until = time.monotonic() + 3
    while time.monotonic() < watched_until:
        assert group.proxy_servers_up() == [new.name]
        assert group.role(old) in ("master", "slave", None)
        time.sleep(0.05)
    # Its pod restarts (say, liveness failed while it hung) and rejoins as a replica.
    old.kill(signal.SIGKILL)
    old.start()
    group.wait(lambda: group.agreed() and group.role(old) == "slave", 20, "the frozen master back as a replica")


def test_a_master_restarting_at_once_hands_over_to_a_replica(group):
    old = group.wait_ready()
    acknowledged = group.proxy().pipeline(transaction=False).set("quick-restart", "kept").wait(1, 2000).execute()
    assert acknowledged[1] >= 1
    # The kubelet restarts a crashed (or OOM-killed) container at once, before the Sentinels see
    # it gone. Its snapshot on disk predates the write; the replicas have it. Resuming as master
    # would make them resync to the snapshot and lose the write.
    old.kill(signal.SIGKILL)
    old.start()
    took = seconds_until(lambda: group.agreed() and group.role(old) == "slave" and _writable(group, "handed-over"),
                         20, "a replica promoted in its place, behind the endpoint")
    print(f"\nmaster restarted at once: a replica promoted, the old one following it, the endpoint writable "
          f"after {took:.2f} s")
    assert "promotes a replica" in old.log.read_text()
    assert group.proxy().get("quick-restart") == "kept"


def test_restarting_every_process_at_once_yields_exactly_one_master(group):
    group.wait(group.agreed, 20, "a settled group")
    group.kill_all(signal.SIGKILL)
    group.start_all()
    most, ready_with_several_up, several_up = 0, 0, 0

    def settled() -> bool:
        nonlocal most, ready_with_several_up, several_up
        most = max(most, len(group.masters()))
        if most > 1:
            return True  # the fault is there already: stop waiting, the assertion below reports it
        # Readiness first: the count of UP servers only falls while HAProxy's first checks run,
        # so a ready answer followed by several UP servers would be a real fault, not a race.
        ready = group.proxy_ready()
        try:
            up = len(group.proxy_servers_up())
        except OSError:
            return False
        several_up += up > 1
        ready_with_several_up += ready and up > 1
        return group.agreed() and ready and _writable(group, "after-restart")

    took = seconds_until(settled, 30, "one master after restarting everything")
    print(f"\nall processes restarted: one master, Sentinels agreeing, writes through HAProxy after {took:.2f} s")
    assert most == 1
    assert len(group.masters()) == 1
    assert several_up and not ready_with_several_up, "HAProxy is ready only once at most one server is up"


@pytest.mark.parametrize("index, becomes_master", [(0, True), (1, False)])
def test_with_nobody_to_ask_only_the_bootstrap_server_becomes_master(tmp_path, index, becomes_master):
    lone = RedisGroup.build(SPEC, tmp_path)
    node: Node = lone.redis[index]
    node.env["DISCOVERY_TIMEOUT"] = "1"
    node.start()
    try:
        if becomes_master:
            lone.wait(lambda: lone.role(node) == "master", 10, "the bootstrap server as master")
        else:
            assert node.process.wait(timeout=15) != 0
            assert not port_open(node.port)
            assert f"waiting for {lone.redis[0].address}" in node.log.read_text()
    finally:
        node.kill(signal.SIGTERM)


def _read_lines(session: socket.socket, count: int) -> list[bytes]:
    data = b""
    while data.count(b"\r\n") < count:
        chunk = session.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n")[:count]


def _closed(session: socket.socket) -> bool:
    try:
        return session.recv(4096) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
