"""The HTTP side shared by the two stand-in Kubernetes APIs (no API server runs on these machines).

A server on a free loopback port, in a thread, that records every request and answers JSON; the
API's Status bodies; a kubeconfig that points the official client at it. What it answers is the
subclass's `respond`: `kube_api.RecordedKubeApi` keeps objects and applies patches to them (the
recovery service reads what it wrote), `kube_recorded.RecordedApi` plays recorded responses route by
route (the ops commands follow a scripted operator).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Request:
    """One request as the API received it (content type without its parameters)."""

    method: str
    path: str
    query: str
    content_type: str | None
    authorization: str | None
    body: Any

    @property
    def mutating(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH", "DELETE")


def status(code: int, reason: str, message: str) -> dict:
    """The API's Status object for a failed request."""
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}


class KubeHttpServer:
    """Serves `respond` until `stop()`; `requests` lists what it received, in order."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.requests: list[Request] = []
        self._recording = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        # A short poll interval: stop() waits for the next poll.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def respond(self, request: Request) -> tuple[int, Any]:
        """The status code and JSON body that answer `request`."""
        raise NotImplementedError

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def kubeconfig(self, path: Path) -> Path:
        """Write a kubeconfig whose only context points the official client here with `token`."""
        path.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "recorded",
            "clusters": [{"name": "recorded", "cluster": {"server": self.url}}],
            "users": [{"name": "test", "user": {"token": self.token}}],
            "contexts": [{"name": "recorded", "context": {"cluster": "recorded", "user": "test"}}],
        }))
        return path

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                request = Request(self.command, url.path, url.query,
                                  (self.headers.get("Content-Type") or "").split(";")[0] or None,
                                  self.headers.get("Authorization"), json.loads(raw) if raw else None)
                with api._recording:
                    api.requests.append(request)
                code, answer = api.respond(request)
                data = json.dumps(answer).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve  # noqa: N815 (http.server's naming)

            def log_message(self, *args: Any) -> None:  # quiet: the requests are recorded instead
                pass

        return Handler
