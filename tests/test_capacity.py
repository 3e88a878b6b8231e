"""The capacity model: never under-provisions, monotone in load, never below the floor; the API and
queue tiers sized apart; connection budgets summed over every tier."""

from __future__ import annotations

import math
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from stackconfig.capacity import instances_needed, required_concurrency, size_platform

rps = st.floats(min_value=0.01, max_value=5000, allow_nan=False)
seconds = st.floats(min_value=0.01, max_value=600, allow_nan=False)
peak = st.floats(min_value=1, max_value=10, allow_nan=False)
margin = st.floats(min_value=0, max_value=2, allow_nan=False)
per_instance = st.integers(min_value=1, max_value=500)
floor = st.integers(min_value=1, max_value=10)


def _size(r, s, p, m, per, fl, *, queue=False, api_rps=50, pool=50, redis=10, **overrides):
    return size_platform(rps=r, avg_seconds=s, peak_factor=p, safety_margin=m, jobs_per_pod=per, floor=fl,
                         queue=queue, api_rps_per_instance=api_rps, pool_per_pod=pool, pg_accepted=1000,
                         pg_accepted_by="pooler", redis_per_pod=redis, redis_accepted=10000,
                         redis_accepted_by="maxclients", **overrides)


@settings(max_examples=300)
@given(rps, seconds, peak, margin, per_instance, floor, st.booleans())
def test_never_under_provisions_and_is_minimal(r, s, p, m, per, fl, queue):
    sizing = _size(r, s, p, m, per, fl, queue=queue)
    jobs = sizing.queue if queue else sizing.api
    assert jobs.instances * per >= jobs.required == required_concurrency(r, s, p, m)
    assert jobs.instances >= fl
    # One instance fewer would not do, unless the floor is what set the count.
    assert jobs.instances == fl or (jobs.instances - 1) * per < jobs.required


@settings(max_examples=300)
@given(rps, rps, seconds, peak, margin, per_instance, floor, st.booleans())
def test_monotone_in_rps(r1, r2, s, p, m, per, fl, queue):
    low, high = sorted((r1, r2))
    for a, b in zip(_size(low, s, p, m, per, fl, queue=queue).tiers, _size(high, s, p, m, per, fl, queue=queue).tiers):
        assert a.instances <= b.instances


@given(rps, seconds, peak, margin, per_instance, floor, st.booleans(), st.integers(1, 300), st.integers(1, 3000))
def test_hpa_range_and_budgets_cover_every_tier(r, s, p, m, per, fl, queue, pool, redis):
    sizing = _size(r, s, p, m, per, fl, queue=queue, pool=pool, redis=redis)
    for tier in sizing.tiers:
        assert (tier.hpa_min, tier.hpa_max) == (tier.instances, 2 * tier.instances)
    assert sizing.postgres.total == sum(t.hpa_max for t in sizing.tiers) * pool
    assert sizing.redis.total == sum(t.hpa_max for t in sizing.tiers) * redis
    assert sizing.postgres.fits == (sizing.postgres.total <= 1000)


def test_queue_workers_are_sized_apart_from_the_api():
    sizing = _size(50, 2.0, 2.0, 0.3, 50, 3, queue=True, api_rps=50)
    assert sizing.queue.required == 260 and sizing.queue.instances == 6
    # The API pods serve requests: 50 x 2 x 1.3 = 130 requests/s at 50 per pod.
    assert sizing.api.required == 130 and sizing.api.instances == 3
    assert "queue: required = 50 rps x 2s" in sizing.derivation and "130 requests/s" in sizing.derivation
    assert sizing.postgres.total == (6 + 12) * 50


def test_the_seeds_int_rounding_is_fixed():
    # 46 rps x 1 s x 2 x 1.3 = 119.6 concurrent: int(119.6 / 50) = 2 serves only 100.
    sizing = _size(46, 1.0, 2.0, 0.3, 50, 1)
    assert sizing.api.required == Fraction("119.6")
    assert sizing.api.instances == 3


def test_exact_decimals_do_not_add_an_instance():
    # In floats 5 x 5 x 2 x 1.1 is 55.00000000000001: ceil(/ 11) would give 6 instances, not 5.
    assert 5.0 * 5.0 * 2.0 * (1 + 0.1) > 55
    assert required_concurrency(5.0, 5.0, 2.0, 0.1) == 55
    assert instances_needed(required_concurrency(5.0, 5.0, 2.0, 0.1), 11, 1) == 5


def test_floor_and_overrides():
    assert _size(0.01, 0.01, 1, 0, 50, 3).api.instances == 3
    sizing = _size(50, 2.0, 2.0, 0.3, 50, 3, queue=True, queue_min=4, queue_max=20, api_max=5)
    assert (sizing.queue.instances, sizing.queue.hpa_min, sizing.queue.hpa_max) == (6, 4, 20)
    assert sizing.api.hpa_max == 5
    assert "min from stack config" in sizing.queue.derivation and "max from stack config" in sizing.queue.derivation
    assert sizing.postgres.total == (5 + 20) * 50


def test_prod_stack_numbers():
    sizing = _size(50, 2.0, 2.0, 0.3, 50, 3, queue=True)
    assert math.isclose(float(sizing.queue.required), 260)
    assert (sizing.queue.hpa_min, sizing.queue.hpa_max) == (6, 12)
    assert (sizing.api.hpa_min, sizing.api.hpa_max) == (3, 6)
