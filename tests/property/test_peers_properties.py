"""Invariants of the peer statistics and the bootstrap, checked on generated inputs (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import stats

from assessment.peers import compare_with_peers
from assessment.trends import bootstrap_agency_balanced, change_verdict, percentile_interval

scores_on_scale = st.floats(min_value=1.0, max_value=5.0, allow_nan=False).map(lambda x: round(x, 2))


def comparison(own: float, peers: list[float], *, min_peers: int = 3, **rule) -> pd.Series:
    names = [f"Partnership {i}" for i in range(len(peers))]
    scores = pd.DataFrame({"partnership": ["Own", *names], "round": "2026-H1", "domain": "culture",
                           "score": [own, *peers]})
    partnerships = pd.DataFrame({"partnership": ["Own", *names], "nation": "England", "region": "East Midlands"})
    return compare_with_peers(scores, partnerships, partnership="Own", round="2026-H1",
                              min_peers=min_peers, **rule).iloc[0]


@settings(max_examples=40)  # each example builds two small frames: keep the file under ~10 s
@given(own=scores_on_scale, peers=st.lists(scores_on_scale, min_size=10, max_size=30))
@example(own=2.0, peers=[1.0] * 11)  # scipy gives 100.00000000000001 here
def test_peer_statistics_are_ordered_and_on_the_scale(own, peers):
    r = comparison(own, peers)
    assert r["n_peers"] == len(peers)
    assert r["min"] <= r["q1"] <= r["median"] <= r["q3"] <= r["max"]
    assert r["min"] >= 1.0 and r["max"] <= 5.0
    assert 0.0 <= r["percentile_rank"] <= 100.0
    assert r["percentile_rank"] == pytest.approx(stats.percentileofscore(peers, own, kind="mean"), abs=1e-9)
    assert np.isclose(r["gap_to_median"], own - r["median"])


@settings(max_examples=40)  # each example builds two small frames: keep the file under ~10 s
@given(own=scores_on_scale, peers=st.lists(scores_on_scale, min_size=3, max_size=15), seed=st.integers(0, 2**32 - 1))
def test_the_order_of_peers_does_not_matter(own, peers, seed):
    shuffled = list(np.random.default_rng(seed).permutation(peers))
    a, b = comparison(own, peers), comparison(own, shuffled)
    for column in ("median", "q1", "q3", "min", "max", "percentile_rank"):
        assert np.isclose(a[column], b[column], equal_nan=True)


@settings(max_examples=40)  # each example builds two small frames: keep the file under ~10 s
@given(own=scores_on_scale, peers=st.lists(scores_on_scale, min_size=0, max_size=6),
       min_peers=st.integers(1, 6))
def test_suppressed_exactly_below_min_peers(own, peers, min_peers):
    # ... and below 3 whatever min_peers says: the median of 1 or 2 peers gives them away to an insider
    r = comparison(own, peers, min_peers=min_peers)
    hidden = len(peers) < max(min_peers, 3)
    assert bool(r["suppressed"]) is hidden
    assert r["n_peers"] == len(peers)
    assert bool(np.isnan(r["median"])) is hidden


@given(data=st.lists(st.tuples(st.sampled_from(["police", "icb", "vcse", "ambulance"]), scores_on_scale),
                     min_size=1, max_size=25),
       seed=st.integers(0, 2**32 - 1))
def test_every_resample_stays_between_the_lowest_and_highest_agency_mean(data, seed):
    agencies = np.array([a for a, _ in data])
    values = np.array([v for _, v in data])
    dist = bootstrap_agency_balanced(values, agencies, resamples=200, rng=np.random.default_rng(seed))
    assert dist.shape == (200,)
    assert np.all(dist >= values.min() - 1e-12) and np.all(dist <= values.max() + 1e-12)
    low, high = percentile_interval(dist)
    assert low <= high


@given(low=st.floats(-2, 2), width=st.floats(0, 2))
def test_a_verdict_never_claims_more_than_its_interval(low, width):
    high = low + width
    verdict = change_verdict(low, high)
    assert (verdict == "improved") is (low > 0)
    assert (verdict == "declined") is (high < 0)
