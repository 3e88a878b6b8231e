"""A recorded Kubernetes API on 127.0.0.1: it answers from prepared objects and records every request.

No API server runs on these machines. This one serves the objects it is given (in the shape the
API server returns them) for GET, applies JSON merge patches to them with the API server's
optimistic concurrency (a patch carrying a stale `metadata.resourceVersion` gets 409 Conflict),
answers DELETE with the deleted object, and POST of an Event with the created Event. Everything
else gets the API's 404 Status. Requests without the expected bearer token get 401.

Stateful, unlike `kube_recorded.py` (responses scripted route by route): what a caller patched is
what it reads next, and a concurrent change can be staged on `objects`. Both share `kube_http.py`.
"""

from __future__ import annotations

import copy
import threading
from datetime import datetime, timezone
from typing import Any

from .kube_http import KubeHttpServer, Request, status

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


class RecordedKubeApi(KubeHttpServer):
    """Serves `objects` to callers with `token` until `stop()`; `requests` lists what it received, in order."""

    def __init__(self, objects: list[dict], token: str):
        super().__init__(token)
        self.objects = {object_path(obj): copy.deepcopy(obj) for obj in objects}
        self._lock = threading.Lock()

    def respond(self, request: Request) -> tuple[int, Any]:
        if request.authorization != f"Bearer {self.token}":
            return 401, status(401, "Unauthorized", "Unauthorized")
        return self._answer(request.method, request.path, request.body, request.content_type)

    def _answer(self, method: str, path: str, body: Any, content_type: str | None) -> tuple[int, dict]:
        with self._lock:
            stored = self.objects.get(path)
            if method == "GET" and stored is not None:
                return 200, stored
            if method == "PATCH" and stored is not None:
                if content_type != "application/merge-patch+json":
                    return 415, status(415, "UnsupportedMediaType", f"the tests expect merge patches, not {content_type}")
                offered = ((body or {}).get("metadata") or {}).get("resourceVersion")
                current = stored["metadata"]["resourceVersion"]
                if offered is not None and offered != current:
                    return 409, status(409, "Conflict", "the object has been modified; please apply your changes "
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
            return 404, status(404, "NotFound", f"{path} not found")
