"""The reference LangGraph app (`reference_app/`, `python -m refapp`) as a process on a free port.

The port stays the app's across a stop and a start, so that a restart is seen by the same URL; the
log file is appended to, so that it holds the lines of every start.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from .procs import free_port, http_ok, start, stop_pid, wait_started

APP_DIR = Path(__file__).resolve().parents[2] / "reference_app"


class ReferenceApp:
    """The app on `database_uri` with `settings` (its environment variables); its stdout (the JSON
    log) in `log`. `start` and `stop` as often as a test needs."""

    def __init__(self, database_uri: str, log: Path, settings: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.log = log
        self.env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", "DATABASE_URI": database_uri,
                    "HOST": "127.0.0.1", "PORT": str(self.port), **(settings or {})}
        self.process: subprocess.Popen | None = None
        self.client = httpx.Client(base_url=self.url, timeout=30)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def start(self) -> None:
        """Start the process and wait until `/ok` answers."""
        self.process = start([sys.executable, "-m", "refapp"], self.log, cwd=APP_DIR, env=self.env)
        wait_started(self.process, self.log, lambda: http_ok(self.port, "/ok"), what="the reference app's /ok",
                     timeout=60, cleanup=self.stop)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the process (the client stays usable for the next start); SIGKILL is a crash: no
        graceful shutdown, nothing released."""
        if self.process is not None:
            stop_pid(self.process.pid, sig)
            self.process = None

    def close(self) -> None:
        """Stop the process and close the client."""
        self.stop()
        self.client.close()

    def run(self, graph: str, thread_id: str | None = None, headers: dict | None = None,
            **inputs: object) -> httpx.Response:
        """A run (`POST /runs/wait`) on a new thread or `thread_id`, to completion, failure or interrupt."""
        body = {"assistant_id": graph, "input": inputs, **({"thread_id": thread_id} if thread_id else {})}
        return self.client.post("/runs/wait", json=body, headers=headers)

    def resume(self, graph: str, thread_id: str, value: object) -> httpx.Response:
        """Resume the interrupted `thread_id` with `value` (`Command(resume=value)`)."""
        return self.client.post(f"/threads/{thread_id}/runs/wait",
                                json={"assistant_id": graph, "command": {"resume": value}})

    def metrics(self) -> dict[str, list]:
        """Samples by family name (counters keep their `_total` name), parsed by prometheus_client."""
        families = {}
        for family in text_string_to_metric_families(self.client.get("/metrics").text):
            name = family.name + "_total" if family.type == "counter" else family.name
            families[name] = family.samples
        return families

    def log_lines(self) -> list[dict]:
        """Every line of the log, parsed (the app writes JSON only)."""
        return [json.loads(line) for line in self.log.read_text().splitlines()]


def start_app(database_uri: str, log: Path, settings: dict[str, str] | None = None) -> ReferenceApp:
    """A started `ReferenceApp`; `close()` it when done."""
    app = ReferenceApp(database_uri, log, settings)
    try:
        app.start()
    except BaseException:
        app.close()
        raise
    return app
