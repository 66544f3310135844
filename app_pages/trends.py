"""Trends: a partnership's domain scores across rounds, with intervals, comparability breaks and verdicts."""

import streamlit as st

from app_pages import _commissioners as commissioners
from app_pages import _indicators_beside as indicators_beside
from app_pages import _resources as resources
from app_pages import _widgets as widgets
from assessment.tabular import to_csv_bytes

version = resources.data_version()
st.title("Trends")
st.write("Each domain's score in every closed round, with its 95% bootstrap interval. A change counts as "
         "**improved** or **declined** only when the whole interval of the change lies on one side of zero; "
         "a dashed line marks a questionnaire change after which the domain cannot be compared.")
partnership = widgets.pick_partnership("trends", version)
if partnership is None:
    st.stop()
closed = widgets.partnership_rounds(version, partnership, status="closed")
if closed.empty:
    st.info("This partnership has no closed rounds yet: trends appear once a round closes.")
    st.stop()

frame = resources.partnership_trends(version, partnership)
titles = widgets.all_domain_titles(version)
frame = frame.assign(domain_title=frame["domain"].map(lambda d: titles.get(d, d)))
if len(closed) == 1:
    st.info("Only one closed round so far: the change verdicts appear after the next one.")

commissioners.trend_charts(version, partnership, frame, titles)

st.subheader("Change verdicts")
latest = frame.sort_values("period").drop_duplicates("domain", keep="last")
counts = latest["verdict"].replace("", "first round").value_counts()
cols = st.columns(4)
for col, verdict in zip(cols, ("improved", "no clear change", "declined", "not comparable"), strict=True):
    col.metric(verdict.capitalize(), int(counts.get(verdict, 0)))

table = frame[["domain_title", "period", "version", "score", "ci_low", "ci_high", "n_respondents", "change",
               "change_low", "change_high", "verdict", "break_reason"]]
widgets.table(
    table, hide_index=True, key="trends_table",
    column_config={"domain_title": "Domain", "period": "Period", "version": "Questionnaire version",
                   "score": st.column_config.NumberColumn("Score", format="%.2f"),
                   "ci_low": st.column_config.NumberColumn("95% low", format="%.2f"),
                   "ci_high": st.column_config.NumberColumn("95% high", format="%.2f"),
                   "n_respondents": "Respondents (n)",
                   "change": st.column_config.NumberColumn("Change", format="%+.2f"),
                   "change_low": st.column_config.NumberColumn("Change low", format="%+.2f"),
                   "change_high": st.column_config.NumberColumn("Change high", format="%+.2f"),
                   "verdict": "Verdict", "break_reason": "Not comparable because"},
)
st.download_button("Download the trends (CSV)", data=to_csv_bytes(table), file_name=f"{partnership}-trends.csv",
                   mime="text/csv", key="trends_download", icon=":material/download:")
indicators_beside.beside_trends(version, partnership, titles)
