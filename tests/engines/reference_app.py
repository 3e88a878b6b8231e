"""The reference LangGraph app (`reference_app/`, `python -m refapp`) as a process on a free port."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

from .procs import free_port, port_open, start, stop_pid, wait_for

APP_DIR = Path(__file__).resolve().parents[2] / "reference_app"


@dataclass
class ReferenceApp:
    port: int
    process: subprocess.Popen
    client: httpx.Client
    log: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def run(self, graph: str, **inputs: object) -> httpx.Response:
        """A run on a new thread (`POST /runs/wait`), to completion, failure or interrupt."""
        return self.client.post("/runs/wait", json={"assistant_id": graph, "input": inputs})

    def stop(self) -> None:
        self.client.close()
        stop_pid(self.process.pid)


def start_app(database_uri: str, log: Path, settings: dict[str, str] | None = None) -> ReferenceApp:
    """Start the app on `database_uri` with `settings` (its environment variables); wait for `/ok`."""
    port = free_port()
    env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", "DATABASE_URI": database_uri,
           "HOST": "127.0.0.1", "PORT": str(port), **(settings or {})}
    process = start([sys.executable, "-m", "refapp"], log, cwd=APP_DIR, env=env)
    app = ReferenceApp(port, process, httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30), log)

    def ready() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"the reference app exited: {log.read_text()[-3000:]}")
        try:
            return port_open(port) and app.client.get("/ok").status_code == 200
        except httpx.TransportError:  # listening, not serving yet
            return False

    try:
        wait_for(ready, timeout=60, what="the reference app's /ok")
    except BaseException:
        app.stop()
        raise
    return app
