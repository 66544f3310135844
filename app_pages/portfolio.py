"""Portfolio: every partnership's latest change per domain, for commissioners. Never a ranking."""

import streamlit as st

from app_pages import _actions as portfolio_actions
from app_pages import _commissioners as commissioners
from app_pages import _resources as resources

version = resources.data_version()
st.title("Portfolio")
st.write("The latest change verdict of each domain in each partnership, against the partnership's previous "
         "round, with the size of the change and its 95% interval. Partnerships are listed alphabetically: "
         "this is not a league table.")

chosen = commissioners.portfolio_view(version)
if chosen is None:
    st.stop()
portfolio_actions.portfolio_panel(version, chosen)
