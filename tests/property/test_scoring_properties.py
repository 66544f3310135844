"""Invariants of the scoring rules, checked on generated answer sets (mini-partnership questionnaire)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from assessment.questionnaire import load_questionnaire
from assessment.scoring import score_responses
from assessment.vocabulary import AGENCIES

QUESTIONNAIRE = load_questionnaire(
    Path(__file__).resolve().parents[1] / "data" / "questionnaires" / "mini-partnership" / "1.0.0.yaml")
ITEMS = [item.id for item in QUESTIONNAIRE.items]
ABSENT = None  # no row at all for the item
ANSWER = st.sampled_from(["1", "2", "3", "4", "5", "1", "2", "3", "4", "5", "NA", "DK", "", ABSENT])
COLUMNS = ["partnership", "round", "respondent", "agency", "item", "value"]


@st.composite
def answer_sets(draw, max_respondents: int = 12):
    """Long-form answers: one or two partnerships, one round, a few respondents in a few agencies."""
    n = draw(st.integers(min_value=1, max_value=max_respondents))
    rows = []
    for index in range(n):
        partnership = draw(st.sampled_from(["Northshire", "Westvale"]))
        agency = draw(st.sampled_from(AGENCIES[:4]))
        for item in ITEMS:
            value = draw(ANSWER)
            if value is not ABSENT:
                rows.append((partnership, "2026-R0", f"{partnership[0]}{index}", agency, item, value))
    return pd.DataFrame(rows, columns=COLUMNS, dtype="str")


def all_scores(scores):
    yield scores.respondents["score"]
    yield scores.agencies["score"]
    yield scores.partnerships["score"]
    yield scores.partnerships["respondent_mean"]
    yield scores.partnerships["median"]
    yield scores.overall["score"]
    yield scores.items["mean"]


@settings(deadline=None, max_examples=60)
@given(answers=answer_sets())
def test_scores_stay_on_the_scale(answers):
    scores = score_responses(QUESTIONNAIRE, answers)
    low, high = QUESTIONNAIRE.scale.minimum, QUESTIONNAIRE.scale.maximum
    for column in all_scores(scores):
        values = column.dropna().to_numpy()
        assert ((values >= low - 1e-12) & (values <= high + 1e-12)).all()
    coverage = scores.respondents["coverage"].dropna()
    assert ((coverage >= 0) & (coverage <= 1 + 1e-12)).all()
    assert (scores.partnerships["dk_rate"].dropna().between(0, 1)).all()
    assert set(scores.partnerships["level"].dropna()) <= {band.level for band in QUESTIONNAIRE.bands}


@settings(deadline=None, max_examples=40)
@given(answers=answer_sets(), seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_row_order_does_not_matter(answers, seed):
    shuffled = answers.sample(frac=1.0, random_state=np.random.RandomState(seed)).reset_index(drop=True)
    first, second = score_responses(QUESTIONNAIRE, answers), score_responses(QUESTIONNAIRE, shuffled)
    for name in ("respondents", "agencies", "partnerships", "overall", "items"):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(second, name), check_exact=False, rtol=1e-12)


@settings(deadline=None, max_examples=60)
@given(answers=answer_sets(), data=st.data())
def test_turning_an_unanswered_item_into_na_keeps_every_scored_score(answers, data):
    before = score_responses(QUESTIONNAIRE, answers)
    respondents = sorted(answers["respondent"].unique())
    respondent = data.draw(st.sampled_from(respondents))
    item = data.draw(st.sampled_from(ITEMS))
    mine = (answers["respondent"] == respondent) & (answers["item"] == item)
    if mine.any():
        if answers.loc[mine, "value"].iloc[0] not in ("DK", ""):
            return  # only unanswered items (DK, empty, absent) are turned into NA
        changed = answers.copy()
        changed.loc[mine, "value"] = "NA"
    else:
        template = answers[answers["respondent"] == respondent].iloc[0]
        extra = pd.DataFrame([[template["partnership"], template["round"], respondent, template["agency"], item, "NA"]],
                             columns=COLUMNS, dtype="str")
        changed = pd.concat([answers, extra], ignore_index=True)
    after = score_responses(QUESTIONNAIRE, changed)
    keys = ["partnership", "round", "respondent", "domain"]
    merged = before.respondents.merge(after.respondents, on=keys, suffixes=("_before", "_after"))
    was_scored = merged["status_before"] == "scored"
    assert (merged.loc[was_scored, "status_after"] == "scored").all()
    assert np.allclose(merged.loc[was_scored, "score_before"], merged.loc[was_scored, "score_after"], rtol=0, atol=1e-12)


@st.composite
def balanced_answer_sets(draw):
    """Every agency has the same number of respondents, each answering every governance item."""
    agencies = draw(st.lists(st.sampled_from(AGENCIES), min_size=1, max_size=4, unique=True))
    per_agency = draw(st.integers(min_value=1, max_value=4))
    rows = []
    for agency in agencies:
        for index in range(per_agency):
            for item in ("governance.joint_board", "governance.escalation"):
                value = draw(st.sampled_from(["1", "2", "3", "4", "5"]))
                rows.append(("Northshire", "2026-R0", f"{agency}-{index}", agency, item, value))
    return pd.DataFrame(rows, columns=COLUMNS, dtype="str")


@settings(deadline=None, max_examples=50)
@given(answers=balanced_answer_sets())
def test_equal_agency_sizes_make_the_balanced_score_the_respondent_mean(answers):
    scores = score_responses(QUESTIONNAIRE, answers)
    row = scores.partnerships[scores.partnerships["domain"] == "governance"].iloc[0]
    assert abs(row["score"] - row["respondent_mean"]) < 1e-12
