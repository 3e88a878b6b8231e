"""The bounded remediations, keyed by alert name.

Each alert goes through the same steps:
1. map its name to an action; unknown alerts and resolved notifications are ignored;
2. find the target in its labels and check it against what the settings allow;
3. refuse if the rate limit of (action, target) is spent;
4. read what the action needs and decide (a precondition may no longer hold: skipped);
5. count the action against the rate limit, then run it, or only describe it in dry-run mode;
6. write the audit line, and an Event for anything executed, dry-run or failed.
Resolved notifications never undo anything: a disabled graph resolves its own alert by running no
more executions, and re-enabling it is a human decision.
"""

from __future__ import annotations

import re
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from . import logs
from .events import ObjectRef, event_body
from .kube import Kube, KubeError
from .payload import Alert
from .ratelimit import RateLimiter
from .sentinel import Sentinels, SentinelError
from .settings import DISABLE_GRAPH, RAISE_AUTOSCALER_MAX, RESTART_POD, SENTINEL_FAILOVER, Settings

# Graph names as the app's flag file can hold them: its separators are whitespace, commas and `#`.
_GRAPH_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
_EVENT_ACTIONS = {RESTART_POD: "RestartPod", RAISE_AUTOSCALER_MAX: "RaiseAutoscalerMax",
                  SENTINEL_FAILOVER: "SentinelFailover", DISABLE_GRAPH: "DisableGraph"}


class Skip(Exception):
    """The action does not apply (anymore): nothing is done and nothing is counted."""

    def __init__(self, outcome: str, detail: str):
        super().__init__(detail)
        self.outcome = outcome
        self.detail = detail


@dataclass(frozen=True)
class Target:
    """What an alert asks to act on: `name` is the object acted on, `key` what the rate limit counts."""

    name: str
    key: str


@dataclass(frozen=True)
class Plan:
    """What an action will change, decided from what was read."""

    regarding: ObjectRef
    description: str
    run: Callable[[], object]


@dataclass(frozen=True)
class Decision:
    """The outcome of one alert, as audited."""

    alert: str
    action: str
    target: str
    outcome: str
    """done, dry_run, failed, skipped, rate_limited or ignored."""
    detail: str


def parse_flag_list(text: str) -> list[str]:
    """Graph names in the flag file's format (as the reference app reads it), in order, once each."""
    names: list[str] = []
    for line in text.splitlines():
        for name in line.split("#", 1)[0].replace(",", " ").split():
            if name not in names:
                names.append(name)
    return names


class Remediator:
    """Turns alerts into at most one bounded action each."""

    def __init__(self, settings: Settings, kube: Kube, sentinels: Sentinels | None,
                 limiter: RateLimiter | None = None, instance: str | None = None,
                 now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        self.settings = settings
        self._kube = kube
        self._sentinels = sentinels
        self._limiter = limiter or RateLimiter(settings.rate_limit.max_actions, settings.rate_limit.window_seconds)
        self._instance = instance or socket.gethostname()
        self._now = now
        # One remediation at a time: the rate limit is checked and counted atomically, and two
        # notifications of the same alert (Alertmanager retries) cannot both pass it.
        self._lock = threading.Lock()

    def handle(self, alert: Alert) -> Decision:
        with self._lock:
            decision = self._decide(alert)
        logs.audit(decision.alert, decision.action, decision.target, self.settings.dry_run, decision.outcome,
                   decision.detail)
        return decision

    def _decide(self, alert: Alert) -> Decision:
        action = self.settings.action_for(alert.name)
        if action is None:
            return Decision(alert.name, "none", "", "ignored", "no remediation for this alert")
        if alert.status != "firing":
            return Decision(alert.name, action, "", "ignored", "resolved notifications undo nothing")
        planners = {RESTART_POD: self._restart_pod, RAISE_AUTOSCALER_MAX: self._raise_autoscaler,
                    SENTINEL_FAILOVER: self._failover, DISABLE_GRAPH: self._disable_graph}
        try:
            target, plan_action = planners[action](alert)
        except Skip as skip:
            return Decision(alert.name, action, "", skip.outcome, skip.detail)
        if not self._limiter.allows((action, target.key)):
            window = self.settings.rate_limit
            return Decision(alert.name, action, target.name, "rate_limited",
                            f"already {window.max_actions} action(s) on {target.key} within {window.window_seconds}s")
        try:
            plan = plan_action()
        except Skip as skip:
            return Decision(alert.name, action, target.name, skip.outcome, skip.detail)
        except (KubeError, SentinelError) as error:
            return Decision(alert.name, action, target.name, "failed", f"reading state failed: {error}")
        self._limiter.record((action, target.key))
        if self.settings.dry_run:
            outcome, detail = "dry_run", f"would {plan.description}"
        else:
            try:
                plan.run()
                outcome, detail = "done", plan.description
            except (KubeError, SentinelError) as error:
                outcome, detail = "failed", f"{plan.description} failed: {error}"
        self._record_event(alert, action, plan, outcome, detail)
        return Decision(alert.name, action, target.name, outcome, detail)

    def _record_event(self, alert: Alert, action: str, plan: Plan, outcome: str, detail: str) -> None:
        note = f"{alert.name}: {detail}" + (" (dry run)" if outcome == "dry_run" else "")
        body = event_body(plan.regarding, _EVENT_ACTIONS[action], outcome, note, self._instance, self._now())
        try:
            self._kube.create_event(plan.regarding.namespace, body)
        except KubeError as error:
            logs.log("event_not_recorded", level="warning", alert=alert.name, action=action, error=str(error))

    # --- the actions: each returns its target and a planner that reads and decides ------------------

    def _in_namespace(self, alert: Alert, namespace: str) -> None:
        if alert.label("namespace") != namespace:
            raise Skip("ignored", f"namespace {alert.label('namespace')!r} is not {namespace!r}")

    def _restart_pod(self, alert: Alert) -> tuple[Target, Callable[[], Plan]]:
        section = self.settings.pod_restart
        namespace = self.settings.namespace
        self._in_namespace(alert, namespace)
        pod = alert.label("pod") or ""
        # A Deployment's pod is `<deployment>-<pod-template-hash>-<5 characters>`.
        owner = next((d for d in section.deployments
                      if re.fullmatch(re.escape(d) + r"-[a-z0-9]{1,10}-[a-z0-9]{5}", pod)), None)
        if owner is None:
            raise Skip("ignored", f"pod {pod!r} belongs to none of the Deployments {list(section.deployments)}")

        def plan() -> Plan:
            return Plan(ObjectRef("v1", "Pod", pod, namespace), f"delete pod {namespace}/{pod} of {owner}",
                        lambda: self._kube.delete_pod(namespace, pod))

        # Counted per Deployment: the replacement pod has a new name, and crash-loops just the same.
        return Target(pod, f"pods of {owner}"), plan

    def _raise_autoscaler(self, alert: Alert) -> tuple[Target, Callable[[], Plan]]:
        section = self.settings.scale_up
        namespace = self.settings.namespace
        self._in_namespace(alert, namespace)
        hpa_name = alert.label("horizontalpodautoscaler") or ""
        autoscaler = next((a for a in section.autoscalers if a.hpa == hpa_name), None)
        if autoscaler is None:
            raise Skip("ignored", f"autoscaler {hpa_name!r} is not one this service may raise")

        def plan() -> Plan:
            hpa = self._kube.get_hpa(namespace, hpa_name)
            current = (hpa.get("status") or {}).get("currentReplicas", 0)
            if current < hpa["spec"]["maxReplicas"]:
                raise Skip("skipped", f"{hpa_name} runs {current} of at most {hpa['spec']['maxReplicas']}: "
                                      "no longer at its maximum")
            if autoscaler.scaled_object:
                obj = self._kube.get_scaled_object(namespace, autoscaler.scaled_object)
                kind, name, field = "ScaledObject", autoscaler.scaled_object, "maxReplicaCount"
                ref = ObjectRef("keda.sh/v1alpha1", kind, name, namespace)
                patch_object = self._kube.patch_scaled_object
            else:
                obj, kind, name, field = hpa, "HorizontalPodAutoscaler", hpa_name, "maxReplicas"
                ref = ObjectRef("autoscaling/v2", kind, name, namespace)
                patch_object = self._kube.patch_hpa
            maximum = obj["spec"][field]
            if maximum >= autoscaler.cap:
                raise Skip("skipped", f"{kind} {name} is at its cap: {field} {maximum} >= {autoscaler.cap}")
            raised = min(maximum + section.step, autoscaler.cap)
            patch = {"metadata": {"resourceVersion": obj["metadata"]["resourceVersion"]}, "spec": {field: raised}}
            return Plan(ref, f"raise {kind} {namespace}/{name} {field} from {maximum} to {raised} "
                                   f"(cap {autoscaler.cap})",
                        lambda: patch_object(namespace, name, patch))

        return Target(autoscaler.scaled_object or hpa_name, hpa_name), plan

    def _failover(self, alert: Alert) -> tuple[Target, Callable[[], Plan]]:
        section = self.settings.sentinel_failover
        self._in_namespace(alert, section.alert_namespace)
        sentinels = self._sentinels
        if sentinels is None:
            raise Skip("failed", "no Sentinel client configured")

        def plan() -> Plan:
            view = sentinels.master()
            if not view.down:
                raise Skip("skipped", f"{view.sentinel} reports master {view.address} up "
                                      f"(flags {','.join(sorted(view.flags))}): no failover")
            ref = ObjectRef("apps/v1", "Deployment", self.settings.deployment, self.settings.namespace)
            return Plan(ref,
                        f"fail over master {section.master_name} at {view.address} "
                        f"(flags {','.join(sorted(view.flags))}) through Sentinel {view.sentinel}",
                        lambda: sentinels.failover(view.sentinel))

        return Target(section.master_name, section.master_name), plan

    def _disable_graph(self, alert: Alert) -> tuple[Target, Callable[[], Plan]]:
        section = self.settings.disable_graph
        namespace = self.settings.namespace
        graph = alert.label("graph_name") or ""
        if not _GRAPH_NAME.match(graph):
            raise Skip("ignored", f"graph name {graph!r} cannot be listed in the flag file")

        def plan() -> Plan:
            config_map = self._kube.get_config_map(namespace, section.config_map)
            text = (config_map.get("data") or {}).get(section.key, "")
            listed = parse_flag_list(text)
            if graph in listed:
                raise Skip("skipped", f"graph {graph} is already disabled")
            if len(listed) >= section.max_disabled:
                raise Skip("skipped", f"{len(listed)} graph(s) already disabled ({', '.join(listed)}), the most "
                                      f"allowed: several failing graphs point at a shared dependency")
            stamp = self._now().strftime("%Y-%m-%dT%H:%M:%SZ")
            updated = (text if not text or text.endswith("\n") else text + "\n") + \
                f"{graph}  # auto-recovery {stamp}: {alert.name}\n"
            patch = {"metadata": {"resourceVersion": config_map["metadata"]["resourceVersion"]},
                     "data": {section.key: updated}}
            return Plan(ObjectRef("v1", "ConfigMap", section.config_map, namespace),
                        f"disable graph {graph} in ConfigMap {namespace}/{section.config_map} key {section.key}",
                        lambda: self._kube.patch_config_map(namespace, section.config_map, patch))

        return Target(graph, graph), plan
