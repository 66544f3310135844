"""Issue 17: compare_all_with_peers (one pass) equals compare_with_peers row by row, to 1e-9, on the demo
(two questionnaire versions, custom groups, suppressed scores, a peer window over several periods) and on a
generated national set."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assessment.peers import COMPARISON_COLUMNS, compare_all_with_peers, compare_with_peers

KEY = ["partnership", "round", "peer_group", "domain"]


def _assert_same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    want = want.reset_index(drop=True)
    got = got.set_index(KEY).loc[pd.MultiIndex.from_frame(want[KEY])].reset_index()
    assert list(got.columns) == list(COMPARISON_COLUMNS)
    for column in COMPARISON_COLUMNS:
        if pd.api.types.is_float_dtype(want[column]) or pd.api.types.is_float_dtype(got[column]):
            np.testing.assert_allclose(got[column].astype(float), want[column].astype(float), rtol=0, atol=1e-9,
                                       err_msg=column)
        else:
            assert got[column].astype(str).tolist() == want[column].astype(str).tolist(), column


def _one_by_one(scores, places, pairs, groups, **options) -> pd.DataFrame:
    return pd.concat([compare_with_peers(scores, places, partnership=p, round=r, peer_group=g, **options)
                      for p, r in pairs for g in groups], ignore_index=True)


@pytest.fixture(scope="module")
def demo_scores():
    from assessment.demo import generate_demo
    from assessment.questionnaire import load_directory
    from assessment.scoring import score_responses
    from assessment.settings import default_questionnaires_dir
    from assessment.storage.reference import forces

    shipped = load_directory(default_questionnaires_dir())
    data = generate_demo(list(shipped.values()), forces())
    closed = data.rounds.loc[data.rounds["status"] == "closed", "round"]
    answers = data.answers.drop(columns=["comment"])
    frames = []
    for q in shipped.values():
        mine = answers[answers["version"] == q.version]
        if not mine.empty:
            frames.append(score_responses(q, mine).partnerships)
    scores = pd.concat(frames, ignore_index=True)
    scores["closed"] = scores["round"].isin(closed)  # open rounds are compared but are never peers
    return scores, data.partnerships, shipped


@pytest.mark.slow
def test_every_partnership_of_the_demo_in_one_pass_equals_one_at_a_time(demo_scores):
    scores, places, shipped = demo_scores
    groups = ["all", "nation", "region", *sorted({g for text in places["groups"] for g in str(text).split(";") if g})]
    got = compare_all_with_peers(scores, places, peer_groups=groups, questionnaires=shipped)
    pairs = scores[["partnership", "round"]].drop_duplicates().itertuples(index=False, name=None)
    want = _one_by_one(scores, places, list(pairs), groups, questionnaires=shipped)
    assert len(got) == len(want) and want["suppressed"].any() and not want["suppressed"].all()
    assert (want["n_excluded"] > 0).any() and want["peer_periods"].str.contains(";").any()
    _assert_same(got, want)


def test_thresholds_and_the_window_are_honoured_the_same_way(demo_scores):
    scores, places, shipped = demo_scores
    options = {"min_peers": 4, "min_peers_spread": 6, "min_peers_extremes": 8, "window_months": 6}
    got = compare_all_with_peers(scores, places, peer_groups=["region", "all"], questionnaires=shipped, **options)
    pairs = list(scores[["partnership", "round"]].drop_duplicates().head(25).itertuples(index=False, name=None))
    _assert_same(got, _one_by_one(scores, places, pairs, ["region", "all"], questionnaires=shipped, **options))


@pytest.mark.slow
def test_a_generated_national_set_in_one_pass_equals_one_at_a_time():
    from assessment.scoring import score_responses
    from benchmarks.generate import default_questionnaire, generate

    q = default_questionnaire()
    synthetic = generate("national")
    answers = synthetic.answers_frame(with_period=True).assign(questionnaire=q.id, version=q.version)
    scores = score_responses(q, answers).partnerships
    places = synthetic.partnerships_frame()
    qs = {(q.id, q.version): q}
    got = compare_all_with_peers(scores, places, peer_groups=["all", "nation", "region"], questionnaires=qs)
    assert len(got) == scores[["partnership", "round"]].drop_duplicates().shape[0] * 3 * len(q.domains)
    pairs = scores[["partnership", "round"]].drop_duplicates().sample(40, random_state=17)
    want = _one_by_one(scores, places, list(pairs.itertuples(index=False, name=None)), ["all", "nation", "region"],
                       questionnaires=qs)
    _assert_same(got, want)
