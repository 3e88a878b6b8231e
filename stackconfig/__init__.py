"""Typed, validated stack config and the capacity model derived from it."""

from .load import PROJECT, SECRET_KEYS, ConfigError, Settings, parse_raw, validate

__all__ = ["PROJECT", "SECRET_KEYS", "ConfigError", "Settings", "parse_raw", "validate"]
