"""Results of a closed round: headline, domain scores, strengths and priorities, gap to peers, agencies, items.

Every figure comes from the round's results model (``assessment.service.results_model``), which the board
pack renders too; the sections are drawn by ``app_pages/_results_view.py``.
"""

import streamlit as st

from app_pages import _actions as results_actions
from app_pages import _indicators_beside as indicators_beside
from app_pages import _resources as resources
from app_pages import _results_view as view
from app_pages import _widgets as widgets
from assessment.tabular import to_csv_bytes
from assessment.vocabulary import agency_label

version = resources.data_version()
st.title("Results")
partnership = widgets.pick_partnership("results", version)
round_key = widgets.pick_round("results", version, partnership, status="closed") if partnership else None
if round_key is None:
    st.stop()

questionnaire = widgets.round_questionnaire(version, round_key)
peer_group = view.pick_peer_group(version, partnership)
model = resources.results_model(version, round_key, peer_group)

view.headline(model)
view.board_pack_downloads(model)
view.domain_scores(version, model)
view.strengths_and_priorities(model)
indicators_beside.beside_results(version, partnership, round_key, model.domains.assign(period=model.context.period),
                                 model.titles)
gaps = view.gap_to_peers(version, model)
results_actions.add_from_gaps(version, partnership, round_key, gaps, questionnaire)
view.agencies(version, model)

st.header("Item detail")
# Open on the first domain whose answers may be shown (small groups hide every item of some domains).
shown_domains = set(model.items.loc[model.items["mean"].notna(), "domain"])
titles = model.titles
first_shown = next((i for i, d in enumerate(titles) if d in shown_domains), 0)
domain = st.selectbox("Domain", list(titles), index=first_shown, format_func=titles.get, key="results_domain")
items = model.items[model.items["domain"] == domain].reset_index(drop=True)
texts = dict(zip(items["item"], items["text"], strict=True))
if items["count_1"].isna().all():
    st.info("The answers for this domain are not shown: too few respondents in one of the agencies.")
else:
    st.vega_lite_chart(resources.chart_spec("build_item_distribution_chart", (version, round_key, domain),
                                            items.dropna(subset=["count_1"]), item_texts=texts,
                                            context=model.chart_context(model.headline.n_respondents)),
                       width="stretch")
widgets.table(items[["text", "mean", "n_answered", "n_na", "n_dk", "dk_rate"]], hide_index=True,
             key="results_items_table", width="stretch",
             column_config={"text": st.column_config.TextColumn("Item", width="large"),
                            "mean": st.column_config.NumberColumn("Mean", format="%.2f"),
                            "n_answered": "Answered (n)", "n_na": "Not applicable", "n_dk": "Don't know",
                            "dk_rate": st.column_config.NumberColumn("Don't know rate", format="%d%%")})
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

st.download_button("Download the domain scores (CSV)", data=to_csv_bytes(model.domains), mime="text/csv",
                   file_name=f"{round_key}-results.csv", key="results_download", icon=":material/download:")
