"""Debian's Prometheus exporters run against real servers: kept running for a Prometheus to scrape,
or started, scraped once and stopped by PID."""

from __future__ import annotations

import subprocess
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from .procs import free_port, port_open, start, stop_pid, wait_started


@dataclass
class ExporterProcess:
    port: int
    process: subprocess.Popen

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        stop_pid(self.process.pid)


def start_exporter(argv: Sequence[str], log: Path, env: dict | None = None) -> ExporterProcess:
    """Start `argv` with a loopback `--web.listen-address` and wait until it listens."""
    port = free_port()
    exporter = ExporterProcess(port, start([*argv, f"--web.listen-address=127.0.0.1:{port}"], log, env=env))
    wait_started(exporter.process, log, lambda: port_open(port), what=f"{argv[0]} on port {port}",
                 cleanup=exporter.stop)
    return exporter


def scrape_once(argv: Sequence[str], log: Path, env: dict | None = None) -> str:
    """The exposition text of the exporter `argv` after one scrape."""
    exporter = start_exporter(argv, log, env)
    try:
        with urllib.request.urlopen(f"http://{exporter.address}/metrics", timeout=15) as response:
            return response.read().decode()
    finally:
        exporter.stop()
