"""Indicator arithmetic against hand-computed cases, and Spearman's rho against scipy.stats."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from assessment.indicators.association import ASSOCIATION_WORDING, spearman_association
from assessment.indicators.figures import (
    Figure,
    percent,
    rate_per_100000,
    ratio,
    reconcile_pair,
    show_count,
)


# -- disclosure of small counts -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("count", "fewer_than", "shown", "hidden"),
    [
        (0, 5, "0", False),           # a zero is shown: no child may be taken to a police station
        (1, 5, "fewer than 5", True),
        (4, 5, "fewer than 5", True),
        (5, 5, "5", False),
        (1234, 5, "1,234", False),
        (9, 10, "fewer than 10", True),
    ],
)
def test_small_counts_are_shown_as_fewer_than_n(count, fewer_than, shown, hidden):
    fig = show_count(count, fewer_than)
    assert (fig.shown, fig.hidden) == (shown, hidden)
    assert (fig.value is None) == hidden  # a hidden count carries no value downstream


@pytest.mark.parametrize("bad", [-1, 2.5])
def test_a_count_must_be_a_whole_number(bad):
    with pytest.raises(ValueError, match="whole number"):
        show_count(bad, 5)


# -- rates, percents, ratios: hand-computed --------------------------------------------------------------
@pytest.mark.parametrize(
    ("numerator", "denominator", "value", "hidden"),
    [
        (10, 50, 20.0, False),        # 100 × 10 / 50
        (354, 31_779, 100 * 354 / 31_779, False),  # 2024-25 England and Wales: police station 1.1%
        (3, 50, None, True),          # the numerator is fewer than 5
        (48, 50, None, True),         # the rest (2) is fewer than 5: 96% would give it away
        (45, 50, 90.0, False),        # the rest is 5: shown
        (0, 0, None, False),          # nothing to divide by
        (0, 20, 0.0, False),
    ],
)
def test_percent(numerator, denominator, value, hidden):
    fig = percent(numerator, denominator, 5)
    assert fig.hidden == hidden
    if value is None:
        assert fig.value is None and fig.reason
    else:
        assert fig.value == pytest.approx(value)


def test_percent_of_the_2024_25_police_station_share_reads_1_1_percent():
    assert percent(354, 31_779, 5).shown == "1.1%"


def test_rate_per_100000():
    # 310 detentions in an area of 1,550,000 people: 100,000 × 310 / 1,550,000 = 20.0
    assert rate_per_100000(310, 1_550_000, 5).value == pytest.approx(20.0)
    hidden = rate_per_100000(3, 1_550_000, 5)
    assert hidden.value is None and hidden.hidden  # a rate from a hidden count gives the count away
    unconfirmed = rate_per_100000(310, 1_550_000, 5, unconfirmed="not confirmed from the ONS")
    assert unconfirmed.value is None and "not confirmed from the ONS" in unconfirmed.reason
    assert rate_per_100000(310, None, 5).reason == "no population figure"


def test_ratio_of_rates_is_the_disparity_ratio():
    # Black rate 60 per 100,000, White rate 20 per 100,000: 3.0 times
    assert ratio(Figure(60.0, "60.0"), Figure(20.0, "20.0")).value == pytest.approx(3.0)
    from_hidden = ratio(Figure.blank("computed from a hidden count", hidden=True), Figure(20.0, "20.0"))
    assert from_hidden.value is None and from_hidden.hidden
    assert ratio(Figure(1.0, "1"), Figure(0.0, "0")).value is None


# -- police–NHS reconciliation: hand-computed -----------------------------------------------------------
@pytest.mark.parametrize(
    ("police", "nhs", "difference", "ratio_", "flagged"),
    [
        (100, 85, 15, 100 / 85, True),   # 15 > 10% of 100
        (100, 90, 10, 100 / 90, False),  # exactly 10% of the larger: not more than
        (100, 91, 9, 100 / 91, False),
        (90, 100, -10, 0.9, False),      # symmetric: the same pair the other way round
        (85, 100, -15, 0.85, True),
        (320, 200, 120, 1.6, True),      # NHS counts miss detentions held outside health settings
        (0, 0, 0, None, False),
        (12, 0, 12, None, True),
    ],
)
def test_reconciliation_rule(police, nhs, difference, ratio_, flagged):
    r = reconcile_pair(police, nhs, tolerance=0.10, fewer_than=5)
    assert r.difference == pytest.approx(difference)
    assert r.flagged is flagged
    if ratio_ is None:
        assert r.ratio is None and r.reason
    else:
        assert r.ratio == pytest.approx(ratio_)


def test_reconciliation_with_a_hidden_count_hides_difference_ratio_and_flag():
    r = reconcile_pair(3, 40, tolerance=0.10, fewer_than=5)
    assert (r.difference, r.ratio, r.flagged) == (None, None, None)
    assert r.value.shown == "fewer than 5" and r.other_value.shown == "40"
    assert "fewer than 5" in r.reason


def test_reconciliation_tolerance_is_a_setting():
    assert reconcile_pair(100, 85, tolerance=0.20, fewer_than=5).flagged is False
    with pytest.raises(ValueError):
        reconcile_pair(100, 85, tolerance=1.5, fewer_than=5)


# -- Spearman's rho and its bootstrap interval ----------------------------------------------------------
FIXTURE = pd.DataFrame({
    # twelve partnerships: a domain score (1–5) and an indicator (share taken first to A&E, %)
    "partnership": [f"p{i:02d}" for i in range(12)],
    "score": [1.8, 2.2, 2.5, 2.5, 2.9, 3.1, 3.3, 3.6, 3.8, 4.0, 4.2, 4.6],
    "value": [61.0, 55.0, 58.0, 49.0, 52.0, 47.0, 50.0, 38.0, 41.0, 36.0, 40.0, 30.0],
})


def test_rho_hand_computed_without_ties():
    # ranks differ by d = (-1, 1, -1, 1, 0): rho = 1 − 6·4 / (5·24) = 0.8
    frame = pd.DataFrame({"score": [1, 2, 3, 4, 5], "value": [2, 1, 4, 3, 5]})
    assert spearman_association(frame, resamples=100).rho == pytest.approx(0.8)


def test_rho_matches_scipy_spearmanr_with_ties():
    got = spearman_association(FIXTURE, resamples=500)
    expected = stats.spearmanr(FIXTURE["score"], FIXTURE["value"]).statistic
    assert got.rho == pytest.approx(expected, abs=1e-12)
    assert got.n == 12 and got.wording == ASSOCIATION_WORDING and "not an effect" in got.wording


def test_bootstrap_interval_matches_scipy_on_the_same_resamples():
    seed, resamples = 7, 400
    got = spearman_association(FIXTURE, resamples=resamples, seed=seed)
    # the same resamples, one at a time, through scipy.stats.spearmanr
    rng = np.random.default_rng(seed)
    index = rng.integers(0, len(FIXTURE), size=(resamples, len(FIXTURE)))
    x, y = FIXTURE["score"].to_numpy(), FIXTURE["value"].to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns on a resample that does not vary (rho is NaN)
        rhos = [stats.spearmanr(x[i], y[i]).statistic for i in index]
    rhos = np.array([r for r in rhos if not math.isnan(r)])
    assert got.resamples_used == rhos.size
    assert (got.ci_low, got.ci_high) == pytest.approx(tuple(np.percentile(rhos, [2.5, 97.5])), abs=1e-12)
    assert got.ci_low <= got.rho <= got.ci_high


def test_bootstrap_is_repeatable_and_seeded():
    a = spearman_association(FIXTURE, resamples=300, seed=1)
    b = spearman_association(FIXTURE, resamples=300, seed=1)
    c = spearman_association(FIXTURE, resamples=300, seed=2)
    assert (a.ci_low, a.ci_high) == (b.ci_low, b.ci_high)
    assert (a.ci_low, a.ci_high) != (c.ci_low, c.ci_high)


def test_missing_and_hidden_values_are_left_out_and_n_says_so():
    frame = FIXTURE.copy()
    frame.loc[[0, 5], "value"] = np.nan  # hidden (fewer than N) or not reported
    got = spearman_association(frame, resamples=100)
    assert got.n == 10
    expected = stats.spearmanr(frame["score"].iloc[[i for i in range(12) if i not in (0, 5)]],
                               frame["value"].dropna()).statistic
    assert got.rho == pytest.approx(expected)


def test_too_few_partnerships_or_no_variation_leave_rho_blank_with_the_reason():
    small = spearman_association(FIXTURE.head(4), resamples=100)
    assert small.rho is None and "at least 5" in small.reason and small.n == 4
    flat = FIXTURE.assign(value=40.0)
    assert spearman_association(flat, resamples=100).rho is None

