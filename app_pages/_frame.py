"""The app's frame: which pages a user sees (role-aware menus) and the notices shown on every page.

Until login lands (the access-control issue), the app is for a single trusted deployment: everyone who
can reach it gets the full menu, except a respondent who arrives through an invite link, who sees only
the assessment. ``pages_for(role)`` is the one place the menu per role is decided.
"""

from __future__ import annotations

import streamlit as st

from app_pages import _resources as resources

ROLES = ("respondent", "administrator")
_PAGES = {
    # key: (file, title, icon, section)
    "home": ("app_pages/home.py", "Home", ":material/home:", "Partnership"),
    "results": ("app_pages/results.py", "Results", ":material/bar_chart:", "Partnership"),
    "trends": ("app_pages/trends.py", "Trends", ":material/trending_up:", "Partnership"),
    "take": ("app_pages/take_assessment.py", "Take the assessment", ":material/edit_note:", "Partnership"),
    "regions": ("app_pages/regions.py", "Compare regions", ":material/map:", "National view"),
    "portfolio": ("app_pages/portfolio.py", "Portfolio", ":material/grid_view:", "National view"),
    "manage": ("app_pages/manage.py", "Manage", ":material/settings:", "Administration"),
}
_ROLE_PAGES = {
    "respondent": ("take",),
    "administrator": ("home", "results", "trends", "take", "regions", "portfolio", "manage"),
}


def current_role() -> str:
    """``respondent`` while answering through an invite link; otherwise the trusted-deployment default."""
    if "invite" in st.query_params or "take_token" in st.session_state:
        return "respondent"
    return "administrator"


def menu_for(role: str) -> dict[str, list[str]]:
    """The page keys a role sees, by menu section, in menu order (the first is the default page)."""
    if role not in _ROLE_PAGES:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    menu: dict[str, list[str]] = {}
    for key in _ROLE_PAGES[role]:
        menu.setdefault(_PAGES[key][3], []).append(key)
    return menu


def pages_for(role: str) -> dict[str, list]:
    """The navigation menu for a role, as ``{section: [st.Page, ...]}``; the first page is the default."""
    first = _ROLE_PAGES.get(role, ("",))[0]
    return {section: [st.Page(_PAGES[key][0], title=_PAGES[key][1], icon=_PAGES[key][2], default=key == first,
                              url_path=key) for key in keys]
            for section, keys in menu_for(role).items()}


def show_notices(role: str) -> None:
    """The notices at the top of every page (plain text only: never HTML)."""
    if role == "respondent":
        return
    version = resources.data_version()
    if resources.is_demo(version):
        st.warning("**Synthetic demo data.** Every partnership, round and answer shown here is made up to "
                   "demonstrate the tool. Run `assessment demo --reset` to rebuild it, or start with "
                   "`ASSESSMENT_DEMO=0` on an empty database for real use.", icon=":material/science:")
    st.caption("This app is for a single trusted deployment until login is added: everyone who can open "
               "it can see and manage all partnerships.")
