"""A stand-in Kubernetes API server on 127.0.0.1 that serves recorded responses route by route.

There is no Kubernetes API server on these machines, so the ops CLI's Kubernetes calls (through the
official client, configured by an ordinary kubeconfig) go to this server instead. Routes map
"METHOD /path" (query string ignored) to one response or a list served in order, the last one
repeated; a hook may run on a route (e.g. do to real engines what the operator would do) and every
request is recorded for the test to assert on. Unknown routes answer 404 with a Status object, as
the real API does. The recorded responses live in tests/data/kube/<name>.json.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

DATA = Path(__file__).resolve().parents[1] / "data" / "kube"


@dataclass
class Request:
    method: str
    path: str
    body: Any
    content_type: str


def load_routes(*names: str) -> dict[str, Any]:
    """Routes from tests/data/kube/<name>.json, later files overriding earlier ones."""
    routes: dict[str, Any] = {}
    for name in names:
        routes.update(json.loads((DATA / f"{name}.json").read_text()))
    return routes


@dataclass
class RecordedApi:
    routes: dict[str, Any]
    hooks: dict[str, Callable[[Request], None]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    _served: dict[str, int] = field(default_factory=dict)

    def start(self) -> RecordedApi:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                request = Request(self.command, urlsplit(self.path).path, json.loads(raw) if raw else None,
                                  self.headers.get("Content-Type", ""))
                status, body = api.respond(request)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

            def log_message(self, *args) -> None:  # quiet: the requests are recorded instead
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def respond(self, request: Request) -> tuple[int, Any]:
        key = f"{request.method} {request.path}"
        self.requests.append(request)
        if key in self.hooks:
            self.hooks[key](request)
        if key not in self.routes:
            return 404, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                         "message": f"{request.path} not found", "reason": "NotFound", "code": 404}
        responses = self.routes[key] if isinstance(self.routes[key], list) else [self.routes[key]]
        index = min(self._served.get(key, 0), len(responses) - 1)
        self._served[key] = self._served.get(key, 0) + 1
        return responses[index].get("status", 200), responses[index]["body"]

    def made(self, method: str, path: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and r.path == path]

    def kubeconfig(self, path: Path) -> Path:
        """A kubeconfig whose only context points at this server (with a fake token)."""
        path.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "recorded",
            "clusters": [{"name": "recorded", "cluster": {"server": self.url}}],
            "users": [{"name": "ops", "user": {"token": "fake-token"}}],
            "contexts": [{"name": "recorded", "context": {"cluster": "recorded", "user": "ops"}}],
        }))
        return path

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
