"""Suppression: no suppressed agency mean can be derived from the figures the app and the exports show.

The proof is an attacker: every shown figure becomes a linear equation in the hidden agency means, and
a hidden mean m_j is derivable exactly when the unit vector e_j lies in the row space of the system
(rank test with numpy). Median, SD, agency gap, the split flag and item figures are not linear in the
agency means; the rule hides them whenever an agency is hidden, and the attacker fails the test if it
ever sees one of them next to a hidden agency.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assessment.disclosure import FLAG_COLUMNS, HIDDEN_FIGURES
from assessment.scoring import blank_suppressed, score_responses
from assessment.vocabulary import AGENCIES

DOMAIN = "governance"


def answers_for(groups: dict[str, list[tuple[int, int]]]) -> pd.DataFrame:
    """One partnership; each respondent answers the two governance items."""
    rows = []
    for agency, respondents in groups.items():
        for index, (a, b) in enumerate(respondents):
            respondent = f"{agency}-{index}"
            rows.append(("Northshire", "2026-R0", respondent, agency, "governance.joint_board", str(a)))
            rows.append(("Northshire", "2026-R0", respondent, agency, "governance.escalation", str(b)))
    return pd.DataFrame(rows, columns=["partnership", "round", "respondent", "agency", "item", "value"], dtype="str")


def derivable_hidden_means(scores, domain: str = DOMAIN) -> list[str]:
    """The attacker: which hidden agency means can be solved from the shown figures? (Fails on leaks.)"""
    agencies = blank_suppressed(scores.agencies)
    agencies = agencies[agencies["domain"] == domain]
    agencies = agencies[agencies["n_respondents"] > 0]
    hidden = agencies[agencies["score"].isna()]
    if hidden.empty:
        return []
    partnership = blank_suppressed(scores.partnerships)
    row = partnership[partnership["domain"] == domain].iloc[0]
    for figure in ("median", "sd", "agency_gap", "split"):
        assert pd.isna(row[figure]), f"{figure} shown beside a hidden agency mean"
    items = blank_suppressed(scores.items)
    items = items[(items["domain"] == domain) & (items["n_answered"] > 0)]
    assert items["mean"].isna().all(), "item means shown beside a hidden agency mean"
    count_columns = [c for c in items.columns if c.startswith("count_")]
    assert items[count_columns].isna().all().all(), "answer counts shown beside a hidden agency mean"

    equations = []
    overall = blank_suppressed(scores.overall).iloc[0]
    score_known = not pd.isna(row["score"]) or (not pd.isna(overall["score"]) and overall["n_domains_scored"] == 1)
    if score_known:  # agency-balanced score: sum of the hidden means is known
        equations.append(np.ones(len(hidden)))
    if not pd.isna(row["respondent_mean"]):  # respondent mean: sum of n_a * m_a is known (counts are shown)
        equations.append(hidden["n_respondents"].to_numpy(dtype=float))
    if not equations:
        return []
    system = np.vstack(equations)
    rank = np.linalg.matrix_rank(system)
    solvable = []
    for j, agency in enumerate(hidden["agency"]):
        unit = np.zeros(len(hidden))
        unit[j] = 1.0
        if np.linalg.matrix_rank(np.vstack([system, unit])) == rank:
            solvable.append(agency)
    return solvable


def figures_hidden(frame: pd.DataFrame, row) -> set[str]:
    """The columns of ``frame`` that the row's ``hidden`` code hides."""
    return set(HIDDEN_FIGURES[row["hidden"]]) & set(frame.columns)


def flags(scores, agency: str) -> tuple[bool, str]:
    frame = scores.agencies
    row = frame[(frame["domain"] == DOMAIN) & (frame["agency"] == agency)].iloc[0]
    return bool(row["suppressed"]), row["suppression_reason"]


def partnership_row(scores):
    frame = scores.partnerships
    return frame[frame["domain"] == DOMAIN].iloc[0]


def test_one_small_agency_takes_the_next_smallest_with_it(mini_v1):
    # police 5 respondents (mean 4), icb 1 (mean 2): showing the balanced score (4 + 2) / 2 = 3 and police's
    # mean 4 would reveal icb's 2; so police is hidden too, and with sizes 5 and 1 the respondent mean
    # (5*4 + 2) / 6 plus the balanced score would solve both: the respondent mean is hidden as well.
    scores = score_responses(mini_v1, answers_for({"police": [(4, 4)] * 5, "icb": [(2, 2)]}))
    assert flags(scores, "icb") == (True, "small_group")
    assert flags(scores, "police") == (True, "complementary")
    row = partnership_row(scores)
    assert row["suppression_reason"] == "complementary"
    assert figures_hidden(scores.partnerships, row) == {"respondent_mean", "median", "sd", "agency_gap", "split"}
    shown = blank_suppressed(scores.partnerships)
    assert shown[shown["domain"] == DOMAIN]["score"].iloc[0] == 3.0  # the score itself stays shown
    assert derivable_hidden_means(scores) == []
    # the library still writes every value
    assert row["respondent_mean"] == pytest.approx(22 / 6) and row["median"] == 4.0


def test_two_hidden_agencies_of_unequal_size_hide_the_respondent_mean(mini_v1):
    scores = score_responses(mini_v1, answers_for(
        {"police": [(4, 4)] * 10, "icb": [(2, 2), (3, 3)], "ambulance": [(1, 1)]}))
    assert flags(scores, "icb") == (True, "small_group") and flags(scores, "ambulance") == (True, "small_group")
    assert flags(scores, "police") == (False, "")
    assert "respondent_mean" in figures_hidden(scores.partnerships, partnership_row(scores))
    assert derivable_hidden_means(scores) == []


def test_two_hidden_agencies_of_equal_size_keep_the_respondent_mean(mini_v1):
    scores = score_responses(mini_v1, answers_for(
        {"police": [(4, 4)] * 10, "icb": [(2, 2), (3, 3)], "ambulance": [(1, 1), (2, 2)]}))
    row = partnership_row(scores)
    assert "respondent_mean" not in figures_hidden(scores.partnerships, row)
    assert derivable_hidden_means(scores) == []


def test_ties_for_the_next_smallest_agency_break_alphabetically(mini_v1):
    scores = score_responses(mini_v1, answers_for(
        {"police": [(4, 4)] * 4, "ambulance": [(3, 3)] * 4, "vcse": [(2, 2)]}))
    assert flags(scores, "vcse") == (True, "small_group")
    assert flags(scores, "ambulance") == (True, "complementary")  # 'ambulance' < 'police'
    assert flags(scores, "police") == (False, "")


def test_a_small_partnership_hides_the_whole_row_and_the_overall_score(mini_v1):
    scores = score_responses(mini_v1, answers_for({"police": [(4, 4)], "icb": [(2, 3)]}))
    row = partnership_row(scores)
    assert (bool(row["suppressed"]), row["suppression_reason"]) == (True, "small_group")
    assert figures_hidden(scores.partnerships, row) == {
        "score", "level", "level_label", "respondent_mean", "median", "sd", "agency_gap", "split"}
    overall = scores.overall.iloc[0]
    assert bool(overall["suppressed"]) and overall["suppression_reason"] == "complementary"
    shown = blank_suppressed(scores.overall).iloc[0]
    assert pd.isna(shown["score"]) and pd.isna(shown["level"]) and pd.isna(shown["level_label"])
    assert flags(scores, "police") == (True, "small_group")
    assert derivable_hidden_means(scores) == []


def test_small_item_groups_are_hidden(mini_v1):
    scores = score_responses(mini_v1, answers_for({"police": [(4, 4)] * 2 + [(4, "")]}))
    items = scores.items.set_index("item")
    assert items.loc["governance.escalation", "suppression_reason"] == "small_group"  # 2 answers
    assert items.loc["governance.joint_board", "suppressed"] == False  # noqa: E712 - 3 answers
    shown = blank_suppressed(scores.items).set_index("item")
    assert pd.isna(shown.loc["governance.escalation", "mean"]) and pd.isna(shown.loc["governance.escalation", "count_4"])
    assert shown.loc["governance.escalation", "n_answered"] == 2  # counts of respondents stay shown


def test_no_suppression_with_large_groups(mini_v1):
    scores = score_responses(mini_v1, answers_for({"police": [(4, 4)] * 3, "icb": [(2, 2)] * 3}))
    assert not scores.agencies["suppressed"].any()
    assert not scores.partnerships["suppressed"].any() and not scores.overall["suppressed"].any()
    assert (scores.partnerships["hidden"] == "").all() and not scores.partnerships["score_hidden"].any()
    pd.testing.assert_frame_equal(blank_suppressed(scores.partnerships), scores.partnerships)


def test_blank_suppressed_keeps_the_frame_and_types(mini_v1):
    scores = score_responses(mini_v1, answers_for({"police": [(4, 4)] * 5, "icb": [(2, 2)]}))
    shown = blank_suppressed(scores.partnerships)
    assert list(shown.columns) == list(scores.partnerships.columns)
    assert str(shown["split"].dtype) == "boolean"
    row = shown[shown["domain"] == DOMAIN].iloc[0]
    assert pd.isna(row["split"]) and pd.isna(row["sd"]) and row["n_respondents"] == 6
    # the input is not modified
    assert not pd.isna(scores.partnerships[scores.partnerships["domain"] == DOMAIN].iloc[0]["sd"])
    # a frame without flags passes through
    assert blank_suppressed(scores.respondents).equals(scores.respondents)


def test_suppression_never_changes_a_value(mini_v1):
    frame = answers_for({"police": [(4, 4)] * 5, "icb": [(2, 2)], "ambulance": [(1, 2), (3, 3)]})
    flagged = score_responses(mini_v1, frame, min_group_size=3)
    plain = score_responses(mini_v1, frame, min_group_size=1)
    for name in ("respondents", "agencies", "partnerships", "overall", "items"):
        a, b = getattr(flagged, name), getattr(plain, name)
        figures = [c for c in a.columns if c not in FLAG_COLUMNS]
        pd.testing.assert_frame_equal(a[figures], b[figures])


group_sizes = st.dictionaries(
    st.sampled_from(AGENCIES), st.integers(min_value=0, max_value=6), min_size=1, max_size=5
).filter(lambda sizes: sum(sizes.values()) > 0)


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sizes=group_sizes, data=st.data(), min_group_size=st.integers(min_value=2, max_value=4))
def test_no_suppressed_agency_mean_is_derivable(mini_v1, sizes, data, min_group_size):
    answer = st.tuples(st.integers(1, 5), st.integers(1, 5))
    groups = {agency: data.draw(st.lists(answer, min_size=n, max_size=n)) for agency, n in sizes.items() if n}
    scores = score_responses(mini_v1, answers_for(groups), min_group_size=min_group_size)
    assert derivable_hidden_means(scores) == []
    # and every small group is hidden
    agencies = scores.agencies[scores.agencies["domain"] == DOMAIN]
    small = agencies[(agencies["n_respondents"] >= 1) & (agencies["n_respondents"] < min_group_size)]
    assert small["suppressed"].all()
    total = int(agencies["n_respondents"].sum())
    row = partnership_row(scores)
    assert (row["suppression_reason"] == "small_group") == (1 <= total < min_group_size)
    # hiding is minimal in one sense: with no small agency nothing is hidden
    if small.empty and total >= min_group_size:
        assert not agencies["suppressed"].any() and not math.isnan(row["score"]) and row["hidden"] == ""
