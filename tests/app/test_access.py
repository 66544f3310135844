"""Sign-in, roles and the demo's "view as" switch through AppTest (the browser test with a real OpenID
Connect provider is tests/e2e/test_sign_in.py). ``AppTest.user`` stands in for what ``st.login`` leaves in
``st.user``; the service layer decides the rest."""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import streamlit as st
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "streamlit_app.py")
ISSUER = "https://id.example.org/realms/partnerships"
SECRETS = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "not-a-real-secret",
           "example-idp": {"client_id": "assessment", "client_secret": "x",
                           "server_metadata_url": ISSUER + "/.well-known/openid-configuration"}}


@contextmanager
def environment(env: dict[str, str]):
    saved = {k: os.environ.get(k) for k in (*env, "ASSESSMENT_DATABASE_URL")}
    os.environ.pop("ASSESSMENT_DATABASE_URL", None)
    os.environ.update(env)
    st.cache_resource.clear()
    st.cache_data.clear()
    try:
        yield
    finally:
        st.cache_resource.clear()
        st.cache_data.clear()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _questionnaires(folder: Path) -> str:
    """The shipped 1.x questionnaire versions only (a small, fast demo)."""
    import shutil

    target = folder / "questionnaires" / "police-mental-health"
    target.mkdir(parents=True)
    for version in ("1.0.0", "1.1.0"):
        shutil.copy(ROOT / "questionnaires" / "police-mental-health" / f"{version}.yaml", target)
    return str(target.parent)


def _database(folder: Path, *, demo_partnerships: int = 0):
    from assessment.demo import prepare_database, seed_demo, shipped_questionnaires
    from assessment.settings import load_settings
    from assessment.storage.db import make_engine, make_session_factory

    settings = load_settings()
    engine = make_engine(settings.database_url)
    prepare_database(engine, settings)
    factory = make_session_factory(engine)
    if demo_partnerships:
        found, _ = shipped_questionnaires(settings)
        with factory.begin() as session:
            seed_demo(session, found, partnerships=demo_partnerships, open_rounds=2)
    return engine, factory


@pytest.fixture(scope="module")
def staff_world(tmp_path_factory):
    """Six made-up partnerships (loaded as the demo), users with each role, sign-in configured."""
    from assessment.storage import services
    from assessment.storage.users import grant_role

    folder = tmp_path_factory.mktemp("access-data")
    with environment({"ASSESSMENT_DATA_DIR": str(folder), "ASSESSMENT_DEMO": "0", "ASSESSMENT_AUTH": "oidc",
                      "ASSESSMENT_BOOTSTRAP_RESAMPLES": "200", "ASSESSMENT_QUESTIONNAIRES_DIR": _questionnaires(folder), "ASSESSMENT_ADMINS": "first.admin@example.org"}):
        engine, factory = _database(folder, demo_partnerships=6)
        with factory() as session:
            places = services.list_partnerships(session).sort_values("partnership")
        keys = list(places["partnership"])
        names = dict(zip(places["partnership"], places["name"], strict=True))
        with factory.begin() as session:
            grant_role(session, "admin@example.org", "administrator", actor="test")
            grant_role(session, "lead@example.org", "partnership_lead", partnership=keys[0], actor="test")
            grant_role(session, "board@example.org", "board_member", partnership=keys[1], actor="test")
            for key in keys[2:4]:
                grant_role(session, "commissioner@example.org", "commissioner", partnership=key, actor="test")
            grant_role(session, "analyst@example.org", "analyst", actor="test")
        yield {"factory": factory, "keys": keys, "names": names}
        engine.dispose()


@pytest.fixture(scope="module")
def empty_world(tmp_path_factory):
    folder = tmp_path_factory.mktemp("access-empty")
    with environment({"ASSESSMENT_DATA_DIR": str(folder), "ASSESSMENT_DEMO": "0", "ASSESSMENT_AUTH": "oidc",
                      "ASSESSMENT_QUESTIONNAIRES_DIR": _questionnaires(folder)}):
        engine, factory = _database(folder)
        yield factory
        engine.dispose()


def signed_in(email: str, *, subject: str | None = None, issued: float | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.secrets["auth"] = SECRETS
    at.user = {"is_logged_in": True, "iss": ISSUER, "sub": subject or f"sub-{email}", "email": email,
               "name": email.split("@")[0], "iat": int(issued if issued is not None else time.time())}
    return at


def no_exception(at: AppTest) -> None:
    assert not at.exception, ["\n".join([e.message, *e.stack_trace]) for e in at.exception]


def principal_of(at: AppTest):
    return at.session_state["access_principal"]


def test_a_partnership_lead_manages_only_their_partnership(staff_world):
    at = signed_in("lead@example.org")
    at.run()
    no_exception(at)
    own = staff_world["keys"][0]
    assert principal_of(at).grants == frozenset({("partnership_lead", own)})
    assert at.selectbox(key="home_partnership").options == [staff_world["names"][own]]
    at.switch_page("app_pages/manage.py").run()
    no_exception(at)
    assert [t.label for t in at.tabs] == ["Rounds", "Invitations", "Response tracking", "Import", "Export and backup"]
    assert "manage_backup" not in [b.key for b in at.button]  # backups are the administrator's
    assert at.selectbox(key="manage_round_partnership").options == [staff_world["names"][own]]
    assert any("Signed in as lead@example.org" in c.value for c in at.caption)


def test_a_board_member_sees_only_their_partnership_and_cannot_manage(staff_world):
    at = signed_in("board@example.org")
    at.run()
    no_exception(at)
    at.switch_page("app_pages/results.py").run()
    no_exception(at)
    assert len(at.selectbox(key="results_partnership").options) == 1
    with pytest.raises(ValueError, match="Known pages"):  # Manage is not in their navigation at all
        at.switch_page("app_pages/manage.py")


def test_a_commissioner_portfolio_holds_only_their_partnerships(staff_world):
    at = signed_in("commissioner@example.org")
    at.run()
    no_exception(at)
    assert sorted(at.selectbox(key="home_partnership").options) == sorted(
        staff_world["names"][key] for key in staff_world["keys"][2:4])
    at.switch_page("app_pages/portfolio.py").run()
    no_exception(at)
    at.radio(key="portfolio_by").set_value("Partnerships I pick").run()  # a hand pick offers only their own
    no_exception(at)
    assert sorted(at.multiselect(key="portfolio_pick").options) == sorted(
        staff_world["names"][key] for key in staff_world["keys"][2:4])


def test_a_commissioners_bookmark_never_reaches_beyond_their_partnerships(staff_world):
    own, other = staff_world["keys"][2:4], staff_world["keys"][0]
    at = signed_in("commissioner@example.org")
    at.run()
    at.query_params = {"set": "pick", "p": [other, *own]}
    at.switch_page("app_pages/portfolio.py").run()
    no_exception(at)
    assert not at.error and at.multiselect(key="portfolio_pick").value == own  # the other key dropped silently
    assert staff_world["names"][other] not in str(at.get("markdown")) + str(at.get("caption"))
    at.query_params = {"p": [other]}
    at.switch_page("app_pages/trends.py").run()
    no_exception(at)
    assert other not in at.multiselect(key="trends_compare").value
    assert other not in at.multiselect(key="trends_compare").options


def test_an_analyst_sees_the_regions_only(staff_world):
    at = signed_in("analyst@example.org")
    at.run()
    no_exception(at)
    assert at.title[0].value == "Compare regions"


def test_an_unknown_user_sees_only_that_they_have_no_access_yet(staff_world):
    at = signed_in("stranger@example.org")
    at.run()
    no_exception(at)
    assert any("You have no access yet" in w.value for w in at.warning)
    assert not at.selectbox and not at.dataframe
    assert at.button(key="signin_logout")


def test_the_first_administrator_comes_from_assessment_admins(staff_world):
    at = signed_in("first.admin@example.org")
    at.run()
    no_exception(at)
    assert principal_of(at).is_administrator


def test_an_email_grant_binds_to_the_first_sign_in_and_not_to_another_account(staff_world):
    from assessment.storage.users import grant_role

    with staff_world["factory"].begin() as session:
        grant_role(session, "newcomer@example.org", "analyst", actor="test")
    at = signed_in("newcomer@example.org", subject="the-real-newcomer")
    at.run()
    assert principal_of(at).grants == frozenset({("analyst", None)})
    other = signed_in("newcomer@example.org", subject="someone-else-with-that-email")
    other.run()
    assert any("You have no access yet" in w.value for w in other.warning)


def test_a_session_older_than_the_setting_is_signed_out(staff_world):
    fresh = signed_in("admin@example.org")
    fresh.run()
    assert principal_of(fresh).is_administrator
    stale = signed_in("admin@example.org", issued=time.time() - 9 * 3600)  # ASSESSMENT_SESSION_HOURS is 8
    stale.run()
    assert "access_principal" not in stale.session_state or not stale.session_state["access_principal"]
    assert not stale.dataframe and not stale.metric


def test_an_administrator_grants_a_role_on_manage_users_and_the_audit_log_records_it(staff_world):
    from assessment.storage.users import list_users

    target = staff_world["keys"][1]
    at = signed_in("admin@example.org")
    at.run()
    at.switch_page("app_pages/manage.py").run()
    no_exception(at)
    assert [t.label for t in at.tabs][-2:] == ["Users", "Audit log"]
    at.text_input(key="manage_grant_email").set_value("New.Lead@example.org")
    at.selectbox(key="manage_grant_role").set_value("partnership_lead")
    at.selectbox(key="manage_grant_partnership").set_value(target)
    next(b for b in at.button if b.label == "Grant").click().run()
    no_exception(at)
    with staff_world["factory"]() as session:
        users = list_users(session)
    granted = users[users["email"] == "new.lead@example.org"]
    assert list(zip(granted["role"], granted["partnership"], strict=True)) == [("partnership_lead", target)]
    log = next(t.value for t in at.dataframe if "entity_key" in t.value.columns)
    assert ((log["action"] == "grant") & (log["entity_key"] == "new.lead@example.org")
            & (log["actor"] == "admin@example.org")).any()
    assert (log["action"] == "sign-in").any()


def test_comments_reach_leads_with_the_agency_board_members_without_and_commissioners_not_at_all(staff_world):
    def results(email: str) -> AppTest:
        at = signed_in(email)
        at.run()
        at.switch_page("app_pages/results.py").run()
        no_exception(at)
        return at

    lead = results("lead@example.org")
    assert "Evidence and comments" in [h.value for h in lead.subheader]
    board = results("board@example.org")
    assert "Evidence and comments" in [h.value for h in board.subheader]
    assert any("without the agency group" in c.value for c in board.caption)
    commissioner = results("commissioner@example.org")
    assert "Evidence and comments" not in [h.value for h in commissioner.subheader]


def test_a_revoked_role_is_gone_on_the_next_page_view(staff_world):
    from assessment.storage.users import grant_role, revoke_role

    with staff_world["factory"].begin() as session:
        grant_role(session, "leaver@example.org", "analyst", actor="test")
    at = signed_in("leaver@example.org")
    at.run()
    assert principal_of(at).grants == frozenset({("analyst", None)})
    with staff_world["factory"].begin() as session:
        revoke_role(session, "leaver@example.org", "analyst", actor="test")
    at.run()
    no_exception(at)
    assert any("You have no access yet" in w.value for w in at.warning)


VIEW_AS = "access_view_as"


def test_the_demo_offers_view_as_read_only(staff_world):
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    no_exception(at)
    switch = at.selectbox(key=VIEW_AS)
    assert switch.options[0] == "administrator"
    assert any("read-only" in w.value for w in at.warning)
    at.switch_page("app_pages/manage.py").run()
    no_exception(at)
    assert "Rounds" not in [t.label for t in at.tabs]  # nothing that changes data
    switch = at.selectbox(key=VIEW_AS)
    switch.set_value("board_member").run()
    at.switch_page("app_pages/results.py").run()
    no_exception(at)
    assert len(at.selectbox(key="results_partnership").options) == 1


def test_an_anonymous_visitor_sees_only_the_sign_in_page_even_at_manage(empty_world):
    at = AppTest.from_file(APP, default_timeout=30)
    at.secrets["auth"] = SECRETS
    at.run()
    no_exception(at)
    assert at.button(key="signin_example-idp").label == "Sign in with example idp"
    with pytest.raises(ValueError, match=r"Known pages: \['[^']*sign_in.py'\]"):  # nothing but the sign-in page
        at.switch_page("app_pages/manage.py")


def test_without_a_configured_provider_the_sign_in_page_says_how(empty_world):
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    no_exception(at)
    assert any("Sign-in is not configured" in i.value for i in at.info)
    assert VIEW_AS not in at.session_state  # the switch is the demo's only


def test_auth_none_on_every_interface_refuses_to_start(empty_world, monkeypatch):
    monkeypatch.setenv("ASSESSMENT_AUTH", "none")
    st.cache_resource.clear()
    st_config.set_option("server.address", "0.0.0.0")
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    no_exception(at)
    assert any("ASSESSMENT_AUTH=none" in e.value for e in at.error)
    with pytest.raises(ValueError, match="Known pages"):
        at.switch_page("app_pages/manage.py")
    st.cache_resource.clear()

