"""The auto-recovery service's configuration: one JSON document (a mounted ConfigMap), validated at start.

Standard library only: the Pulumi program imports this module to render the very file the
service reads, so the two cannot disagree on a field name.

Every remediation is opt-in and names exactly what it may touch: the Deployments whose pods it
may delete, the autoscalers it may raise and their caps, the Sentinel master, the ConfigMap of
disabled graphs. Anything else an alert names is ignored.
"""

from __future__ import annotations

import dataclasses
import json
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Any

RESTART_POD = "restart_pod"
RAISE_AUTOSCALER_MAX = "raise_autoscaler_max"
SENTINEL_FAILOVER = "sentinel_failover"
DISABLE_GRAPH = "disable_graph"

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_ALERT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HOST_PORT = re.compile(r"^[A-Za-z0-9.-]+:[0-9]{1,5}$")
_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]{1,253}$")


class SettingsError(ValueError):
    """The configuration is invalid; the message names the field and what is allowed."""


def _check(problems: list[str], ok: bool, message: str) -> None:
    if not ok:
        problems.append(message)


def _alerts_ok(problems: list[str], where: str, alerts: tuple[str, ...]) -> None:
    _check(problems, bool(alerts) and all(_ALERT_NAME.match(a) for a in alerts),
           f"{where}.alerts {list(alerts)!r} must be one or more alert names")


@dataclass(frozen=True)
class RateLimit:
    """At most `max_actions` executions (or dry runs) of one action on one target per sliding window."""

    max_actions: int = 1
    window_seconds: int = 3600

    def problems(self) -> list[str]:
        problems: list[str] = []
        _check(problems, 1 <= self.max_actions <= 100, f"rate_limit.max_actions {self.max_actions} must be in [1, 100]")
        _check(problems, 60 <= self.window_seconds <= 7 * 86400,
               f"rate_limit.window_seconds {self.window_seconds} must be in [60, 604800]")
        return problems


@dataclass(frozen=True)
class PodRestart:
    """Delete a crash-looping pod (its Deployment recreates it with a fresh back-off)."""

    deployments: tuple[str, ...]
    """Deployments whose pods may be deleted; a pod is recognised by its name `<deployment>-<hash>-<suffix>`."""
    alerts: tuple[str, ...] = ("LangGraphPodCrashLooping",)

    def problems(self) -> list[str]:
        problems: list[str] = []
        _alerts_ok(problems, "pod_restart", self.alerts)
        _check(problems, bool(self.deployments) and all(_DNS_SUBDOMAIN.match(d) for d in self.deployments),
               f"pod_restart.deployments {list(self.deployments)!r} must be one or more Deployment names")
        return problems


@dataclass(frozen=True)
class Autoscaler:
    """One autoscaler the service may raise, as the alert names it (the HPA's name)."""

    hpa: str
    """The HorizontalPodAutoscaler in the alert's `horizontalpodautoscaler` label (KEDA's is `keda-hpa-<name>`)."""
    cap: int
    """The maximum never goes above this."""
    scaled_object: str | None = None
    """For a KEDA-driven HPA: the ScaledObject to patch (KEDA would revert a patch of its HPA)."""

    def problems(self, where: str) -> list[str]:
        problems: list[str] = []
        _check(problems, bool(_DNS_SUBDOMAIN.match(self.hpa)), f"{where}.hpa {self.hpa!r} must be an object name")
        _check(problems, self.scaled_object is None or bool(_DNS_SUBDOMAIN.match(self.scaled_object)),
               f"{where}.scaled_object {self.scaled_object!r} must be an object name")
        _check(problems, 1 <= self.cap <= 1000, f"{where}.cap {self.cap} must be in [1, 1000]")
        return problems


@dataclass(frozen=True)
class ScaleUp:
    """Raise a pinned autoscaler's maximum by `step`, never above its cap."""

    autoscalers: tuple[Autoscaler, ...]
    step: int = 2
    alerts: tuple[str, ...] = ("LangGraphAutoscalerAtMax",)

    def problems(self) -> list[str]:
        problems: list[str] = []
        _alerts_ok(problems, "scale_up", self.alerts)
        _check(problems, 1 <= self.step <= 100, f"scale_up.step {self.step} must be in [1, 100]")
        _check(problems, bool(self.autoscalers), "scale_up.autoscalers must name at least one autoscaler")
        for index, autoscaler in enumerate(self.autoscalers):
            problems += autoscaler.problems(f"scale_up.autoscalers[{index}]")
        names = [a.hpa for a in self.autoscalers]
        _check(problems, len(names) == len(set(names)), f"scale_up.autoscalers name an HPA twice: {names}")
        return problems


@dataclass(frozen=True)
class SentinelFailover:
    """`SENTINEL FAILOVER <master>` when the Sentinels report the master down."""

    master_name: str
    sentinels: tuple[str, ...]
    """`host:port` of every Sentinel; they are asked in this order until one answers."""
    alert_namespace: str
    """The namespace label the alert carries (where the Redis group runs)."""
    password_file: str | None = None
    """File holding the Sentinels' password (`requirepass`); None when they have none."""
    alerts: tuple[str, ...] = ("RedisNoMaster",)

    def problems(self) -> list[str]:
        problems: list[str] = []
        _alerts_ok(problems, "sentinel_failover", self.alerts)
        _check(problems, bool(re.fullmatch(r"[A-Za-z0-9_-]+", self.master_name)),
               f"sentinel_failover.master_name {self.master_name!r} may hold letters, digits, '_' and '-' only")
        _check(problems, bool(self.sentinels) and all(_HOST_PORT.match(s) for s in self.sentinels),
               f"sentinel_failover.sentinels {list(self.sentinels)!r} must be one or more host:port")
        _check(problems, bool(_DNS_LABEL.match(self.alert_namespace)),
               f"sentinel_failover.alert_namespace {self.alert_namespace!r} must be a namespace name")
        _check(problems, self.password_file is None or self.password_file.startswith("/"),
               f"sentinel_failover.password_file {self.password_file!r} must be an absolute path")
        return problems


@dataclass(frozen=True)
class DisableGraph:
    """List a failing graph in the ConfigMap key the app reads its disabled graphs from."""

    config_map: str
    key: str = "disabled-graphs"
    max_disabled: int = 1
    """Refuse once this many graphs are listed: several graphs failing at once points at a shared
    dependency (database, model provider), where disabling graphs one by one would take the whole
    app down without fixing anything."""
    alerts: tuple[str, ...] = ("LangGraphHighErrorRate",)

    def problems(self) -> list[str]:
        problems: list[str] = []
        _alerts_ok(problems, "disable_graph", self.alerts)
        _check(problems, bool(_DNS_SUBDOMAIN.match(self.config_map)),
               f"disable_graph.config_map {self.config_map!r} must be a ConfigMap name")
        _check(problems, bool(_CONFIG_KEY.match(self.key)), f"disable_graph.key {self.key!r} is not a ConfigMap key")
        _check(problems, 1 <= self.max_disabled <= 100,
               f"disable_graph.max_disabled {self.max_disabled} must be in [1, 100]")
        return problems


@dataclass(frozen=True)
class Settings:
    """The whole configuration."""

    namespace: str
    """The app namespace: pods, autoscalers, the ConfigMap and the Events live here."""
    webhook_token_file: str
    """File holding the shared token Alertmanager sends as `Authorization: Bearer <token>`; read per request,
    so a rotated Secret takes effect without a restart."""
    deployment: str
    """The service's own Deployment: the object a Sentinel failover's Event is about (an Event must live in
    the namespace of the object it regards, and the Redis group has its own namespace)."""
    dry_run: bool = True
    """Log and record an Event for what would be done, change nothing."""
    rate_limit: RateLimit = field(default_factory=RateLimit)
    pod_restart: PodRestart | None = None
    scale_up: ScaleUp | None = None
    sentinel_failover: SentinelFailover | None = None
    disable_graph: DisableGraph | None = None

    def __post_init__(self) -> None:
        problems: list[str] = []
        _check(problems, bool(_DNS_LABEL.match(self.namespace)), f"namespace {self.namespace!r} must be a namespace name")
        _check(problems, self.webhook_token_file.startswith("/"),
               f"webhook_token_file {self.webhook_token_file!r} must be an absolute path")
        _check(problems, bool(_DNS_SUBDOMAIN.match(self.deployment)),
               f"deployment {self.deployment!r} must be a Deployment name")
        problems += self.rate_limit.problems()
        seen: dict[str, str] = {}
        for action, section in self.remediations().items():
            problems += section.problems()
            for alert in section.alerts:
                if alert in seen:
                    problems.append(f"alert {alert} is mapped to both {seen[alert]} and {action}")
                seen[alert] = action
        if problems:
            raise SettingsError("invalid auto-recovery settings: " + "; ".join(problems))

    def remediations(self) -> dict[str, PodRestart | ScaleUp | SentinelFailover | DisableGraph]:
        """Action name -> its section, for the actions that are configured."""
        sections = {RESTART_POD: self.pod_restart, RAISE_AUTOSCALER_MAX: self.scale_up,
                    SENTINEL_FAILOVER: self.sentinel_failover, DISABLE_GRAPH: self.disable_graph}
        return {action: section for action, section in sections.items() if section is not None}

    def action_for(self, alert_name: str) -> str | None:
        """The action an alert triggers, or None for an alert this service does not handle."""
        for action, section in self.remediations().items():
            if alert_name in section.alerts:
                return action
        return None

    @property
    def alert_names(self) -> tuple[str, ...]:
        """Every alert that triggers an action (what the Alertmanager route must send here)."""
        return tuple(alert for section in self.remediations().values() for alert in section.alerts)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)


def _check_type(value: Any, hint: Any, where: str) -> None:
    """Refuse a value of the wrong JSON type (a bool is not an int, a string is not a number)."""
    options = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
    for option in options:
        if option is type(None) and value is None:
            return
        if typing.get_origin(option) is tuple and isinstance(value, tuple):
            item = typing.get_args(option)[0]
            if all(isinstance(v, item) for v in value):
                return
        elif option in (int, str, bool) and type(value) is option:
            return
        elif dataclasses.is_dataclass(option) and isinstance(value, option):
            return
    raise SettingsError(f"{where} {value!r} has the wrong type (expected {hint})")


def _build(cls: type, data: Any, where: str) -> Any:
    """`cls(**data)` refusing unknown keys and turning lists into tuples (nested dataclasses included)."""
    if not isinstance(data, dict):
        raise SettingsError(f"{where or 'settings'} must be an object, not {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise SettingsError(f"{where or 'settings'}: unknown keys {unknown} (allowed: {sorted(fields)})")
    nested = {"rate_limit": RateLimit, "pod_restart": PodRestart, "scale_up": ScaleUp,
              "sentinel_failover": SentinelFailover, "disable_graph": DisableGraph}
    values: dict[str, Any] = {}
    for name, value in data.items():
        path = f"{where}.{name}" if where else name
        if name in nested and value is not None:
            values[name] = _build(nested[name], value, path)
        elif name == "autoscalers" and isinstance(value, list):
            values[name] = tuple(_build(Autoscaler, item, f"{path}[{i}]") for i, item in enumerate(value))
        elif isinstance(value, list):
            values[name] = tuple(value)
        else:
            values[name] = value
        _check_type(values[name], typing.get_type_hints(cls)[name], path)
    try:
        return cls(**values)
    except TypeError as error:  # a required key is missing
        raise SettingsError(f"{where or 'settings'}: {error}") from None


def parse_settings(text: str) -> Settings:
    """Settings from their JSON text; SettingsError naming the problem otherwise."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise SettingsError(f"settings are not JSON: {error}") from None
    return _build(Settings, data, "")
