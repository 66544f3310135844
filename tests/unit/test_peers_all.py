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
    from assessment.peers import compare_regions

    _assert_same_regions(compare_regions(scores, places, questionnaires=qs),
                         _regions_by_rows(scores, places, questionnaires=qs))


def _edge_case_frames():
    """Eight partnerships and one not listed, two periods in one window and one outside it, a free-text
    period, an open round, two closed rounds of one partnership in the window (round values 9 and 10 among
    text values: text order), a hidden score, a missing score, a missing domain row, a custom group."""
    places = pd.DataFrame({
        "partnership": list("ABCDEFGH"),
        "nation": ["England"] * 6 + ["Wales"] * 2,
        "region": ["North", "North", "North", "South", "South", "South", "Wales", "Wales"],
        "groups": ["g1", "g1", "", "g1", "", "g1", "g1", ""],
    })
    rows = []

    def add(partnership, round_, period, values, closed=True, hidden=()):
        for domain, value in zip(("d1", "d2", "d3"), values, strict=True):
            if value is not None:
                rows.append({"partnership": partnership, "round": round_, "period": period, "domain": domain,
                             "score": value, "closed": closed, "score_hidden": domain in hidden})

    add("A", "a1", "2026-H1", [3.0, 2.5, 4.0])
    add("B", "b1", "2025-H2", [2.0, 2.0, 2.0])
    add("B", "b2", "2026-H1", [3.5, 3.1, 2.2])
    add("C", "c1", "2025-H2", [2.9, 3.3, 1.8])
    add("C", "c2", "2026-H1", [4.1, 4.4, 3.9], closed=False)
    add("D", "d1", "2026-H1", [3.0, 3.0, 3.0], hidden=("d2",))
    add("E", "e1", "2026-H1", [2.4, None, 3.6])
    add("F", "f1", "2026-H1", [float("nan"), 2.7, 3.2])
    add("G", "9", "2026-H1", [1.5, 2.5, 3.5])
    add("G", "10", "2026-H1", [3.3, 2.1, 2.9])
    add("H", "h1", "2024-H1", [2.0, 3.0, 4.0])
    add("H", "h2", "pilot", [2.2, 3.2, 4.2])
    add("Z", "z1", "2026-H1", [5.0, 5.0, 5.0])  # not listed: never compared, never a peer
    return pd.DataFrame(rows), places


@pytest.mark.parametrize("min_peers", [1, 2, 3])
def test_edge_cases_in_one_pass_equal_one_at_a_time(min_peers):
    scores, places = _edge_case_frames()
    groups = ["all", "nation", "region", "g1"]
    options = {"min_peers": min_peers, "min_peers_spread": 3, "min_peers_extremes": 4}
    got = compare_all_with_peers(scores, places, peer_groups=groups, **options)
    pairs = [(p, r) for p, r in scores[["partnership", "round"]].drop_duplicates().itertuples(index=False)
             if p != "Z"]
    want = _one_by_one(scores, places, pairs, groups, **options)
    assert len(got) == len(want) and "Z" not in set(got["partnership"])
    assert want["excluded_reasons"].str.contains("score suppressed").any()
    assert want["excluded_reasons"].str.contains("no closed round").any()
    _assert_same(got, want)
    # the rows come in compare_with_peers' order within each round, by partnership, round and peer group
    assert got[["partnership", "round"]].apply(tuple, axis=1).is_monotonic_increasing


def test_a_choice_of_rounds_and_no_rounds_at_all():
    scores, places = _edge_case_frames()
    got = compare_all_with_peers(scores, places, peer_groups=["region", "all"], rounds=["c2", "10", "z1"])
    assert sorted(set(zip(got["partnership"], got["round"]))) == [("C", "c2"), ("G", "10")]
    assert got["peer_group"].tolist()[:6] == ["region"] * 3 + ["all"] * 3
    _assert_same(got, _one_by_one(scores, places, [("C", "c2"), ("G", "10")], ["region", "all"]))
    empty = compare_all_with_peers(scores, places, rounds=["no such round"])
    assert list(empty.columns) == list(COMPARISON_COLUMNS) and empty.empty


def test_an_unknown_custom_group_is_refused():
    scores, places = _edge_case_frames()
    with pytest.raises(ValueError, match="unknown peer group 'g9'"):
        compare_all_with_peers(scores, places, peer_groups=["g9"])


# -- Compare regions on the same codes -------------------------------------------------------------------------


def _regions_by_rows(scores, partnerships, *, period=None, round=None, min_peers=3, questionnaires=None,
                     min_peers_spread=5, window_months=12):
    """compare_regions as it was before it read the one-pass codes (pandas on text keys, one group at a
    time): the reference it must equal. One change: partnerships not listed are left out before the newest
    version is chosen (as the docstring says, they are left out), not after."""
    from assessment.disclosure import DisclosureRule, scope_figures
    from assessment.peers import (
        REGION_COLUMNS,
        _comparable_domains,
        _latest_per_partnership,
        _partnership_frame,
        _period_rows,
        _rule,
        _score_frame,
    )
    from assessment.questionnaire.schema import version_key

    rule = _rule(min_peers, min_peers_spread, DisclosureRule().min_peers_extremes)
    frame = _score_frame(scores)
    places = _partnership_frame(partnerships)[["partnership", "nation", "region"]]
    frame = frame[_period_rows(frame, period, round, window_months) & frame["closed"].to_numpy()]
    frame = _latest_per_partnership(frame)
    frame = frame[frame["score"].notna() & ~frame["suppressed"]]
    frame = frame[frame["partnership"].isin(places["partnership"])]
    if len(frame) and bool(frame["has_versions"].iloc[0]):
        keep = np.zeros(len(frame), dtype=bool)
        for qid, part in frame.groupby("questionnaire", sort=False):
            newest = max(part["version"].unique(), key=version_key)
            for version, rows in part.groupby("version", sort=False):
                verdict = _comparable_domains((qid, newest), (qid, version), questionnaires)
                ok = (np.ones(len(rows), bool) if verdict is None
                      else np.array([verdict.get(d, False) for d in rows["domain"]], dtype=bool))
                keep[frame.index.get_indexer(rows.index)] = ok
        frame = frame[keep]
    frame = frame.merge(places, on="partnership", how="inner")
    domain_order = {d: i for i, d in enumerate(dict.fromkeys(frame["domain"]))}
    out = scope_figures(frame, "score", "domain", rule)
    out["suppressed"] = out["median"].isna()
    out["_scope"] = out["scope"].map({"nation": 0, "region": 1})
    out["_domain"] = out["domain"].map(domain_order)
    out = out.sort_values(["_scope", "nation", "region", "_domain"], kind="stable")
    out = out[list(REGION_COLUMNS)].reset_index(drop=True)
    return out.astype({"partnerships": int, "suppressed": bool, "median": float, "q1": float, "q3": float})


def _assert_same_regions(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert len(want) > 0
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=0, atol=1e-9)


def test_compare_regions_equals_the_row_by_row_route_on_the_demo(demo_scores):
    from assessment.peers import compare_regions

    scores, places, shipped = demo_scores
    for options in ({}, {"window_months": 6, "min_peers": 2, "min_peers_spread": 3}, {"period": "2025-H2"}):
        got = compare_regions(scores, places, questionnaires=shipped, **options)
        _assert_same_regions(got, _regions_by_rows(scores, places, questionnaires=shipped, **options))
    some_round = scores.loc[scores["closed"], "round"].iloc[0]
    _assert_same_regions(compare_regions(scores, places, round=some_round, questionnaires=shipped),
                         _regions_by_rows(scores, places, round=some_round, questionnaires=shipped))
    # without the questionnaires no older version is comparable with the newest
    _assert_same_regions(compare_regions(scores, places), _regions_by_rows(scores, places))


@pytest.mark.parametrize("options", [{}, {"period": "pilot"}, {"round": "9"}, {"period": "2025-H2", "min_peers": 1,
                                                                              "min_peers_spread": 2}])
def test_compare_regions_edge_cases_equal_the_row_by_row_route(options):
    from assessment.peers import compare_regions

    scores, places = _edge_case_frames()
    _assert_same_regions(compare_regions(scores, places, **options), _regions_by_rows(scores, places, **options))


def test_compare_regions_with_nothing_closed_is_empty():
    from assessment.peers import REGION_COLUMNS, compare_regions

    scores, places = _edge_case_frames()
    out = compare_regions(scores.assign(closed=False), places)
    assert out.empty and list(out.columns) == list(REGION_COLUMNS)
