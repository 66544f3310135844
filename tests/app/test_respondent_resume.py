"""The respondent's journey (issue 15): a resume key replaces the invite token in the address bar, so a refresh
or a new tab (a new browser session) comes back to the same answers, at the first section with a gap, and never
to the staff pages; the key stops working after submission; a link that does not work offers a box to paste it
again and says whom to ask."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "streamlit_app.py")
TIMEOUT = 30
ROUND = "kent-2026-h1"


@pytest.fixture
def link(tmp_path, monkeypatch, mini_v1):
    """An empty database (sign-in required, so a stray visitor would see the sign-in page, not the assessment)
    with one open round; yields a fresh invite token for a police respondent."""
    from assessment.demo import prepare_database
    from assessment.settings import load_settings
    from assessment.storage import services
    from assessment.storage.db import make_engine, make_session_factory

    monkeypatch.delenv("ASSESSMENT_DATABASE_URL", raising=False)
    for key, value in {"ASSESSMENT_DATA_DIR": str(tmp_path), "ASSESSMENT_DEMO": "0", "ASSESSMENT_AUTH": "oidc"}.items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    engine = make_engine(settings.database_url)
    prepare_database(engine, settings)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        services.publish_questionnaire(session, mini_v1, actor="test")
        services.add_partnership(session, "kent", "Kent and Medway crisis care partnership", members=["kent"],
                                 actor="test")
        services.create_round(session, "kent", "2026-H1", questionnaire=mini_v1.id, version=mini_v1.version,
                              actor="test")
        services.open_round(session, ROUND, actor="test")
        url = services.create_invitations(session, ROUND, "police", 1, actor="test",
                                          base_url="http://localhost:8501")[0]
    st.cache_resource.clear()
    st.cache_data.clear()
    yield url.rsplit("invite=", 1)[1]
    st.cache_resource.clear()
    st.cache_data.clear()
    engine.dispose()


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    return at


def open_url(**params) -> AppTest:
    """A new browser session (a refresh, or a new tab) on the app with these query parameters."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for name, value in params.items():
        at.query_params[name] = value
    return ok(at.run())


def started(token: str) -> AppTest:
    at = open_url(invite=token)
    return ok(at.button(key="take_confirm").click().run())


def answer_section(at: AppTest) -> AppTest:
    for radio in list(at.radio):
        ok(radio.set_value("3").run())
    return at


def param(at: AppTest, name: str) -> str:
    value = at.query_params[name]
    return value if isinstance(value, str) else value[0]


def is_respondent_view(at: AppTest) -> bool:
    """The assessment and no staff page: an anonymous principal, whose only page is the assessment."""
    principal = at.session_state["access_principal"]
    return at.title[0].value == "Take the assessment" and not principal.is_staff


def test_the_invite_token_is_replaced_by_a_resume_key(link):
    at = started(link)
    assert "invite" not in at.query_params
    key = param(at, "resume")
    assert len(key) >= 43 and key != link
    assert is_respondent_view(at)


def test_a_refresh_or_a_new_tab_resumes_at_the_first_section_with_a_gap(link):
    at = started(link)
    assert at.header[0].value.startswith("1 of 3:")
    answer_section(at)
    key = param(at, "resume")
    again = open_url(resume=key)  # a new browser session: nothing kept but the address
    assert is_respondent_view(again)
    assert again.header[0].value.startswith("2 of 3:"), again.header[0].value
    assert [r.value for r in again.radio] == [None, None]
    assert "2 of 7 statements answered" in again.get("progress")[0].proto.text


def test_a_new_tab_leaves_the_first_tab_working(link):
    at = started(link)
    answer_section(at)
    key = param(at, "resume")
    other = open_url(resume=key)  # a second tab on the same address
    assert is_respondent_view(other) and other.header[0].value.startswith("2 of 3:")
    assert not other.error
    refreshed = open_url(resume=key)  # then the first tab is refreshed: its address still works
    assert is_respondent_view(refreshed) and not refreshed.error, [e.value for e in refreshed.error]
    assert refreshed.header[0].value.startswith("2 of 3:")


def test_a_respondent_who_goes_back_to_the_home_address_stays_on_the_assessment(link):
    at = started(link)
    at.query_params.clear()  # the visitor edits the address bar down to the site's root
    ok(at.run())
    assert is_respondent_view(at)
    assert at.header[0].value.startswith("1 of 3:")


def test_after_submission_the_resume_key_opens_nothing(link):
    from assessment.service import INVALID_INVITATION_MESSAGE

    at = started(link)
    key = param(at, "resume")
    for _ in range(3):
        answer_section(at)
        ok(at.button(key="take_next").click().run())
    ok(at.button(key="take_submit").click().run())
    assert "resume" not in at.query_params
    assert "Thank you" in at.success[0].value
    stale = open_url(resume=key)
    assert is_respondent_view(stale)
    assert [e.value for e in stale.error] == [INVALID_INVITATION_MESSAGE]
    assert "resume" not in stale.query_params


def test_an_invalid_link_offers_a_box_to_paste_it_again_and_says_whom_to_ask(link):
    from assessment.service import INVALID_INVITATION_MESSAGE

    at = open_url(invite=secrets.token_urlsafe(32))
    assert is_respondent_view(at)
    assert [e.value for e in at.error] == [INVALID_INVITATION_MESSAGE]
    assert any("partnership's lead" in c.value for c in at.caption)
    box = at.text_input(key="take_link_again")
    ok(box.input(f"http://localhost:8501/?invite={link}").run())  # the whole link, pasted from the email
    assert not at.error
    assert at.button(key="take_confirm")
