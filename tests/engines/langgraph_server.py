"""The official LangGraph server (`langgraph-api`, in `.venv-langgraph-api`) as a real process.

It runs the way `langgraph dev` starts it (`langgraph_api.cli`): uvicorn serving
`langgraph_api.server:app` on the in-memory runtime (`langgraph-runtime-inmem`), which needs no
license, no PostgreSQL, no Redis and no network; it serves `server_graph.py` as the graph `counter`.
Its `/metrics` is the same OpenTelemetry-backed `lg_api_*` exposition as in the production image.
The in-memory runtime has no connection pools and no Go core (langgraph_api.metrics_collector), so
it never records the pool gauges and counters, the queue-depth gauges or the queue-wait histogram:
the postgres runtime of the licensed image does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx

from .procs import free_port, http_ok, start, stop_pid, wait_started

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv-langgraph-api" / "bin" / "python"
GRAPH_FILE = Path(__file__).resolve().parent / "server_graph.py"
GRAPH_ID = "counter"


@dataclass
class LangGraphServer:
    directory: Path
    port: int
    process: subprocess.Popen
    client: httpx.Client

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.directory / "server.log"

    def run(self, count: int) -> httpx.Response:
        """A stateless run of the graph to completion (`POST /runs/wait`)."""
        return self.client.post("/runs/wait", json={"assistant_id": GRAPH_ID, "input": {"count": count}})

    def cleanup(self) -> None:
        self.client.close()
        stop_pid(self.process.pid)
        shutil.rmtree(self.directory, ignore_errors=True)


def start_server(jobs_per_worker: int = 2, stats_interval_seconds: int = 1) -> LangGraphServer:
    """Start the server on a free port and wait until `/ok` answers.

    `stats_interval_seconds` is the server's STATS_INTERVAL_SECS (60 by default), the period of its
    worker gauges: short here so that they reach Prometheus within the test.
    """
    if not PYTHON.exists():
        raise RuntimeError(f"{PYTHON.relative_to(ROOT)} is missing: `make test` builds it")
    directory = Path(tempfile.mkdtemp(prefix="lg-server-"))
    config = directory / "langgraph.json"
    config.write_text(json.dumps({"graphs": {GRAPH_ID: f"{GRAPH_FILE}:graph"}}))
    port = free_port()
    env = {
        "PATH": os.environ["PATH"], "LANG": "C.UTF-8", "HOME": str(directory),
        # No network here: no PyPI version check, no LangSmith tracing.
        "LANGGRAPH_NO_VERSION_CHECK": "true", "LANGSMITH_TRACING": "false",
        "STATS_INTERVAL_SECS": str(stats_interval_seconds),
    }
    # The in-memory runtime keeps its state in ./.langgraph_api of the working directory.
    process = start([str(PYTHON), "-m", "langgraph_api.cli", "--config", str(config), "--no-reload",
                     "--host", "127.0.0.1", "--port", str(port), "--n-jobs-per-worker", str(jobs_per_worker)],
                    directory / "server.log", cwd=directory, env=env)
    server = LangGraphServer(directory, port, process, httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30))
    wait_started(process, server.log, lambda: http_ok(port, "/ok"), what="the LangGraph server's /ok", timeout=60,
                 cleanup=server.cleanup)
    return server
