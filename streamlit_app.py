"""The app's frame: page config, the role's navigation menu, the notices, run. Pages live in app_pages/."""

import streamlit as st

from app_pages._frame import current_role, pages_for, show_notices

st.set_page_config(page_title="Partnership maturity assessment", page_icon=":material/handshake:", layout="wide")
role = current_role()
page = st.navigation(pages_for(role), position="sidebar" if role != "respondent" else "hidden")
show_notices(role)
page.run()
