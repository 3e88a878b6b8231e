"""The stack outputs the CLI is driven by, as `pulumi stack output --json --show-secrets` prints them.

The contract is the same set of keys in every stack (null where a stack has no such thing, e.g.
`checkpoint_endpoint` on AWS S3). On-call engineers reach in-cluster services through
`kubectl port-forward`, so every URL can be replaced (`--prometheus-url ...`) or re-pointed at a
forwarded port while keeping its credentials (`--via database_url=localhost:15432`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urlsplit, urlunsplit

URL_KEYS: tuple[str, ...] = (
    "app_url", "database_url", "database_readonly_url", "redis_url", "checkpoint_endpoint",
    "prometheus_url", "grafana_url", "alertmanager_url", "kibana_url", "jaeger_url",
)
POSTGRES_ENGINES = ("cloudnative-pg", "rds")
# What `pulumi stack output --json` prints for a secret without --show-secrets.
_MASKED = "[secret]"
_HOST_PORT = re.compile(r"^\[?[A-Za-z0-9_.:-]+\]?:[0-9]{1,5}$")


class OutputsError(ValueError):
    """The outputs cannot drive the CLI (not JSON, wrong shape, masked secrets): a usage error."""


class MissingOutput(LookupError):
    """A check needs an output this stack does not set; the message says how to supply it."""

    def __init__(self, key: str):
        option = f"--{key.replace('_', '-')}" if key in URL_KEYS else None
        hint = f" (or pass {option})" if option else ""
        super().__init__(f"stack output {key!r} is not set{hint}")
        self.key = key


@dataclass(frozen=True)
class PostgresCluster:
    """Where the database lives: a CloudNativePG Cluster (name, namespace) or an RDS instance id."""

    engine: str
    name: str
    namespace: str | None = None


def replace_host(url: str, host_port: str) -> str:
    """`url` with its host and port replaced, user, password, path and query kept."""
    parts = urlsplit(url)
    userinfo = parts.netloc.rpartition("@")[0]
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{host_port}" if userinfo else host_port))


def parse_host_port(value: str) -> tuple[str, int]:
    if not _HOST_PORT.match(value):
        raise OutputsError(f"{value!r} is not HOST:PORT")
    host, _, port = value.rpartition(":")
    return host.strip("[]"), int(port)


class StackOutputs:
    """Read-only view of the outputs with the overrides applied."""

    def __init__(self, values: Mapping[str, Any]):
        self._values = dict(values)
        self._validate()

    @classmethod
    def from_json(cls, text: str) -> StackOutputs:
        try:
            values = json.loads(text)
        except json.JSONDecodeError as error:
            raise OutputsError(f"stack outputs are not JSON: {error}") from None
        if not isinstance(values, dict):
            raise OutputsError("stack outputs must be a JSON object (pulumi stack output --json)")
        return cls(values)

    def _validate(self) -> None:
        problems = []
        masked = sorted(key for key, value in self._values.items() if value == _MASKED)
        if masked:
            problems.append(f"{', '.join(masked)} masked as {_MASKED}: run pulumi stack output --json --show-secrets")
        for key in URL_KEYS:
            value = self._values.get(key)
            if value is not None and value != _MASKED and (not isinstance(value, str) or "://" not in value):
                # The value is not echoed: a connection string in another form may hold a password.
                problems.append(f"{key} must be a URL (scheme://...)")
        sentinels = self._values.get("redis_sentinels")
        if sentinels is not None and (not isinstance(sentinels, list)
                                      or not all(isinstance(s, str) and _HOST_PORT.match(s) for s in sentinels)):
            problems.append(f"redis_sentinels must be a list of 'host:port', got {sentinels!r}")
        engine = self._values.get("postgres_engine")
        if engine is not None and engine not in POSTGRES_ENGINES:
            problems.append(f"postgres_engine must be one of {', '.join(POSTGRES_ENGINES)}, got {engine!r}")
        if problems:
            raise OutputsError("invalid stack outputs: " + "; ".join(problems))

    def get(self, key: str) -> Any:
        """The output, or None where the stack does not set it."""
        return self._values.get(key)

    def require(self, key: str) -> Any:
        value = self._values.get(key)
        if value in (None, "", []):
            raise MissingOutput(key)
        return value

    def overridden(self, urls: Mapping[str, str | None], via: Mapping[str, str],
                   sentinels: tuple[str, ...] = ()) -> StackOutputs:
        """A copy with whole URLs replaced (`urls`), URL hosts re-pointed (`via`: key -> host:port),
        and the Sentinel list replaced when `sentinels` is given."""
        values = dict(self._values)
        values.update({key: url for key, url in urls.items() if url})
        for key, host_port in via.items():
            if key not in URL_KEYS:
                raise OutputsError(f"--via {key}=...: {key} is not one of {', '.join(URL_KEYS)}")
            parse_host_port(host_port)
            if not values.get(key):
                raise OutputsError(f"--via {key}=...: the stack has no {key} to re-point")
            values[key] = replace_host(values[key], host_port)
        if sentinels:
            values["redis_sentinels"] = list(sentinels)
        return StackOutputs(values)

    @property
    def postgres_cluster(self) -> PostgresCluster:
        """`postgres_cluster` as {"name", "namespace"} or "namespace/name" (CloudNativePG), or the RDS id."""
        engine = self.require("postgres_engine")
        raw = self.require("postgres_cluster")
        if engine == "rds":
            if not isinstance(raw, str):
                raise OutputsError(f"postgres_cluster must be the RDS instance id for engine rds, got {raw!r}")
            return PostgresCluster(engine, raw)
        if isinstance(raw, dict) and isinstance(raw.get("name"), str) and isinstance(raw.get("namespace"), str):
            return PostgresCluster(engine, raw["name"], raw["namespace"])
        if isinstance(raw, str) and raw.count("/") == 1:
            namespace, name = raw.split("/")
            return PostgresCluster(engine, name, namespace)
        raise OutputsError("postgres_cluster must be {name, namespace} or 'namespace/name' for CloudNativePG, "
                           f"got {raw!r}")

    def sentinel_addresses(self) -> list[tuple[str, int]]:
        return [parse_host_port(address) for address in self.get("redis_sentinels") or []]
