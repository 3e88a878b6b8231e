"""A Sentinel-managed Redis group on 127.0.0.1, run from exactly what the component ships (and, at the
end, a single `RedisServer` for apps that only need a Redis).

Redis servers and Sentinels start through the shipped start-up scripts (`components/redis/scripts`,
run in place) on the rendered `redis.conf` / `sentinel.conf` templates, with the environment a pod
gets: loopback ports instead of 6379/26379, and `localhost` as every process's stable host name,
so that Sentinel's host-name resolution is exercised. HAProxy runs the rendered `haproxy.cfg`.
The scripts `exec` the server, so each process's PID is the server's own and `kill -9` hits it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from components.redis.sentinel_config import Endpoint, RedisSentinelSpec, haproxy_cfg, redis_conf, sentinel_conf

from .procs import free_port, start, stop_pid, wait_for, wait_started

SCRIPTS = Path(__file__).resolve().parents[2] / "components" / "redis" / "scripts"
HOST = "localhost"
PASSWORD = "test-redis-password"


@dataclass
class Node:
    """One process of the group, restartable with the same port, files and environment."""

    kind: str  # "redis", "sentinel" or "haproxy"
    index: int
    port: int
    argv: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        """The address the group knows this process by (what Sentinel reports)."""
        return f"{HOST}:{self.port}"

    @property
    def name(self) -> str:
        return f"{self.kind}-{self.index}"

    def start(self) -> None:
        self.process = start(self.argv, self.log, env=self.env)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the process by PID and wait until it is gone."""
        if self.process is not None:
            stop_pid(self.process.pid, sig)
            self.process = None

    def client(self, timeout: float = 1.0) -> redis.Redis:
        return client(self.port, timeout)


@dataclass
class RedisGroup:
    """Master + replicas, Sentinels and HAProxy as `spec` describes them, all on loopback."""

    spec: RedisSentinelSpec
    directory: Path
    redis: list[Node] = field(default_factory=list)
    sentinels: list[Node] = field(default_factory=list)
    haproxy: Node | None = None
    stats_port: int = 0

    @classmethod
    def build(cls, spec: RedisSentinelSpec, directory: Path) -> RedisGroup:
        """Render the configs into `directory` and prepare (not start) every process."""
        group = cls(spec, directory)
        etc = directory / "etc"
        etc.mkdir(parents=True, exist_ok=True)
        (etc / "redis.conf").write_text(redis_conf(spec))
        (etc / "sentinel.conf").write_text(sentinel_conf(spec))
        redis_ports = [free_port() for _ in range(spec.redis_pods)]
        sentinel_ports = [free_port() for _ in range(spec.sentinels)]
        common = {
            "PATH": os.environ["PATH"],
            "REDIS_PASSWORD": PASSWORD,
            "MASTER_NAME": spec.master_name,
            "MY_HOST": HOST,
            "BIND_ADDRESS": "127.0.0.1",
            "REDIS_NODES": " ".join(f"{HOST}:{port}" for port in redis_ports),
            "SENTINEL_NODES": " ".join(f"{HOST}:{port}" for port in sentinel_ports),
            "BOOTSTRAP_MASTER": f"{HOST}:{redis_ports[0]}",
        }
        for index, port in enumerate(redis_ports):
            home = directory / f"redis-{index}"
            home.mkdir(exist_ok=True)
            env = {**common, "REDIS_PORT": str(port), "REDIS_DATA_DIR": str(home),
                   "CONFIG_TEMPLATE": str(etc / "redis.conf"), "CONFIG_FILE": str(home / "redis.conf")}
            group.redis.append(Node("redis", index, port, ["sh", str(SCRIPTS / "start-redis.sh")], env, home / "log"))
        for index, port in enumerate(sentinel_ports):
            home = directory / f"sentinel-{index}"
            home.mkdir(exist_ok=True)
            env = {**common, "SENTINEL_PORT": str(port), "SENTINEL_DATA_DIR": str(home),
                   "CONFIG_TEMPLATE": str(etc / "sentinel.conf"), "CONFIG_FILE": str(home / "sentinel.conf")}
            group.sentinels.append(
                Node("sentinel", index, port, ["sh", str(SCRIPTS / "start-sentinel.sh")], env, home / "log"))
        proxy_port, stats_port = free_port(), free_port()
        servers = [Endpoint("127.0.0.1", port) for port in redis_ports]
        (etc / "haproxy.cfg").write_text(
            haproxy_cfg(spec, servers, bind_host="127.0.0.1", port=proxy_port, stats_port=stats_port))
        group.haproxy = Node("haproxy", 0, proxy_port, ["haproxy", "-db", "-f", str(etc / "haproxy.cfg")],
                             {"PATH": os.environ["PATH"], "REDIS_PASSWORD": PASSWORD}, directory / "haproxy.log")
        group.stats_port = stats_port
        return group

    @property
    def nodes(self) -> list[Node]:
        return [*self.redis, *self.sentinels, self.haproxy]

    def start_all(self) -> None:
        """Start every process at once, as pods of StatefulSets with Parallel pod management start."""
        for node in self.nodes:
            node.start()

    def start_servers_first(self) -> None:
        """Start the bootstrap server, then the replicas once it is master, then the Sentinels once
        the replicas are linked: the Sentinels' first INFO then lists the replicas, which they
        otherwise learn only at the next one, 10 s later. A saving for the tests, and a start that
        needs no race won (`start_all` is the race); the scripts handle either order."""
        bootstrap, *replicas = self.redis
        bootstrap.start()
        self.wait(lambda: self.role(bootstrap) == "master", 10, "the bootstrap server as master")
        for node in replicas:
            node.start()
        self.wait(lambda: self.agreed(sentinels=False), 20, "replicas linked to the bootstrap master")
        for node in [*self.sentinels, self.haproxy]:
            node.start()
        # HAProxy starts with every server UP until its checks fail on the replicas.
        self.wait(lambda: self.proxy_servers_up() == [bootstrap.name], 10, "HAProxy sending to the master only")

    def kill_all(self, sig: int = signal.SIGKILL) -> None:
        for node in self.nodes:
            node.kill(sig)

    def role(self, node: Node) -> str | None:
        """`master`, `slave`, or None when the server does not answer."""
        try:
            return node.client(timeout=0.3).info("replication")["role"]
        except redis.RedisError:
            return None

    def masters(self) -> list[Node]:
        return [node for node in self.redis if self.role(node) == "master"]

    def sentinel_views(self) -> list[str | None]:
        """Each Sentinel's answer to get-master-addr-by-name as `host:port`; None where it gives none."""
        views = []
        for sentinel in self.sentinels:
            try:
                reply = sentinel.client(timeout=0.3).sentinel_get_master_addr_by_name(
                    self.spec.master_name, return_responses=True)
                views.append(f"{reply[0]}:{reply[1]}" if reply else None)
            except redis.RedisError:
                views.append(None)
        return views

    def agreed(self, sentinels: bool = True) -> bool:
        """One master, every replica linked to it and acknowledged by it, every Sentinel naming it."""
        try:
            masters = self.masters()
            if len(masters) != 1:
                return False
            master = masters[0]
            # The master counts a replica once it acknowledged the sync (what WAIT and
            # min-replicas-to-write see), a little after the replica reports its link up.
            info = master.client(timeout=0.3).info("replication")
            if [info[f"slave{i}"]["state"] for i in range(info["connected_slaves"])] != ["online"] * (len(self.redis) - 1):
                return False
            for node in self.redis:
                info = node.client(timeout=0.3).info("replication")
                if node is not master and (info["role"], f"{info['master_host']}:{info['master_port']}",
                                           info["master_link_status"]) != ("slave", master.address, "up"):
                    return False
        except (redis.RedisError, KeyError):
            return False
        return not sentinels or self.sentinel_views() == [master.address] * len(self.sentinels)

    def ready_to_fail_over(self) -> bool:
        """`agreed`, and every Sentinel knows the others (a quorum can form) and every replica (it
        lists them from the master's INFO every 10 s; before that it has nobody to promote)."""
        if not self.agreed():
            return False
        try:
            known = [(state["num-other-sentinels"], state["num-slaves"]) for state in (
                sentinel.client(timeout=0.3).sentinel_master(self.spec.master_name, return_responses=True)
                for sentinel in self.sentinels)]
        except (redis.RedisError, KeyError):
            return False
        return known == [(len(self.sentinels) - 1, len(self.redis) - 1)] * len(self.sentinels)

    def wait(self, check: Callable[[], bool], timeout: float, what: str) -> None:
        """wait_for with the processes' log tails in the error, for a failure in CI."""
        try:
            wait_for(check, timeout=timeout, interval=0.02, what=what)
        except TimeoutError as error:
            raise TimeoutError(f"{error}\n{self.log_tails()}") from None

    def wait_ready(self, timeout: float = 30.0) -> Node:
        """The master, once the group is ready to fail over."""
        self.wait(self.ready_to_fail_over, timeout, "a master with linked replicas and Sentinels ready to fail over")
        return self.masters()[0]

    def node_at(self, address: str) -> Node:
        return next(node for node in self.redis if node.address == address)

    def proxy(self, timeout: float = 1.0) -> redis.Redis:
        """A client of the HAProxy endpoint: what the app's REDIS_URI reaches."""
        return client(self.haproxy.port, timeout)

    def proxy_servers_up(self) -> list[str]:
        """The servers HAProxy sends traffic to, from its Prometheus endpoint."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.stats_port}/metrics", timeout=1) as response:
            lines = response.read().decode().splitlines()
        return [line.split('server="')[1].split('"')[0] for line in lines
                if line.startswith("haproxy_server_status{") and 'state="UP"' in line and line.endswith(" 1")]

    def proxy_ready(self) -> bool:
        """HAProxy's readiness endpoint, as the kubelet's probe sees it."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.stats_port}/ready", timeout=1) as response:
                return response.status == 200
        except OSError:  # refused while starting, or HTTPError 503
            return False

    def health(self, node: Node, check: str) -> bool:
        """The shipped probe script's verdict, run with the node's environment."""
        return subprocess.run(["sh", str(SCRIPTS / "health.sh"), check], env=node.env,
                              capture_output=True).returncode == 0

    def log_tails(self, lines: int = 15) -> str:
        parts = []
        for node in self.nodes:
            text = node.log.read_text(errors="replace").splitlines()[-lines:] if node.log.exists() else []
            parts.append(f"--- {node.name} ({node.address})\n" + "\n".join(text))
        return "\n".join(parts)

    def stop(self) -> None:
        self.kill_all(signal.SIGTERM)


def client(port: int, timeout: float = 1.0, password: str | None = PASSWORD) -> redis.Redis:
    """A client on 127.0.0.1 that reports a failure at once: redis-py's default retries (ten, with
    exponential backoff) would blur every timing the tests measure."""
    return redis.Redis(host="127.0.0.1", port=port, password=password, socket_timeout=timeout,
                       socket_connect_timeout=timeout, decode_responses=True, retry=Retry(NoBackoff(), 0))


def seconds_until(check: Callable[[], bool], timeout: float, what: str) -> float:
    """Seconds until `check()` first holds, polled every 20 ms; TimeoutError after `timeout`."""
    began = time.monotonic()
    wait_for(check, timeout=timeout, interval=0.02, what=what)
    return time.monotonic() - began


@dataclass
class RedisServer:
    """One password-protected `redis-server` on 127.0.0.1 without persistence, for apps that need a
    Redis (not its replication): `stop()` and `start()` keep its port, so a client's URL survives an
    outage. `cluster=True` starts it in cluster mode (see `start_cluster`)."""

    directory: Path
    cluster: bool = False
    port: int = field(default_factory=free_port)
    bus_port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    def start(self) -> None:
        """Start the server and wait until it answers."""
        self.directory.mkdir(parents=True, exist_ok=True)
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--requirepass", PASSWORD,
                "--save", "", "--appendonly", "no", "--dir", str(self.directory)]
        if self.cluster:
            # The bus port defaults to port + 10000, which may be taken or beyond 65535.
            argv += ["--cluster-enabled", "yes", "--cluster-config-file", str(self.directory / "nodes.conf"),
                     "--cluster-port", str(self.bus_port)]
        log = self.directory / "redis.log"
        self.process = start(argv, log)
        wait_started(self.process, log, self._answers, what="redis-server answering PING", cleanup=self.stop)

    def _answers(self) -> bool:
        try:
            with self.client(timeout=0.3) as probe:
                return probe.ping()
        except redis.RedisError:
            return False

    def uri(self, password: str = PASSWORD) -> str:
        """The URL an app is given (REDIS_URI)."""
        return f"redis://:{password}@127.0.0.1:{self.port}/0"

    def client(self, timeout: float = 1.0) -> redis.Redis:
        return client(self.port, timeout)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None:
            stop_pid(self.process.pid, sig)
            self.process = None


def start_redis(directory: Path) -> RedisServer:
    """A started `RedisServer` keeping its files in `directory`; `stop()` it when done."""
    server = RedisServer(directory)
    server.start()
    return server


def start_cluster(directory: Path, nodes: int = 3) -> list[RedisServer]:
    """A cluster-mode Redis of `nodes` masters, the 16384 slots split evenly between them, so that
    keys live on different nodes and a client must follow the slot map (a plain client gets MOVED)."""
    servers = [RedisServer(directory / f"node-{index}", cluster=True) for index in range(nodes)]
    try:
        for server in servers:
            server.start()
        share = 16384 // nodes
        for index, server in enumerate(servers):
            first, last = index * share, (16383 if index == nodes - 1 else (index + 1) * share - 1)
            with server.client() as admin:
                admin.execute_command("CLUSTER", "ADDSLOTSRANGE", first, last)
                if index:
                    admin.execute_command("CLUSTER", "MEET", "127.0.0.1", servers[0].port, servers[0].bus_port)

        def formed() -> bool:
            for server in servers:
                with server.client(timeout=0.3) as probe:
                    info = probe.cluster("INFO")
                if info["cluster_state"] != "ok" or int(info["cluster_known_nodes"]) != nodes:
                    return False
            return True

        wait_for(formed, timeout=15, interval=0.05, what=f"a {nodes}-node cluster serving every slot")
    except BaseException:
        for server in servers:
            server.stop()
        raise
    return servers
