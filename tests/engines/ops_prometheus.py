"""A real Prometheus (Debian's `prometheus`) on 127.0.0.1 scraping given targets every second."""

from __future__ import annotations

import json
import shutil
import tempfile
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
import subprocess

from .procs import free_port, port_open, start, stop_pid, wait_for


@dataclass
class PrometheusServer:
    directory: Path
    port: int
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def query(self, promql: str) -> list[dict]:
        with urllib.request.urlopen(f"{self.url}/api/v1/query?{urllib.parse.urlencode({'query': promql})}",
                                    timeout=5) as response:
            return json.load(response)["data"]["result"]

    def stop(self) -> None:
        stop_pid(self.process.pid)
        shutil.rmtree(self.directory, ignore_errors=True)


def start_prometheus(targets: list[str]) -> PrometheusServer:
    """Prometheus scraping `targets` ("127.0.0.1:port") every second; returns once every target is up."""
    directory = Path(tempfile.mkdtemp(prefix="lg-prom-"))
    (directory / "prometheus.yml").write_text(json.dumps({  # JSON is YAML
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [{"job_name": "targets", "static_configs": [{"targets": targets}]}],
    }))
    port = free_port()
    process = start(["prometheus", f"--config.file={directory / 'prometheus.yml'}",
                     f"--storage.tsdb.path={directory / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
                    directory / "prometheus.log")
    server = PrometheusServer(directory, port, process)

    def scraped() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"prometheus exited: {(directory / 'prometheus.log').read_text()[-2000:]}")
        return port_open(port) and len([r for r in server.query("up == 1")]) == len(targets)

    wait_for(scraped, timeout=30, what="Prometheus scraping its targets")
    return server
