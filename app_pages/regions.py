"""Compare regions: median scores region × domain, the spread per region, and promising practices."""

import streamlit as st

from app_pages import _indicators_beside as indicators_beside
from app_pages import _regions_course as course
from app_pages import _resources as resources
from app_pages import _widgets as widgets
from assessment import charts
from assessment.tabular import to_csv_bytes

version = resources.data_version()
st.title("Compare regions")
st.write("How partnerships score in each region and nation, from their closed rounds in one period. A region "
         f"needs at least {resources.settings().min_peers} scored partnerships before its figures are shown.")

closed = resources.region_periods(version)
if closed.empty:
    st.info("No closed rounds yet: regional comparisons appear once rounds close.")
    st.stop()
period = course.choose_period(closed)  # the latest period; says when another has more closed rounds
titles = widgets.all_domain_titles(version)
regions = resources.region_comparison(version, period)
regions = regions.assign(domain_title=regions["domain"].map(lambda d: titles.get(d, d)))

st.header("Median score by region and domain")
st.altair_chart(charts.build_region_heatmap(regions, titles=titles), width="stretch")
course.strongest_table(regions, titles)

st.header("Spread within each region")
shown_regions = regions[(regions["scope"] == "region") & ~regions["suppressed"].astype(bool)]
if shown_regions.empty:
    st.info(f"No region has {resources.settings().min_peers} or more partnerships with a closed round in {widgets.plain(period)}, "
            "so no regional spread can be shown. The nation figures are in the table below.")
else:
    st.altair_chart(charts.build_region_distribution_chart(regions, titles=titles), width="stretch")

st.subheader("Counts and suppression")
table = regions[["scope", "nation", "region", "domain_title", "partnerships", "median", "q1", "q3", "suppressed"]]
widgets.table(table, hide_index=True, key="regions_table",
             column_config={"scope": "Nation or region", "nation": "Nation", "region": "Region", "domain_title": "Domain",
                            "partnerships": "Partnerships (n)", "suppressed": "Not shown (too few)",
                            **{c: st.column_config.NumberColumn(c.upper() if c[0] == "q" else "Median",
                                                                format="%.2f") for c in ("median", "q1", "q3")}})
hidden = regions.loc[regions["suppressed"].astype(bool) & (regions["scope"] == "region"), "region"].unique()
if len(hidden):
    st.caption(f"Not shown for {', '.join(widgets.plain(r) for r in sorted(hidden))}: fewer than {resources.settings().min_peers} "
               "partnerships with a comparable closed round in this period.")
st.download_button("Download the regional figures (CSV)", data=to_csv_bytes(table), file_name=f"regions-{period}.csv",
                   mime="text/csv", key="regions_download", icon=":material/download:")

indicators_beside.region_medians(version, period)

st.header("Promising practices")
st.write("Evidence written by respondents in partnerships scoring at or above the top quartile of the domain, "
         "from partnerships that agreed to share their practice. Partnerships are named only where they "
         "agreed to be named.")
domain = st.selectbox("Domain", list(titles), format_func=titles.get, key="regions_domain")
practices = resources.promising_practices(version, domain, period)
course.practices(version, practices)
