"""Read `Pulumi.<stack>.yaml` into the flat config map the Pulumi engine hands a program."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

SECRET_PLACEHOLDER = "[secret]"


def _has_secure(value: Any) -> bool:
    if isinstance(value, dict):
        return "secure" in value and len(value) == 1 or any(_has_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secure(v) for v in value)
    return False


def _decrypt_placeholder(value: Any) -> Any:
    # Ciphertext needs the stack's secrets provider; offline every secret reads as a placeholder.
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return SECRET_PLACEHOLDER
        return {k: _decrypt_placeholder(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decrypt_placeholder(v) for v in value]
    return value


def _as_config_string(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def load_stack_file(path: Path, project: str) -> tuple[dict[str, str], list[str]]:
    """The config map (`project:key` -> string, objects as JSON) and the keys that are secret."""
    document = yaml.safe_load(Path(path).read_text()) or {}
    entries = (document.get("config") or {}) if isinstance(document, dict) else None
    if not isinstance(entries, dict):
        raise ValueError(f"{path}: `config` must be a map")
    config, secret_keys = {}, []
    for key, value in entries.items():
        full_key = key if ":" in key else f"{project}:{key}"
        if _has_secure(value):
            secret_keys.append(full_key)
        config[full_key] = _as_config_string(_decrypt_placeholder(value))
    return config, secret_keys
