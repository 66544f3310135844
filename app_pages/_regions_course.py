"""Compare regions for the course group: the period it opens on, the strongest region per domain, and the
promising practices (region, item statement, no repeats, pages, contact for partnerships named to peers)."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from app_pages import _resources as resources
from app_pages import _widgets as widgets
from assessment.peers import strongest_regions

PAGE_SIZE = 10
ROW_HEIGHT = 35  # px, a st.dataframe row (and its header)


def choose_period(closed: pd.DataFrame) -> str:
    """The period picker, on the latest period (``closed`` is latest first); says so when another has more."""
    periods = list(closed["period"])
    period = st.selectbox("Period", periods, index=0, key="regions_period",
                          help="Each partnership counts once, with its most recent closed round in the "
                               f"{resources.settings().peer_window_months} months to the end of this period.")
    counts = dict(zip(closed["period"], closed["partnerships"], strict=True))
    busiest = closed.sort_values("partnerships", ascending=False, kind="stable")["period"].iloc[0]
    if period == periods[0] and counts[busiest] > counts[period]:
        st.caption(f"Showing the latest period, {widgets.plain(period)} ({counts[period]} partnership(s) closed a "
                   f"round in it). {widgets.plain(busiest)} has more ({counts[busiest]}): choose it above to compare "
                   "on more closed rounds.")
    return period


def strongest_table(regions: pd.DataFrame, titles: dict[str, str]) -> None:
    """The highest region in each domain (★ in the heatmap), as a table."""
    best = strongest_regions(regions)
    st.subheader("Highest region in each domain")
    if best.empty:
        st.caption("No region has enough partnerships in this period to be compared.")
        return
    # The heatmap's row order (the questionnaire's), and every domain at once: no scrolling inside the table.
    position = {d: i for i, d in enumerate(titles)}
    best = best.iloc[best["domain"].map(position).fillna(len(position)).to_numpy().argsort(kind="stable")]
    best = best.assign(domain=best["domain"].map(lambda d: titles.get(d, d)))
    widgets.table(best[["domain", "region", "median", "partnerships"]], hide_index=True, key="regions_strongest",
                 height=ROW_HEIGHT * (len(best) + 1) + 3,
                 column_config={"domain": "Domain", "region": "Highest region",
                                "median": st.column_config.NumberColumn("Median", format="%.2f"),
                                "partnerships": "Partnerships (n)"})


def _item_statements(version: str) -> dict[str, str]:
    statements: dict[str, str] = {}
    for questionnaire in resources.questionnaires(version).values():
        for domain in questionnaire.domains:
            statements.update({item.id: item.text for item in domain.items})
    return statements


def practices(version: str, practices_frame: pd.DataFrame) -> None:
    """The practices, a page at a time, each with its region and the statement it was written against."""
    if practices_frame.empty:
        st.info("No shared evidence from top-quartile partnerships in this domain and period.")
        return
    pages = math.ceil(len(practices_frame) / PAGE_SIZE)
    page = st.number_input(f"Page (of {pages}; {len(practices_frame)} practices)", min_value=1, max_value=pages,
                           value=1, key="regions_practice_page") if pages > 1 else 1
    statements = _item_statements(version)
    for row in practices_frame.iloc[(page - 1) * PAGE_SIZE: page * PAGE_SIZE].itertuples():
        who = row.partnership_name or "A partnership that asked not to be named"
        with st.container(border=True):
            if statement := statements.get(row.item, ""):
                st.caption(f"On: {widgets.plain(statement)}")
            st.text(row.comment)  # respondents' words, shown as plain text
            st.caption(f"{widgets.plain(who)} · {widgets.plain(row.region or 'region not known')} · in the top "
                       f"quartile (scores from {row.q3:.2f})")
            if row.contact:
                # The addresses exactly as stored, with a copy button: plain() would put an invisible word
                # joiner after each "@" (against Markdown links), which breaks an address pasted into an email.
                st.caption("Contact (the partnership's leads):")
                st.code(row.contact, language=None, wrap_lines=True)
