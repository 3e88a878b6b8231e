"""Read the stack's config from the Pulumi runtime (real engine or the offline plan's mocks)."""

from __future__ import annotations

import pulumi
from pulumi.runtime import config as runtime_config

from .load import MISSING, NOT_SHOWN, PROJECT, ConfigError, Settings, parse_raw, validate
from .secrets import SECRET_KEYS, required_secrets

# Config namespaces a stack may use: ours and the providers' own (aws:region, kubernetes:context, ...).
KNOWN_NAMESPACES = {PROJECT, "pulumi", "aws", "kubernetes", "postgresql", "random"}


def _project_keys() -> set[str]:
    # pulumi.Config offers lookups only; the full key set is needed to refuse unknown keys.
    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    foreign = sorted(key for key in keys if key.split(":", 1)[0] not in KNOWN_NAMESPACES)
    if foreign:
        raise ConfigError([(key, NOT_SHOWN, f"unknown config namespace {key.split(':', 1)[0]!r}; "
                            f"this project's keys are {PROJECT}:<key>") for key in foreign])
    prefix = PROJECT + ":"
    return {key[len(prefix):] for key in keys if key.startswith(prefix)}


def _is_secret(key: str) -> bool:
    return runtime_config.is_config_secret(f"{PROJECT}:{key}")


def read_settings() -> tuple[Settings, dict[str, pulumi.Output[str]]]:
    """Validated settings and the credential secrets that are set."""
    keys = _project_keys()
    credentials = keys & set(SECRET_KEYS)
    problems = [(key, NOT_SHOWN, f"holds a credential in plain text; set it with "
                 f"`pulumi config set --secret {key} ...`") for key in sorted(credentials) if not _is_secret(key)]
    # A secure value elsewhere would be printed in plans and written into objects as plain text.
    problems += [(key, NOT_SHOWN, f"holds a secure (secret) value, but a secret makes no sense here; only "
                  f"{', '.join(SECRET_KEYS)} take secrets. Set this key in plain text")
                 for key in sorted(keys - credentials) if _is_secret(key)]
    if problems:
        raise ConfigError(problems)
    raw = {key: runtime_config.get_config(f"{PROJECT}:{key}") for key in keys - credentials}
    settings = validate(parse_raw(raw), pulumi.get_stack())
    missing = [(key, MISSING, f"required because {why}; set it with `pulumi config set --secret {key} ...`")
               for key, why in required_secrets(settings.config) if key not in credentials]
    if missing:
        raise ConfigError(missing)
    config = pulumi.Config(PROJECT)
    secrets = {key: config.require_secret(key) for key in sorted(credentials)}
    return settings, secrets
