"""A real Alertmanager (Debian's `prometheus-alertmanager` 0.25) on 127.0.0.1, and a webhook
receiver that records what it posts.

The receiver answers every POST with 200 and keeps (path, JSON body): with a webhook URL of its own
per receiver of the rendered config (one path each), the path tells which route an alert took.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .procs import free_port, http_ok, start, stop_pid, wait_started


class WebhookReceiver:
    """An HTTP server on a free loopback port, in a thread, recording every POSTed JSON payload."""

    def __init__(self) -> None:
        received: list[tuple[str, dict]] = []
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                with lock:
                    received.append((self.path, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._received, self._lock = received, lock
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def payloads(self) -> list[tuple[str, dict]]:
        """(path, Alertmanager webhook payload) in arrival order."""
        with self._lock:
            return list(self._received)

    def alerts(self, path: str, alertname: str | None = None) -> list[dict]:
        """Every alert (named `alertname`, if given) posted to `path`; an alert repeats once per
        notification that carried it."""
        return [alert for at, body in self.payloads() if at == path for alert in body.get("alerts", [])
                if alertname in (None, alert["labels"].get("alertname"))]

    def paths_of(self, alertname: str) -> set[str]:
        """The paths (receivers) a firing `alertname` was posted to."""
        return {at for at, body in self.payloads() for alert in body.get("alerts", [])
                if alert["labels"].get("alertname") == alertname and alert["status"] == "firing"}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class AlertmanagerServer:
    directory: Path
    port: int
    process: subprocess.Popen

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def cleanup(self) -> None:
        stop_pid(self.process.pid)
        shutil.rmtree(self.directory, ignore_errors=True)


def start_alertmanager(config_yaml: str) -> AlertmanagerServer:
    """Check `config_yaml` with amtool, start Alertmanager on it without clustering, wait until ready."""
    directory = Path(tempfile.mkdtemp(prefix="lg-alertmanager-"))
    config_path = directory / "alertmanager.yml"
    config_path.write_text(config_yaml)
    checked = subprocess.run(["amtool", "check-config", str(config_path)], capture_output=True, text=True)
    if checked.returncode:
        shutil.rmtree(directory, ignore_errors=True)
        raise RuntimeError(f"amtool refuses the config: {checked.stdout}{checked.stderr}")
    port = free_port()
    process = start(["prometheus-alertmanager", f"--config.file={config_path}", f"--storage.path={directory / 'data'}",
                     f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                    directory / "alertmanager.log")
    server = AlertmanagerServer(directory, port, process)
    wait_started(process, directory / "alertmanager.log", lambda: http_ok(port, "/-/ready"), what="Alertmanager ready",
                 timeout=20, cleanup=server.cleanup)
    return server
