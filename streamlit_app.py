"""The app's frame: page config, who is acting, their navigation menu, the notices, run. Pages live in app_pages/."""

import streamlit as st

from app_pages import _first_start as first_start
from app_pages import _look as look
from app_pages._frame import decide_access, pages_for, show_notices, show_sidebar

st.set_page_config(page_title="Partnership maturity assessment", page_icon=look.FAVICON, layout="wide")
look.apply()
access = decide_access()
staff = access.principal is not None and access.principal.is_staff
page = st.navigation(pages_for(access), position="sidebar" if staff else "hidden")
show_sidebar(access)
show_notices(access)
first_start.notice(access)
page.run()
