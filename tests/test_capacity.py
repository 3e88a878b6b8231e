"""The capacity model: never under-provisions, monotone in load, never below the floor."""

from __future__ import annotations

import math
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from stackconfig.capacity import instances_needed, required_concurrency, size_app_tier

rps = st.floats(min_value=0.01, max_value=5000, allow_nan=False)
seconds = st.floats(min_value=0.01, max_value=600, allow_nan=False)
peak = st.floats(min_value=1, max_value=10, allow_nan=False)
margin = st.floats(min_value=0, max_value=2, allow_nan=False)
per_instance = st.integers(min_value=1, max_value=500)
floor = st.integers(min_value=1, max_value=10)


def _size(r, s, p, m, per, fl, **overrides):
    return size_app_tier(rps=r, avg_seconds=s, peak_factor=p, safety_margin=m, per_instance=per, floor=fl,
                         pool_size=20, max_overflow=30, **overrides)


@settings(max_examples=300)
@given(rps, seconds, peak, margin, per_instance, floor)
def test_never_under_provisions_and_is_minimal(r, s, p, m, per, fl):
    sizing = _size(r, s, p, m, per, fl)
    assert sizing.instances * per >= sizing.required_concurrency
    assert sizing.instances >= fl
    # One instance fewer would not do, unless the floor is what set the count.
    assert sizing.instances == fl or (sizing.instances - 1) * per < sizing.required_concurrency


@settings(max_examples=300)
@given(rps, rps, seconds, peak, margin, per_instance, floor)
def test_monotone_in_rps(r1, r2, s, p, m, per, fl):
    low, high = sorted((r1, r2))
    assert _size(low, s, p, m, per, fl).instances <= _size(high, s, p, m, per, fl).instances


@given(rps, seconds, peak, margin, per_instance, floor)
def test_hpa_range_and_connections(r, s, p, m, per, fl):
    sizing = _size(r, s, p, m, per, fl)
    assert (sizing.hpa_min, sizing.hpa_max) == (sizing.instances, 2 * sizing.instances)
    assert sizing.worst_case_db_connections == sizing.hpa_max * 50


def test_the_seeds_int_rounding_is_fixed():
    # 46 rps x 1 s x 2 x 1.3 = 119.6 concurrent: int(119.6 / 50) = 2 serves only 100.
    sizing = _size(46, 1.0, 2.0, 0.3, 50, 1)
    assert sizing.required_concurrency == Fraction("119.6")
    assert sizing.instances == 3


def test_exact_decimals_do_not_add_an_instance():
    # In floats 5 x 5 x 2 x 1.1 is 55.00000000000001: ceil(/ 11) would give 6 instances, not 5.
    assert 5.0 * 5.0 * 2.0 * (1 + 0.1) > 55
    assert required_concurrency(5.0, 5.0, 2.0, 0.1) == 55
    assert instances_needed(required_concurrency(5.0, 5.0, 2.0, 0.1), 11, 1) == 5


def test_floor_and_overrides():
    assert _size(0.01, 0.01, 1, 0, 50, 3).instances == 3
    sizing = _size(50, 2.0, 2.0, 0.3, 50, 3, min_override=4, max_override=20)
    assert (sizing.instances, sizing.hpa_min, sizing.hpa_max) == (6, 4, 20)
    assert "min from stack config" in sizing.derivation and "max from stack config" in sizing.derivation
    assert sizing.worst_case_db_connections == 20 * 50


def test_prod_stack_numbers():
    sizing = _size(50, 2.0, 2.0, 0.3, 50, 3)
    assert math.isclose(float(sizing.required_concurrency), 260)
    assert (sizing.hpa_min, sizing.hpa_max) == (6, 12)
