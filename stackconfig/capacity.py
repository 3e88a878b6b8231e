"""The seed's capacity model, with its rounding fixed, sizing each tier of the LangGraph server.

    required  = rps x avg_seconds x peak_factor x (1 + safety_margin)     (concurrent executions)
    instances = max(floor, ceil(required / per_instance))
    HPA min   = instances, HPA max = 2 x instances (the seed's `recommended_hpa_max`)

The seed used `int()`, which rounds down: 120 required executions at 50 per instance gave 2
instances serving only 100. Arithmetic is done on exact decimals (Fraction of the typed value)
so that 0.1 x 3 is 0.3 and never bumps an instance count through float noise.

Without queue workers one tier runs everything and `per_instance` is the server's
N_JOBS_PER_WORKER. With queue workers the model sizes the workers that way and the API pods
apart, on requests per second: rps x peak x (1 + margin) / api_rps_per_instance.
Connection budgets: every pod of every tier may open its whole pool, so the worst case is the
sum over tiers of HPA max x pool, and it must fit what the server (or its pooler) accepts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction


def _exact(value: float | int) -> Fraction:
    return Fraction(repr(value)) if isinstance(value, float) else Fraction(value)


def _show(value: Fraction) -> str:
    return f"{float(value):g}"


@dataclass(frozen=True)
class TierSizing:
    """One Deployment's size: the model's figures plus the explicit overrides that won."""

    tier: str
    required: Fraction
    per_instance: int
    instances: int
    hpa_min: int
    hpa_max: int
    derivation: str


@dataclass(frozen=True)
class Budget:
    """Worst-case connections of every tier to one server against what that server accepts."""

    server: str
    terms: tuple[tuple[str, int, int], ...]
    accepted: int
    accepted_by: str

    @property
    def total(self) -> int:
        return sum(pods * per_pod for _, pods, per_pod in self.terms)

    @property
    def fits(self) -> bool:
        return self.total <= self.accepted

    @property
    def derivation(self) -> str:
        terms = " + ".join(f"{tier} {pods} pods x {per_pod}" for tier, pods, per_pod in self.terms)
        return f"worst-case {self.server} connections = {terms} = {self.total} (accepted: {self.accepted}, {self.accepted_by})"


@dataclass(frozen=True)
class Sizing:
    """Every tier of the app and the connection budgets they imply."""

    api: TierSizing
    queue: TierSizing | None
    postgres: Budget
    redis: Budget

    @property
    def tiers(self) -> tuple[TierSizing, ...]:
        return (self.api,) if self.queue is None else (self.api, self.queue)

    @property
    def derivation(self) -> str:
        return "\n".join([t.derivation for t in self.tiers] + [self.postgres.derivation, self.redis.derivation])


def required_concurrency(rps: float, avg_seconds: float, peak_factor: float, safety_margin: float) -> Fraction:
    """Concurrent executions needed at peak, with the safety margin."""
    return _exact(rps) * _exact(avg_seconds) * _exact(peak_factor) * (1 + _exact(safety_margin))


def required_request_rate(rps: float, peak_factor: float, safety_margin: float) -> Fraction:
    """Requests per second the API pods must serve at peak, with the safety margin."""
    return _exact(rps) * _exact(peak_factor) * (1 + _exact(safety_margin))


def instances_needed(required: Fraction, per_instance: int, floor: int) -> int:
    """Smallest instance count that serves `required`, never below `floor`."""
    return max(floor, math.ceil(required / per_instance))


def size_tier(tier: str, required: Fraction, per_instance: int, floor: int, *, formula: str, unit: str,
              min_override: int | None = None, max_override: int | None = None) -> TierSizing:
    """Size one tier; explicit replica bounds from the stack file override the model."""
    instances = instances_needed(required, per_instance, floor)
    hpa_min = instances if min_override is None else min_override
    hpa_max = 2 * instances if max_override is None else max_override
    derivation = (
        f"{tier}: required = {formula} = {_show(required)} {unit}; "
        f"instances = max({floor}, ceil({_show(required)} / {per_instance})) = {instances}; HPA {hpa_min}..{hpa_max}"
        + (" (min from stack config)" if min_override is not None else "")
        + (" (max from stack config)" if max_override is not None else "")
    )
    return TierSizing(tier, required, per_instance, instances, hpa_min, hpa_max, derivation)


def size_platform(*, rps: float, avg_seconds: float, peak_factor: float, safety_margin: float, jobs_per_pod: int,
                  floor: int, queue: bool, api_rps_per_instance: int, pool_per_pod: int, pg_accepted: int,
                  pg_accepted_by: str, redis_per_pod: int, redis_accepted: int, redis_accepted_by: str,
                  api_min: int | None = None, api_max: int | None = None,
                  queue_min: int | None = None, queue_max: int | None = None, canary: bool = False) -> Sizing:
    """Size the API tier (and the queue workers when `queue`), and the connection budgets. With a canary
    rollout the canary Deployment can reach the API tier's size beside the primary: counted twice."""
    concurrency = required_concurrency(rps, avg_seconds, peak_factor, safety_margin)
    jobs_formula = f"{rps:g} rps x {avg_seconds:g}s x peak {peak_factor:g} x (1 + {safety_margin:g})"
    if queue:
        api = size_tier("api", required_request_rate(rps, peak_factor, safety_margin), api_rps_per_instance, floor,
                        formula=f"{rps:g} rps x peak {peak_factor:g} x (1 + {safety_margin:g})", unit="requests/s",
                        min_override=api_min, max_override=api_max)
        workers = size_tier("queue", concurrency, jobs_per_pod, floor, formula=jobs_formula, unit="concurrent runs",
                            min_override=queue_min, max_override=queue_max)
    else:
        api = size_tier("api", concurrency, jobs_per_pod, floor, formula=jobs_formula, unit="concurrent runs",
                        min_override=api_min, max_override=api_max)
        workers = None
    tiers = (api,) if workers is None else (api, workers)
    pods = [(t.tier, t.hpa_max) for t in tiers] + ([("api canary", api.hpa_max)] if canary else [])
    return Sizing(
        api=api,
        queue=workers,
        postgres=Budget("PostgreSQL", tuple((tier, n, pool_per_pod) for tier, n in pods), pg_accepted, pg_accepted_by),
        redis=Budget("Redis", tuple((tier, n, redis_per_pod) for tier, n in pods), redis_accepted, redis_accepted_by),
    )
