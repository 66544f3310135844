"""Scores computed by hand for the mini-partnership questionnaire (tests/data/questionnaires/mini-partnership).

The questionnaire: governance (joint_board w1, escalation w1; domain weight 1), triage (clinician w1,
referral_routes w1; weight 1), safety (hbpos w1, handover w1, conveyance w0.5; weight 2). Scale 1-5,
bands 1.0 Initial / 1.8 Developing / 2.6 Defined / 3.4 Integrated / 4.2 Leading. Every expected value
below is worked out in the comment beside it; docs/scoring.md walks through the same arithmetic.
"""

from __future__ import annotations

import io
import math
from textwrap import dedent

import pytest

from assessment.scoring import read_answers_csv, score_responses

HEADER = "partnership,round,respondent,agency,item,value\n"


def answers(rows: str):
    return read_answers_csv(io.StringIO(HEADER + dedent(rows).strip() + "\n"))


def respondent_row(scores, respondent: str, domain: str):
    frame = scores.respondents
    row = frame[(frame["respondent"] == respondent) & (frame["domain"] == domain)]
    assert len(row) == 1
    return row.iloc[0]


def partnership_row(scores, domain: str, partnership: str = "Northshire"):
    frame = scores.partnerships
    row = frame[(frame["partnership"] == partnership) & (frame["domain"] == domain)]
    assert len(row) == 1
    return row.iloc[0]


def test_na_items_leave_the_domain(mini_v1):
    scores = score_responses(mini_v1, answers("""
        Northshire,2026-R0,r1,police,governance.joint_board,4
        Northshire,2026-R0,r1,police,governance.escalation,NA
        Northshire,2026-R0,r2,police,governance.joint_board,NA
        Northshire,2026-R0,r2,police,governance.escalation,NA
        Northshire,2026-R0,r3,police,governance.joint_board,4
    """))
    r1 = respondent_row(scores, "r1", "governance")
    # NA: applicable weight 2 - 1 = 1, answered 1 -> coverage 1, score 4/1 = 4
    assert (r1["score"], r1["coverage"], r1["n_answered"], r1["n_na"], r1["status"]) == (4.0, 1.0, 1, 1, "scored")
    # both items NA: nothing applicable
    r2 = respondent_row(scores, "r2", "governance")
    assert r2["status"] == "not_applicable" and math.isnan(r2["score"]) and math.isnan(r2["coverage"])
    # an absent row is missing, not NA: applicable 2, answered 1 -> coverage 0.5 (exactly 0.5 is scored)
    r3 = respondent_row(scores, "r3", "governance")
    assert (r3["score"], r3["coverage"], r3["status"]) == (4.0, 0.5, "scored")
    # a domain with no rows at all is missing, not NA
    assert respondent_row(scores, "r1", "triage")["status"] == "insufficient"


def test_dk_pushes_coverage_below_the_threshold(mini_v1):
    scores = score_responses(mini_v1, answers("""
        Northshire,2026-R0,r1,police,safety.hbpos,4
        Northshire,2026-R0,r1,police,safety.handover,DK
        Northshire,2026-R0,r1,police,safety.conveyance,DK
        Northshire,2026-R0,r2,police,safety.hbpos,4
        Northshire,2026-R0,r2,police,safety.handover,2
        Northshire,2026-R0,r2,police,safety.conveyance,DK
        Northshire,2026-R0,r1,police,triage.clinician,3
        Northshire,2026-R0,r1,police,triage.referral_routes,DK
    """))
    r1 = respondent_row(scores, "r1", "safety")
    # answered weight 1 of applicable 1 + 1 + 0.5 = 2.5 -> coverage 0.4 < 0.5: no score
    assert r1["status"] == "insufficient" and math.isnan(r1["score"])
    assert r1["coverage"] == pytest.approx(0.4, abs=1e-12) and r1["n_dk"] == 2
    r2 = respondent_row(scores, "r2", "safety")
    # answered 2 of 2.5 -> 0.8; score (4 + 2) / 2 = 3
    assert (r2["status"], r2["score"]) == ("scored", 3.0) and r2["coverage"] == pytest.approx(0.8, abs=1e-12)
    # triage: one DK of two equal items -> coverage exactly 0.5 -> scored, score 3
    assert respondent_row(scores, "r1", "triage")[["status", "score", "coverage"]].tolist() == ["scored", 3.0, 0.5]
    # a stricter threshold turns the 0.5 case insufficient (the threshold is a parameter)
    strict = score_responses(mini_v1, answers("""
        Northshire,2026-R0,r1,police,triage.clinician,3
        Northshire,2026-R0,r1,police,triage.referral_routes,DK
    """), min_coverage=0.6)
    assert respondent_row(strict, "r1", "triage")["status"] == "insufficient"
    # dk_rate: DK answers / applicable item slots. safety slots: 2 respondents x 3 items = 6, DK = 3
    assert partnership_row(scores, "safety")["dk_rate"] == pytest.approx(3 / 6)


def test_agency_balancing_with_unequal_group_sizes(mini_v1):
    rows = [f"Northshire,2026-R0,p{i},police,governance.joint_board,4\n"
            f"Northshire,2026-R0,p{i},police,governance.escalation,4" for i in range(4)]
    rows.append("Northshire,2026-R0,i1,icb,governance.joint_board,2\nNorthshire,2026-R0,i1,icb,governance.escalation,2")
    scores = score_responses(mini_v1, answers("\n".join(rows)), min_group_size=1)
    row = partnership_row(scores, "governance")
    # agency means: police 4 (4 respondents), icb 2 (1 respondent); balanced (4 + 2) / 2 = 3
    assert row["score"] == 3.0
    # respondent mean (4*4 + 2) / 5 = 3.6; median 4; n 5 respondents, 2 agencies
    assert row["respondent_mean"] == pytest.approx(3.6)
    assert (row["median"], row["n_respondents"], row["n_agencies"]) == (4.0, 5, 2)
    # sd (ddof 1): deviations 0.4 x4 and -1.6 -> (4*0.16 + 2.56) / 4 = 0.8 -> sqrt(0.8)
    assert row["sd"] == pytest.approx(math.sqrt(0.8))
    # agency gap 4 - 2 = 2 >= 1 -> split; level: 3.0 reaches 2.6 (Defined) but not 3.4
    assert row["agency_gap"] == 2.0 and bool(row["split"])
    assert (row["level"], row["level_label"]) == (3, "Defined")
    agencies = scores.agencies[scores.agencies["domain"] == "governance"].set_index("agency")
    assert agencies.loc["police", "score"] == 4.0 and agencies.loc["police", "n_respondents"] == 4
    assert agencies.loc["icb", "score"] == 2.0 and agencies.loc["icb", "n_respondents"] == 1


def test_item_and_domain_weights(mini_v1):
    scores = score_responses(mini_v1, answers("""
        Northshire,2026-R0,r1,police,governance.joint_board,4
        Northshire,2026-R0,r1,police,governance.escalation,4
        Northshire,2026-R0,r1,police,triage.clinician,2
        Northshire,2026-R0,r1,police,triage.referral_routes,2
        Northshire,2026-R0,r1,police,safety.hbpos,5
        Northshire,2026-R0,r1,police,safety.handover,1
        Northshire,2026-R0,r1,police,safety.conveyance,2
    """), min_group_size=1)
    # safety: (1*5 + 1*1 + 0.5*2) / (1 + 1 + 0.5) = 7 / 2.5 = 2.8 (unweighted mean would be 2.667)
    assert respondent_row(scores, "r1", "safety")["score"] == pytest.approx(2.8)
    overall = scores.overall.iloc[0]
    # overall: domain weights 1, 1, 2 -> (4 + 2 + 2 * 2.8) / 4 = 11.6 / 4 = 2.9
    assert overall["score"] == pytest.approx(2.9)
    assert (overall["level"], overall["level_label"], overall["n_domains_scored"]) == (3, "Defined", 3)


@pytest.mark.parametrize(
    ("hbpos", "handover", "conveyance", "score", "level", "label"),
    [
        (3, 2, 3, 2.6, 3, "Defined"),      # (3 + 2 + 1.5) / 2.5 = 6.5 / 2.5 = 2.6: exactly on the bound
        (4, 3, 3, 3.4, 4, "Integrated"),   # (4 + 3 + 1.5) / 2.5 = 8.5 / 2.5 = 3.4
        (3, 2, 2, 2.4, 2, "Developing"),   # (3 + 2 + 1) / 2.5 = 2.4: below 2.6
        (1, 1, 1, 1.0, 1, "Initial"),      # the scale minimum is the first bound
        (5, 5, 5, 5.0, 5, "Leading"),
    ],
)
def test_score_on_a_band_lower_bound(mini_v1, hbpos, handover, conveyance, score, level, label):
    scores = score_responses(mini_v1, answers(f"""
        Northshire,2026-R0,r1,police,safety.hbpos,{hbpos}
        Northshire,2026-R0,r1,police,safety.handover,{handover}
        Northshire,2026-R0,r1,police,safety.conveyance,{conveyance}
    """), min_group_size=1)
    row = partnership_row(scores, "safety")
    assert row["score"] == pytest.approx(score, abs=1e-12)
    assert (row["level"], row["level_label"]) == (level, label)


def test_agency_balanced_bound_reached_through_float_arithmetic(mini_v1):
    # agency means 2.2 and 3.0 -> (2.2 + 3.0) / 2 = 2.6 in exact arithmetic; level 3 despite binary floats.
    # police: five respondents whose governance scores are 2, 2, 2, 2.5, 2.5 -> mean 11 / 5 = 2.2
    values = [(2, 2), (2, 2), (2, 2), (2, 3), (2, 3)]
    rows = [f"Northshire,2026-R0,p{i},police,governance.joint_board,{a}\n"
            f"Northshire,2026-R0,p{i},police,governance.escalation,{b}" for i, (a, b) in enumerate(values)]
    rows += [f"Northshire,2026-R0,a{i},ambulance,governance.joint_board,3\n"
             f"Northshire,2026-R0,a{i},ambulance,governance.escalation,3" for i in range(3)]
    row = partnership_row(score_responses(mini_v1, answers("\n".join(rows))), "governance")
    assert row["score"] == pytest.approx(2.6)
    assert row["level"] == 3


def test_agencies_without_a_scored_respondent_are_left_out(mini_v1):
    scores = score_responses(mini_v1, answers("""
        Northshire,2026-R0,p1,police,governance.joint_board,4
        Northshire,2026-R0,p1,police,governance.escalation,4
        Northshire,2026-R0,m1,mental_health_trust,governance.joint_board,DK
        Northshire,2026-R0,m1,mental_health_trust,governance.escalation,DK
    """), min_group_size=1)
    row = partnership_row(scores, "governance")
    # the trust's only respondent has coverage 0: the score is police's 4, one agency, no gap
    assert (row["score"], row["n_agencies"], row["n_respondents"]) == (4.0, 1, 1)
    assert math.isnan(row["agency_gap"]) and not bool(row["split"])
    trust = scores.agencies[(scores.agencies["agency"] == "mental_health_trust")
                            & (scores.agencies["domain"] == "governance")].iloc[0]
    assert math.isnan(trust["score"]) and trust["n_respondents"] == 0
    # dk_rate: 2 DK of 4 applicable slots
    assert row["dk_rate"] == 0.5


def test_split_on_sd_alone(mini_v1):
    # one agency; respondent scores 1, 1, 3, 3 -> mean 2, sd sqrt(4 * 1 / 3) = 1.155 >= 1: split
    rows = [f"Northshire,2026-R0,p{i},police,governance.joint_board,{v}\n"
            f"Northshire,2026-R0,p{i},police,governance.escalation,{v}" for i, v in enumerate([1, 1, 3, 3])]
    row = partnership_row(score_responses(mini_v1, answers("\n".join(rows))), "governance")
    assert row["sd"] == pytest.approx(math.sqrt(4 / 3)) and math.isnan(row["agency_gap"])
    assert bool(row["split"]) and row["median"] == 2.0


def test_item_figures(mini_v1):
    scores = score_responses(mini_v1, answers("""
        Northshire,2026-R0,r1,police,triage.clinician,4
        Northshire,2026-R0,r2,police,triage.clinician,2
        Northshire,2026-R0,r3,police,triage.clinician,DK
        Northshire,2026-R0,r4,police,triage.clinician,NA
        Northshire,2026-R0,r5,police,triage.clinician,4
        Northshire,2026-R0,r6,police,governance.joint_board,3
    """))
    item = scores.items[scores.items["item"] == "triage.clinician"].iloc[0]
    # answered 4, 2, 4 -> mean 10 / 3; six respondents in the round, one NA -> 5 slots, 1 DK -> 0.2
    assert item["mean"] == pytest.approx(10 / 3)
    assert (item["n_answered"], item["n_na"], item["n_dk"]) == (3, 1, 1)
    assert item["dk_rate"] == pytest.approx(0.2)
    assert [item[f"count_{v}"] for v in range(1, 6)] == [0, 1, 0, 2, 0]
    assert item["domain"] == "triage"


def test_the_worked_example_of_docs_scoring_md(mini_v1):
    """Every number of the worked example in docs/scoring.md (Northshire, tests/data/responses)."""
    scores = score_responses(mini_v1, read_answers_csv("tests/data/responses/mini-two-partnerships.csv"))
    safety = {row["respondent"]: row for _, row in scores.respondents[scores.respondents["domain"] == "safety"].iterrows()}
    assert safety["n-p1"]["score"] == 2.5 and safety["n-p1"]["n_na"] == 1
    assert safety["n-p2"]["score"] == pytest.approx(2.8)
    assert safety["n-p3"]["coverage"] == pytest.approx(0.6) and safety["n-p3"]["score"] == pytest.approx(5.5 / 1.5)
    assert safety["n-m2"]["status"] == "insufficient" and safety["n-m2"]["coverage"] == pytest.approx(0.2)
    assert safety["n-m3"]["score"] == pytest.approx(2.2) and safety["n-l1"]["score"] == pytest.approx(1.4)

    row = partnership_row(scores, "safety")
    police = (2.5 + 2.8 + 5.5 / 1.5) / 3
    assert row["score"] == pytest.approx((police + 2.1 + 1.4) / 3)  # 2.163
    assert (row["level"], row["level_label"]) == (2, "Developing")
    assert row["respondent_mean"] == pytest.approx((2.5 + 2.8 + 5.5 / 1.5 + 2.0 + 2.2 + 1.4) / 6)
    assert row["median"] == pytest.approx(2.35) and row["dk_rate"] == pytest.approx(0.1)
    assert row["agency_gap"] == pytest.approx(police - 1.4) and bool(row["split"])
    assert row["hidden"] == "agreement_and_mean"

    row = partnership_row(scores, "governance")
    assert row["score"] == pytest.approx(8 / 3) and row["sd"] == pytest.approx(math.sqrt(7 / 6))
    assert (row["respondent_mean"], row["median"], row["agency_gap"]) == (3.0, 3.0, 2.5)

    row = partnership_row(scores, "triage")
    assert (row["score"], row["n_agencies"], row["agency_gap"]) == (3.0, 2, 1.0)
    assert bool(row["split"]) and row["dk_rate"] == pytest.approx(2 / 14) and row["hidden"] == ""

    overall = scores.overall.set_index("partnership").loc["Northshire"]
    assert overall["score"] == pytest.approx((8 / 3 + 3.0 + 2 * (police + 2.1 + 1.4) / 3) / 4)  # 2.498
    assert overall["level"] == 2 and not overall["suppressed"]
