"""Portfolio: every partnership's latest change per domain, for commissioners. Never a ranking."""

import streamlit as st

from app_pages import _actions as portfolio_actions
from app_pages import _resources as resources
from app_pages import _widgets as widgets
from assessment import charts, trends
from assessment.tabular import to_csv_bytes

version = resources.data_version()
st.title("Portfolio")
st.write("The latest change verdict of each domain in each partnership, against the partnership's previous "
         "round. Partnerships are listed alphabetically: this is not a league table.")

places = resources.partnerships(version)
if places.empty:
    st.info("No partnerships yet.")
    st.stop()
regions = sorted(places["region"].unique())
region = st.selectbox("Region", ["All regions", *regions], key="portfolio_region")
frame = resources.all_trends(version)
if frame.empty:
    st.info("No closed rounds yet: the portfolio fills in as rounds close.")
    st.stop()
table = trends.portfolio(frame, places, region=None if region == "All regions" else region)
names = widgets.partnership_names(version)
titles = widgets.all_domain_titles(version)
table = table.assign(partnership=table["partnership"].map(lambda p: names.get(p, p)))

st.altair_chart(charts.build_portfolio_chart(table, titles=titles), width="stretch")
domains = [c for c in table.columns if c not in ("partnership", "nation", "region")]
st.dataframe(table.rename(columns=titles), hide_index=True, key="portfolio_table",
             column_config={"partnership": "Partnership", "nation": "Nation", "region": "Region"})
verdicts = table[domains].stack().value_counts()
st.caption(" · ".join(f"{verdict}: {count}" for verdict, count in verdicts.items()))
st.download_button("Download the portfolio (CSV)", data=to_csv_bytes(table.rename(columns=titles)),
                   file_name="portfolio.csv", mime="text/csv", key="portfolio_download",
                   icon=":material/download:")
portfolio_actions.portfolio_panel(version)
