"""Results of a closed round: domain scores, strengths and priorities, gap to peers, agencies, items."""

import pandas as pd
import streamlit as st

from app_pages import _actions as results_actions
from app_pages import _indicators_beside as indicators_beside
from app_pages import _resources as resources
from app_pages import _widgets as widgets
from assessment import charts
from assessment.scoring import blank_suppressed
from assessment.tabular import to_csv_bytes
from assessment.vocabulary import BUILT_IN_PEER_GROUPS, agency_label, peer_group_label

version = resources.data_version()
st.title("Results")
partnership = widgets.pick_partnership("results", version)
round_key = widgets.pick_round("results", version, partnership, status="closed") if partnership else None
if round_key is None:
    st.stop()

questionnaire = widgets.round_questionnaire(version, round_key)
titles = widgets.domain_titles(questionnaire)
name = widgets.partnership_names(version)[partnership]
all_scores = resources.partnership_scores(version)
own = widgets.in_domain_order(blank_suppressed(all_scores[all_scores["round"] == round_key]), questionnaire)
own["domain_title"] = own["domain"].map(titles)
own["note"] = own["suppression_reason"].fillna("").map(widgets.suppression_note)
own["looks_like"] = [questionnaire.level_description(d, None if pd.isna(lv) else lv) if questionnaire else ""
                     for d, lv in zip(own["domain"], own["level"], strict=True)]
split = own["split"].astype("boolean").fillna(False).astype(bool)

st.header("Domain scores and maturity levels")
st.caption(f"{widgets.plain(name)} · {widgets.plain(own['period'].iloc[0])} · "
           f"questionnaire {widgets.plain(own['version'].iloc[0])}")
left, right = st.columns([3, 2])
left.vega_lite_chart(resources.chart_spec("build_domain_scores_chart", (version, round_key), own, titles=titles),
                     width="stretch")
right.dataframe(
    own[["domain_title", "score", "level_label", "looks_like", "n_respondents", "n_agencies", "dk_rate", "split",
         "note"]],
    hide_index=True, key="results_scores_table",
    column_config={"domain_title": "Domain", "score": st.column_config.NumberColumn("Score", format="%.2f"),
                   "level_label": "Maturity level", "looks_like": "What this level looks like", "n_respondents": "Respondents (n)", "n_agencies": "Agencies",
                   "dk_rate": st.column_config.NumberColumn("Don't know", format="percent"),
                   "split": "Split", "note": "Not shown because"},
)

strengths, priorities = charts.strengths_and_priorities(own, titles=titles)
left, right = st.columns(2)
with left:
    st.subheader("Strengths")
    for row in strengths.itertuples():
        st.markdown(f"- **{widgets.plain(row.domain_title)}**: {row.score:.2f} ({widgets.plain(row.level_label)})")
with right:
    st.subheader("Priorities")
    for row in priorities.itertuples():
        flag = " — ⚑ split: agencies see this a level or more apart" if row.split else ""
        st.markdown(f"- **{widgets.plain(row.domain_title)}**: {row.score:.2f} ({widgets.plain(row.level_label)}){flag}")

indicators_beside.beside_results(version, partnership, round_key, own, titles)

st.header("Gap to peers")
place = resources.partnerships(version).set_index("partnership").loc[partnership]
groups = [*BUILT_IN_PEER_GROUPS, *[g for g in str(place["groups"]).split(";") if g]]


def label(group: str) -> str:
    return peer_group_label(group, nation=place["nation"], region=place["region"])


peer_group = st.selectbox("Peer group", groups, format_func=label, key="results_peer_group")
gaps, wider = resources.peer_comparison(version, partnership, round_key, peer_group)
gaps = widgets.in_domain_order(gaps.assign(domain_title=gaps["domain"].map(titles)), questionnaire)
shown = gaps.copy()
if wider is not None:
    st.info(f"Too few comparable peers in this group (at least {resources.settings().min_peers} are needed). "
            f"Try the next wider group: **{widgets.plain(label(wider))}**.")
    st.button(f"Compare with {widgets.plain(label(wider)[:1].lower() + label(wider)[1:])}", key="results_widen",
              on_click=st.session_state.__setitem__, args=("results_peer_group", wider))
if not gaps.empty:
    excluded = gaps[["n_excluded", "excluded_reasons"]].iloc[0]
    if int(excluded["n_excluded"]):
        st.caption(f"{int(excluded['n_excluded'])} partnership(s) left out of the peers: "
                   f"{excluded['excluded_reasons']}.")
    left, right = st.columns([3, 2])
    left.vega_lite_chart(resources.chart_spec("build_gap_chart", (version, round_key, peer_group), gaps,
                                              titles=titles, peer_group_label=label(peer_group)),
                         width="stretch")
    # the peer figures arrive as the disclosure rule lets them through (assessment.disclosure): no re-blanking
    right.dataframe(
        shown[["domain_title", "score", "n_peers", "median", "q1", "q3", "gap_to_median", "gap_to_top_quartile",
               "percentile_rank"]], hide_index=True, key="results_gap_table",
        column_config={"domain_title": "Domain", "n_peers": "Peers (n)", "gap_to_median": "Gap to median",
                       "gap_to_top_quartile": "Gap to top quartile", "percentile_rank": "Percentile rank",
                       **{c: st.column_config.NumberColumn(c.upper() if c[0] == "q" else c.capitalize(), format="%.2f")
                          for c in ("score", "median", "q1", "q3")}},
    )

results_actions.add_from_gaps(version, partnership, round_key, gaps, questionnaire)

st.header("How each agency sees the partnership")
frames = resources.round_frames(version, round_key)
agencies = widgets.in_domain_order(blank_suppressed(frames["agencies"]), questionnaire)
agencies = agencies.assign(agency_name=agencies["agency"].map(agency_label),
                           domain_title=agencies["domain"].map(titles))
left, right = st.columns([3, 2])
left.vega_lite_chart(resources.chart_spec("build_agency_chart", (version, round_key), agencies, titles=titles,
                                          split_domains=own.loc[split, "domain"].tolist()), width="stretch")
wide = agencies.pivot_table(index="domain_title", columns="agency_name", values="score", sort=False, dropna=False)
right.dataframe(wide.round(2).rename_axis("Domain"), key="results_agency_table")
hidden = agencies[agencies["suppressed"].astype(bool)].drop_duplicates(["agency", "suppression_reason"])
for row in hidden.itertuples():
    st.caption(f"{row.agency_name}: not shown — {widgets.suppression_note(row.suppression_reason)} "
               f"({resources.settings().min_group_size} needed).")

st.header("Item detail")
all_items = blank_suppressed(frames["items"])
# Open on the first domain whose answers may be shown (small groups hide every item of some domains).
shown_domains = set(all_items.loc[all_items["count_1"].notna(), "domain"])
first_shown = next((i for i, d in enumerate(titles) if d in shown_domains), 0)
domain = st.selectbox("Domain", list(titles), index=first_shown, format_func=titles.get, key="results_domain")
items = all_items[all_items["domain"] == domain].reset_index(drop=True)
texts = {item.id: item.text for item in questionnaire.domain(domain).items} if questionnaire else {}
if items["count_1"].isna().all():
    st.info("The answers for this domain are not shown: too few respondents in one of the agencies.")
else:
    st.vega_lite_chart(resources.chart_spec("build_item_distribution_chart", (version, round_key, domain),
                                            items.dropna(subset=["count_1"]), item_texts=texts), width="stretch")
st.dataframe(items.assign(text=items["item"].map(texts))[["text", "mean", "n_answered", "n_na", "n_dk", "dk_rate"]],
             hide_index=True, key="results_items_table",
             column_config={"text": "Item", "mean": st.column_config.NumberColumn("Mean", format="%.2f"),
                            "n_answered": "Answered (n)", "n_na": "Not applicable", "n_dk": "Don't know",
                            "dk_rate": st.column_config.NumberColumn("Don't know rate", format="percent")})
if questionnaire is not None:
    for item in questionnaire.domain(domain).items:
        with st.expander(widgets.plain(item.text)):
            for level, text in sorted(item.descriptors.items()):
                st.markdown(f"**{level} {widgets.plain(questionnaire.scale.label(level))}** — {widgets.plain(text)}")
            if item.guidance:
                st.caption(f"Evidence to look at: {widgets.plain(item.guidance)}")

if resources.principal().may("answer_comments", partnership):
    comments = resources.comments(version, round_key)
    comments = comments[comments["domain"] == domain]
    st.subheader("Evidence and comments")
    st.caption(f"Only from agency groups with at least {resources.settings().min_group_size} respondents"
               + ("." if "agency" in comments.columns else ", without the agency group."))
    if comments.empty:
        st.caption("No comments on this domain.")
    for row in comments.head(50).itertuples():
        with st.container(border=True):
            st.text(row.comment)  # respondents' words, shown as plain text
            who = f"{agency_label(row.agency)} · " if "agency" in comments.columns else ""
            st.caption(f"{who}{texts.get(row.item, row.item)}")

export = pd.merge(own.drop(columns=["note", "looks_like"], errors="ignore"),
                  shown[["domain", "n_peers", "median", "q1", "q3", "gap_to_median", "gap_to_top_quartile"]]
                  .rename(columns={"median": "peer_median", "q1": "peer_q1", "q3": "peer_q3"}),
                  on="domain", how="left") if not shown.empty else own
st.download_button("Download the domain scores (CSV)", data=to_csv_bytes(export), mime="text/csv",
                   file_name=f"{round_key}-results.csv", key="results_download", icon=":material/download:")
