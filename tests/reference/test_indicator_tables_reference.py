"""Indicator tables beside maturity against hand-worked figures: reconciliation and its data-quality note,
indicators linked to a domain, medians per region under the disclosure rule, the association's points."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from assessment.indicators import get_catalogue
from assessment.indicators.tables import (
    association_points,
    data_quality_notes,
    domain_indicators,
    indicator_figures,
    reconciliation_table,
    region_indicator_medians,
)


@pytest.fixture(scope="module")
def cat():
    return get_catalogue()


def _values(rows):
    return pd.DataFrame(rows, columns=["partnership", "period", "indicator", "agency", "value"])


def test_police_and_nhs_counts_side_by_side_with_difference_ratio_and_flag(cat):
    values = _values([
        ("kent", "2026-H1", "s136-detentions", "police", 100),
        ("kent", "2026-H1", "s136-detentions", "mental_health_trust", 85),   # 15 apart: 15% of 100 > 10%
        ("kent", "2025-H2", "s136-detentions", "police", 100),
        ("kent", "2025-H2", "s136-detentions", "mental_health_trust", 90),   # exactly 10%: not flagged
        ("kent", "2025-H1", "s136-detentions", "police", 120),
        ("kent", "2025-H1", "s136-detentions", "mental_health_trust", 3),    # fewer than 5: all hidden
    ])
    table = reconciliation_table(cat, values, tolerance=0.10).set_index("period")
    h1 = table.loc["2026-H1"]
    # hand-worked: 100 − 85 = 15; 100 ÷ 85 = 1.17647...; 15 > 0.10 × 100
    assert (h1["agency"], h1["other_agency"], h1["difference"], round(h1["ratio"], 4), h1["flagged"]) == (
        "police", "mental_health_trust", 15.0, 1.1765, True)
    assert h1["name"] == "Section 136 detentions"
    assert (table.loc["2025-H2", "difference"], table.loc["2025-H2", "flagged"]) == (10.0, False)
    hidden = table.loc["2025-H1"]
    assert hidden["other_shown"] == "fewer than 5"
    assert math.isnan(hidden["difference"]) and math.isnan(hidden["ratio"]) and hidden["flagged"] is None
    notes = data_quality_notes(table.reset_index(), tolerance=0.10)
    assert len(notes) == 2
    assert notes[1].startswith("2026-H1: Police and Mental health trust figures for \"Section 136 detentions\" differ "
                               "by 15 (15% of the larger; more than the 10% tolerance): 100 against 85.")
    assert "cannot be compared" in notes[0] and "fewer than 5" in notes[0]


def test_a_percent_from_a_hidden_count_is_hidden_and_a_rate_is_blank_with_the_reason(cat):
    values = _values([("kent", "2026-H1", "s136-detentions", "police", 200),
                      ("kent", "2026-H1", "s136-pos-police-station", "police", 3),
                      ("kent", "2026-H1", "s136-pos-health-based", "police", 150)])
    figures = indicator_figures(cat, values).set_index("indicator")
    assert figures.loc["s136-pos-police-station", "shown"] == "fewer than 5"
    assert figures.loc["s136-pos-police-station-percent", "hidden"]
    assert math.isnan(figures.loc["s136-pos-police-station-percent", "value"])
    assert figures.loc["s136-pos-health-based-percent", "value"] == pytest.approx(75.0)  # 150 / 200
    assert figures.loc["s136-pos-health-based-percent", "shown"] == "75.0%"
    assert "not confirmed" in figures.loc["s136-rate", "reason"]


def test_the_indicators_of_a_domain_stand_in_catalogue_order(cat):
    values = _values([("kent", "2026-H1", "s136-detentions", "police", 200),
                      ("kent", "2026-H1", "s136-pos-police-station", "police", 10),
                      ("kent", "2025-H2", "s136-pos-police-station", "police", 20)])
    table = domain_indicators(cat, indicator_figures(cat, values), ["places_of_safety", "detention"], period="2026-H1")
    assert list(zip(table["domain"], table["indicator"], strict=True)) == [
        ("places_of_safety", "s136-pos-police-station"), ("places_of_safety", "s136-pos-police-station-percent"),
        ("detention", "s136-detentions"), ("detention", "s136-rate")]
    assert table.loc[1, "shown"] == "5.0%"


def _places(n, named=()):
    return pd.DataFrame({"partnership": [f"p{i}" for i in range(n)], "name": [f"Partnership {i}" for i in range(n)],
                         "nation": "England", "region": ["North West"] * (n - 1) + ["London"],
                         "named_to_peers": [f"p{i}" in named for i in range(n)]})


def test_region_medians_follow_the_disclosure_rule_of_scores(cat):
    # North West: p0..p5 report 10, 20, 30, 40, 50 and one hidden count (3); London: p6 alone
    counts = [10, 20, 30, 40, 50, 3, 70]
    values = _values([(f"p{i}", "2026-H1", "s136-detentions", "police", c) for i, c in enumerate(counts)]
                     + [("p0", "2026-H1", "s136-detentions", "mental_health_trust", 999)])  # NHS: not counted
    figures = indicator_figures(cat, values)
    table = region_indicator_medians(cat, figures, _places(7), period="2026-H1")
    nw = table[(table["region"] == "North West") & (table["indicator"] == "s136-detentions")].iloc[0]
    # five shown figures: median 30, Q1 20, Q3 40 (numpy linear); the hidden count is not a value
    assert (nw["partnerships"], nw["median"], nw["q1"], nw["q3"], nw["suppressed"]) == (5, 30.0, 20.0, 40.0, False)
    london = table[(table["region"] == "London") & (table["indicator"] == "s136-detentions")].iloc[0]
    assert london["partnerships"] == 1 and london["suppressed"] and math.isnan(london["median"])
    england = table[(table["scope"] == "nation") & (table["indicator"] == "s136-detentions")].iloc[0]
    assert (england["partnerships"], england["median"]) == (6, 35.0)  # 10 20 30 40 50 70


def test_association_points_name_only_partnerships_that_opted_to_be_named(cat):
    values = _values([(f"p{i}", "2026-H1", "s136-pos-police-station", "police", 10 * (i + 1)) for i in range(5)])
    scores = pd.DataFrame({"partnership": [f"p{i}" for i in range(5)], "round": [f"p{i}-2026-h1" for i in range(5)],
                           "domain": "places_of_safety", "score": [1.5, 2.0, 2.5, 3.0, 3.5], "period": "2026-H1",
                           "score_hidden": [False, False, False, False, True]})
    points = association_points(cat, indicator_figures(cat, values), scores, _places(5, named={"p1"}),
                                domain="places_of_safety", indicator="s136-pos-police-station", period="2026-H1")
    assert list(points["partnership"]) == ["p0", "p1", "p2", "p3"]  # p4's score is hidden
    assert list(points["name"]) == ["", "Partnership 1", "", ""]
    assert list(points["value"]) == [10.0, 20.0, 30.0, 40.0]


def test_a_part_larger_than_its_whole_leaves_the_percent_blank_with_the_reason(cat):
    values = _values([("kent", "2026-H1", "s136-detentions", "police", 77),
                      ("kent", "2026-H1", "s136-pos-health-based", "police", 81)])
    row = indicator_figures(cat, values).set_index("indicator").loc["s136-pos-health-based-percent"]
    assert math.isnan(row["value"]) and not row["hidden"]
    assert row["reason"] == "the part (81) is larger than the whole (77): check the two figures"
