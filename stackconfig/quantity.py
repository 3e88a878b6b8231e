"""Kubernetes resource quantities (`500m`, `2Gi`) and the database/cache size strings we accept.

The grammar is Kubernetes' own, restricted to what a resource setting can sensibly be: ASCII
digits only, no sign, at most 30 digits and a two-digit decimal exponent, so that parsing is
bounded work (a `1e999999999` would otherwise compute a billion-digit power of ten).
"""

from __future__ import annotations

import functools
import re
from fractions import Fraction

_QUANTITY = re.compile(r"(?P<num>[0-9]{1,30}(?:\.[0-9]{0,30})?|\.[0-9]{1,30})"
                       r"(?P<suffix>[KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]{1,2})?", re.ASCII)
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "": 1,
            "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}

QUANTITY_HELP = ("a Kubernetes quantity such as 500m, 2, 512Mi or 2Gi "
                 "(binary suffixes Ki Mi Gi Ti Pi Ei, decimal n u m k M G T P E)")


def parse_quantity(text: str) -> Fraction:
    """Value of a Kubernetes quantity; ValueError if `text` is not one (e.g. `2GB`, `-1`)."""
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not {QUANTITY_HELP}")
    return _parse_text(text)


@functools.lru_cache(maxsize=1024)
def _parse_text(text: str) -> Fraction:
    # Cached: a plan sizes every namespace's quota from the same few quantities, hundreds of
    # times, and a Fraction is immutable.
    match = _QUANTITY.fullmatch(text)
    if not match:
        raise ValueError(f"{text!r} is not {QUANTITY_HELP}")
    number = Fraction(match["num"])
    suffix = match["suffix"] or ""
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number * _DECIMAL[suffix]
    return number * Fraction(10) ** int(suffix[1:])


_PG_SIZE = re.compile(r"[1-9][0-9]{0,8}(kB|MB|GB|TB)", re.ASCII)
_PG_UNITS = {"kB": 2**10, "MB": 2**20, "GB": 2**30, "TB": 2**40}
_REDIS_SIZE = re.compile(r"[1-9][0-9]{0,12}(b|kb|mb|gb|k|m|g)?", re.ASCII | re.IGNORECASE)


def check_pg_size(text: str) -> str:
    """A PostgreSQL memory setting (`2GB`, `512MB`): positive integer with kB, MB, GB or TB."""
    if not _PG_SIZE.fullmatch(text):
        raise ValueError(f"{text!r} is not a PostgreSQL size; use a positive integer with kB, MB, GB or TB, e.g. 2GB")
    return text


def pg_size_bytes(text: str) -> int:
    """Bytes of a PostgreSQL size string accepted by `check_pg_size`."""
    check_pg_size(text)
    return int(text[:-2]) * _PG_UNITS[text[-2:]]


def check_redis_size(text: str) -> str:
    """A Redis memory setting (`2gb`, `512mb`): positive integer with an optional b, kb, mb or gb unit."""
    if not _REDIS_SIZE.fullmatch(text):
        raise ValueError(f"{text!r} is not a Redis size; use a positive integer with b, kb, mb or gb, e.g. 2gb")
    return text
