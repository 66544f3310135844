"""Maturity and outcomes across partnerships (the course group): how a domain's score and a linked indicator go
together, as Spearman's rho with a bootstrap interval and n. An association, never an effect."""

import streamlit as st

from app_pages import _indicators_data as data
from app_pages import _resources as resources
from app_pages import _widgets as widgets
from assessment import charts
from assessment.indicators.association import ASSOCIATION_WORDING

version = resources.data_version()
st.title("Maturity and outcomes")
st.write(ASSOCIATION_WORDING + " Larger forces, higher demand and different recording practice can move both.")

periods = data.indicator_periods(version)
if periods.empty:
    st.info("No indicator figures yet: the association appears once partnerships have entered them.")
    st.stop()
period = st.selectbox("Period", list(periods["period"]), key="outcomes_period")
catalogue = data.catalogue()
titles = widgets.all_domain_titles(version)
domains = [d for d in titles if catalogue.for_domain(d)]
domain = st.selectbox("Domain", domains, format_func=titles.get, key="outcomes_domain")
linked = {i.id: i.name for i in catalogue.for_domain(domain)}
indicator = st.selectbox("Indicator", list(linked), format_func=linked.get, key="outcomes_indicator")

result, named = data.indicator_association_points(version, domain, indicator, period)
left, middle, right = st.columns(3)
left.metric("Spearman's rho", "—" if result.rho is None else f"{result.rho:+.2f}")
middle.metric(f"{result.confidence:.0%} interval",
              "—" if result.ci_low is None else f"{result.ci_low:+.2f} to {result.ci_high:+.2f}")
right.metric("Partnerships (n)", result.n)
if result.reason:
    st.info(widgets.plain(result.reason))
st.caption(f"Each partnership's score in {widgets.plain(titles.get(domain, domain))} and its own figure for "
           f"{widgets.plain(linked[indicator])} in {widgets.plain(period)}; hidden scores and counts shown as "
           f"\"fewer than 5\" are left out. Interval: percentile bootstrap over partnerships "
           f"({result.resamples_used} of {result.resamples} resamples).")
st.subheader("Partnerships that agreed to be named")
if named.empty:
    st.info("No partnership in this comparison agreed to be named, so no points are drawn: a force's published "
            "figures could identify an unnamed point.")
else:
    st.altair_chart(charts.build_association_chart(named, score_title=titles.get(domain, domain),
                                                   value_title=linked[indicator]), width="stretch")
    st.caption(f"{len(named)} of the {result.n} partnerships are drawn (those that agreed to be named); rho and "
               "its interval use all of them.")
