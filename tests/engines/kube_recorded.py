"""A stand-in Kubernetes API server on 127.0.0.1 that serves recorded responses route by route.

There is no Kubernetes API server on these machines, so the ops CLI's Kubernetes calls (through the
official client, configured by an ordinary kubeconfig) go to this server instead. Routes map
"METHOD /path" (query string ignored) to one response or a list served in order, the last one
repeated; a hook may run on a route (e.g. do to real engines what the operator would do) and every
request is recorded for the test to assert on. Unknown routes answer 404 with a Status object, as
the real API does. The recorded responses live in tests/data/kube/<name>.json.

Scripted, unlike `kube_api.py` (objects it patches and serves back): a route's answers follow the
operator's progress whatever the caller sends. Both share `kube_http.py`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from .kube_http import KubeHttpServer, Request, status

DATA = Path(__file__).resolve().parents[1] / "data" / "kube"


def load_routes(*names: str) -> dict[str, Any]:
    """Routes from tests/data/kube/<name>.json, later files overriding earlier ones."""
    routes: dict[str, Any] = {}
    for name in names:
        routes.update(json.loads((DATA / f"{name}.json").read_text()))
    return routes


class RecordedApi(KubeHttpServer):
    """Serves `routes` (with a fake token in its kubeconfig: it checks none); `hooks` by route key."""

    def __init__(self, routes: dict[str, Any]) -> None:
        super().__init__("fake-token")
        self.routes = routes
        self.hooks: dict[str, Callable[[Request], None]] = {}
        self._served: dict[str, int] = {}

    def respond(self, request: Request) -> tuple[int, Any]:
        key = f"{request.method} {request.path}"
        if key in self.hooks:
            self.hooks[key](request)
        if key not in self.routes:
            return 404, status(404, "NotFound", f"{request.path} not found")
        responses = self.routes[key] if isinstance(self.routes[key], list) else [self.routes[key]]
        index = min(self._served.get(key, 0), len(responses) - 1)
        self._served[key] = self._served.get(key, 0) + 1
        return responses[index].get("status", 200), responses[index]["body"]

    def made(self, method: str, path: str) -> list[Request]:
        """The requests received for `method` `path`, in order."""
        return [r for r in self.requests if r.method == method and r.path == path]
