"""Routing (answered_by) and min_items computed by hand (tests/data/routed/routed-partnership).

The questionnaire: min_items 2; every item weight 1, every domain weight 1; scale 1-5, bands 1.0 / 1.8 /
2.6 / 3.4 / 4.2. Who is asked what:

- governance: board, escalation: every agency (2 items each)
- response: control_room [police, ambulance], handover [police, ambulance, mental_health_trust],
  ambulance_time [ambulance], crisis_team [mental_health_trust, ambulance]
  -> police 2 items (control_room, handover), ambulance 4, trust 2 (handover, crisis_team)
- justice: custody_assessment, liaison [police, mental_health_trust] -> ambulance is asked none

Every expected value is worked out beside it; docs/scoring.md ("Worked example: routing and min_items")
walks through the same numbers.
"""

from __future__ import annotations

import io
import math
from textwrap import dedent

import pytest

from assessment.errors import ErrorCode, ValidationFailed
from assessment.questionnaire import load_questionnaire
from assessment.scoring import read_answers_csv, score_responses
from tests.conftest import ROOT

ROUTED = ROOT / "tests" / "data" / "routed" / "routed-partnership" / "1.0.0.yaml"
HEADER = "partnership,round,respondent,agency,item,value\n"

# Eastmoor, round 2026-R1: three police, two ambulance and two trust respondents. No row = missing.
EASTMOOR = """
    Eastmoor,2026-R1,e-p1,police,governance.board,4
    Eastmoor,2026-R1,e-p1,police,governance.escalation,3
    Eastmoor,2026-R1,e-p1,police,response.control_room,3
    Eastmoor,2026-R1,e-p1,police,response.handover,2
    Eastmoor,2026-R1,e-p1,police,justice.custody_assessment,4
    Eastmoor,2026-R1,e-p1,police,justice.liaison,5
    Eastmoor,2026-R1,e-p2,police,governance.board,3
    Eastmoor,2026-R1,e-p2,police,governance.escalation,DK
    Eastmoor,2026-R1,e-p2,police,response.control_room,4
    Eastmoor,2026-R1,e-p2,police,response.handover,4
    Eastmoor,2026-R1,e-p2,police,justice.custody_assessment,3
    Eastmoor,2026-R1,e-p2,police,justice.liaison,NA
    Eastmoor,2026-R1,e-p3,police,governance.board,5
    Eastmoor,2026-R1,e-p3,police,governance.escalation,4
    Eastmoor,2026-R1,e-p3,police,response.control_room,2
    Eastmoor,2026-R1,e-p3,police,justice.custody_assessment,2
    Eastmoor,2026-R1,e-p3,police,justice.liaison,3
    Eastmoor,2026-R1,e-a1,ambulance,governance.board,2
    Eastmoor,2026-R1,e-a1,ambulance,governance.escalation,2
    Eastmoor,2026-R1,e-a1,ambulance,response.control_room,3
    Eastmoor,2026-R1,e-a1,ambulance,response.handover,3
    Eastmoor,2026-R1,e-a1,ambulance,response.ambulance_time,2
    Eastmoor,2026-R1,e-a1,ambulance,response.crisis_team,4
    Eastmoor,2026-R1,e-a2,ambulance,governance.board,3
    Eastmoor,2026-R1,e-a2,ambulance,governance.escalation,3
    Eastmoor,2026-R1,e-a2,ambulance,response.control_room,2
    Eastmoor,2026-R1,e-a2,ambulance,response.handover,NA
    Eastmoor,2026-R1,e-a2,ambulance,response.ambulance_time,3
    Eastmoor,2026-R1,e-a2,ambulance,response.crisis_team,DK
    Eastmoor,2026-R1,e-m1,mental_health_trust,governance.board,2
    Eastmoor,2026-R1,e-m1,mental_health_trust,governance.escalation,3
    Eastmoor,2026-R1,e-m1,mental_health_trust,response.handover,4
    Eastmoor,2026-R1,e-m1,mental_health_trust,response.crisis_team,3
    Eastmoor,2026-R1,e-m1,mental_health_trust,justice.custody_assessment,3
    Eastmoor,2026-R1,e-m1,mental_health_trust,justice.liaison,4
    Eastmoor,2026-R1,e-m2,mental_health_trust,governance.board,4
    Eastmoor,2026-R1,e-m2,mental_health_trust,governance.escalation,NA
    Eastmoor,2026-R1,e-m2,mental_health_trust,response.handover,3
    Eastmoor,2026-R1,e-m2,mental_health_trust,response.crisis_team,NA
    Eastmoor,2026-R1,e-m2,mental_health_trust,justice.custody_assessment,2
    Eastmoor,2026-R1,e-m2,mental_health_trust,justice.liaison,2
"""


def answers(rows: str):
    return read_answers_csv(io.StringIO(HEADER + dedent(rows).strip() + "\n"))


@pytest.fixture(scope="module")
def routed():
    return load_questionnaire(ROUTED)


@pytest.fixture(scope="module")
def scores(routed):
    return score_responses(routed, answers(EASTMOOR))


def respondent(scores, who: str, domain: str):
    frame = scores.respondents
    row = frame[(frame["respondent"] == who) & (frame["domain"] == domain)]
    assert len(row) == 1
    return row.iloc[0]


def partnership(scores, domain: str):
    frame = scores.partnerships
    row = frame[frame["domain"] == domain]
    assert len(row) == 1
    return row.iloc[0]


def agency_scores(scores, domain: str) -> dict[str, float]:
    frame = scores.agencies[scores.agencies["domain"] == domain]
    return dict(zip(frame["agency"], frame["score"], strict=True))


def test_min_items_needs_two_answered_items_as_well_as_coverage(scores):
    # e-p2 governance: board 3, escalation DK -> coverage 1/2 = 0.5 reaches min_coverage, but one answered
    # item is fewer than min_items 2: insufficient
    row = respondent(scores, "e-p2", "governance")
    assert (row["status"], row["coverage"], row["n_answered"], row["n_dk"]) == ("insufficient", 0.5, 1, 1)
    assert math.isnan(row["score"])
    # e-m2 governance: board 4, escalation NA -> applicable 1, coverage 1/1 = 1.0, still one item: insufficient
    row = respondent(scores, "e-m2", "governance")
    assert (row["status"], row["coverage"], row["n_answered"], row["n_na"]) == ("insufficient", 1.0, 1, 1)
    # e-p3 response: control_room 2, no handover row -> 1 of 2 asked items, coverage 0.5: insufficient
    row = respondent(scores, "e-p3", "response")
    assert (row["status"], row["coverage"], row["n_answered"]) == ("insufficient", 0.5, 1)
    # two answered items: scored
    assert respondent(scores, "e-p1", "governance")["score"] == 3.5  # (4 + 3) / 2


def test_items_not_asked_count_in_neither_coverage_nor_score(scores):
    # e-p1 response: police are asked control_room and handover only; ambulance_time and crisis_team are
    # absent (not missing): applicable 2, answered 2 -> coverage 1.0 (not 2/4 = 0.5), score (3 + 2) / 2
    row = respondent(scores, "e-p1", "response")
    assert (row["status"], row["coverage"], row["score"], row["n_answered"]) == ("scored", 1.0, 2.5, 2)
    # e-a2 response: all four asked; handover NA leaves 3 applicable, crisis_team DK: answered 2 (2, 3)
    # -> coverage 2/3, score (2 + 3) / 2 = 2.5
    row = respondent(scores, "e-a2", "response")
    assert row["coverage"] == pytest.approx(2 / 3) and row["score"] == 2.5 and row["status"] == "scored"
    # e-a1 response: (3 + 3 + 2 + 4) / 4 = 3.0
    assert respondent(scores, "e-a1", "response")["score"] == 3.0


def test_a_domain_not_asked_of_an_agency(scores):
    # ambulance respondents are asked no justice item: status not_asked, no score, no coverage
    row = respondent(scores, "e-a1", "justice")
    assert row["status"] == "not_asked" and math.isnan(row["score"]) and math.isnan(row["coverage"])
    assert (row["n_answered"], row["n_na"], row["n_dk"]) == (0, 0, 0)
    # ... and the ambulance service takes no part in the justice domain: no agency row at all
    assert set(agency_scores(scores, "justice")) == {"police", "mental_health_trust"}
    assert set(agency_scores(scores, "response")) == {"police", "ambulance", "mental_health_trust"}


def test_agency_means_and_the_balanced_score_over_asked_items(scores):
    # governance: police (3.5 + 4.5) / 2 = 4.0 (e-p2 insufficient); ambulance (2 + 3) / 2 = 2.5;
    # trust 2.5 (e-m1 only: (2 + 3) / 2; e-m2 insufficient) -> balanced (4 + 2.5 + 2.5) / 3 = 3.0
    assert agency_scores(scores, "governance") == {"ambulance": 2.5, "mental_health_trust": 2.5, "police": 4.0}
    row = partnership(scores, "governance")
    assert (row["score"], row["n_agencies"], row["n_respondents"], row["agency_gap"]) == (3.0, 3, 5, 1.5)
    # 1 DK over 7 x 2 slots minus e-m2's NA = 13
    assert row["dk_rate"] == pytest.approx(1 / 13)

    # response: police (2.5 + 4.0) / 2 = 3.25; ambulance (3.0 + 2.5) / 2 = 2.75; trust 3.5 (e-m1:
    # (4 + 3) / 2; e-m2 one answered item) -> balanced (3.25 + 2.75 + 3.5) / 3 = 9.5 / 3
    assert agency_scores(scores, "response") == {"ambulance": 2.75, "mental_health_trust": 3.5, "police": 3.25}
    row = partnership(scores, "response")
    assert row["score"] == pytest.approx(9.5 / 3) and row["n_agencies"] == 3
    assert row["agency_gap"] == pytest.approx(0.75) and not row["split"]
    # slots over asked items only: police 3 x 2 = 6; ambulance 4 + (4 - 1 NA) = 7; trust 2 + (2 - 1 NA) = 3
    # -> 16 slots, 1 DK (e-a2 crisis_team)
    assert row["dk_rate"] == pytest.approx(1 / 16)

    # justice: police (4.5 + 2.5) / 2 = 3.5 (e-p2: custody 3, liaison NA -> one item); trust
    # (3.5 + 2.0) / 2 = 2.75 -> balanced (3.5 + 2.75) / 2 = 3.125 over TWO agencies, gap 0.75
    row = partnership(scores, "justice")
    assert (row["score"], row["n_agencies"], row["n_respondents"]) == (3.125, 2, 4)
    assert row["agency_gap"] == pytest.approx(0.75) and row["dk_rate"] == 0.0  # 0 DK over 5 + 4 slots
    assert (row["level"], row["level_label"]) == (3, "Defined")  # 3.125 reaches 2.6, not 3.4

    # overall: (3.0 + 9.5 / 3 + 3.125) / 3 = 3.0972..., level 3
    overall = scores.overall.iloc[0]
    assert overall["score"] == pytest.approx((3.0 + 9.5 / 3 + 3.125) / 3) and overall["level"] == 3


def test_item_figures_count_only_respondents_asked(scores):
    items = scores.items.set_index("item")
    # crisis_team: asked of 2 ambulance + 2 trust respondents; answers 4, DK, 3, NA
    # -> mean 3.5, dk_rate 1 / (4 asked - 1 NA) = 1/3 (not 1 / (7 - 1))
    row = items.loc["response.crisis_team"]
    assert (row["mean"], row["n_answered"], row["n_na"], row["n_dk"]) == (3.5, 2, 1, 1)
    assert row["dk_rate"] == pytest.approx(1 / 3)
    row = items.loc["response.ambulance_time"]
    assert (row["mean"], row["n_answered"], row["dk_rate"]) == (2.5, 2, 0.0)


def test_an_answer_to_an_item_not_asked_is_refused_with_its_row(routed):
    rows = EASTMOOR + """
    Eastmoor,2026-R1,e-p1,police,response.ambulance_time,3
    Eastmoor,2026-R1,e-m1,mental_health_trust,response.control_room,
    Eastmoor,2026-R1,e-a1,ambulance,justice.liaison,NA
    """
    with pytest.raises(ValidationFailed) as caught:
        score_responses(routed, answers(rows), source="answers.csv")
    problems = caught.value.problems
    # rows 2..42 are Eastmoor; row 43 police -> ambulance_time; row 44 an empty value (no answer: fine);
    # row 45 NA to a justice item from the ambulance service (NA is an answer)
    assert [(p.code, p.path) for p in problems] == [
        (ErrorCode.ITEM_NOT_ASKED, "row 43, column item"), (ErrorCode.ITEM_NOT_ASKED, "row 45, column item"),
    ]
    assert problems[0].message == (
        "item 'response.ambulance_time' is not asked of agency 'police' (answered_by: ambulance)")
    assert problems[0].file == "answers.csv"


def test_files_without_min_items_keep_one(mini_v1):
    # mini-partnership has no min_items: one answered item of two (coverage 0.5) still scores
    scores = score_responses(mini_v1, answers("""
        Northshire,2026-R0,r1,police,governance.joint_board,4
    """))
    row = respondent(scores, "r1", "governance")
    assert (row["status"], row["score"], row["n_answered"]) == ("scored", 4.0, 1)


def test_dense_and_sparse_routes_agree_with_routing(routed, scores, monkeypatch):
    import pandas as pd

    from assessment.scoring import engine

    monkeypatch.setattr(engine, "DENSE_LIMIT_FACTOR", -10**9)  # force the bincount-over-rows route
    sparse = score_responses(routed, answers(EASTMOOR))
    for name in ("respondents", "agencies", "partnerships", "overall", "items"):
        pd.testing.assert_frame_equal(getattr(scores, name), getattr(sparse, name), check_exact=False, rtol=1e-13)
