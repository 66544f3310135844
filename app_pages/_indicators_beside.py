"""Outcome indicators beside maturity: the sections Results, Trends and Compare regions call (one line each).

Figures arrive from the service layer as they may be shown: counts from 1 to N−1 read "fewer than N" and
every percent, rate, difference and ratio computed from one is blank with the reason
(``assessment.disclosure``); regional medians follow the disclosure rule of scores.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import _indicators_data as data
from app_pages import _resources as resources
from app_pages import _widgets as widgets
from assessment.indicators import tables
from assessment.vocabulary import agency_label

# fixed widths: every column visible in a 1400 px window without sideways scrolling (issue 14)
_FIGURE_COLUMNS = {"domain_title": st.column_config.TextColumn("Domain", width=180),
                   "score": st.column_config.NumberColumn("Score", format="%.2f", width=55),
                   "level_label": st.column_config.TextColumn("Maturity level", width=90),
                   "name": st.column_config.TextColumn("Indicator", width=200),
                   "shown": st.column_config.TextColumn("Figure", width=85),
                   "agency_name": st.column_config.TextColumn("Reported by", width=110),
                   "direction": st.column_config.TextColumn("Better when", width=85),
                   "reason": st.column_config.TextColumn("Blank or hidden because", width=110)}
_DIRECTION = {"lower": "lower", "higher": "higher", "neither": "context only"}


def data_quality_notes(version: str, partnership: str, period: str | None = None) -> None:
    """The "data quality" note: police and NHS figures that differ by more than the tolerance (in one period,
    or in every period)."""
    found = data.partnership_indicators(version, partnership)
    notes = found.notes
    if period is not None:
        pairs = found.reconciliation[found.reconciliation["period"] == period]
        notes = tables.data_quality_notes(pairs, tolerance=found.tolerance)
    for note in notes:
        st.warning(widgets.plain(note), icon=":material/rule:")


def beside_results(version: str, partnership: str, round_key: str, own: pd.DataFrame, titles: dict[str, str]) -> None:
    """Results: each domain's score with the figures of its linked indicators for the round's period."""
    if not resources.principal().may("partnership_indicators", partnership):
        return
    st.header("Outcome indicators beside maturity")
    period = str(own["period"].iloc[0]) if not own.empty else ""
    st.caption("What is happening to people, next to what the partnership has put in place: the indicators the "
               f"catalogue links to each domain, for {widgets.plain(period)}. Counts from 1 to 4 are shown as "
               "\"fewer than 5\", and figures computed from them are hidden.")
    found = data.partnership_indicators(version, partnership)
    linked = tables.domain_indicators(data.catalogue(), found.figures, list(titles), period=period)
    if linked.empty:
        reported = sorted(set(found.figures["period"]))
        st.info(f"No indicator figures for {widgets.plain(period)}"
                + (f" (figures exist for {widgets.plain(', '.join(reported))})." if reported else ".")
                + " A partnership lead enters them on the Outcome indicators page.")
        return
    data_quality_notes(version, partnership, period)
    shown = tables.beside_scores(linked, own, titles)
    shown = shown.assign(agency_name=shown["agency"].map(agency_label), direction=shown["direction"].map(_DIRECTION))
    widgets.table(shown[list(_FIGURE_COLUMNS)], hide_index=True, key="results_indicators_table",
                 column_config=_FIGURE_COLUMNS)


def beside_trends(version: str, partnership: str, titles: dict[str, str]) -> None:
    """Trends: each domain's linked indicators across the periods reported."""
    if not resources.principal().may("partnership_indicators", partnership):
        return
    st.subheader("Outcome indicators by period")
    found = data.partnership_indicators(version, partnership)
    linked = tables.domain_indicators(data.catalogue(), found.figures, list(titles))
    if linked.empty:
        st.info("No indicator figures for this partnership yet.")
        return
    wide = tables.indicators_by_period(linked)
    wide.insert(0, "domain_title", wide["domain"].map(lambda d: titles.get(d, d)))
    wide["agency"] = wide["agency"].map(agency_label)
    st.caption("Next to the domain's trend above: the figures of the indicators linked to it, one column per "
               "period (counts from 1 to 4 as \"fewer than 5\").")
    widgets.table(wide.drop(columns=["domain", "indicator"]), hide_index=True, key="trends_indicators_table",
                 column_config={"domain_title": "Domain", "name": "Indicator", "agency": "Reported by"})


def region_medians(version: str, period: str) -> None:
    """Compare regions: indicator medians per region for the period, under the disclosure rule of scores."""
    if not resources.principal().may("region_indicator_medians"):
        return
    st.header("Outcome indicators by region")
    medians = data.indicator_region_medians(version, period)
    if medians.empty:
        st.info(f"No indicator figures for {widgets.plain(period)}.")
        return
    names = dict(zip(medians["indicator"], medians["name"], strict=False))
    indicator = st.selectbox("Indicator", list(names), format_func=names.get, key="regions_indicator")
    table = medians[medians["indicator"] == indicator]
    config = resources.settings()
    st.caption(f"Median of the partnerships' own figures (the agency that owns the source); shown from "
               f"{config.min_peers} partnerships, quartiles from {config.min_peers_spread}. Counts shown as "
               "\"fewer than 5\" are left out, as hidden scores are.")
    widgets.table(table[["scope", "nation", "region", "partnerships", "median", "q1", "q3", "suppressed"]],
                 hide_index=True, key="regions_indicator_table",
                 column_config={"scope": "Nation or region", "nation": "Nation", "region": "Region",
                                "partnerships": "Partnerships (n)", "suppressed": "Not shown (too few)",
                                **{c: st.column_config.NumberColumn(c.upper() if c[0] == "q" else "Median",
                                                                    format="%.1f") for c in ("median", "q1", "q3")}})
