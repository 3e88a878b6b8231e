"""Typed, validated stack config and the capacity model derived from it."""

from .load import PROJECT, ConfigError, Settings, parse_raw, validate
from .secrets import SECRET_KEYS

__all__ = ["PROJECT", "SECRET_KEYS", "ConfigError", "Settings", "parse_raw", "validate"]
