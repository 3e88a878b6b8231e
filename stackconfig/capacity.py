"""The seed's capacity model, with its rounding fixed.

required = rps x avg_seconds x peak_factor x (1 + safety_margin)   (concurrent executions)
instances = max(floor, ceil(required / per_instance))
HPA min = instances, HPA max = 2 x instances (the seed's `recommended_hpa_max`).

The seed used `int()`, which rounds down: 120 required executions at 50 per instance gave 2
instances serving only 100. Arithmetic is done on exact decimals (Fraction of the typed
value) so that 0.1 x 3 is 0.3 and never bumps an instance count through float noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction


def _exact(value: float | int) -> Fraction:
    return Fraction(repr(value)) if isinstance(value, float) else Fraction(value)


@dataclass(frozen=True)
class Sizing:
    """Result of the capacity model plus the explicit overrides that won."""

    required_concurrency: Fraction
    instances: int
    hpa_min: int
    hpa_max: int
    db_connections_per_pod: int
    worst_case_db_connections: int
    derivation: str


def required_concurrency(rps: float, avg_seconds: float, peak_factor: float, safety_margin: float) -> Fraction:
    """Concurrent executions needed at peak, with the safety margin."""
    return _exact(rps) * _exact(avg_seconds) * _exact(peak_factor) * (1 + _exact(safety_margin))


def instances_needed(required: Fraction, per_instance: int, floor: int) -> int:
    """Smallest instance count that serves `required` executions, never below `floor`."""
    return max(floor, math.ceil(required / per_instance))


def size_app_tier(
    *,
    rps: float,
    avg_seconds: float,
    peak_factor: float,
    safety_margin: float,
    per_instance: int,
    floor: int,
    pool_size: int,
    max_overflow: int,
    min_override: int | None = None,
    max_override: int | None = None,
) -> Sizing:
    """Size the app tier; explicit replica bounds from the stack file override the model."""
    required = required_concurrency(rps, avg_seconds, peak_factor, safety_margin)
    instances = instances_needed(required, per_instance, floor)
    hpa_min = instances if min_override is None else min_override
    hpa_max = 2 * instances if max_override is None else max_override
    per_pod = pool_size + max_overflow
    derivation = (
        f"required = {rps:g} rps x {avg_seconds:g}s x peak {peak_factor:g} x (1 + {safety_margin:g}) "
        f"= {float(required):g} concurrent; instances = max({floor}, ceil({float(required):g} / {per_instance})) "
        f"= {instances}; HPA {hpa_min}..{hpa_max}"
        + (" (min from stack config)" if min_override is not None else "")
        + (" (max from stack config)" if max_override is not None else "")
        + f"; worst-case DB connections = {hpa_max} x ({pool_size} + {max_overflow}) = {hpa_max * per_pod}"
    )
    return Sizing(
        required_concurrency=required,
        instances=instances,
        hpa_min=hpa_min,
        hpa_max=hpa_max,
        db_connections_per_pod=per_pod,
        worst_case_db_connections=hpa_max * per_pod,
        derivation=derivation,
    )
