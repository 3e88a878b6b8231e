"""The Kubernetes calls the remediations make, through the official client.

Bodies go out and come back as plain JSON (`_preload_content=False`): the remediations read a few
fields, and the client's generated models would refuse objects that carry fields newer than the
client. Patches are JSON merge patches carrying the resourceVersion that was read, so a concurrent
change makes the API answer 409 instead of being overwritten.
"""

from __future__ import annotations

import json
import os
from typing import Any

from kubernetes import client, config

MERGE_PATCH = "application/merge-patch+json"
TIMEOUT_SECONDS = 10
KEDA = ("keda.sh", "v1alpha1", "scaledobjects")


class KubeError(RuntimeError):
    """The API refused or failed a call; `status` is the HTTP status (0 when it was not reached)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def api_client() -> client.ApiClient:
    """From `$KUBECONFIG` when set (tests, running outside a cluster), else the pod's service account."""
    if os.environ.get("KUBECONFIG"):
        config.load_kube_config(config_file=os.environ["KUBECONFIG"])
    else:
        config.load_incluster_config()
    return client.ApiClient()


def _call(method: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    try:
        response = method(*args, _preload_content=False, _request_timeout=TIMEOUT_SECONDS, **kwargs)
    except client.ApiException as error:
        raise KubeError(error.status or 0, f"{error.status} {error.reason}: {_message(error.body)}") from None
    except OSError as error:  # urllib3 wraps connection failures in OSError subclasses
        raise KubeError(0, f"API server unreachable: {error}") from None
    return json.loads(response.data or b"{}")


def _message(body: Any) -> str:
    try:
        return json.loads(body)["message"]
    except (TypeError, ValueError, KeyError):
        return str(body)[:200]


class Kube:
    """The verbs the Role grants, and nothing else."""

    def __init__(self, api: client.ApiClient):
        self._core = client.CoreV1Api(api)
        self._autoscaling = client.AutoscalingV2Api(api)
        self._custom = client.CustomObjectsApi(api)
        self._events = client.EventsV1Api(api)

    def delete_pod(self, namespace: str, name: str) -> dict:
        return _call(self._core.delete_namespaced_pod, name, namespace)

    def get_hpa(self, namespace: str, name: str) -> dict:
        return _call(self._autoscaling.read_namespaced_horizontal_pod_autoscaler, name, namespace)

    def patch_hpa(self, namespace: str, name: str, patch: dict) -> dict:
        return _call(self._autoscaling.patch_namespaced_horizontal_pod_autoscaler, name, namespace, patch,
                     _content_type=MERGE_PATCH)

    def get_scaled_object(self, namespace: str, name: str) -> dict:
        group, version, plural = KEDA
        return _call(self._custom.get_namespaced_custom_object, group, version, namespace, plural, name)

    def patch_scaled_object(self, namespace: str, name: str, patch: dict) -> dict:
        group, version, plural = KEDA
        return _call(self._custom.patch_namespaced_custom_object, group, version, namespace, plural, name, patch,
                     _content_type=MERGE_PATCH)

    def get_config_map(self, namespace: str, name: str) -> dict:
        return _call(self._core.read_namespaced_config_map, name, namespace)

    def patch_config_map(self, namespace: str, name: str, patch: dict) -> dict:
        return _call(self._core.patch_namespaced_config_map, name, namespace, patch, _content_type=MERGE_PATCH)

    def create_event(self, namespace: str, body: dict) -> dict:
        return _call(self._events.create_namespaced_event, namespace, body)
