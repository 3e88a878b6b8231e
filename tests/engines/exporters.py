"""Debian's Prometheus exporters run against real servers: start one, scrape its /metrics once, stop it by PID."""

from __future__ import annotations

import urllib.request
from pathlib import Path
from typing import Sequence

from .procs import free_port, port_open, start, stop_pid, wait_for


def scrape_once(argv: Sequence[str], log: Path, env: dict | None = None) -> str:
    """The exposition text of the exporter `argv` (given a loopback --web.listen-address here) after one scrape."""
    port = free_port()
    process = start([*argv, f"--web.listen-address=127.0.0.1:{port}"], log, env=env)
    try:
        def listening() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"{argv[0]} exited: {log.read_text()[-2000:]}")
            return port_open(port)

        wait_for(listening, what=f"{argv[0]} on port {port}")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=15) as response:
            return response.read().decode()
    finally:
        stop_pid(process.pid)
