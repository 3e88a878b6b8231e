"""The seed's PostgreSQL tuning scaled to the instance's memory, in CloudNativePG's and RDS's units.

The seed's values (shared_buffers 2GB, effective_cache_size 6GB, maintenance_work_mem 512MB) are
the usual 25 % / 75 % / 1/16 of an 8 GiB machine; here they are those fractions of the memory the
instance really has, so a 1 GiB dev instance does not ask for 2 GB of shared buffers. RDS takes
the same fractions as formulas over `DBInstanceClassMemory` (bytes) in each parameter's own unit:
shared_buffers and effective_cache_size in 8 kB pages, maintenance_work_mem in kB.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from stackconfig.quantity import pg_size_bytes

# Fractions of memory (the seed's figures over 8 GiB).
SHARED_BUFFERS = Fraction(1, 4)
EFFECTIVE_CACHE_SIZE = Fraction(3, 4)
MAINTENANCE_WORK_MEM = Fraction(1, 16)
_MB = 2**20


@dataclass(frozen=True)
class Tuning:
    """What we set on every PostgreSQL, whatever runs it."""

    max_connections: int
    shared_buffers: str | None = None
    """Explicit override (e.g. `2GB`); None scales with memory."""
    effective_cache_size: str | None = None
    maintenance_work_mem: str | None = None


def _megabytes(memory_bytes: int, fraction: Fraction) -> str:
    return f"{max(1, int(memory_bytes * fraction) // _MB)}MB"


def cnpg_parameters(tuning: Tuning, memory_bytes: int) -> dict[str, str]:
    """`postgresql.parameters` of a CloudNativePG Cluster with `memory_bytes` of memory."""
    return {
        "max_connections": str(tuning.max_connections),
        "shared_buffers": tuning.shared_buffers or _megabytes(memory_bytes, SHARED_BUFFERS),
        "effective_cache_size": tuning.effective_cache_size or _megabytes(memory_bytes, EFFECTIVE_CACHE_SIZE),
        "maintenance_work_mem": tuning.maintenance_work_mem or _megabytes(memory_bytes, MAINTENANCE_WORK_MEM),
        # Setting a pg_stat_statements parameter makes CloudNativePG preload the extension.
        "pg_stat_statements.max": "10000",
        "pg_stat_statements.track": "top",
        "log_min_duration_statement": "1000",
    }


def _rds_value(explicit: str | None, fraction: Fraction, unit_bytes: int) -> str:
    if explicit is not None:
        # RDS takes the parameter's own unit, not a size with a suffix.
        return str(pg_size_bytes(explicit) // unit_bytes)
    # DBInstanceClassMemory is in bytes; RDS evaluates {a*b/c} with integer arithmetic.
    return f"{{DBInstanceClassMemory*{fraction.numerator}/{fraction.denominator * unit_bytes}}}"


def rds_parameters(tuning: Tuning) -> dict[str, str]:
    """An RDS parameter group's values: the same fractions, plus TLS and pg_stat_statements."""
    return {
        "max_connections": str(tuning.max_connections),
        "shared_buffers": _rds_value(tuning.shared_buffers, SHARED_BUFFERS, 8192),
        "effective_cache_size": _rds_value(tuning.effective_cache_size, EFFECTIVE_CACHE_SIZE, 8192),
        "maintenance_work_mem": _rds_value(tuning.maintenance_work_mem, MAINTENANCE_WORK_MEM, 1024),
        "shared_preload_libraries": "pg_stat_statements",
        "pg_stat_statements.track": "top",
        "log_min_duration_statement": "1000",
        "rds.force_ssl": "1",
    }


# Parameters RDS applies only at a reboot.
RDS_STATIC = frozenset({"max_connections", "shared_buffers", "shared_preload_libraries"})
