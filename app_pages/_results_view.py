"""The Results page's sections, drawn from the results model (``assessment.reports.ResultsModel``).

The page and the board pack render the same model, so a number on the page is the number in the pack. Each
function draws one section; ``app_pages/results.py`` lists them in order. Tables are laid out full width
under their chart (every column visible at 1400 px, no sideways scrolling); charts carry their context
(partnership, period, questionnaire version, peer group, n) in their subtitle.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import _resources as resources
from app_pages import _widgets as widgets
from assessment.reports import ResultsModel
from assessment.reports.board_pack import PDF_HELP, pdf_available
from assessment.vocabulary import BUILT_IN_PEER_GROUPS, peer_group_label

__all__ = ["agencies", "board_pack_downloads", "domain_scores", "gap_to_peers", "headline", "pick_peer_group",
           "strengths_and_priorities"]

_SCORE = {"format": "%.2f"}


def pick_peer_group(version: str, partnership: str) -> str:
    """The peer group the gaps (and the pack) compare with."""
    place = resources.partnerships(version).set_index("partnership").loc[partnership]
    groups = [*BUILT_IN_PEER_GROUPS, *[g for g in str(place["groups"]).split(";") if g]]
    return st.selectbox("Peer group", groups, key="results_peer_group",
                        format_func=lambda g: peer_group_label(g, nation=place["nation"], region=place["region"]))


def headline(model: ResultsModel) -> None:
    """The metric row: overall score and level, respondents, agencies, domains shown."""
    h = model.headline
    st.caption(f"{widgets.plain(model.context.partnership_name)} · {widgets.plain(model.context.period)} · "
               f"questionnaire {widgets.plain(model.context.version)}")
    overall, respondents, agencies_col, domains_col = st.columns(4)
    overall.metric("Overall score", "not shown" if h.score is None else f"{h.score:.2f}",
                   delta=h.level_label or None, delta_color="off", delta_arrow="off",
                   help="Agency-balanced mean of the domain scores, 1 (Initial) to 5 (Leading), and its maturity level.")
    respondents.metric("Respondents (n)", h.n_respondents)
    agencies_col.metric("Agencies that responded", h.n_agencies)
    domains_col.metric("Domains with a score shown", f"{h.n_domains_scored} of {h.n_domains}")
    if h.note:
        st.caption(f"The overall score is not shown: {h.note}.")


def board_pack_downloads(model: ResultsModel) -> None:
    """The board pack (HTML always; PDF when WeasyPrint is installed, else how to enable it)."""
    c = model.context
    stem = f"{c.round}-board-pack"
    html_col, pdf_col = st.columns(2)
    html_col.download_button("Board pack (HTML)", key="results_board_pack_html", icon=":material/description:",
                             data=resources.board_pack(model, "html"),
                             file_name=f"{stem}.html", mime="text/html",
                             help="One self-contained file: summary, each domain, action plan, appendix. "
                                  "Opens in any browser and prints on A4.")
    if pdf_available():
        pdf_col.download_button("Board pack (PDF)", key="results_board_pack_pdf", icon=":material/picture_as_pdf:",
                                data=resources.board_pack(model, "pdf"),
                                file_name=f"{stem}.pdf", mime="application/pdf")
    else:
        pdf_col.caption(PDF_HELP)


def domain_scores(version: str, model: ResultsModel) -> None:
    st.header("Domain scores and maturity levels")
    st.vega_lite_chart(resources.chart_spec(
        "build_domain_scores_chart", (version, model.context.round, "scores"), model.domains, titles=model.titles,
        context=model.chart_context(model.headline.n_respondents), thresholds=model.thresholds), width="stretch")
    # every column visible at 1400 px (about 930 px for the table beside the sidebar): fixed widths, and the
    # suppression reasons as notes under the table instead of a column
    widgets.table(
        model.domains[["domain_title", "score", "level_label", "band_now", "n_respondents", "n_agencies", "dk_rate",
                       "split"]].rename(columns={"band_now": "looks_like"}),
        hide_index=True, key="results_scores_table", width="stretch",
        column_config={"domain_title": st.column_config.TextColumn("Domain", width=200),
                       "score": st.column_config.NumberColumn("Score", **_SCORE, width=60),
                       "level_label": st.column_config.TextColumn("Maturity level", width=95),
                       "looks_like": st.column_config.TextColumn("What this level looks like", width=260),
                       "n_respondents": st.column_config.NumberColumn("Respondents (n)", width=95),
                       "n_agencies": st.column_config.NumberColumn("Agencies", width=70),
                       "dk_rate": st.column_config.NumberColumn("Don't know", format="%d%%", width=75),
                       "split": st.column_config.CheckboxColumn("Split", width=50)})
    if model.suppression_notes:
        with st.expander(f"What is not shown, and why ({len(model.suppression_notes)})"):
            for note in model.suppression_notes:
                st.caption(widgets.plain(note))


def strengths_and_priorities(model: ResultsModel) -> None:
    left, right = st.columns(2)
    for column, title, frame in ((left, "Strengths", model.strengths), (right, "Priorities", model.priorities)):
        with column:
            st.subheader(title)
            for row in frame.itertuples():
                flag = " — ⚑ split: agencies see this a level or more apart" if row.split and title == "Priorities" else ""
                st.markdown(f"- **{widgets.plain(row.domain_title)}**: {row.score:.2f} "
                            f"({widgets.plain(row.level_label)}){flag}")


def gap_to_peers(version: str, model: ResultsModel) -> pd.DataFrame:
    """The gap chart (optionally sorted by gap) and its table; returns the table shown."""
    st.header("Gap to peers")
    if model.wider_peer_group is not None:
        wider = model.wider_peer_group_label
        st.info(f"Too few comparable peers in this group (at least {resources.settings().min_peers} are needed). "
                f"Try the next wider group: **{widgets.plain(wider)}**.")
        st.button(f"Compare with {widgets.plain(wider[:1].lower() + wider[1:])}", key="results_widen",
                  on_click=st.session_state.__setitem__, args=("results_peer_group", model.wider_peer_group))
    for note in model.peer_notes:
        st.caption(widgets.plain(note))
    gaps = model.gap_frame()
    by_gap = st.toggle("Sort by gap to the peer median (largest shortfall first)", key="results_sort_by_gap")
    if by_gap:
        gaps = gaps.iloc[gaps["gap_to_median"].fillna(float("inf")).argsort(kind="stable")].reset_index(drop=True)
    st.vega_lite_chart(resources.chart_spec(
        "build_gap_chart", (version, model.context.round, model.context.peer_group, by_gap), gaps,
        titles=None if by_gap else model.titles, peer_group_label=model.context.peer_group_label,
        context=model.chart_context(model.headline.n_respondents), sort_by_gap=by_gap), width="stretch")
    widgets.table(gaps[["domain_title", "score", "n_peers", "median", "q1", "q3", "gap_to_median",
                       "gap_to_top_quartile", "percentile_rank"]],
                 hide_index=True, key="results_gap_table", width="stretch",
                 column_config={"domain_title": st.column_config.TextColumn("Domain", width=250),
                                "n_peers": st.column_config.NumberColumn("Peers (n)", width=75),
                                "percentile_rank": st.column_config.NumberColumn("Percentile rank", width=105),
                                "gap_to_median": st.column_config.NumberColumn("Gap to median", format="%+.2f",
                                                                               width=100),
                                "gap_to_top_quartile": st.column_config.NumberColumn("Gap to top quartile",
                                                                                     format="%+.2f", width=130),
                                **{c: st.column_config.NumberColumn(c.upper() if c[0] == "q" else c.capitalize(),
                                                                    **_SCORE, width=62)
                                   for c in ("score", "median", "q1", "q3")}})
    return gaps


def agencies(version: str, model: ResultsModel) -> None:
    st.header("How each agency sees the partnership")
    st.vega_lite_chart(resources.chart_spec(
        "build_agency_chart", (version, model.context.round, "agencies"), model.agencies, titles=model.titles,
        split_domains=model.split_domains, context=model.chart_context(model.headline.n_respondents)),
        width="stretch")
    wide = model.agencies.pivot_table(index="domain_title", columns="agency_name", values="score", sort=False,
                                      dropna=False)
    # up to nine agencies beside the domain, all visible at 1400 px (full names in the column tooltips)
    widgets.table(wide.rename_axis("Domain"), key="results_agency_table", width="stretch",
                 column_config={"_index": st.column_config.TextColumn("Domain", width=200),
                                **{c: st.column_config.NumberColumn(c, help=c, **_SCORE, width=78)
                                   for c in wide.columns}})
    hidden = model.agencies[model.agencies["suppressed"]].drop_duplicates(["agency", "note"])
    for row in hidden.itertuples():
        st.caption(f"{row.agency_name}: not shown — {row.note} ({model.min_group_size} needed).")
