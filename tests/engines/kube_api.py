"""A recorded Kubernetes API on 127.0.0.1: it answers from prepared objects and records every request.

No API server runs on these machines. This one serves the objects it is given (in the shape the
API server returns them) for GET, applies JSON merge patches to them with the API server's
optimistic concurrency (a patch carrying a stale `metadata.resourceVersion` gets 409 Conflict),
answers DELETE with the deleted object, and POST of an Event with the created Event. Everything
else gets the API's 404 Status. Requests without the expected bearer token get 401.
"""

from __future__ import annotations

import copy
import json
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# Kind -> resource name in the URL (the kinds the tests serve).
PLURALS = {"Pod": "pods", "ConfigMap": "configmaps", "HorizontalPodAutoscaler": "horizontalpodautoscalers",
           "ScaledObject": "scaledobjects", "Deployment": "deployments"}


def object_path(obj: dict) -> str:
    """The URL path of a namespaced object (`/api/v1/...` for the core group, `/apis/<group>/...` otherwise)."""
    api_version, meta = obj["apiVersion"], obj["metadata"]
    prefix = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    return f"{prefix}/namespaces/{meta['namespace']}/{PLURALS[obj['kind']]}/{meta['name']}"


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


@dataclass(frozen=True)
class Request:
    """One request as the API received it."""

    method: str
    path: str
    query: str
    content_type: str | None
    authorization: str | None
    body: Any

    @property
    def mutating(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH", "DELETE")


def _status(code: int, reason: str, message: str) -> dict:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}


class RecordedKubeApi:
    """Serves `objects` until `stop()`; `requests` lists what it received, in order."""

    def __init__(self, objects: list[dict], token: str):
        self.objects = {object_path(obj): copy.deepcopy(obj) for obj in objects}
        self.token = token
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        # A short poll interval: stop() waits for the next poll.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def start(self) -> RecordedKubeApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def write_kubeconfig(self, path: Path) -> Path:
        """A kubeconfig that points the official client here with the expected token."""
        path.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "recorded",
            "clusters": [{"name": "recorded", "cluster": {"server": f"http://127.0.0.1:{self.port}"}}],
            "users": [{"name": "recovery", "user": {"token": self.token}}],
            "contexts": [{"name": "recorded", "context": {"cluster": "recorded", "user": "recovery"}}],
        }))
        return path

    def _answer(self, method: str, path: str, body: Any, content_type: str | None) -> tuple[int, dict]:
        with self._lock:
            stored = self.objects.get(path)
            if method == "GET" and stored is not None:
                return 200, stored
            if method == "PATCH" and stored is not None:
                if content_type != "application/merge-patch+json":
                    return 415, _status(415, "UnsupportedMediaType", f"the tests expect merge patches, not {content_type}")
                offered = ((body or {}).get("metadata") or {}).get("resourceVersion")
                current = stored["metadata"]["resourceVersion"]
                if offered is not None and offered != current:
                    return 409, _status(409, "Conflict", "the object has been modified; please apply your changes "
                                                         "to the latest version and try again")
                updated = merge_patch(stored, body)
                updated["metadata"]["resourceVersion"] = str(int(current) + 1)
                self.objects[path] = updated
                return 200, updated
            if method == "DELETE" and stored is not None:
                del self.objects[path]
                deleted = copy.deepcopy(stored)
                deleted["metadata"]["deletionTimestamp"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
                deleted["metadata"]["deletionGracePeriodSeconds"] = 30
                return 200, deleted
            if method == "POST" and path.endswith("/events") and isinstance(body, dict):
                created = copy.deepcopy(body)
                meta = created.setdefault("metadata", {})
                meta["name"] = meta.get("name") or f"{meta.get('generateName', 'event-')}{len(self.requests):05d}"
                meta.update({"uid": f"00000000-0000-4000-8000-{len(self.requests):012d}", "resourceVersion": "1",
                             "creationTimestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")})
                return 201, created
            return 404, _status(404, "NotFound", f"{path} not found")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                content_type = (self.headers.get("Content-Type") or "").split(";")[0] or None
                authorization = self.headers.get("Authorization")
                with api._lock:
                    api.requests.append(Request(self.command, url.path, url.query, content_type, authorization, body))
                if authorization != f"Bearer {api.token}":
                    code, answer = 401, _status(401, "Unauthorized", "Unauthorized")
                else:
                    code, answer = api._answer(self.command, url.path, body, content_type)
                data = json.dumps(answer).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve  # noqa: N815 (http.server's naming)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler
