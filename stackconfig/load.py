"""Validate a stack's raw config into `Settings`, or fail with every problem named by its key.

Values are never echoed where they may be credentials (see `stackconfig.secrets`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from .capacity import Sizing, size_platform
from .floors import check_floors
from .model import ENV_DEFAULTS, FieldProblem, StackConfig, deep_merge, defaults_for
from .sections import SECTIONS
from .types import number_field
from .secrets import HIDDEN, SECRET_KEYS, names_credential, redact, userinfo_paths

PROJECT = "langgraph-platform"


class Marker:
    """Stands for a value that is absent or must not be printed."""

    def __init__(self, text: str):
        self.text = text


MISSING, NOT_SHOWN = Marker("(unset)"), Marker("(not shown)")


def _show(key: str, value: Any) -> str:
    if isinstance(value, Marker):
        return value.text
    if value is None:
        return "(unset)"
    if names_credential(key):
        return HIDDEN
    text = json.dumps(redact(value), default=str, ensure_ascii=True)
    return text if len(text) <= 80 else text[:77] + "..."


class ConfigError(ValueError):
    """The stack config is invalid; `problems` holds (key, value, message) triples."""

    def __init__(self, problems: list[tuple[str, Any, str]]):
        self.problems = problems
        lines = []
        for key, value, message in problems:
            full = key if ":" in key else f"{PROJECT}:{key}"
            lines.append(f"  {full} = {_show(key, value)}: {message}")
        super().__init__("invalid stack config:\n" + "\n".join(lines))


@dataclass(frozen=True)
class ServerKnobs:
    """What the official server is given (langgraph_api.config reads these)."""

    postgres_pool_max_size: int
    jobs_per_worker: int
    redis_max_connections: int


@dataclass(frozen=True)
class Settings:
    """Validated config plus what is derived from it."""

    stack: str
    config: StackConfig
    sizing: Sizing
    server: ServerKnobs
    lowered_floors: dict[str, str] = field(default_factory=dict)


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The model class that holds the field at `loc` (for listing allowed keys)."""
    model: type[BaseModel] = StackConfig
    for part in loc:
        field_info = model.model_fields.get(part) if isinstance(part, str) else None
        if field_info is None:
            return None
        annotation = field_info.annotation
        candidates = [annotation, *get_args(annotation)] if get_origin(annotation) else [annotation]
        nested = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if not nested:
            return None
        model = nested[0]
    return model


# Pydantic's messages for a number of the wrong type or out of range name one bound at most.
_NUMBER_ERRORS = {"int_type", "int_parsing", "int_from_float", "float_type", "float_parsing", "finite_number",
                  "greater_than", "greater_than_equal", "less_than", "less_than_equal"}
_TYPE_MESSAGES = {"bool_type": "must be true or false", "bool_parsing": "must be true or false",
                  "string_type": "must be a string", "list_type": "must be a list",
                  "tuple_type": "must be a list", "dict_type": "must be a mapping", "model_type": "must be a mapping"}


def _field_at(loc: tuple) -> FieldInfo | None:
    model = _model_at(loc[:-1])
    return model.model_fields.get(loc[-1]) if model and loc and isinstance(loc[-1], str) else None


def _allowed_numbers(loc: tuple) -> str | None:
    """`an integer from 1 to 65535` for the field at `loc`, from its type and bounds."""
    info = _field_at(loc)
    number = number_field(info) if info else None
    if number is None:
        return None
    kind, bounds = ("an integer" if number[0] is int else "a number"), number[1]
    if "ge" in bounds and "le" in bounds:
        return f"{kind} from {bounds['ge']} to {bounds['le']}"
    parts = [f"{symbol} {bounds[name]}" for name, symbol in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<="))
             if name in bounds]
    return f"{kind} {' and '.join(parts)}" if parts else kind


def _pattern_message(loc: tuple, pattern: str, env: str) -> str:
    """The pattern, and the key's default (the environment's, else the field's) as an example."""
    example = _value_at(defaults_for(env), loc)
    if not isinstance(example, str):
        info = _field_at(loc)
        example = info.default if info is not None else None
    return f"must match {pattern}" + (f", like {json.dumps(example)}" if isinstance(example, str) else "")


def _value_at(data: Any, loc: tuple) -> Any:
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return MISSING
    return data


def _problems_from(error: ValidationError, data: dict, env: str) -> list[tuple[str, Any, str]]:
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
            message = f"unknown key {loc[-1]!r}; allowed keys here: {', '.join(names) or 'none'}"
            value = NOT_SHOWN  # a near-miss key may well hold a credential
        elif item["type"] == "missing":
            message = "required and not set"
        elif item["type"] == "literal_error":
            message = "must be one of " + item["ctx"]["expected"]
        elif item["type"] in _NUMBER_ERRORS and (allowed := _allowed_numbers(loc)):
            message = f"must be {allowed}"
        elif item["type"] == "string_pattern_mismatch":
            message = _pattern_message(loc, item["ctx"]["pattern"], env)
        elif item["type"] in _TYPE_MESSAGES:
            message = _TYPE_MESSAGES[item["type"]]
        else:
            message = item["msg"].removeprefix("Value error, ")
        problems.append((key, value, message))
    return problems


def server_knobs(config: StackConfig) -> ServerKnobs:
    """The official server's knobs: explicit `app.server` values, else mapped from the seed's tuning."""
    server, tuning = config.app.server, config.app.tuning
    return ServerKnobs(
        postgres_pool_max_size=server.postgres_pool_max_size or tuning.database_pool_size + tuning.database_max_overflow,
        jobs_per_worker=server.jobs_per_worker or config.capacity.per_instance_concurrency,
        redis_max_connections=server.redis_max_connections or tuning.redis_pool_size,
    )


def size(config: StackConfig, knobs: ServerKnobs) -> Sizing:
    capacity, app = config.capacity, config.app
    return size_platform(
        rps=capacity.target_rps, avg_seconds=capacity.avg_execution_seconds, peak_factor=capacity.peak_factor,
        safety_margin=capacity.safety_margin, jobs_per_pod=knobs.jobs_per_worker, floor=capacity.min_instances,
        queue=app.queue.enabled, api_rps_per_instance=capacity.api_rps_per_instance,
        pool_per_pod=knobs.postgres_pool_max_size, pg_accepted=config.postgres.accepted_connections,
        pg_accepted_by=config.postgres.accepted_connections_by, redis_per_pod=knobs.redis_max_connections,
        redis_accepted=config.redis.maxclients, redis_accepted_by="redis.maxclients",
        api_min=app.min_replicas, api_max=app.max_replicas, queue_min=app.queue.min_replicas,
        queue_max=app.queue.max_replicas, canary=app.rollout == "canary",
    )


def _sizing_problems(sizing: Sizing) -> list[tuple[str, Any, str]]:
    problems = []
    for tier, prefix in ((sizing.api, "app"), (sizing.queue, "app.queue")):
        if tier is not None and tier.hpa_min > tier.hpa_max:
            problems.append((f"{prefix}.min_replicas", tier.hpa_min,
                             f"is greater than the HPA maximum {tier.hpa_max} ({tier.derivation})"))
    for budget, pool_key in ((sizing.postgres, "app.server.postgres_pool_max_size"),
                             (sizing.redis, "app.server.redis_max_connections")):
        if not budget.fits:
            problems.append((pool_key, budget.terms[0][2],
                             f"{budget.derivation} exceeds what {budget.accepted_by} accepts; lower app.max_replicas"
                             f"{' / app.queue.max_replicas' if len(budget.terms) > 1 else ''} or the per-pod pool, "
                             "or raise the limit"))
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
    # Credentials are accepted as secrets only; one in a URL elsewhere is refused, and validation goes on
    # over the redacted value so that no later message can print it.
    problems = [(path, NOT_SHOWN, "holds a URL with user:password@; credentials are only accepted as "
                 f"secrets under their own keys ({', '.join(SECRET_KEYS)})")
                for key, value in values.items() for path in userinfo_paths(value, key)]
    data = deep_merge(defaults_for(env), {**redact(values), "environment": env})
    try:
        config = StackConfig.model_validate_json(json.dumps(data, allow_nan=True))
    except ValidationError as error:
        raise ConfigError(problems + _problems_from(error, data, env)) from None
    problems += [problem for section in SECTIONS if hasattr(section, "cross_checks")
                 for problem in section.cross_checks(config)]
    floor_problems, lowered = check_floors(config)
    knobs = server_knobs(config)
    sizing = size(config, knobs)
    problems += floor_problems + _sizing_problems(sizing)
    if problems:
        raise ConfigError(problems)
    return Settings(stack=stack, config=config, sizing=sizing, server=knobs, lowered_floors=lowered)


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
