"""Chart builders, checked through the Vega-Lite spec they produce (``chart.to_dict()``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assessment import charts
from assessment.vocabulary import AGENCY_LABELS

TITLES = {
    "governance": "Shared governance and commitment",
    "triage": "First contact and triage",
    "safety": "Places of safety",
}
DOMAINS = list(TITLES)


def rows(spec: dict) -> list[dict]:
    """The single inline dataset of a chart spec."""
    (data,) = spec["datasets"].values()
    return data


def layers(spec: dict) -> list[dict]:
    return spec["spec"]["layer"] if "spec" in spec else spec["layer"]


def mark_type(layer: dict) -> str:
    mark = layer["mark"]
    return mark["type"] if isinstance(mark, dict) else mark


def assert_accessible(spec: dict) -> None:
    assert spec["title"]["text"]
    assert spec["title"]["subtitle"]
    assert len(spec["description"]) > 40


@pytest.fixture
def comparison() -> pd.DataFrame:
    # Cumbria against 12 peers; places of safety has only 2 peers, so its peer figures are suppressed.
    return pd.DataFrame({
        "partnership": "Cumbria", "round": "2026-H1", "peer_group": "all", "domain": DOMAINS,
        "score": [3.1, 2.2, 4.0], "n_peers": [12, 12, 2], "median": [2.8, 3.0, 3.5],
        "q1": [2.4, 2.6, 3.0], "q3": [3.3, 3.5, 4.1], "min": [1.5, 1.8, 2.0], "max": [4.2, 4.5, 4.8],
        "percentile_rank": [60.0, 20.0, 80.0], "gap_to_median": [0.3, -0.8, 0.5],
        "gap_to_top_quartile": [-0.2, -1.3, -0.1], "suppressed": [False, False, True],
        "n_excluded": 0, "excluded_reasons": "",
    })


def test_gap_chart_draws_iqr_band_median_own_score_and_gap(comparison):
    spec = charts.build_gap_chart(comparison, titles=TITLES, peer_group_label="North West").to_dict()
    assert_accessible(spec)
    assert spec["title"]["text"] == "Gap to peers: North West"
    marks = [mark_type(layer) for layer in spec["layer"]]
    assert marks == ["bar", "rule", "tick", "point", "text"]
    band, gap, median, own, _ = spec["layer"]
    assert (band["encoding"]["x"]["field"], band["encoding"]["x2"]["field"]) == ("q1", "q3")
    assert (gap["encoding"]["x"]["field"], gap["encoding"]["x2"]["field"]) == ("median", "score")
    assert median["encoding"]["x"]["field"] == "median"
    assert own["encoding"]["x"]["field"] == "score" and own["mark"]["shape"] == "diamond"
    assert band["encoding"]["x"]["scale"]["domain"] == [1, 5]
    assert "n_peers" in {t["field"] for t in band["encoding"]["tooltip"]}


def test_gap_chart_data_keeps_domain_order_and_blanks_suppressed_peers(comparison):
    spec = charts.build_gap_chart(comparison, titles=TITLES).to_dict()
    data = rows(spec)
    assert [r["domain_title"] for r in data] == list(TITLES.values())
    assert spec["layer"][0]["encoding"]["y"]["sort"] == list(TITLES.values())
    governance, triage, safety = data
    assert governance["gap_label"] == "vs median +0.30 · vs top quartile -0.20 · n = 12"
    assert triage["direction"] == "below median"
    assert safety["median"] is None and safety["q3"] is None  # suppressed: no peer marks
    assert safety["score"] == 4.0  # the partnership's own score is still shown
    assert "not shown" in safety["gap_label"]


def test_gap_chart_colours_the_gap_by_direction_with_okabe_ito(comparison):
    spec = charts.build_gap_chart(comparison).to_dict()
    scale = spec["layer"][1]["encoding"]["color"]["scale"]
    assert scale["domain"][:2] == ["above median", "below median"]
    assert scale["range"][:2] == [charts.OKABE_ITO["blue"], charts.OKABE_ITO["vermillion"]]


def test_gap_chart_rejects_a_frame_without_peer_columns():
    with pytest.raises(ValueError, match="median"):
        charts.build_gap_chart(pd.DataFrame({"domain": ["triage"], "score": [3.0]}))


@pytest.fixture
def agency_scores() -> pd.DataFrame:
    return pd.DataFrame({
        "partnership": "Cumbria", "round": "2026-H1",
        "domain": np.repeat(DOMAINS, 3),
        "agency": ["police", "mental_health_trust", "ambulance"] * 3,
        "score": [3.2, 2.1, np.nan, 2.5, 3.8, np.nan, 4.0, 4.1, np.nan],
        "n_respondents": [10, 5, 2] * 3,
        "suppressed": [False, False, True] * 3,
        "suppression_reason": ["", "", "small_group"] * 3,
    })


def test_agency_chart_shows_shown_agencies_only_with_fixed_colours_and_shapes(agency_scores):
    spec = charts.build_agency_chart(agency_scores, titles=TITLES, split_domains=["triage"]).to_dict()
    assert_accessible(spec)
    data = rows(spec)
    assert {r["agency_name"] for r in data} == {"Police", "Mental health trust"}  # ambulance: 2 respondents
    dots = spec["layer"][1]["encoding"]
    assert dots["color"]["scale"]["domain"] == ["Police", "Mental health trust"]
    assert dots["color"]["scale"]["range"] == [charts.AGENCY_COLOURS["Police"],
                                               charts.AGENCY_COLOURS["Mental health trust"]]
    assert dots["shape"]["field"] == "agency_name"  # colour is never the only cue
    assert {t["field"] for t in dots["tooltip"]} >= {"agency_name", "score", "n_respondents"}


def test_agency_chart_flags_split_domains_in_their_label(agency_scores):
    spec = charts.build_agency_chart(agency_scores, titles=TITLES, split_domains=["triage"]).to_dict()
    order = spec["layer"][1]["encoding"]["y"]["sort"]
    assert order == ["Shared governance and commitment", "First contact and triage ⚑ split", "Places of safety"]
    triage = [r for r in rows(spec) if r["domain_title"].startswith("First contact")]
    assert all(r["split"] for r in triage)


def test_agency_palette_is_okabe_ito_plus_grey_for_other():
    palette = set(charts.OKABE_ITO.values()) | {charts.GREY}
    assert set(charts.AGENCY_COLOURS.values()) <= palette
    assert len(set(charts.AGENCY_COLOURS.values())) == len(AGENCY_LABELS)  # one colour each


def test_item_distribution_gives_shares_of_all_answers_with_n():
    items = pd.DataFrame({
        "item": ["governance.joint_board"], "domain": "governance", "mean": [3.0], "n_answered": [8],
        "n_na": [1], "n_dk": [1], "dk_rate": [0.111], "count_1": [1], "count_2": [1], "count_3": [2],
        "count_4": [3], "count_5": [1],
    })
    texts = {"governance.joint_board": "A multi-agency board oversees police–mental health work."}
    spec = charts.build_item_distribution_chart(items, item_texts=texts).to_dict()
    assert_accessible(spec)
    data = rows(spec)
    shares = {r["category"]: r["share"] for r in data}
    # 10 answers in all: 1, 1, 2, 3, 1 at levels 1..5, one DK, one NA.
    assert shares == {"1": 0.1, "2": 0.1, "3": 0.2, "4": 0.3, "5": 0.1, "Don't know": 0.1, "Not applicable": 0.1}
    assert data[0]["item_label"].endswith("(n = 10)")
    assert spec["encoding"]["color"]["scale"]["range"] == list(charts.ANSWER_COLOURS.values())


@pytest.fixture
def regions() -> pd.DataFrame:
    return pd.DataFrame({
        "scope": "region", "nation": np.repeat(["England", "England", "Wales"], 3),
        "region": np.repeat(["North West", "London", "Wales"], 3), "domain": DOMAINS * 3,
        "partnerships": [5, 5, 5, 1, 1, 1, 4, 4, 4],
        "median": [3.1, 2.5, 3.3, 3.0, 3.0, 3.0, 2.9, 3.4, 2.2],
        "q1": [2.8, 2.1, 3.0, np.nan, np.nan, np.nan, 2.5, 3.0, 2.0],
        "q3": [3.4, 2.9, 3.6, np.nan, np.nan, np.nan, 3.1, 3.8, 2.6],
        "suppressed": [False] * 3 + [True] * 3 + [False] * 3,
    })


def test_region_heatmap_blanks_suppressed_cells_and_labels_n(regions):
    spec = charts.build_region_heatmap(regions, titles=TITLES).to_dict()
    assert_accessible(spec)
    cells = spec["layer"][1]
    assert mark_type(cells) == "rect"
    assert cells["encoding"]["y"]["field"] == "domain_title" and cells["encoding"]["x"]["field"] == "region"
    assert cells["encoding"]["color"]["field"] == "median"
    london = [r for r in rows(spec) if r["region"] == "London"]
    assert all(r["median"] is None and r["label"] == "n=1" for r in london)
    north_west = next(r for r in rows(spec) if r["region"] == "North West" and r["domain_title"] == TITLES["triage"])
    assert north_west["label"].startswith("2.5 · n=")  # n in every cell (issue 15)


def test_region_distribution_facets_layers_by_domain(regions):
    spec = charts.build_region_distribution_chart(regions, titles=TITLES).to_dict()
    assert_accessible(spec)
    assert spec["facet"]["field"] == "domain_title"
    assert spec["facet"]["sort"] == list(TITLES.values())
    assert [mark_type(layer) for layer in layers(spec)] == ["bar", "tick"]
    assert {r["region"] for r in rows(spec)} == {"North West", "Wales"}  # London suppressed


@pytest.fixture
def trends() -> pd.DataFrame:
    return pd.DataFrame({
        "partnership": "Cumbria", "round": ["r1", "r2", "r3"] * 2,
        "period": ["2025-H1", "2025-H2", "2026-H1"] * 2, "questionnaire": "police-mental-health",
        "version": ["1.0.0", "1.0.0", "1.1.0"] * 2, "domain": np.repeat(["governance", "triage"], 3),
        "score": [2.5, 2.8, 3.0, 2.0, 2.4, 2.2], "ci_low": [2.2, 2.5, 2.7, 1.7, 2.1, 1.9],
        "ci_high": [2.8, 3.1, 3.3, 2.3, 2.7, 2.5], "n_respondents": [20, 22, 18, 20, 22, 18],
        "comparable_with_previous": [True, True, True, True, True, False],
        "break_reason": ["", "", "", "", "", "item triage.clinician was split"],
        "change": [np.nan, 0.3, 0.2, np.nan, 0.4, np.nan],
        "change_low": np.nan, "change_high": np.nan,
        "verdict": ["", "improved", "no clear change", "", "improved", "not comparable"],
    })


def test_trend_chart_breaks_the_line_where_versions_are_not_comparable(trends):
    spec = charts.build_trend_chart(trends, titles=TITLES).to_dict()
    assert_accessible(spec)
    assert [mark_type(layer) for layer in layers(spec)] == ["rule", "line", "point", "rule"]
    bars, line, _, breaks = layers(spec)
    assert (bars["encoding"]["y"]["field"], bars["encoding"]["y2"]["field"]) == ("ci_low", "ci_high")
    assert line["encoding"]["detail"]["field"] == "segment"
    assert breaks["mark"]["strokeDash"] == [5, 4]
    triage = [r for r in rows(spec) if r["domain_title"] == TITLES["triage"]]
    assert [r["segment"] for r in triage] == [0, 0, 1]  # the 2026-H1 point starts a new line
    assert [r["break"] for r in triage] == [False, False, True]
    assert spec["facet"]["sort"] == ["Shared governance and commitment", "First contact and triage"]


def test_trend_chart_tooltips_carry_n_and_verdict(trends):
    spec = charts.build_trend_chart(trends).to_dict()
    fields = {t["field"] for t in layers(spec)[0]["encoding"]["tooltip"]}
    assert {"n_respondents", "verdict", "ci_low", "ci_high"} <= fields


def test_domain_scores_chart_labels_score_level_and_keeps_unscored_rows():
    scores = pd.DataFrame({
        "partnership": "Cumbria", "round": "2026-H1", "domain": DOMAINS, "score": [3.1, np.nan, 4.0],
        "level": [3, np.nan, 4], "level_label": ["Defined", None, "Integrated"], "n_respondents": [20, 2, 18],
        "split": [False, False, True],
    })
    spec = charts.build_domain_scores_chart(scores, titles=TITLES, partnership="Cumbria").to_dict()
    assert_accessible(spec)
    assert [r["label"] for r in rows(spec)] == ["3.10 Defined", "not shown", "4.00 Integrated (split)"]
    assert "n = 20" in spec["title"]["subtitle"]


def test_portfolio_chart_lists_partnerships_alphabetically_never_ranked():
    frame = pd.DataFrame({
        "partnership": np.repeat(["Cumbria", "Avon and Somerset"], 2), "domain": ["governance", "triage"] * 2,
        "verdict": ["improved", "declined", "no clear change", None],
    })
    spec = charts.build_portfolio_chart(frame, titles=TITLES).to_dict()
    assert_accessible(spec)
    assert spec["layer"][0]["encoding"]["y"]["sort"] == "ascending"
    symbols = {(r["partnership"], r["domain_title"]): r["symbol"] for r in rows(spec)}
    assert symbols == {("Cumbria", TITLES["governance"]): "▲", ("Cumbria", TITLES["triage"]): "▼",
                       ("Avon and Somerset", TITLES["governance"]): "●", ("Avon and Somerset", TITLES["triage"]): "–"}


def test_strengths_and_priorities_pick_highest_and_lowest_shown_scores():
    scores = pd.DataFrame({
        "domain": ["governance", "triage", "safety", "data", "training", "culture", "prevention"],
        "score": [3.1, 2.2, 4.0, np.nan, 2.2, 3.9, 1.5],  # data: suppressed (blank)
        "level_label": ["Defined", "Developing", "Integrated", None, "Developing", "Integrated", "Initial"],
        "split": [False, True, False, pd.NA, False, False, False],
    })
    strengths, priorities = charts.strengths_and_priorities(scores)
    assert strengths["domain"].tolist() == ["safety", "culture", "governance"]
    # triage and training tie at 2.2: questionnaire order breaks the tie.
    assert priorities["domain"].tolist() == ["prevention", "triage", "training"]
    assert priorities["split"].tolist() == [False, True, False]


def test_strengths_and_priorities_never_list_a_domain_twice():
    scores = pd.DataFrame({"domain": DOMAINS, "score": [3.0, 2.0, 4.0]})
    strengths, priorities = charts.strengths_and_priorities(scores, titles=TITLES)
    assert strengths["domain"].tolist() == ["safety", "governance", "triage"]
    assert priorities.empty


def test_portfolio_chart_reads_the_wide_portfolio_frame():
    wide = pd.DataFrame({"partnership": ["Avon and Somerset", "Cumbria"], "nation": "England",
                         "region": ["South West", "North West"], "governance": ["improved", "first round"],
                         "triage": ["declined", "no clear change"]})
    spec = charts.build_portfolio_chart(wide, titles=TITLES).to_dict()
    data = rows(spec)
    assert len(data) == 4 and {r["domain_title"] for r in data} == {TITLES["governance"], TITLES["triage"]}


def test_builders_accept_categorical_columns_as_stored_frames_hold_them(agency_scores):
    items = pd.DataFrame({
        "item": pd.Categorical(["governance.joint_board"]), "domain": pd.Categorical(["governance"]),
        "n_na": [0], "n_dk": [1], "count_1": [1], "count_2": [0], "count_3": [2], "count_4": [0], "count_5": [0],
    })
    assert rows(charts.build_item_distribution_chart(items).to_dict())[0]["item_label"].endswith("(n = 4)")
    categorical = agency_scores.astype({"domain": "category", "agency": "category"})
    assert rows(charts.build_agency_chart(categorical, titles=TITLES).to_dict())


def test_the_association_chart_draws_named_points_only_and_says_association():
    from assessment.charts import build_association_chart

    points = pd.DataFrame({"name": ["Kent partnership", "Surrey partnership"], "score": [2.5, 3.5],
                           "value": [12.0, 4.0]})
    spec = build_association_chart(points, score_title="Places of safety", value_title="Police station (%)").to_dict()
    assert spec["title"]["text"] == "How maturity and the indicator go together (association, not effect)"
    data = next(iter(spec["datasets"].values()))
    assert [row["name"] for row in data] == ["Kent partnership", "Surrey partnership"]
    assert {layer["mark"]["type"] for layer in spec["layer"]} == {"point", "text"}
