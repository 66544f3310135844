"""The app's frame: who is acting (sign-in), which pages they see (role-aware menus), the notices.

``decide_access()`` settles the acting principal once per rerun, in this order:

1. A respondent arriving through an invite link (or already answering) sees only the assessment.
2. ``ASSESSMENT_AUTH=none``: a single operator acting as administrator, only on a loopback
   ``server.address``; on any other address the app shows only why and how to configure sign-in.
3. A member of staff signed in with ``st.login``: their grants; an unknown user sees only "no access yet".
   The session ends ``ASSESSMENT_SESSION_HOURS`` after the ID token was issued.
4. Nobody signed in, synthetic demo loaded: a read-only "view as" switch (the demo only).
5. Otherwise: the sign-in page only (whatever address was asked for).

``pages_for(principal)`` is the one place the menu per role is decided; the service layer refuses anything
a page would show by mistake.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import streamlit as st

from app_pages import _resources as resources
from assessment import service
from assessment.permissions import (
    ADMINISTRATOR,
    ANALYST,
    BOARD_MEMBER,
    COMMISSIONER,
    PARTNERSHIP_LEAD,
    RESPONDENT,
    ROLE_LABELS,
    Principal,
    is_loopback,
)

ROLES = (RESPONDENT, ADMINISTRATOR, PARTNERSHIP_LEAD, BOARD_MEMBER, COMMISSIONER, ANALYST)
_PAGES = {
    # key: (file, title, icon, section)
    "home": ("app_pages/home.py", "Home", ":material/home:", "Partnership"),
    "results": ("app_pages/results.py", "Results", ":material/bar_chart:", "Partnership"),
    "trends": ("app_pages/trends.py", "Trends", ":material/trending_up:", "Partnership"),
    "actions": ("app_pages/actions.py", "Actions", ":material/checklist:", "Partnership"),
    "take": ("app_pages/take_assessment.py", "Take the assessment", ":material/edit_note:", "Partnership"),
    "indicators": ("app_pages/indicators.py", "Outcome indicators", ":material/monitoring:", "Partnership"),
    "outcomes": ("app_pages/outcomes.py", "Maturity and outcomes", ":material/scatter_plot:", "National view"),
    "regions": ("app_pages/regions.py", "Compare regions", ":material/map:", "National view"),
    "portfolio": ("app_pages/portfolio.py", "Portfolio", ":material/grid_view:", "National view"),
    "manage": ("app_pages/manage.py", "Manage", ":material/settings:", "Administration"),
    "sign_in": ("app_pages/sign_in.py", "Sign in", ":material/login:", "Sign in"),
}
_ORDER = ("home", "results", "trends", "actions", "indicators", "take", "regions", "outcomes", "portfolio", "manage")
_ROLE_PAGES = {
    RESPONDENT: ("take",),
    ADMINISTRATOR: ("home", "results", "trends", "actions", "indicators", "take", "regions", "outcomes", "portfolio",
                    "manage"),
    PARTNERSHIP_LEAD: ("home", "results", "trends", "actions", "indicators", "portfolio", "manage"),
    BOARD_MEMBER: ("home", "results", "trends", "actions"),
    COMMISSIONER: ("home", "results", "trends", "actions", "portfolio"),
    ANALYST: ("regions", "outcomes"),
}
VIEW_AS_KEY = "access_view_as"
GATE_KEY = "access_gate"
TAKE_MARK = "take"  # a query parameter without any secret: keeps a respondent on the assessment after a refresh


@dataclass(frozen=True)
class Access:
    """The outcome of ``decide_access``: the principal, or the gate (sign-in page) with the reason."""

    principal: Principal | None
    gate: str | None = None  # "sign_in", "no_access", "auth_none_exposed"
    signed_in: bool = False
    demo_view: bool = False


def menu_for(roles) -> dict[str, list[str]]:
    """The page keys the roles see, by menu section, in menu order (the first is the default page)."""
    roles = [roles] if isinstance(roles, str) else list(roles)
    unknown = [r for r in roles if r not in _ROLE_PAGES]
    if unknown:
        raise ValueError(f"unknown role {unknown[0]!r}; expected one of {', '.join(ROLES)}")
    keys = {key for role in roles for key in _ROLE_PAGES[role]}
    menu: dict[str, list[str]] = {}
    for key in _ORDER:
        if key in keys:
            menu.setdefault(_PAGES[key][3], []).append(key)
    return menu


def pages_for(access: Access) -> dict[str, list]:
    """The navigation menu as ``{section: [st.Page, ...]}``; the first page is the default."""
    if access.principal is None:
        menu = {"Sign in": ["sign_in"]}
    else:
        menu = menu_for(access.principal.roles or {RESPONDENT})
    first = next(iter(menu.values()))[0]
    return {section: [st.Page(_PAGES[key][0], title=_PAGES[key][1], icon=_PAGES[key][2], default=key == first,
                              url_path=key) for key in keys]
            for section, keys in menu.items()}


def is_respondent_visit() -> bool:
    """An invite link, a resume key, the respondent's mark, or a respondent earlier in this browser session:
    a respondent never sees the staff navigation."""
    return (any(name in st.query_params for name in (service.INVITE_PARAMETER, service.RESUME_PARAMETER, TAKE_MARK))
            or any(name in st.session_state for name in ("take_token", "take_respondent", "take_done")))


def providers() -> dict[str, str]:
    """Configured ``[auth.<name>]`` providers -> their issuer (the metadata URL without the well-known part)."""
    try:
        auth = st.secrets.get("auth", {})
    except Exception:  # no secrets file at all
        return {}
    found = {}
    for name, section in dict(auth).items():
        if hasattr(section, "get") and section.get("server_metadata_url"):
            url = str(section["server_metadata_url"])
            found[name] = url.removesuffix("/.well-known/openid-configuration").rstrip("/")
    return found


def _signed_in() -> Access:
    user = st.user
    issuer, subject = str(user.get("iss") or ""), str(user.get("sub") or "")
    issued = user.get("iat")
    started = float(issued) if issued else st.session_state.setdefault("access_started", time.time())
    if time.time() - started > resources.settings().session_hours * 3600:
        st.session_state.clear()
        st.logout()
        st.stop()
    if st.session_state.get("access_identity") != (issuer, subject):  # the first page view of this sign-in
        with resources.writing() as session:
            service.sign_in(session, Principal.anonymous(), issuer=issuer, subject=subject, email=user.get("email"),
                            name=str(user.get("name") or ""), configured_issuers=list(providers().values()),
                            admins=resources.settings().admins)
        st.session_state["access_identity"] = (issuer, subject)
    # Grants as they are now, on every page view: a revoked role is gone at once.
    principal = resources.signed_in_principal(resources.data_version(), issuer, subject)
    if principal is None or not principal.is_staff:  # unknown, or known without any role
        return Access(None, "no_access", signed_in=True)
    return Access(principal, signed_in=True)


def demo_view_as(role: str) -> Principal:
    """The demo visitor's read-only principal for a role, on made-up partnerships of the demo."""
    if role in (ADMINISTRATOR, ANALYST):
        return Principal.with_grants(f"demo visitor ({ROLE_LABELS[role]})", [(role, None)], read_only=True)
    everyone = Principal.with_grants("demo:listing", [(ADMINISTRATOR, None)], read_only=True)
    with resources.reading() as session:
        places = service.list_partnerships(session, everyone).sort_values("partnership")
    keys = list(places["partnership"])
    if role == COMMISSIONER:
        region = places["region"].iloc[0] if len(places) else None
        keys = list(places.loc[places["region"] == region, "partnership"]) if region else []
    else:
        keys = keys[:1]
    return Principal.with_grants(f"demo visitor ({ROLE_LABELS[role]})", [(role, key) for key in keys],
                                 read_only=True)


def decide_access() -> Access:
    """Who is acting in this rerun (see the module docstring); also stores it for the cached reads."""
    access = _decide()
    st.session_state[resources.PRINCIPAL_KEY] = access.principal
    st.session_state[GATE_KEY] = access.gate
    return access


def _decide() -> Access:
    if is_respondent_visit():
        return Access(Principal.anonymous())
    config = resources.settings()
    if config.auth == "none":
        if not is_loopback(st.get_option("server.address")):
            return Access(None, "auth_none_exposed")
        return Access(Principal.administrator("local operator (ASSESSMENT_AUTH=none)"))
    if st.user.get("is_logged_in"):
        return _signed_in()
    if resources.is_demo(resources.data_version()):
        role = st.session_state.get(VIEW_AS_KEY, ADMINISTRATOR)
        return Access(demo_view_as(role), demo_view=True)
    return Access(None, "sign_in")


def show_sidebar(access: Access) -> None:
    """Who is signed in, the sign-out button, and in the demo the "view as" switch and sign-in buttons."""
    if access.principal is None or not access.principal.is_staff:
        return
    with st.sidebar:
        if access.demo_view:
            st.selectbox("View as (synthetic demo only)", [ADMINISTRATOR, PARTNERSHIP_LEAD, BOARD_MEMBER,
                                                            COMMISSIONER, ANALYST],
                         format_func=ROLE_LABELS.get, key=VIEW_AS_KEY,
                         help="Shows what each role sees. Without sign-in the demo is read-only.")
            for name in providers():
                if st.button(f"Sign in with {name.replace('-', ' ').replace('_', ' ')}", key=f"access_login_{name}"):
                    st.login(name)
        elif access.signed_in:
            roles = ", ".join(sorted(ROLE_LABELS[r] for r in access.principal.roles))
            st.caption(f"Signed in as {access.principal.name} ({roles})")
            if st.button("Sign out", key="access_logout", icon=":material/logout:"):
                sign_out()
        else:
            st.caption(f"{access.principal.name}: no sign-in on this laptop (administrator)")


def sign_out() -> None:
    for key in ("access_identity", "access_started", resources.PRINCIPAL_KEY):
        st.session_state.pop(key, None)
    st.logout()


def show_notices(access: Access) -> None:
    """The notices at the top of every page (plain text only: never HTML)."""
    if access.principal is None or not access.principal.is_staff:
        return
    if access.demo_view:
        st.warning("**Synthetic demo data, read-only.** Every partnership, round and answer shown here is made up "
                   f"to demonstrate the tool. You are viewing it as: **{ROLE_LABELS[_view_role()]}**. Run "
                   "`assessment demo --reset` to rebuild it, or start with `ASSESSMENT_DEMO=0` for real use.",
                   icon=":material/science:")
    elif resources.is_demo(resources.data_version()):
        st.warning("**Synthetic demo data.** Every partnership, round and answer shown here is made up to "
                   "demonstrate the tool. Run `assessment demo --reset` to rebuild it, or start with "
                   "`ASSESSMENT_DEMO=0` on an empty database for real use.", icon=":material/science:")


def _view_role() -> str:
    return st.session_state.get(VIEW_AS_KEY, ADMINISTRATOR)
