"""Invariants of the indicator rules: percents stay in 0–100, reconciliation is symmetric, small counts
never leak through a computed figure, rho stays in [−1, 1] and inside its interval's range."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from assessment.indicators.association import spearman_association
from assessment.indicators.figures import percent, rate_per_100000, reconcile_pair

counts = st.integers(min_value=0, max_value=100_000)
thresholds = st.integers(min_value=2, max_value=20)


@given(counts, counts, thresholds)
def test_percent_stays_in_range_or_is_blank(a, b, n):
    num, den = min(a, b), max(a, b)
    fig = percent(num, den, n)
    if fig.value is not None:
        assert 0 <= fig.value <= 100
        # shown only when the numerator, the denominator and the rest are all shown
        assert not (0 < num < n) and not (0 < den < n) and not (0 < den - num < n)


@given(counts, st.floats(min_value=1, max_value=1e8), thresholds)
def test_a_rate_never_shows_a_hidden_count(count, population, n):
    fig = rate_per_100000(count, population, n)
    assert (fig.value is None) == (0 < count < n)


@given(counts, counts, st.floats(min_value=0, max_value=0.99), thresholds)
def test_reconciliation_flag_is_symmetric(a, b, tolerance, n):
    one = reconcile_pair(a, b, tolerance=tolerance, fewer_than=n)
    other = reconcile_pair(b, a, tolerance=tolerance, fewer_than=n)
    assert one.flagged == other.flagged
    if one.difference is not None:
        assert one.difference == -other.difference


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(1, 5), st.floats(0, 1000)), min_size=5, max_size=30))
def test_rho_is_a_correlation_and_its_interval_is_ordered(pairs):
    frame = pd.DataFrame(pairs, columns=["score", "value"])
    got = spearman_association(frame, resamples=200)
    if got.rho is not None:
        assert -1 <= got.rho <= 1
        if got.ci_low is not None:
            assert -1 <= got.ci_low <= got.ci_high <= 1
