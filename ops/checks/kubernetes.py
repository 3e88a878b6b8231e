"""Pods running and ready, and autoscalers (HPAs, KEDA's included) not pinned at their maximum."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..kube import TIMEOUT_SECONDS
from ..report import Check, Status
from ..runbooks import RUNBOOKS

if TYPE_CHECKING:
    from ..doctor import Doctor


def _ready(pod) -> bool:
    conditions = pod.status.conditions or []
    return pod.status.phase == "Running" and any(c.type == "Ready" and c.status == "True" for c in conditions)


def pods(doctor: Doctor) -> list[Check]:
    namespace = doctor.outputs.require("namespace")
    kube = doctor.kube
    items = [pod for pod in kube.core.list_namespaced_pod(namespace, _request_timeout=TIMEOUT_SECONDS).items
             if pod.status.phase != "Succeeded"]  # finished Job pods are not serving
    deployments = kube.apps.list_namespaced_deployment(namespace, _request_timeout=TIMEOUT_SECONDS).items
    ready = [pod.metadata.name for pod in items if _ready(pod)]
    not_ready = sorted(pod.metadata.name for pod in items if not _ready(pod))
    crash_looping = sorted(
        f"{pod.metadata.name}/{status.name} ({status.restart_count} restarts)"
        for pod in items for status in pod.status.container_statuses or []
        if status.state and status.state.waiting and status.state.waiting.reason == "CrashLoopBackOff")
    empty = sorted(d.metadata.name for d in deployments if (d.spec.replicas or 0) > 0 and not d.status.ready_replicas)
    value = f"{len(ready)}/{len(items)} pods ready"
    data = {"ready": len(ready), "pods": len(items), "not_ready": not_ready, "crash_looping": crash_looping,
            "deployments_without_ready_pods": empty}
    if not items or empty:
        detail = f"no ready pod in Deployment(s) {', '.join(empty)}" if empty else f"no pods in namespace {namespace}"
        return [Check("pods", Status.FAIL, value, detail, RUNBOOKS["pods"], data)]
    if not_ready or crash_looping:
        detail = "; ".join(filter(None, [
            f"not ready: {', '.join(not_ready)}" if not_ready else "",
            f"CrashLoopBackOff: {', '.join(crash_looping)}" if crash_looping else ""]))
        return [Check("pods", Status.WARN, value, detail, RUNBOOKS["pods"], data)]
    return [Check("pods", Status.OK, value, f"{len(deployments)} Deployment(s) in {namespace}", None, data)]


def autoscalers(doctor: Doctor) -> list[Check]:
    namespace = doctor.outputs.require("namespace")
    hpas = doctor.kube.autoscaling.list_namespaced_horizontal_pod_autoscaler(
        namespace, _request_timeout=TIMEOUT_SECONDS).items
    if not hpas:
        return [Check("autoscalers", Status.WARN, "0 HPAs", f"no HorizontalPodAutoscaler in {namespace}",
                      RUNBOOKS["autoscalers"])]
    rows, pinned = [], []
    for hpa in sorted(hpas, key=lambda h: h.metadata.name):
        current = hpa.status.current_replicas or 0
        low, high = hpa.spec.min_replicas or 1, hpa.spec.max_replicas
        rows.append({"name": hpa.metadata.name, "current": current, "min": low, "max": high})
        # The alert's condition: at the maximum, and the maximum leaves room to scale (min < max).
        if current >= high > low:
            pinned.append(hpa.metadata.name)
    value = ", ".join(f"{row['name']} {row['current']}/{row['max']}" for row in rows)
    if pinned:
        return [Check("autoscalers", Status.WARN, value, f"pinned at max: {', '.join(pinned)}",
                      RUNBOOKS["autoscalers"], {"autoscalers": rows, "pinned": pinned})]
    return [Check("autoscalers", Status.OK, value, "none at its maximum", None, {"autoscalers": rows})]
