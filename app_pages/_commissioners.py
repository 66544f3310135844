"""Portfolio and Trends for commissioners: a chosen set of partnerships, sizes of change, several side by side.

Everything shown comes through the service layer (``_resources``), so a choice never reaches beyond the
partnerships the signed-in person may see.
"""

from __future__ import annotations

import streamlit as st

from app_pages import _resources as resources
from app_pages import _widgets as widgets
from assessment import charts, trends
from assessment.tabular import to_csv_bytes

BY_REGION, BY_GROUP, BY_HAND = "Region", "Saved peer group", "Partnerships I pick"


def choose_set(places) -> list[str]:
    """The commissioner's set: every partnership, one region, one saved (custom) peer group, or a hand pick."""
    groups = sorted({g for text in places["groups"].astype(str) for g in text.split(";") if g})
    ways = ["All my partnerships", BY_REGION, *([BY_GROUP] if groups else []), BY_HAND]
    way = st.radio("Choose partnerships by", ways, horizontal=True, key="portfolio_by")
    if way == BY_REGION:
        region = st.selectbox("Region", sorted(places["region"].astype(str).unique()), key="portfolio_region")
        return trends.portfolio_selection(places, region=region)
    if way == BY_GROUP:
        group = st.selectbox("Saved peer group", groups, key="portfolio_group")
        return trends.portfolio_selection(places, group=group)
    if way == BY_HAND:
        names = dict(zip(places["partnership"], places["name"], strict=True))
        picked = st.multiselect("Partnerships", list(names), format_func=names.get, key="portfolio_pick",
                                placeholder="Choose one or more partnerships")
        return trends.portfolio_selection(places, keys=picked)
    return trends.portfolio_selection(places)


def portfolio_view(version: str) -> list[str] | None:
    """The Portfolio page body: the chosen set, a verdict grid with sizes of change, the table and CSV.

    Returns the keys of the chosen set (for the rest of the page), or None when there is nothing to show at
    all (no partnerships or no closed rounds)."""
    places = resources.partnerships(version)
    if places.empty:
        st.info("No partnerships yet.")
        return None
    keys = choose_set(places)
    frame = resources.latest_trends(version)
    if frame.empty:
        st.info("No closed rounds yet: the portfolio fills in as rounds close.")
        return None
    changes = trends.portfolio_changes(frame, keys)
    if changes.empty:
        st.info("None of the chosen partnerships has a closed round yet.")
        return keys
    names = widgets.partnership_names(version)
    titles = widgets.all_domain_titles(version)
    changes = changes.assign(partnership=changes["partnership"].map(lambda p: names.get(p, p)))
    periods = sorted(changes["period"].astype(str).unique())
    context = (f"{changes['partnership'].nunique()} partnerships · latest rounds "
               f"{periods[0]}{' to ' + periods[-1] if len(periods) > 1 else ''}")
    st.altair_chart(charts.build_portfolio_chart(changes, titles=titles, context=context), width="stretch")
    table = changes.pivot(index="partnership", columns="domain", values="cell").reset_index()
    table.columns.name = None
    widgets.table(table.rename(columns=titles), hide_index=True, key="portfolio_table",
                 column_config={"partnership": "Partnership"})
    verdicts = changes["verdict"].value_counts()
    st.caption(" · ".join(f"{verdict}: {count}" for verdict, count in verdicts.items()))
    st.download_button("Download the portfolio (CSV)", data=to_csv_bytes(changes.rename(columns={"cell": "shown"})),
                       file_name="portfolio.csv", mime="text/csv", key="portfolio_download",
                       icon=":material/download:")
    return keys


def _trend_context(name: str, frame) -> str:
    periods = sorted(frame["period"].astype(str).unique())
    span = periods[0] if len(periods) == 1 else f"{periods[0]} to {periods[-1]}"
    return f"{name} · {span} · {len(periods)} closed round(s) · n = {int(frame['n_respondents'].max())} at most"


def trend_charts(version: str, partnership: str, frame, titles) -> None:
    """The Trends chart of the chosen partnership, and beside it those of the others picked (small multiples).

    The others offered are only those the signed-in person may see; each is read through the service."""
    names = widgets.partnership_names(version)
    others = [key for key in names if key != partnership]
    picked = st.multiselect("Compare with other partnerships", others, format_func=names.get,
                            key="trends_compare", placeholder="Choose partnerships to show side by side")
    shown = [(partnership, frame)]
    for key in picked:
        other = resources.partnership_trends(version, key)
        if other.empty:
            st.info(f"{widgets.plain(names[key])} has no closed rounds yet.")
            continue
        shown.append((key, other.assign(domain_title=other["domain"].map(lambda d: titles.get(d, d)))))
    for key, data in shown:
        st.altair_chart(charts.build_trend_chart(data, titles=titles, context=_trend_context(names[key], data)),
                        width="stretch", key=f"trends_chart_{key}")
