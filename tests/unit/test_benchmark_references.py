"""The speed references in benchmarks/ compute the same partnership domain scores as each other (and as the
scoring engine), so the suite compares like with like."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

# benchmarks/ is a folder of the repository, not part of the installed package: make it importable
# under plain `pytest` too (`python -m pytest` puts the working directory on the path already).
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.generate import SCALES, encode_frame, generate
from benchmarks.references import REFERENCES, assert_engine_matches, labelled

# A hand-checkable case on the mini questionnaire: governance (2 items, weight 1 each), triage (2 items,
# weight 1 each), safety (hbpos 1, handover 1, conveyance 0.5).
HAND_ROWS = [
    # north 2026-H1, R1 police: governance (4+2)/2 = 3; triage 5 (referral NA: applicable weight 1);
    # safety (3*1 + 5*0.5) / 1.5 = 11/3, coverage 1.5/2.5 = 0.6 (handover DK).
    ("north", "2026-H1", "R1", "police", "governance.joint_board", "4"),
    ("north", "2026-H1", "R1", "police", "governance.escalation", "2"),
    ("north", "2026-H1", "R1", "police", "triage.clinician", "5"),
    ("north", "2026-H1", "R1", "police", "triage.referral_routes", "NA"),
    ("north", "2026-H1", "R1", "police", "safety.hbpos", "3"),
    ("north", "2026-H1", "R1", "police", "safety.handover", "DK"),
    ("north", "2026-H1", "R1", "police", "safety.conveyance", "5"),
    # R2 police: governance 2 with escalation missing (coverage exactly 0.5: scored); triage all DK
    # (insufficient); safety all NA (not applicable).
    ("north", "2026-H1", "R2", "police", "governance.joint_board", "2"),
    ("north", "2026-H1", "R2", "police", "triage.clinician", "DK"),
    ("north", "2026-H1", "R2", "police", "triage.referral_routes", "DK"),
    ("north", "2026-H1", "R2", "police", "safety.hbpos", "NA"),
    ("north", "2026-H1", "R2", "police", "safety.handover", "NA"),
    ("north", "2026-H1", "R2", "police", "safety.conveyance", "NA"),
    # R3 mental health trust: governance 5; triage 1.5; safety coverage 0.5/2.5 = 0.2 (insufficient).
    ("north", "2026-H1", "R3", "mental_health_trust", "governance.joint_board", "5"),
    ("north", "2026-H1", "R3", "mental_health_trust", "governance.escalation", "5"),
    ("north", "2026-H1", "R3", "mental_health_trust", "triage.clinician", "1"),
    ("north", "2026-H1", "R3", "mental_health_trust", "triage.referral_routes", "2"),
    ("north", "2026-H1", "R3", "mental_health_trust", "safety.hbpos", "DK"),
    ("north", "2026-H1", "R3", "mental_health_trust", "safety.handover", "DK"),
    ("north", "2026-H1", "R3", "mental_health_trust", "safety.conveyance", "4"),
    # south 2026-H2, S1 voluntary sector: governance all NA; triage 4 at coverage 0.5;
    # safety (2 + 3) / 2 = 2.5 at coverage 2/2.5 = 0.8.
    ("south", "2026-H2", "S1", "vcse", "governance.joint_board", "NA"),
    ("south", "2026-H2", "S1", "vcse", "governance.escalation", "NA"),
    ("south", "2026-H2", "S1", "vcse", "triage.clinician", "4"),
    ("south", "2026-H2", "S1", "vcse", "safety.hbpos", "2"),
    ("south", "2026-H2", "S1", "vcse", "safety.handover", "3"),
]

# Hand-computed partnership scores (agency-balanced) and respondent counts at min_coverage 0.5.
# north governance: police (3 + 2)/2 = 2.5, mental health trust 5 -> (2.5 + 5)/2 = 3.75 (the plain
# respondent mean would be 10/3); triage: police 5, trust 1.5 -> 3.25; safety: police only, 11/3.
EXPECTED = {
    ("north", "2026-H1", "governance"): (3.75, 3),
    ("north", "2026-H1", "triage"): (3.25, 2),
    ("north", "2026-H1", "safety"): (11 / 3, 1),
    ("south", "2026-H2", "governance"): (np.nan, 0),
    ("south", "2026-H2", "triage"): (4.0, 1),
    ("south", "2026-H2", "safety"): (2.5, 1),
    # Groups with no answers at all.
    ("north", "2026-H2", "governance"): (np.nan, 0),
    ("south", "2026-H1", "safety"): (np.nan, 0),
}
# At min_coverage 0.6, R2's governance (0.5) and south's triage (0.5) drop out; R1's safety (0.6) stays.
EXPECTED_AT_60 = {
    ("north", "2026-H1", "governance"): (4.0, 2),
    ("north", "2026-H1", "triage"): (3.25, 2),
    ("north", "2026-H1", "safety"): (11 / 3, 1),
    ("south", "2026-H2", "triage"): (np.nan, 0),
    ("south", "2026-H2", "safety"): (2.5, 1),
}
# At min_coverage 0, R3's safety (0.2) counts: police 11/3 and trust 4 -> 23/6; R2's triage (nothing
# answered, all DK) still has no score.
EXPECTED_AT_0 = {
    ("north", "2026-H1", "triage"): (3.25, 2),
    ("north", "2026-H1", "safety"): (23 / 6, 2),
}


@pytest.fixture
def hand_case(mini_v1):
    frame = pd.DataFrame(HAND_ROWS, columns=["partnership", "round", "respondent", "agency", "item", "value"])
    return encode_frame(mini_v1, frame)


def _by_key(result: pd.DataFrame) -> dict:
    return {
        (row.partnership, row.round, row.domain): (row.score, row.n_respondents)
        for row in result.itertuples(index=False)
    }


@pytest.mark.parametrize("reference", sorted(REFERENCES))
@pytest.mark.parametrize(
    "min_coverage, expected", [(0.5, EXPECTED), (0.6, EXPECTED_AT_60), (0.0, EXPECTED_AT_0)]
)
def test_each_reference_gives_the_hand_computed_agency_balanced_scores(
    hand_case, reference, min_coverage, expected
):
    result = _by_key(labelled(hand_case, REFERENCES[reference](hand_case, min_coverage=min_coverage)))
    assert len(result) == 2 * 2 * 3  # every partnership x round x domain, scored or not
    for key, (score, n) in expected.items():
        got_score, got_n = result[key]
        assert got_n == n, key
        if np.isnan(score):
            assert np.isnan(got_score), key
        else:
            assert got_score == pytest.approx(score, abs=1e-12), key


@pytest.fixture(scope="module")
def board():
    return generate("board", seed=7)


def test_the_board_scale_has_the_agreed_shape_and_a_realistic_mix(board):
    spec = SCALES["board"]
    assert (spec.partnerships, spec.respondents, spec.rounds) == (1, 40, 1)
    assert board.n_respondents == 40
    values = pd.Series(board.value)
    assert 0.02 < (values == -1).mean() < 0.15  # NA
    assert 0.02 < (values == -2).mean() < 0.20  # DK
    assert board.n_answers < 40 * board.layout.n_items  # some answers are missing
    assert len(np.unique(board.respondent_agency)) >= 3


def test_the_generator_is_deterministic_and_seeded(board):
    again = generate("board", seed=7)
    other = generate("board", seed=8)
    assert np.array_equal(board.value, again.value) and np.array_equal(board.item, again.item)
    assert (
        not np.array_equal(board.value, other.value[: board.value.size]) or board.n_answers != other.n_answers
    )


def test_the_text_frame_encodes_back_to_the_same_columns(board):
    frame = board.answers_frame()
    assert list(frame.columns) == ["partnership", "round", "respondent", "agency", "item", "value"]
    assert len(frame) == board.n_answers
    again = encode_frame(board.questionnaire, frame)
    assert np.array_equal(again.value, board.value)
    assert np.array_equal(again.item, board.item)
    assert np.array_equal(again.respondent_agency, board.respondent_agency)


def test_all_references_agree_at_board_scale(board):
    results = {name: reference(board) for name, reference in REFERENCES.items()}
    base = results["numpy"]
    assert base["n_respondents"].sum() > 0 and base["score"].notna().all()
    for name, result in results.items():
        np.testing.assert_allclose(
            result["score"], base["score"], rtol=0, atol=1e-9, equal_nan=True, err_msg=name
        )
        assert result["n_respondents"].tolist() == base["n_respondents"].tolist(), name


def test_the_engine_gives_the_references_partnership_scores_at_board_scale(board):
    from assessment.scoring import encode_answers, score_encoded

    scores = score_encoded(encode_answers(board.questionnaire, board.answers_frame(with_period=True)))
    for name, reference in REFERENCES.items():
        assert_engine_matches(board, scores, reference(board))  # raises with the differing figures
        assert name


def test_the_partnership_figures_alone_equal_those_of_the_full_run(board):
    """What the suite times as "partnership figures" (frames=["partnerships"]) is the full run's frame:
    board scale has small agencies (suppressed), DK, NA and coverage failures."""
    from assessment.scoring import encode_answers, score_encoded

    encoded = encode_answers(board.questionnaire, board.answers_frame(with_period=True))
    full = score_encoded(encoded)
    alone = score_encoded(encoded, frames=["partnerships"])
    assert (full.partnerships["suppression_reason"] == "complementary").any()
    pd.testing.assert_frame_equal(alone.partnerships, full.partnerships)
    assert alone.respondents is None and alone.items is None
    assert_engine_matches(board, alone, REFERENCES["numpy"](board))


def test_the_engine_gives_the_hand_computed_scores_too(mini_v1):
    from assessment.scoring import score_responses

    frame = pd.DataFrame(HAND_ROWS, columns=["partnership", "round", "respondent", "agency", "item", "value"])
    scores = score_responses(mini_v1, frame)
    got = scores.partnerships.set_index(["partnership", "round", "domain"])
    for key, (score, n) in EXPECTED.items():
        if key not in got.index:  # the engine lists only partnership-rounds that have answers
            assert n == 0, key
            continue
        assert got.loc[key, "n_respondents"] == n, key
        assert got.loc[key, "score"] == pytest.approx(score, nan_ok=True, abs=1e-12), key


def test_a_wrong_engine_score_is_caught(board):
    from assessment.scoring import encode_answers, score_encoded

    scores = score_encoded(encode_answers(board.questionnaire, board.answers_frame(with_period=True)))
    partnerships = scores.partnerships.copy()
    partnerships.loc[partnerships.index[0], "score"] += 1e-6
    broken = type(scores)(scores.respondents, scores.agencies, partnerships, scores.overall, scores.items)
    with pytest.raises(AssertionError):
        assert_engine_matches(board, broken, REFERENCES["numpy"](board))
