"""Kubernetes resource quantities (`500m`, `2Gi`) and the database/cache size strings we accept."""

from __future__ import annotations

import re
from fractions import Fraction

_QUANTITY = re.compile(r"^(?P<num>[+-]?(?:\d+(?:\.\d*)?|\.\d+))(?P<suffix>[KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$")
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "": 1,
            "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}

QUANTITY_HELP = ("a Kubernetes quantity such as 500m, 2, 512Mi or 2Gi "
                 "(binary suffixes Ki Mi Gi Ti Pi Ei, decimal n u m k M G T P E)")


def parse_quantity(text: str) -> Fraction:
    """Value of a Kubernetes quantity; ValueError if `text` is not one (e.g. `2GB`)."""
    match = _QUANTITY.match(text.strip()) if isinstance(text, str) else None
    if not match or text != text.strip():
        raise ValueError(f"{text!r} is not {QUANTITY_HELP}")
    number = Fraction(match["num"])
    suffix = match["suffix"] or ""
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number * _DECIMAL[suffix]
    return number * Fraction(10) ** int(suffix[1:])


_PG_SIZE = re.compile(r"^\d+(kB|MB|GB|TB)$")
_REDIS_SIZE = re.compile(r"^\d+(b|kb|mb|gb|k|m|g)?$", re.IGNORECASE)


def check_pg_size(text: str) -> str:
    """A PostgreSQL memory setting (`2GB`, `512MB`): integer with kB, MB, GB or TB."""
    if not _PG_SIZE.match(text):
        raise ValueError(f"{text!r} is not a PostgreSQL size; use an integer with kB, MB, GB or TB, e.g. 2GB")
    return text


def check_redis_size(text: str) -> str:
    """A Redis memory setting (`2gb`, `512mb`): integer with an optional b, kb, mb or gb unit."""
    if not _REDIS_SIZE.match(text):
        raise ValueError(f"{text!r} is not a Redis size; use an integer with b, kb, mb or gb, e.g. 2gb")
    return text
