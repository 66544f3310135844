"""Trend statistics pinned against hand-computed values: the agency-balanced score, the within-agency
bootstrap, the percentile interval and the verdict at the edges of the interval."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from assessment.questionnaire import load_directory
from assessment.trends import (
    agency_balanced_score,
    bootstrap_agency_balanced,
    change_verdict,
    domain_trends,
    percentile_interval,
)

ROOT = Path(__file__).resolve().parent.parent.parent
TEST_QUESTIONNAIRES = ROOT / "tests" / "data" / "questionnaires"


class FixedDraws:
    """A stand-in for numpy's Generator that hands out chosen uniform draws, so a resample is known."""

    def __init__(self, draws):
        self.draws = np.asarray(draws, dtype=float)

    def random(self, shape):
        assert self.draws.shape == shape
        return self.draws


def test_agency_balanced_score_by_hand():
    # police 2, 2, 2, 2 -> 2; mental health trust 4 -> 4; balanced (2 + 4) / 2 = 3 (plain mean 12 / 5 = 2.4).
    agencies = ["police"] * 4 + ["mental_health_trust"]
    assert agency_balanced_score(np.array([2, 2, 2, 2, 4.0]), np.array(agencies)) == 3.0


def test_each_resample_draws_respondents_within_their_agency():
    # ICB score 5, police scores 1 and 3 (agencies in alphabetical order: icb, then police). A draw u
    # picks respondent floor(u * n_agency) of its agency.
    # Resample 1: ICB u = 0.5 -> 5; police u = 0.0, 0.99 -> respondents 0, 1 -> 1, 3 -> 2; (5 + 2) / 2 = 3.5.
    # Resample 2: police u = 0.6, 0.7 -> respondents 1, 1 -> 3, 3 -> 3; (5 + 3) / 2 = 4.0.
    # Resample 3: police u = 0.2, 0.4 -> respondents 0, 0 -> 1, 1 -> 1; (5 + 1) / 2 = 3.0.
    draws = [[0.5, 0.0, 0.99], [0.1, 0.6, 0.7], [0.9, 0.2, 0.4]]
    dist = bootstrap_agency_balanced(np.array([5.0, 1.0, 3.0]), np.array(["icb", "police", "police"]),
                                     resamples=3, rng=FixedDraws(draws))
    assert dist.tolist() == [3.5, 4.0, 3.0]


def test_agencies_need_not_be_grouped_in_the_input():
    # The same respondents with the ICB row between the police rows: the draws' columns follow the rows
    # grouped by agency in alphabetical order, ICB (5) then police (1, 3), so the same draws give the same
    # resamples as above.
    draws = [[0.5, 0.0, 0.99], [0.1, 0.6, 0.7], [0.9, 0.2, 0.4]]
    dist = bootstrap_agency_balanced(np.array([1.0, 5.0, 3.0]), np.array(["police", "icb", "police"]),
                                     resamples=3, rng=FixedDraws(draws))
    assert dist.tolist() == [3.5, 4.0, 3.0]


def test_an_agency_absent_from_a_domain_does_not_count():
    # police 2 and 4 -> 3; vcse 5 -> 5; balanced 4.0 whatever other agencies exist elsewhere.
    assert agency_balanced_score(np.array([2.0, 5.0, 4.0]), np.array(["police", "vcse", "police"])) == 4.0


def test_percentile_interval_by_hand():
    # 0, 1, ..., 100: the 2.5th percentile sits at h = 100 * 0.025 = 2.5 -> 2.5; the 97.5th at 97.5.
    assert percentile_interval(np.arange(101.0)) == pytest.approx((2.5, 97.5))
    assert all(np.isnan(percentile_interval(np.empty(0))))


def test_interval_of_a_large_single_agency_sample_matches_the_normal_approximation():
    # Efron & Tibshirani (1993) ch. 13: for a mean of n = 400 draws, the percentile interval is close to
    # mean ± 1.96 sd / sqrt(n). Scores alternate 2 and 4: mean 3, sd 1 (population), half-width 0.098.
    scores = np.tile([2.0, 4.0], 200)
    dist = bootstrap_agency_balanced(scores, np.array(["police"] * 400), resamples=2000,
                                     rng=np.random.default_rng(20260101))
    low, high = percentile_interval(dist)
    assert low == pytest.approx(3 - 0.098, abs=0.01)
    assert high == pytest.approx(3 + 0.098, abs=0.01)


def _round(period: str, version: str, scores: dict[str, list[float]], *, domain="governance",
           partnership="Avon and Somerset", questionnaire="mini-partnership") -> pd.DataFrame:
    rows = []
    for agency, values in scores.items():
        for i, score in enumerate(values):
            rows.append({"partnership": partnership, "round": f"{partnership} {period}",
                         "respondent": f"{period}-{agency}-{i}", "agency": agency, "domain": domain,
                         "score": score, "status": "scored", "questionnaire": questionnaire,
                         "version": version, "period": period})
    return pd.DataFrame(rows)


ROUND_1 = {"police": [2.0, 2.4, 1.8, 2.6], "mental_health_trust": [3.0, 2.2, 2.8], "icb": [2.0, 2.6]}
ROUND_2 = {"police": [3.0, 3.4, 2.8, 3.6], "mental_health_trust": [3.8, 3.2, 3.6], "icb": [3.0, 3.4]}


def test_a_seeded_bootstrap_gives_the_same_interval_twice():
    frame = pd.concat([_round("2025-H2", "1.0.0", ROUND_1), _round("2026-H1", "1.0.0", ROUND_2)])
    first = domain_trends(frame, partnership="Avon and Somerset", questionnaires=None, seed=7)
    second = domain_trends(frame, partnership="Avon and Somerset", questionnaires=None, seed=7)
    pd.testing.assert_frame_equal(first, second)
    other = domain_trends(frame, partnership="Avon and Somerset", questionnaires=None, seed=8)
    assert not np.allclose(first["ci_low"], other["ci_low"])


def test_change_is_the_difference_of_balanced_scores_with_its_interval():
    # Round 1: police mean 8.8 / 4 = 2.2, trust 8 / 3 = 2.6667, ICB 2.3 -> balanced 2.38889.
    # Round 2: police 3.2, trust 3.5333, ICB 3.2 -> balanced 3.31111. Change 0.92222.
    frame = pd.concat([_round("2025-H2", "1.0.0", ROUND_1), _round("2026-H1", "1.0.0", ROUND_2)])
    table = domain_trends(frame, partnership="Avon and Somerset", questionnaires=None)
    assert table["score"].tolist() == pytest.approx([2.388889, 3.311111], abs=1e-6)
    last = table.iloc[1]
    assert last["change"] == pytest.approx(0.922222, abs=1e-6)
    assert last["change_low"] > 0 and last["verdict"] == "improved"
    assert last["change_low"] < last["change"] < last["change_high"]


def test_the_default_seed_gives_the_recorded_intervals():
    # Regression pin of the resampling scheme (numpy Generator seeded with [20260101, crc32(partnership,
    # round, domain)], uniform draws laid over respondents grouped by agency, 2,000 resamples). If this
    # changes, every published interval changes: do it only on purpose and say so in the change log.
    frame = pd.concat([_round("2025-H2", "1.0.0", ROUND_1), _round("2026-H1", "1.0.0", ROUND_2)])
    table = domain_trends(frame, partnership="Avon and Somerset", questionnaires=None)
    assert table["ci_low"].tolist() == pytest.approx([2.172222, 3.133333], abs=1e-6)
    assert table["ci_high"].tolist() == pytest.approx([2.594444, 3.477778], abs=1e-6)
    assert (table.at[1, "change_low"], table.at[1, "change_high"]) == pytest.approx((0.65, 1.189028), abs=1e-6)


@pytest.mark.parametrize(
    ("low", "high", "verdict"),
    [
        (0.0, 0.5, "no clear change"),   # an interval starting at 0 is not above 0
        (1e-9, 0.5, "improved"),
        (-0.5, 0.0, "no clear change"),  # ending at 0 is not below 0
        (-0.5, -1e-9, "declined"),
        (-0.2, 0.3, "no clear change"),
    ],
)
def test_verdict_at_the_interval_edges(low, high, verdict):
    assert change_verdict(low, high) == verdict


def test_not_comparable_and_too_few_respondents_come_before_the_interval():
    assert change_verdict(0.2, 0.9, comparable=False) == "not comparable"
    assert change_verdict(0.2, 0.9, enough_respondents=False) == "too few respondents"
    assert change_verdict(0.2, 0.9, comparable=False, enough_respondents=False) == "not comparable"


@pytest.mark.parametrize(("n_second", "verdict"), [(4, "too few respondents"), (5, "improved")])
def test_five_scored_respondents_are_needed_in_each_round(n_second, verdict):
    second = {"police": [3.6, 3.8, 4.0, 3.6, 3.8][:n_second]}
    frame = pd.concat([_round("2025-H2", "1.0.0", {"police": [1.2, 1.4, 1.0, 1.2, 1.4]}),
                       _round("2026-H1", "1.0.0", second)])
    last = domain_trends(frame, partnership="Avon and Somerset", questionnaires=None).iloc[1]
    assert last["n_respondents"] == n_second
    assert last["verdict"] == verdict
    assert bool(np.isnan(last["change_low"])) is (n_second < 5)
    assert bool(np.isnan(last["ci_low"])) is (n_second < 5)


def test_a_version_break_stops_the_change():
    # mini-partnership 1.0.0 -> 1.1.0: governance comparable (reworded), triage split (not comparable).
    questionnaires = load_directory(TEST_QUESTIONNAIRES)
    frame = pd.concat([
        _round("2025-H2", "1.0.0", ROUND_1, domain="governance"),
        _round("2025-H2", "1.0.0", ROUND_1, domain="triage"),
        _round("2026-H1", "1.1.0", ROUND_2, domain="governance"),
        _round("2026-H1", "1.1.0", ROUND_2, domain="triage"),
    ])
    table = domain_trends(frame, partnership="Avon and Somerset", questionnaires=questionnaires)
    last = table[table["period"] == "2026-H1"].set_index("domain")
    assert bool(last.at["governance", "comparable_with_previous"]) is True
    assert last.at["governance", "verdict"] == "improved"
    assert bool(last.at["triage", "comparable_with_previous"]) is False
    assert last.at["triage", "verdict"] == "not comparable"
    assert "triage.clinician split" in last.at["triage", "break_reason"]
    assert np.isnan(last.at["triage", "change"])
    # safety has a row in every round even though nobody was scored on it here
    assert last.at["safety", "n_respondents"] == 0 and last.at["safety", "verdict"] == "not comparable"


def test_shipped_versions_break_the_trend_where_the_crosswalk_says():
    from assessment.questionnaire import compare_versions, versions_of

    questionnaires = load_directory(ROOT / "questionnaires")
    old = questionnaires[("police-mental-health", "1.0.0")]
    new = questionnaires[("police-mental-health", "1.1.0")]
    verdicts = compare_versions(old, new, versions_of(questionnaires, "police-mental-health"))
    frame = pd.concat(
        [_round("2025-H2", "1.0.0", ROUND_1, domain=d.id, questionnaire="police-mental-health") for d in old.domains]
        + [_round("2026-H1", "1.1.0", ROUND_2, domain=d.id, questionnaire="police-mental-health") for d in new.domains]
    )
    table = domain_trends(frame, partnership="Avon and Somerset", questionnaires=questionnaires)
    last = table[table["period"] == "2026-H1"].set_index("domain")
    for domain in last.index:
        comparable = verdicts[domain].comparable
        assert bool(last.at[domain, "comparable_with_previous"]) is comparable, domain
        assert (last.at[domain, "verdict"] == "not comparable") is (not comparable)
