"""Answers are validated and encoded in one step; any problem stops scoring with every offending row listed."""

from __future__ import annotations

import io
from textwrap import dedent

import numpy as np
import pandas as pd
import pytest

from assessment.errors import ErrorCode, ValidationFailed
from assessment.scoring import (
    DK_CODE,
    MAX_ROWS_REPORTED,
    MISSING_CODE,
    NA_CODE,
    encode_answers,
    read_answers_csv,
    score_responses,
)

HEADER = "partnership,round,respondent,agency,item,value\n"


def answers(rows: str, header: str = HEADER):
    return read_answers_csv(io.StringIO(header + dedent(rows).strip() + "\n"))


def problems_of(questionnaire, frame):
    with pytest.raises(ValidationFailed) as caught:
        encode_answers(questionnaire, frame)
    return caught.value


def test_na_is_text_and_empty_is_missing():
    frame = answers("""
        Northshire,2026-R0,r1,police,governance.joint_board,NA
        Northshire,2026-R0,r1,police,governance.escalation,
    """)
    assert frame["value"].tolist() == ["NA", ""]


def test_values_encode_to_codes(mini_v1):
    encoded = encode_answers(mini_v1, answers("""
        Northshire,2026-R0,r1,police,governance.joint_board,1
        Northshire,2026-R0,r1,police,governance.escalation,5
        Northshire,2026-R0,r1,police,triage.clinician,NA
        Northshire,2026-R0,r1,police,triage.referral_routes,DK
        Northshire,2026-R0,r1,police,safety.hbpos,
    """))
    assert encoded.value.tolist() == [0, 4, NA_CODE, DK_CODE, MISSING_CODE]
    assert encoded.value.dtype == np.int8
    assert [mini_v1.items[i].id for i in encoded.item] == [
        "governance.joint_board", "governance.escalation", "triage.clinician", "triage.referral_routes", "safety.hbpos"]
    assert encoded.n_answers == 5
    assert encoded.groups[["partnership", "round", "questionnaire", "version", "period"]].iloc[0].tolist() == [
        "Northshire", "2026-R0", "mini-partnership", "1.0.0", ""]


def test_missing_columns_are_named(mini_v1):
    frame = answers("Northshire,2026-R0,r1,police,governance.joint_board,4").drop(columns=["agency", "value"])
    failure = problems_of(mini_v1, frame)
    assert [p.code for p in failure.problems] == [ErrorCode.MISSING_COLUMN, ErrorCode.MISSING_COLUMN]
    assert [p.path for p in failure.problems] == ["column agency", "column value"]


def test_every_problem_is_reported_with_its_row(mini_v1):
    frame = read_answers_csv("tests/data/responses/mini-invalid.csv")
    failure = problems_of(mini_v1, frame)
    found = {(p.code, p.path) for p in failure.problems}
    assert found == {
        (ErrorCode.DUPLICATE_ANSWER, "row 2, column item"),
        (ErrorCode.DUPLICATE_ANSWER, "row 3, column item"),
        (ErrorCode.VALUE_OFF_SCALE, "row 4, column value"),
        (ErrorCode.UNKNOWN_AGENCY, "row 5, column agency"),
        (ErrorCode.UNKNOWN_ITEM, "row 6, column item"),   # an item of version 1.1.0, not of 1.0.0
        (ErrorCode.EMPTY_IDENTIFIER, "row 7, column respondent"),
    }
    assert "6 problem(s)" in failure.summary and "nothing was scored" in failure.summary
    assert "2 × duplicate-answer" in failure.summary
    # problems come in row order
    rows = [int(p.path.split(",")[0].removeprefix("row ")) for p in failure.problems]
    assert rows == sorted(rows)


def test_score_responses_scores_nothing_on_invalid_input(mini_v1):
    with pytest.raises(ValidationFailed):
        score_responses(mini_v1, read_answers_csv("tests/data/responses/mini-invalid.csv"))


def test_na_and_dk_forbidden_by_the_scale(mini_v1):
    strict = mini_v1.model_copy(update={"scale": mini_v1.scale.model_copy(update={"allow_na": False, "allow_dk": False})})
    failure = problems_of(strict, answers("""
        Northshire,2026-R0,r1,police,governance.joint_board,NA
        Northshire,2026-R0,r1,police,governance.escalation,DK
        Northshire,2026-R0,r1,police,triage.clinician,3
    """))
    assert [(p.code, p.path) for p in failure.problems] == [
        (ErrorCode.NA_NOT_ALLOWED, "row 2, column value"),
        (ErrorCode.DK_NOT_ALLOWED, "row 3, column value"),
    ]


@pytest.mark.parametrize("value", ["0", "6", "3.5", "three", "-1"])
def test_values_off_the_scale(mini_v1, value):
    failure = problems_of(mini_v1, answers(f"Northshire,2026-R0,r1,police,governance.joint_board,{value}"))
    assert [p.code for p in failure.problems] == [ErrorCode.VALUE_OFF_SCALE]
    assert f"'{value}'" in failure.problems[0].message


def test_respondent_under_two_agencies(mini_v1):
    failure = problems_of(mini_v1, answers("""
        Northshire,2026-R0,r1,police,governance.joint_board,3
        Northshire,2026-R0,r1,icb,governance.escalation,3
        Northshire,2026-R0,r1,police,triage.clinician,3
    """))
    # the row that differs from the respondent's first agency
    assert [(p.code, p.path) for p in failure.problems] == [(ErrorCode.RESPONDENT_TWO_AGENCIES, "row 3, column agency")]
    assert "'r1'" in failure.problems[0].message


def test_respondent_under_two_partnerships(mini_v1):
    failure = problems_of(mini_v1, answers("""
        Northshire,2026-R0,r1,police,governance.joint_board,3
        Westvale,2026-R0,r1,police,governance.escalation,3
    """))
    assert [(p.code, p.path) for p in failure.problems] == [
        (ErrorCode.RESPONDENT_TWO_PARTNERSHIPS, "row 3, column partnership")]


def test_same_respondent_id_in_two_rounds_of_one_partnership_is_allowed(mini_v1):
    encoded = encode_answers(mini_v1, answers("""
        Northshire,2026-R0,r1,police,governance.joint_board,3
        Northshire,2026-R1,r1,icb,governance.joint_board,4
    """))
    assert len(encoded.respondents) == 2


def test_duplicate_answer(mini_v1):
    failure = problems_of(mini_v1, answers("""
        Northshire,2026-R0,r1,police,governance.joint_board,3
        Northshire,2026-R0,r1,police,governance.joint_board,
    """))
    assert [p.code for p in failure.problems] == [ErrorCode.DUPLICATE_ANSWER] * 2


def test_questionnaire_column_must_match(mini_v1):
    frame = answers("""
        Northshire,2026-R0,r1,police,governance.joint_board,3,mini-partnership,1.1.0
        Northshire,2026-R0,r2,police,governance.joint_board,3,mini-partnership,1.0.0
    """, header="partnership,round,respondent,agency,item,value,questionnaire,version\n")
    failure = problems_of(mini_v1, frame)
    assert [(p.code, p.path) for p in failure.problems] == [(ErrorCode.QUESTIONNAIRE_MISMATCH, "row 2, column version")]


def test_many_problems_are_listed_up_to_a_limit_and_counted(mini_v1):
    n = MAX_ROWS_REPORTED + 25
    frame = pd.DataFrame({
        "partnership": ["Northshire"] * n, "round": ["2026-R0"] * n, "respondent": [f"r{i}" for i in range(n)],
        "agency": ["police"] * n, "item": ["governance.joint_board"] * n, "value": ["9"] * n,
    })
    failure = problems_of(mini_v1, frame)
    assert len(failure.problems) == MAX_ROWS_REPORTED
    assert f"{n} problem(s)" in failure.summary and f"{n} × value-off-scale" in failure.summary


def test_invalid_utf8_is_an_encoding_problem(tmp_path):
    path = tmp_path / "answers.csv"
    path.write_bytes(HEADER.encode() + "Northshire,2026-R0,r1,police,governance.joint_board,4\n".encode("utf-16"))
    with pytest.raises(ValidationFailed) as caught:
        read_answers_csv(path)
    assert caught.value.problems[0].code == ErrorCode.ENCODING


def test_frames_not_read_as_text_are_accepted(mini_v1):
    # a frame built in code with integer values and None for missing
    frame = pd.DataFrame({
        "partnership": ["Northshire"] * 2, "round": ["2026-R0"] * 2, "respondent": ["r1", "r1"],
        "agency": ["police"] * 2, "item": ["governance.joint_board", "governance.escalation"], "value": [4, None],
    })
    encoded = encode_answers(mini_v1, frame)
    assert encoded.value.tolist() == [3, MISSING_CODE]


def test_carried_columns_reach_every_output(mini_v1):
    scores = score_responses(mini_v1, read_answers_csv("tests/data/responses/mini-two-partnerships.csv"))
    for frame in (scores.respondents, scores.agencies, scores.partnerships, scores.overall, scores.items):
        assert set(frame["period"].astype(str)) == {"2026-H1"}
        assert set(frame["questionnaire"].astype(str)) == {"mini-partnership"}
        assert set(frame["version"].astype(str)) == {"1.0.0"}
        assert "comment" not in frame.columns


def test_bad_thresholds_are_value_errors(mini_v1):
    frame = answers("Northshire,2026-R0,r1,police,governance.joint_board,4")
    for kwargs in ({"min_coverage": 1.5}, {"split_threshold": 0}, {"min_group_size": 0}):
        with pytest.raises(ValueError):
            score_responses(mini_v1, frame, **kwargs)


def test_period_is_the_first_non_empty_one_of_each_round(mini_v1):
    frame = answers("""
        Northshire,2026-R0,r1,police,governance.joint_board,3,
        Northshire,2026-R0,r2,police,governance.joint_board,3,2026-H1
        Westvale,2026-R0,w1,police,governance.joint_board,3,
    """, header="partnership,round,respondent,agency,item,value,period\n")
    encoded = encode_answers(mini_v1, frame)
    assert encoded.groups[["partnership", "period"]].values.tolist() == [["Northshire", "2026-H1"], ["Westvale", ""]]
    scores = score_responses(mini_v1, frame)
    assert scores.overall[["partnership", "period"]].values.tolist() == [["Northshire", "2026-H1"], ["Westvale", ""]]


def test_period_with_interleaved_rounds(mini_v1):
    frame = answers("""
        Northshire,2026-R1,r1,police,governance.joint_board,3,2026-H2
        Northshire,2026-R0,r1,police,governance.joint_board,3,2026-H1
        Northshire,2026-R1,r1,police,governance.escalation,3,2026-H2
        Northshire,2026-R0,r2,police,governance.joint_board,3,2026-H1
    """, header="partnership,round,respondent,agency,item,value,period\n")
    groups = encode_answers(mini_v1, frame).groups
    assert groups[["round", "period"]].values.tolist() == [["2026-R0", "2026-H1"], ["2026-R1", "2026-H2"]]
