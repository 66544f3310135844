"""The app's frame: page config, navigation, run. Pages live in app_pages/."""

import streamlit as st

st.set_page_config(page_title="Partnership maturity assessment", layout="wide")
st.navigation([st.Page("app_pages/home.py", title="Home", default=True)]).run()
