"""Validate a stack's raw config into `Settings`, or fail with every problem named by its key."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from policy.rules.images import image_is_pinned

from .capacity import Sizing, size_app_tier
from .model import ENV_DEFAULTS, FieldProblem, StackConfig, deep_merge, defaults_for

PROJECT = "langgraph-platform"

# Connection strings the app reads; config secrets until the data tier provides them.
SECRET_KEYS: dict[str, str] = {
    "database_uri": "Read/write PostgreSQL URL given to the app as DATABASE_URI and POSTGRES_URI.",
    "database_readonly_uri": "Read-only PostgreSQL URL given to the app as DATABASE_READONLY_URI.",
    "redis_uri": "Redis URL of the current master given to the app as REDIS_URI.",
}

AWS_REQUIRED = ("region", "account_id", "vpc_id", "vpc_cidr", "private_subnet_ids", "eks_cluster_name",
                "eks_oidc_provider_arn")


class ConfigError(Exception):
    """The stack config is invalid; `problems` holds (key, value, message) triples."""

    def __init__(self, problems: list[tuple[str, Any, str]]):
        self.problems = problems
        lines = [f"  {key if ':' in key else f'{PROJECT}:{key}'} = {_show(value)}: {message}"
                 for key, value, message in problems]
        super().__init__("invalid stack config:\n" + "\n".join(lines))


@dataclass(frozen=True)
class Settings:
    """Validated config plus what is derived from it."""

    stack: str
    config: StackConfig
    sizing: Sizing


class Marker:
    """Stands for a value that is absent or must not be printed."""

    def __init__(self, text: str):
        self.text = text


MISSING, HIDDEN = Marker("(unset)"), Marker("(hidden)")


def _show(value: Any) -> str:
    if isinstance(value, Marker):
        return value.text
    if value is None:
        return "(unset)"
    text = json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The model class that holds the field at `loc` (for listing allowed keys)."""
    model: type[BaseModel] = StackConfig
    for part in loc:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        if field is None:
            return None
        annotation = field.annotation
        candidates = [annotation, *get_args(annotation)] if get_origin(annotation) else [annotation]
        nested = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if not nested:
            return None
        model = nested[0]
    return model


def _value_at(data: Any, loc: tuple) -> Any:
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return MISSING
    return data


def _problems_from(error: ValidationError, data: dict) -> list[tuple[str, Any, str]]:
    problems = []
    for item in error.errors():
        loc = tuple(item["loc"])
        cause = (item.get("ctx") or {}).get("error")
        if isinstance(cause, FieldProblem):
            key = ".".join(map(str, loc + (cause.field,)))
            problems.append((key, cause.value, cause.message))
            continue
        key = ".".join(map(str, loc))
        value = _value_at(data, loc)
        if item["type"] == "extra_forbidden":
            parent = _model_at(loc[:-1])
            names = list(parent.model_fields) if parent else []
            if not loc[:-1]:
                names += list(SECRET_KEYS)
            allowed = ", ".join(names) or "none"
            message = f"unknown key {loc[-1]!r}; allowed keys here: {allowed}"
        elif item["type"] == "missing":
            message = "required and not set"
        elif item["type"] == "literal_error":
            message = "must be one of " + item["ctx"]["expected"]
        else:
            message = item["msg"].removeprefix("Value error, ")
        problems.append((key, value, message))
    return problems


def _cross_checks(config: StackConfig, sizing: Sizing) -> list[tuple[str, Any, str]]:
    problems = []
    if config.environment == "prod" and not image_is_pinned(config.app.image):
        problems.append(("app.image", config.app.image,
                         "prod needs a pinned image: a tag other than latest (repo:1.4.2) or a digest (repo@sha256:...)"))
    users = config.aws_users()
    if users:
        for name in AWS_REQUIRED:
            value = getattr(config.aws, name)
            if not value:
                problems.append((f"aws.{name}", value or MISSING, f"required because {', '.join(users)}"))
        if config.aws.private_subnet_ids and len(config.aws.private_subnet_ids) < 2:
            problems.append(("aws.private_subnet_ids", list(config.aws.private_subnet_ids),
                             "needs at least two subnets in different availability zones"))
    accepted = config.postgres.accepted_connections
    if sizing.worst_case_db_connections > accepted:
        side = ("postgres.pooler.max_client_connections" if config.postgres.pooler.enabled
                else "postgres.max_connections - postgres.reserved_connections")
        problems.append(("app.max_replicas", sizing.hpa_max,
                         f"worst case {sizing.hpa_max} pods x ({config.app.tuning.database_pool_size} pool + "
                         f"{config.app.tuning.database_max_overflow} overflow) = {sizing.worst_case_db_connections} "
                         f"database connections exceeds the {accepted} that {side} accepts; lower the HPA maximum or "
                         f"the pool, or raise the limit"))
    return problems


def resolve_environment(values: dict, stack: str) -> str:
    env = values.get("environment", stack if stack in ENV_DEFAULTS else None)
    if env not in ENV_DEFAULTS:
        raise ConfigError([("environment", env if env is not None else MISSING,
                            f"must be one of {', '.join(ENV_DEFAULTS)} (stack {stack!r} does not imply one)")])
    return env


def validate(values: dict[str, Any], stack: str) -> Settings:
    """Validate parsed config values (keys without the project prefix) for `stack`."""
    env = resolve_environment(values, stack)
    data = deep_merge(defaults_for(env), {**values, "environment": env})
    try:
        config = StackConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_problems_from(error, data)) from None
    sizing = size_app_tier(
        rps=config.capacity.target_rps,
        avg_seconds=config.capacity.avg_execution_seconds,
        peak_factor=config.capacity.peak_factor,
        safety_margin=config.capacity.safety_margin,
        per_instance=config.capacity.per_instance_concurrency,
        floor=config.capacity.min_instances,
        pool_size=config.app.tuning.database_pool_size,
        max_overflow=config.app.tuning.database_max_overflow,
        min_override=config.app.min_replicas,
        max_override=config.app.max_replicas,
    )
    if sizing.hpa_min > sizing.hpa_max:
        raise ConfigError([("app.min_replicas", sizing.hpa_min,
                            f"is greater than the HPA maximum {sizing.hpa_max} ({sizing.derivation})")])
    problems = _cross_checks(config, sizing)
    if problems:
        raise ConfigError(problems)
    return Settings(stack=stack, config=config, sizing=sizing)


def parse_raw(raw: dict[str, str]) -> dict[str, Any]:
    """Pulumi hands every value over as a string; structured sections arrive as JSON."""
    values: dict[str, Any] = {}
    problems = []
    for key, text in raw.items():
        if key in StackConfig.model_fields and key != "environment":
            try:
                values[key] = json.loads(text) if isinstance(text, str) else text
            except json.JSONDecodeError:
                values[key] = text
            if not isinstance(values[key], dict):
                problems.append((key, values[key], f"must be a map of settings (see the {key}.* keys)"))
        else:
            values[key] = text
    if problems:
        raise ConfigError(problems)
    return values
