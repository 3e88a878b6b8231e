"""A Debian Prometheus exporter kept running for Prometheus to scrape (exporters.py scrapes once)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from .procs import free_port, port_open, start, stop_pid, wait_for


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
    process = start([*argv, f"--web.listen-address=127.0.0.1:{port}"], log, env=env)

    def listening() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"{argv[0]} exited: {log.read_text()[-2000:]}")
        return port_open(port)

    try:
        wait_for(listening, what=f"{argv[0]} on port {port}")
    except BaseException:
        stop_pid(process.pid)
        raise
    return ExporterProcess(port, process)
