"""compute_figures and reconcile over a long frame of values, with a small inline catalogue."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from assessment.indicators import get_catalogue, validate_catalogue_text
from assessment.indicators.figures import FIGURE_COLUMNS, compute_figures, reconcile

CATALOGUE = """
id: outcome-indicators
version: 1.0.0
title: Short form for tests
published: 2026-11-27
questionnaire: {id: police-mental-health, version: 2.0.0}
disclosure: {fewer_than: 5}
denominators:
  - {id: population, name: Population, source: ons, confirmed: true, year: 2024}
  - {id: population-black, name: Black population, source: ons, confirmed: false, reason: not confirmed from the census}
indicators:
  - id: s136-detentions
    name: Section 136 detentions
    definition: {numerator: Detentions, unit: count, direction: neither}
    agency: police
    reported_by: [police, mental_health_trust]
    source: {key: ho}
    domains: [detention]
    evidence_row: 1
    confirmed: true
  - id: s136-pos-police-station
    name: Police station first
    definition: {numerator: Police station first, unit: count, direction: lower}
    agency: police
    source: {key: ho}
    domains: [places_of_safety]
    evidence_row: 2
    confirmed: true
  - id: s136-pos-police-station-percent
    name: Share police station first
    definition: {numerator: Police station first, denominator: Detentions, unit: percent, direction: lower}
    agency: police
    source: {key: ho}
    computed_from: {numerator: s136-pos-police-station, denominator: s136-detentions}
    domains: [places_of_safety]
    evidence_row: 2
    confirmed: true
  - id: s136-rate
    name: Rate
    definition: {numerator: Detentions, denominator: Population, unit: per_100000, direction: neither}
    agency: police
    source: {key: ho}
    computed_from: {numerator: s136-detentions, denominator: population}
    domains: [detention]
    evidence_row: 1
    confirmed: true
  - id: s136-rate-black
    name: Rate of Black people
    definition: {numerator: Detentions, denominator: Black population, unit: per_100000, direction: lower}
    agency: police
    source: {key: ho}
    computed_from: {numerator: s136-detentions, denominator: population-black}
    domains: [detention]
    evidence_row: 9
    confirmed: false
  - id: officer-hours-waiting
    name: Officer hours waiting
    definition: {numerator: Hours, unit: hours, direction: lower}
    agency: police
    source: {key: local}
    domains: [places_of_safety]
    evidence_row: 11
    confirmed: false
bibliography:
  ho: {title: Police powers and procedures, publisher: Home Office}
  ons: {title: Mid-year estimates, publisher: ONS}
  local: {title: Local data, publisher: The partnership}
"""


@pytest.fixture(scope="module")
def catalogue():
    result = validate_catalogue_text(CATALOGUE)
    assert result.ok, result.problems
    return result.catalogue


def _values(rows):
    return pd.DataFrame(rows, columns=["partnership", "period", "agency", "indicator", "value"])


def _get(frame, **where):
    mask = pd.Series(True, index=frame.index)
    for column, value in where.items():
        mask &= frame[column] == value
    assert mask.sum() == 1, where
    return frame[mask].iloc[0]


def test_rates_are_computed_from_counts_and_the_denominator(catalogue):
    values = _values([
        ("north", "2025-26", "police", "s136-detentions", 310),
        ("north", "2025-26", "police", "s136-pos-police-station", 5),
        ("north", "2025-26", "police", "officer-hours-waiting", 812.5),
    ])
    out = compute_figures(catalogue, values, {("north", "population"): 1_550_000})
    assert list(out.columns) == list(FIGURE_COLUMNS)
    assert _get(out, indicator="s136-rate")["value"] == pytest.approx(20.0)          # 100,000 × 310 / 1,550,000
    assert _get(out, indicator="s136-pos-police-station-percent")["value"] == pytest.approx(100 * 5 / 310)
    assert _get(out, indicator="officer-hours-waiting")["shown"] == "812.5"
    black = _get(out, indicator="s136-rate-black")
    assert math.isnan(black["value"]) and "not confirmed from the census" in black["reason"]


def test_a_figure_computed_from_a_hidden_count_is_hidden(catalogue):
    values = _values([
        ("north", "2025-26", "police", "s136-detentions", 4),
        ("north", "2025-26", "police", "s136-pos-police-station", 0),
    ])
    out = compute_figures(catalogue, values, {("north", "population"): 1_550_000})
    count = _get(out, indicator="s136-detentions")
    assert count["shown"] == "fewer than 5" and count["hidden"] and math.isnan(count["value"])
    for indicator in ("s136-rate", "s136-pos-police-station-percent"):
        row = _get(out, indicator=indicator)
        assert row["hidden"] and math.isnan(row["value"]) and "fewer than 5" in row["reason"]
    assert _get(out, indicator="s136-pos-police-station")["shown"] == "0"


def test_each_agency_s_figures_are_computed_from_its_own_counts(catalogue):
    values = _values([
        ("north", "2025-26", "police", "s136-detentions", 300),
        ("north", "2025-26", "mental_health_trust", "s136-detentions", 200),
        ("north", "2025-26", "police", "s136-pos-police-station", 6),
    ])
    out = compute_figures(catalogue, values, {("north", "population"): 1_000_000})
    assert _get(out, agency="police", indicator="s136-rate")["value"] == pytest.approx(30.0)
    assert _get(out, agency="mental_health_trust", indicator="s136-rate")["value"] == pytest.approx(20.0)
    nhs_percent = _get(out, agency="mental_health_trust", indicator="s136-pos-police-station-percent")
    assert math.isnan(nhs_percent["value"]) and "no value for s136-pos-police-station" in nhs_percent["reason"]


def test_a_computed_figure_cannot_be_typed_in(catalogue):
    values = _values([("north", "2025-26", "police", "s136-rate", 20.0)])
    with pytest.raises(ValueError, match="cannot be entered"):
        compute_figures(catalogue, values)


def test_unknown_indicators_and_duplicates_are_refused(catalogue):
    with pytest.raises(ValueError, match="not in catalogue"):
        compute_figures(catalogue, _values([("north", "2025-26", "police", "s136", 1)]))
    twice = _values([("north", "2025-26", "police", "s136-detentions", 10)] * 2)
    with pytest.raises(ValueError, match="more than one value"):
        compute_figures(catalogue, twice)


def test_reconcile_puts_police_first_and_flags_a_mismatch(catalogue):
    values = _values([
        ("north", "2025-26", "mental_health_trust", "s136-detentions", 200),
        ("north", "2025-26", "police", "s136-detentions", 320),
        ("south", "2025-26", "police", "s136-detentions", 100),
        ("south", "2025-26", "mental_health_trust", "s136-detentions", 95),
        ("east", "2025-26", "police", "s136-detentions", 100),
        ("east", "2025-26", "mental_health_trust", "s136-detentions", 3),
        ("west", "2025-26", "police", "s136-detentions", 100),  # one agency only: nothing to reconcile
    ])
    out = reconcile(catalogue, values, tolerance=0.10)
    assert set(out["partnership"]) == {"north", "south", "east"}
    north = _get(out, partnership="north")
    assert (north["agency"], north["other_agency"]) == ("police", "mental_health_trust")
    assert (north["difference"], north["ratio"], north["flagged"]) == (120, 1.6, True)
    assert not _get(out, partnership="south")["flagged"]  # 5 of 100 is within 10%
    east = _get(out, partnership="east")
    assert east["other_shown"] == "fewer than 5" and math.isnan(east["difference"]) and east["flagged"] is None


def test_shipped_catalogue_rates_stay_blank_until_a_population_is_confirmed():
    cat = get_catalogue()
    values = _values([("north", "2025-26", "police", "s136-detentions", 310)])
    out = compute_figures(cat, values, {("north", "population"): 1_550_000})
    rate = _get(out, indicator="s136-rate")
    assert math.isnan(rate["value"]) and "not confirmed" in rate["reason"]
