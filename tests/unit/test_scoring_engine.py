"""The engine's two routes, its output shape and order, and the encode/score split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import assessment.scoring.engine as engine
from assessment.scoring import (
    ANSWER_COLUMNS,
    STATUSES,
    Scores,
    encode_answers,
    read_answers_csv,
    score_encoded,
    score_responses,
)

RESPONSES = "tests/data/responses/mini-two-partnerships.csv"


@pytest.fixture
def example(mini_v1):
    return score_responses(mini_v1, read_answers_csv(RESPONSES))


def test_dense_and_sparse_routes_agree(mini_v1, monkeypatch):
    answers = read_answers_csv(RESPONSES)
    dense = score_responses(mini_v1, answers)
    monkeypatch.setattr(engine, "DENSE_LIMIT_FACTOR", -10**9)  # force the bincount-over-rows route
    sparse = score_responses(mini_v1, answers)
    for name in ("respondents", "agencies", "partnerships", "overall", "items"):
        pd.testing.assert_frame_equal(getattr(dense, name), getattr(sparse, name), check_exact=False, rtol=1e-13)


def test_encode_then_score_is_score_responses(mini_v1):
    answers = read_answers_csv(RESPONSES)
    encoded = encode_answers(mini_v1, answers)
    assert isinstance(encoded.respondent, np.ndarray) and encoded.respondent.dtype == np.int32
    assert encoded.item.dtype == np.int16 and encoded.value.dtype == np.int8
    assert len(encoded.respondents) == answers["respondent"].nunique()
    one, two = score_encoded(encoded, min_group_size=2), score_responses(mini_v1, answers, min_group_size=2)
    for name in ("respondents", "agencies", "partnerships", "overall", "items"):
        pd.testing.assert_frame_equal(getattr(one, name), getattr(two, name))


def test_frames_are_sorted_by_their_keys(example):
    keys = {
        "respondents": ["partnership", "round", "respondent", "domain"],
        "agencies": ["partnership", "round", "domain", "agency"],
        "partnerships": ["partnership", "round", "domain"],
        "overall": ["partnership", "round"],
        "items": ["partnership", "round", "item"],
    }
    for name, columns in keys.items():
        frame = getattr(example, name)
        text = frame[columns].astype(str).to_numpy().tolist()
        assert text == sorted(text), name
        assert not frame.duplicated(columns).any(), name


def test_every_respondent_has_every_domain(example, mini_v1):
    frame = example.respondents
    assert len(frame) == frame["respondent"].nunique() * len(mini_v1.domains)
    assert set(frame["status"].astype(str)) <= set(STATUSES)
    assert frame.loc[frame["status"] != "scored", "score"].isna().all()
    assert frame.loc[frame["status"] == "scored", "score"].notna().all()


def test_figures_of_the_example_file(example):
    # Northshire governance: police (4+3)/2=3.5, (4+4)/2=4, (5+4)/2=4.5 -> 4; trust 2.5, 3, 2 -> 2.5;
    # lived experience (1+2)/2 = 1.5 -> balanced (4 + 2.5 + 1.5) / 3 = 8 / 3
    frame = example.partnerships.set_index(["partnership", "domain"])
    row = frame.loc[("Northshire", "governance")]
    assert row["score"] == pytest.approx(8 / 3)
    assert row["respondent_mean"] == pytest.approx((3.5 + 4 + 4.5 + 2.5 + 3 + 2 + 1.5) / 7)
    assert row["agency_gap"] == pytest.approx(2.5) and bool(row["split"])
    assert (row["n_respondents"], row["n_agencies"], row["level"]) == (7, 3, 3)
    # lived experience has one respondent: hidden, and the trust (next smallest, 3) with it
    agencies = example.agencies.set_index(["partnership", "domain", "agency"])
    assert agencies.loc[("Northshire", "governance", "lived_experience"), "suppression_reason"] == "small_group"
    assert agencies.loc[("Northshire", "governance", "mental_health_trust"), "suppression_reason"] == "complementary"
    # Westvale has two respondents: every figure of every domain is a small group
    assert (example.partnerships.loc[example.partnerships["partnership"] == "Westvale", "suppression_reason"]
            == "small_group").all()
    assert example.overall.set_index("partnership").loc["Westvale", "suppressed"]


def test_categorical_input_columns_are_used_as_they_are(mini_v1):
    answers = read_answers_csv(RESPONSES)
    categorical = answers.astype({column: "category" for column in ANSWER_COLUMNS})
    one, two = score_responses(mini_v1, answers), score_responses(mini_v1, categorical)
    pd.testing.assert_frame_equal(one.partnerships, two.partnerships)


def test_empty_answers_give_empty_frames(mini_v1):
    empty = pd.DataFrame({column: pd.Series([], dtype="str") for column in ANSWER_COLUMNS})
    scores = score_responses(mini_v1, empty)
    assert isinstance(scores, Scores)
    for name in ("respondents", "agencies", "partnerships", "overall", "items"):
        assert getattr(scores, name).empty


def test_levels_are_nullable_integers(example):
    assert str(example.partnerships["level"].dtype) == "Int64"
    assert str(example.overall["level"].dtype) == "Int64"


@pytest.mark.parametrize("sizes", [[3, 1, 4, 2, 5], [6000] + [1] * 40])  # padded sort; pandas fallback
def test_medians_per_group_and_domain(sizes):
    rng = np.random.default_rng(7)
    group = np.repeat(np.arange(len(sizes)), sizes)
    score = rng.integers(2, 11, size=(len(group), 3)) / 2.0
    scored = rng.random((len(group), 3)) < 0.8
    score[~scored] = np.nan
    n = np.zeros((len(sizes), 3), dtype=np.int64)
    np.add.at(n, group, scored.astype(np.int64))
    key = (group[:, None] * 3 + np.arange(3))[scored]
    got = engine._medians(score, scored, group, n, key, score[scored])
    for g in range(len(sizes)):
        for d in range(3):
            values = score[group == g, d]
            expected = np.nanmedian(values) if np.isfinite(values).any() else np.nan
            assert got[g, d] == pytest.approx(expected, nan_ok=True)


# -- frames=: build only the frames asked for ----------------------------------------------------------------

FRAME_CHOICES = [
    ["partnerships"],
    ["respondents"],
    ["agencies"],
    ["overall"],
    ["items"],
    ["partnerships", "agencies"],
    ["respondents", "items"],
    list(engine.FRAMES),
]


@pytest.mark.parametrize("frames", FRAME_CHOICES, ids=["+".join(f) for f in FRAME_CHOICES])
@pytest.mark.parametrize("route", ["dense", "sparse"])
def test_frames_asked_for_alone_equal_those_of_the_full_run(mini_v1, monkeypatch, frames, route):
    answers = read_answers_csv(RESPONSES)
    if route == "sparse":
        monkeypatch.setattr(engine, "DENSE_LIMIT_FACTOR", -10**9)
    encoded = encode_answers(mini_v1, answers)
    full = score_encoded(encoded, min_group_size=2)
    some = score_encoded(encoded, min_group_size=2, frames=frames)
    for name in engine.FRAMES:
        if name in frames:
            pd.testing.assert_frame_equal(getattr(some, name), getattr(full, name))
        else:
            assert getattr(some, name) is None, name


def test_score_responses_passes_frames_on(mini_v1):
    answers = read_answers_csv(RESPONSES)
    full = score_responses(mini_v1, answers)
    only = score_responses(mini_v1, answers, frames=iter(["partnerships"]))  # any iterable, read once
    pd.testing.assert_frame_equal(only.partnerships, full.partnerships)
    assert only.respondents is None and only.agencies is None and only.overall is None and only.items is None


@pytest.mark.parametrize(("frames", "message"), [
    (["partnership"], "unknown score frame(s) 'partnership': choose from respondents, agencies, partnerships"),
    ([], "frames is empty"),
])
def test_bad_frame_names_are_refused_with_the_choices(mini_v1, frames, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        score_responses(mini_v1, read_answers_csv(RESPONSES), frames=frames)
