"""Read the stack's config from the Pulumi runtime (real engine or the offline plan's mocks)."""

from __future__ import annotations

import pulumi
from pulumi.runtime import config as runtime_config

from .load import HIDDEN, PROJECT, SECRET_KEYS, ConfigError, Settings, parse_raw, validate


# Config namespaces a stack may use: ours and the providers' own (aws:region, kubernetes:context, ...).
KNOWN_NAMESPACES = {PROJECT, "pulumi", "aws", "kubernetes", "postgresql", "random"}


def _project_keys() -> set[str]:
    # pulumi.Config offers lookups only; the full key set is needed to refuse unknown keys.
    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    foreign = sorted(key for key in keys if key.split(":", 1)[0] not in KNOWN_NAMESPACES)
    if foreign:
        raise ConfigError([(key, HIDDEN, f"unknown config namespace {key.split(':', 1)[0]!r}; "
                            f"this project's keys are {PROJECT}:<key>") for key in foreign])
    prefix = PROJECT + ":"
    return {key[len(prefix):] for key in keys if key.startswith(prefix)}


def read_settings() -> tuple[Settings, dict[str, pulumi.Output[str]]]:
    """Validated settings and the connection-string secrets that are set."""
    keys = _project_keys()
    plain = [key for key in keys & set(SECRET_KEYS) if not runtime_config.is_config_secret(f"{PROJECT}:{key}")]
    if plain:
        raise ConfigError([(key, HIDDEN, f"holds a credential in plain text; set it with "
                            f"`pulumi config set --secret {key} ...`") for key in sorted(plain)])
    raw = {key: runtime_config.get_config(f"{PROJECT}:{key}") for key in keys - set(SECRET_KEYS)}
    settings = validate(parse_raw(raw), pulumi.get_stack())
    config = pulumi.Config(PROJECT)
    secrets = {key: config.require_secret(key) for key in sorted(keys & set(SECRET_KEYS))}
    return settings, secrets
