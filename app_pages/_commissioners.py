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

EVERY = "All my partnerships"
BY_REGION, BY_GROUP, BY_HAND = "Region", "Saved peer group", "Partnerships I pick"
BY_ICB, BY_FORCE = "ICB footprint", "Police force area (PCC)"
#: The address-bar form of the choice (``?set=icb&of=NHS+...``, ``?set=pick&p=kent&p=essex``): a bookmark
#: restores it. Read back only against the partnerships the signed-in person may see.
SET_PARAMETER, OF_PARAMETER, PICK_PARAMETER = "set", "of", "p"
_WORDS = {EVERY: "all", BY_REGION: "region", BY_GROUP: "group", BY_ICB: "icb", BY_FORCE: "police", BY_HAND: "pick"}
_BOXES = {BY_REGION: "portfolio_region", BY_GROUP: "portfolio_group", BY_ICB: "portfolio_icb",
          BY_FORCE: "portfolio_force"}
#: Session keys: the last choice (restored when the commissioner comes back to Portfolio) and the chosen set's
#: partnership keys, which Trends shows side by side (None when every partnership is chosen).
CHOICE_STATE, SET_STATE = "portfolio_choice", "portfolio_set"


def _options(places) -> dict[str, list[str]]:
    """The choices of each way of choosing, from the partnerships the signed-in person may see."""
    return {BY_REGION: sorted(places["region"].astype(str).unique()),
            BY_GROUP: trends.member_organisations(places, "groups"),
            BY_ICB: trends.member_organisations(places, "icbs"),
            BY_FORCE: trends.member_organisations(places, "police_forces")}


def _from_address(ways: list[str], options: dict[str, list[str]], keys: list[str]) -> tuple | None:
    """The choice in the address bar, or None when there is none or it names something not offered here
    (an unknown or forbidden partnership key is dropped silently: nothing is said about it)."""
    way = {word: name for name, word in _WORDS.items()}.get(str(st.query_params.get(SET_PARAMETER, "")))
    if way not in ways:
        return None
    if way in _BOXES:
        value = st.query_params.get(OF_PARAMETER)
        return (way, value, []) if value in options[way] else None
    if way == BY_HAND:
        return way, None, [k for k in dict.fromkeys(st.query_params.get_all(PICK_PARAMETER)) if k in keys]
    return way, None, []


def _to_address(way: str, value: str | None, picked: list[str]) -> None:
    for name in (SET_PARAMETER, OF_PARAMETER, PICK_PARAMETER):
        st.query_params.pop(name, None)
    if way == EVERY:
        return
    st.query_params[SET_PARAMETER] = _WORDS[way]
    if value is not None:
        st.query_params[OF_PARAMETER] = value
    if way == BY_HAND and picked:
        st.query_params[PICK_PARAMETER] = picked


def choose_set(places) -> list[str]:
    """The commissioner's set: every partnership, one region, one saved (custom) peer group, an ICB footprint,
    a police force area, or a hand pick. The choice goes in the address bar (a bookmark restores it) and is
    kept for the session, so Trends shows the same set side by side."""
    options = _options(places)
    keys = list(places["partnership"].astype(str))
    ways = [EVERY, BY_REGION, *(way for way in (BY_GROUP, BY_ICB, BY_FORCE) if options[way]), BY_HAND]
    if "portfolio_by" not in st.session_state:  # the page opens: the bookmark first, else this session's last
        restored = _from_address(ways, options, keys) or st.session_state.get(CHOICE_STATE)
        if restored is not None and restored[0] in ways:
            way, value, picked = restored
            if way in _BOXES and value in options[way]:
                st.session_state[_BOXES[way]] = value
            if way == BY_HAND:
                st.session_state["portfolio_pick"] = [k for k in picked if k in keys]
            if way not in _BOXES or value in options[way]:
                st.session_state["portfolio_by"] = way
    way = st.radio("Choose partnerships by", ways, horizontal=True, key="portfolio_by")
    value, picked = None, []
    if way in _BOXES:
        label = {BY_FORCE: "Police force"}.get(way, way)
        value = st.selectbox(label, options[way], key=_BOXES[way])
        chosen = trends.portfolio_selection(places, **{BY_REGION: {"region": value}, BY_GROUP: {"group": value}}
                                            .get(way, {"organisation": value}))
    elif way == BY_HAND:
        names = dict(zip(places["partnership"], places["name"], strict=True))
        picked = st.multiselect("Partnerships", list(names), format_func=names.get, key="portfolio_pick",
                                placeholder="Choose one or more partnerships")
        chosen = trends.portfolio_selection(places, keys=picked)
    else:
        chosen = trends.portfolio_selection(places)
    st.session_state[CHOICE_STATE] = (way, value, list(picked))
    st.session_state[SET_STATE] = None if way == EVERY else chosen
    _to_address(way, value, list(picked))
    return chosen


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
    carry = st.session_state.get("trends_carry")  # the set carried here, whom it was shown beside, and how
    if "trends_compare" not in st.session_state:  # the page opens: the bookmark first, else the Portfolio set
        listed = st.query_params.get_all(PICK_PARAMETER) or (st.session_state.get(SET_STATE) or [])
        full = [key for key in dict.fromkeys(listed) if key in names]  # only partnerships offered here
        carry = {"set": full, "for": None, "shown": None} if full else None
    if carry is not None and carry["for"] != partnership and (
            carry["for"] is None or list(st.session_state.get("trends_compare", [])) == carry["shown"]):
        # Newly carried, or the first partnership changed before the comparison was edited: the rest of the set.
        carry = {**carry, "for": partnership, "shown": [key for key in carry["set"] if key != partnership]}
        st.session_state["trends_compare"] = carry["shown"]
    st.session_state["trends_carry"] = carry
    if carry is not None and list(st.session_state.get("trends_compare", [])) == carry["shown"] and carry["shown"]:
        st.caption("Shown beside it: the other partnerships of the set chosen on Portfolio (or in the address); "
                   "change them here.")
    picked = st.multiselect("Compare with other partnerships", others, format_func=names.get,
                            key="trends_compare", placeholder="Choose partnerships to show side by side")
    st.query_params.pop(PICK_PARAMETER, None)
    if picked:
        st.query_params[PICK_PARAMETER] = picked  # a bookmark of Trends restores the side-by-side set
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
