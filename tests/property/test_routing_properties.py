"""Routing invariants: an item not asked of an agency is exactly as if it did not exist for that agency.

Two versions of the mini-partnership questionnaire: in ``ROUTED`` the conveyance item (weight 0.5) is
asked of the police only; in ``REMOVED`` it does not exist. For respondents of every other agency the two
must give the same scores, whatever they answer and whatever ``min_items`` is.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from assessment.questionnaire import Questionnaire
from assessment.scoring import score_responses

MINI = Path(__file__).resolve().parents[1] / "data" / "questionnaires" / "mini-partnership" / "1.0.0.yaml"
ROUTED_ITEM = "safety.conveyance"
ASKED = ("police",)
OTHERS = ("mental_health_trust", "ambulance", "local_authority")


def _versions(min_items: int) -> tuple[Questionnaire, Questionnaire]:
    data = yaml.safe_load(MINI.read_text(encoding="utf-8"))
    data["min_items"] = min_items
    for domain in data["domains"]:
        for item in domain["items"]:
            if item["id"] == ROUTED_ITEM:
                item["answered_by"] = list(ASKED)
    routed = Questionnaire.model_validate(data)
    for domain in data["domains"]:
        domain["items"] = [item for item in domain["items"] if item["id"] != ROUTED_ITEM]
    return routed, Questionnaire.model_validate(data)


VERSIONS = {min_items: _versions(min_items) for min_items in (1, 2)}
ITEMS = [item.id for item in VERSIONS[1][1].items]  # every item but the routed one
ANSWER = st.sampled_from(["1", "2", "3", "4", "5", "NA", "DK", "", None])
COLUMNS = ["partnership", "round", "respondent", "agency", "item", "value"]


@st.composite
def answer_sets(draw, agencies=OTHERS):
    rows = []
    for index in range(draw(st.integers(min_value=1, max_value=10))):
        partnership = draw(st.sampled_from(["Northshire", "Westvale"]))
        agency = draw(st.sampled_from(agencies))
        for item in ITEMS + ([ROUTED_ITEM] if agency in ASKED else []):
            value = draw(ANSWER)
            if value is not None:
                rows.append((partnership, "2026-R0", f"{partnership[0]}{index}", agency, item, value))
    return pd.DataFrame(rows, columns=COLUMNS, dtype="str")


def _frames(scores, drop_item: bool):
    items = scores.items
    if drop_item:
        items = items[items["item"].astype(str) != ROUTED_ITEM]
    for frame in (scores.respondents, scores.agencies, scores.partnerships, scores.overall, items):
        out = frame.reset_index(drop=True).copy()
        for column in out.columns:  # categoricals' category lists differ by the routed item's id
            if isinstance(out[column].dtype, pd.CategoricalDtype):
                out[column] = out[column].astype(str)
        yield out


@settings(deadline=None, max_examples=60)
@given(answers=answer_sets(), min_items=st.sampled_from([1, 2]))
def test_an_item_not_asked_scores_as_if_it_did_not_exist(answers, min_items):
    routed, removed = VERSIONS[min_items]
    for with_routing, without in zip(_frames(score_responses(routed, answers), True),
                                     _frames(score_responses(removed, answers), False), strict=True):
        pd.testing.assert_frame_equal(with_routing, without, check_exact=False, rtol=1e-12)


@settings(deadline=None, max_examples=40)
@given(answers=answer_sets(agencies=OTHERS + ASKED), min_items=st.sampled_from([1, 2]))
def test_other_agencies_respondent_scores_ignore_the_routed_item(answers, min_items):
    routed, removed = VERSIONS[min_items]
    key = ["partnership", "round", "respondent", "domain"]
    figures = ["score", "coverage", "n_answered", "n_na", "n_dk", "status"]

    def others(scores):
        frame = scores.respondents
        frame = frame[~frame["agency"].astype(str).isin(ASKED)]
        return frame[key + figures].astype({c: str for c in key + ["status"]}).reset_index(drop=True)

    without_item = answers[answers["item"] != ROUTED_ITEM]  # the version without it would refuse the rows
    pd.testing.assert_frame_equal(others(score_responses(routed, answers)),
                                  others(score_responses(removed, without_item)), check_exact=False, rtol=1e-12)
