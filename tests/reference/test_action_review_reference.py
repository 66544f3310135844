"""Action review verdicts on a two-round fixture, worked by hand.

Partnership ``kent`` closed round ``k1`` (period 2025-H2) and then ``k2`` (2026-H1), both on the same
questionnaire version, so every domain is comparable. Every respondent in a domain gives the same score,
so each bootstrap resample of a round equals its score and the change interval is the single point
``score(k2) - score(k1)``; the verdict follows from the sign alone (assessment.trends.change_verdict):

| domain     | k1 (n)      | k2 (n)       | change | interval | verdict             |
|------------|-------------|--------------|--------|----------|---------------------|
| governance | 2.0 (6)     | 3.0 (6)      | +1.0   | [1, 1]   | improved            |
| triage     | 2.0 (6)     | 2.0 (6)      |  0.0   | [0, 0]   | no clear change (touches 0) |
| safety     | 4.0 (6)     | 3.0 (6)      | -1.0   | [-1, -1] | declined            |
| crisis     | 3.0 (6)     | 3.0 (4)      |  0.0   | none     | too few respondents (4 < 5) |

Partnership ``surrey`` closed ``s1`` on version 1.0.0 and ``s2`` on 1.1.0 with no definitions to
compare them: every domain is ``not comparable``.

Levels for ``target_met`` (the partnership score frame): governance 3.0 -> level 3, triage 2.0 -> 2,
safety 3.0 -> 3, crisis 3.0 -> 3 (the bands of the mini questionnaire: 1.8 -> 2, 2.6 -> 3, 3.4 -> 4).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from assessment.actions import action_counts, overdue, review_actions
from assessment.trends import domain_trends

AGENCIES = ["police", "mental_health_trust"]


def _respondents(partnership, round_key, period, version, domain, score, n):
    return [{"partnership": partnership, "round": round_key, "period": period, "questionnaire": "mini",
             "version": version, "respondent": f"{round_key}-{domain}-{i}", "agency": AGENCIES[i % 2],
             "domain": domain, "score": score, "status": "scored"} for i in range(n)]


@pytest.fixture(scope="module")
def respondents() -> pd.DataFrame:
    rows = []
    for domain, before, after, n_after in [("governance", 2.0, 3.0, 6), ("triage", 2.0, 2.0, 6),
                                           ("safety", 4.0, 3.0, 6), ("crisis", 3.0, 3.0, 4)]:
        rows += _respondents("kent", "k1", "2025-H2", "1.0.0", domain, before, 6)
        rows += _respondents("kent", "k2", "2026-H1", "1.0.0", domain, after, n_after)
    rows += _respondents("surrey", "s1", "2025-H2", "1.0.0", "governance", 2.0, 6)
    rows += _respondents("surrey", "s2", "2026-H1", "1.1.0", "governance", 4.0, 6)
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def trends(respondents) -> pd.DataFrame:
    return domain_trends(respondents, partnership=None, questionnaires=None, resamples=200, seed=7,
                         min_respondents=5, min_group_size=2)


@pytest.fixture(scope="module")
def scores() -> pd.DataFrame:
    """The partnership score frame, as blank_suppressed leaves it (a hidden score has no level)."""
    rows = [("kent", "k1", "2025-H2", "governance", 2.0, 2), ("kent", "k1", "2025-H2", "triage", 2.0, 2),
            ("kent", "k1", "2025-H2", "safety", 4.0, 4), ("kent", "k1", "2025-H2", "crisis", 3.0, 3),
            ("kent", "k2", "2026-H1", "governance", 3.0, 3), ("kent", "k2", "2026-H1", "triage", 2.0, 2),
            ("kent", "k2", "2026-H1", "safety", 3.0, 3), ("kent", "k2", "2026-H1", "crisis", 3.0, 3),
            ("surrey", "s1", "2025-H2", "governance", 2.0, 2), ("surrey", "s2", "2026-H1", "governance", np.nan, np.nan)]
    return pd.DataFrame(rows, columns=["partnership", "round", "period", "domain", "score", "level"])


def _actions(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["action", "partnership", "round", "period", "domain", "target_level",
                                       "status", "due"])


def test_the_trends_fixture_gives_the_hand_worked_verdicts(trends):
    k2 = trends[trends["round"] == "k2"].set_index("domain")["verdict"].to_dict()
    assert k2 == {"governance": "improved", "triage": "no clear change", "safety": "declined",
                  "crisis": "too few respondents"}
    assert trends.loc[trends["round"] == "s2", "verdict"].tolist() == ["not comparable"]


def test_each_action_gets_the_verdict_and_target_of_the_next_round(trends, scores):
    due = dt.date(2026, 3, 31)
    actions = _actions([
        (1, "kent", "k1", "2025-H2", "governance", 3, "done", due),      # 3.0 -> level 3 >= 3: met, improved
        (2, "kent", "k1", "2025-H2", "governance", 4, "in progress", due),  # level 3 < 4: not met
        (3, "kent", "k1", "2025-H2", "triage", 3, "planned", due),       # level 2 < 3: not met, no clear change
        (4, "kent", "k1", "2025-H2", "safety", 3, "done", due),          # declined, yet level 3 >= 3: met
        (5, "kent", "k1", "2025-H2", "crisis", 3, "done", due),          # too few respondents; level 3: met
        (6, "surrey", "s1", "2025-H2", "governance", 3, "planned", due), # not comparable; score hidden: unknown
        (7, "kent", "k2", "2026-H1", "triage", 3, "planned", due),       # no round after k2 yet: not reviewed
        (8, "kent", None, None, "governance", 2, "planned", due),        # no baseline: k1 is its first review
    ])
    got = review_actions(actions, scores, trends).set_index("action")
    assert got["review_round"].fillna("-").to_dict() == {1: "k2", 2: "k2", 3: "k2", 4: "k2", 5: "k2", 6: "s2",
                                                          7: "-", 8: "k1"}
    assert got["verdict"].to_dict() == {1: "improved", 2: "improved", 3: "no clear change", 4: "declined",
                                        5: "too few respondents", 6: "not comparable", 7: "", 8: "first round"}
    assert got["target_met"].astype(object).where(got["target_met"].notna(), None).to_dict() == {
        1: True, 2: False, 3: False, 4: True, 5: True, 6: None, 7: None, 8: True}
    assert got.loc[1, "review_score"] == 3.0 and got.loc[1, "review_level"] == 3.0
    assert got["status"].to_dict()[2] == "in progress"  # the action's own columns are kept


def test_a_domain_the_review_round_does_not_score_is_not_comparable(trends, scores):
    actions = _actions([(1, "kent", "k1", "2025-H2", "custody", 3, "planned", dt.date(2026, 1, 1))])
    got = review_actions(actions, scores, trends)
    assert got.loc[0, "verdict"] == "not comparable"
    assert pd.isna(got.loc[0, "target_met"])


def test_overdue_and_the_portfolio_counts(trends, scores):
    actions = _actions([
        (1, "kent", "k1", "2025-H2", "governance", 3, "done", dt.date(2026, 1, 1)),         # met, closed
        (2, "kent", "k1", "2025-H2", "triage", 3, "in progress", dt.date(2026, 1, 1)),      # open, overdue
        (3, "kent", "k1", "2025-H2", "safety", 4, "planned", dt.date(2026, 9, 1)),          # open, not due
        (4, "kent", "k1", "2025-H2", "crisis", 3, "dropped", dt.date(2026, 1, 1)),          # met, dropped
        (5, "surrey", "s1", "2025-H2", "governance", 3, "planned", dt.date(2026, 5, 31)),   # open, overdue
    ])
    reviewed = review_actions(actions, scores, trends)
    today = dt.date(2026, 6, 1)
    assert overdue(reviewed, today).tolist() == [False, True, False, False, True]
    counts = action_counts(reviewed, today, partnerships=["kent", "surrey", "york"])
    assert counts.to_dict(orient="records") == [
        {"partnership": "kent", "actions": 4, "open": 2, "overdue": 1, "met": 2},
        {"partnership": "surrey", "actions": 1, "open": 1, "overdue": 1, "met": 0},
        {"partnership": "york", "actions": 0, "open": 0, "overdue": 0, "met": 0},
    ]


def test_no_actions_gives_an_empty_review_with_the_columns(trends, scores):
    got = review_actions(_actions([]), scores, trends)
    assert got.empty and {"verdict", "target_met", "review_round"} <= set(got.columns)
