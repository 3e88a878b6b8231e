"""Prod safety floors: settings prod refuses below a minimum unless the stack file lowers the floor
explicitly, by name, with a reason (`lowered_floors: {postgres.multi_az: "why"}`) that the plan prints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Floor:
    key: str
    """The config key it guards; also its name in `lowered_floors`."""
    requirement: str
    """What prod requires, in words."""
    holds: Callable[[Any], bool]
    """True when the stack config meets the floor."""
    applies: Callable[[Any], bool] = lambda config: True
    """False where the setting has no effect (e.g. RDS settings on CloudNativePG)."""

    def value(self, config: Any) -> Any:
        node = config
        for part in self.key.split("."):
            node = getattr(node, part)
        return node


def _rds(config) -> bool:
    return config.postgres.engine == "rds"


FLOORS: tuple[Floor, ...] = (
    Floor("postgres.backup_retention_days", "at least 7", lambda c: c.postgres.backup_retention_days >= 7),
    Floor("postgres.deletion_protection", "true", lambda c: c.postgres.deletion_protection),
    Floor("postgres.multi_az", "true (a standby in another zone)", lambda c: c.postgres.multi_az, _rds),
    Floor("postgres.instances", "at least 3 (a primary and two standbys)", lambda c: c.postgres.instances >= 3,
          lambda c: not _rds(c)),
    Floor("redis.replicas", "at least 2", lambda c: c.redis.replicas >= 2, lambda c: c.redis.engine == "sentinel"),
    Floor("edge.replicas", "at least 2", lambda c: c.edge.replicas >= 2),
    Floor("capacity.min_instances", "at least 3 (the seed's floor)", lambda c: c.capacity.min_instances >= 3),
    Floor("app.min_replicas", "unset or at least 3", lambda c: c.app.min_replicas is None or c.app.min_replicas >= 3),
    Floor("monitoring.alertmanager_replicas", "at least 2", lambda c: c.monitoring.alertmanager_replicas >= 2,
          lambda c: c.monitoring.enabled),
    Floor("logging.elasticsearch_nodes", "at least 3", lambda c: c.logging.elasticsearch_nodes >= 3,
          lambda c: c.logging.enabled),
)
BY_KEY = {floor.key: floor for floor in FLOORS}


def check_floors(config) -> tuple[list[tuple[str, Any, str]], dict[str, str]]:
    """Problems, and the floors the stack lowered with their reasons."""
    problems: list[tuple[str, Any, str]] = []
    lowered: dict[str, str] = {}
    requested = dict(config.lowered_floors)
    for key in requested:
        if key not in BY_KEY:
            problems.append((f"lowered_floors.{key}", None, f"is not a safety floor; floors: {', '.join(BY_KEY)}"))
    if config.environment != "prod":
        problems += [(f"lowered_floors.{key}", None, "floors apply to prod only; remove this entry")
                     for key in requested if key in BY_KEY]
        return problems, lowered
    for floor in FLOORS:
        below = floor.applies(config) and not floor.holds(config)
        if below and floor.key in requested:
            lowered[floor.key] = requested[floor.key]
        elif below:
            problems.append((floor.key, floor.value(config),
                             f"prod requires {floor.requirement}; to run below this floor, name it with a reason "
                             f"in the stack file: lowered_floors: {{{floor.key}: \"<why>\"}}"))
        elif floor.key in requested:
            problems.append((f"lowered_floors.{floor.key}", None, "is not below its floor; remove this entry"))
    return problems, lowered
