"""The take-assessment page counts links that do not work per browser session (issue 11, defect 8):
after ``ASSESSMENT_INVITE_GUESSES_PER_BROWSER`` of them it asks the browser to wait, even for a good link;
a refused link is counted once, not again on every rerun of the page."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "streamlit_app.py")
TIMEOUT = 30


@pytest.fixture
def good_link(tmp_path, monkeypatch, mini_v1):
    """An empty database with one open round, a limit of two failed links per browser; yields
    (session factory, a good token)."""
    from assessment.demo import prepare_database
    from assessment.settings import load_settings
    from assessment.storage import services
    from assessment.storage.db import make_engine, make_session_factory

    monkeypatch.delenv("ASSESSMENT_DATABASE_URL", raising=False)
    for key, value in {"ASSESSMENT_DATA_DIR": str(tmp_path), "ASSESSMENT_DEMO": "0",
                       "ASSESSMENT_INVITE_GUESSES_PER_BROWSER": "2"}.items():
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
        services.open_round(session, "kent-2026-h1", actor="test")
        link = services.create_invitations(session, "kent-2026-h1", "police", 1, actor="test",
                                           base_url="http://localhost:8501")[0]
    st.cache_resource.clear()
    st.cache_data.clear()
    yield factory, link.rsplit("invite=", 1)[1]
    st.cache_resource.clear()
    st.cache_data.clear()
    engine.dispose()


def open_link(at: AppTest, token: str) -> AppTest:
    at.query_params["invite"] = token
    return at.run()


def failures(factory) -> int:
    from assessment.storage.models import InvitationFailureRow

    with factory() as session:
        return session.scalar(select(func.count()).select_from(InvitationFailureRow))


def test_a_browser_that_tries_too_many_bad_links_is_asked_to_wait(good_link):
    from assessment.storage.invitations import INVALID_INVITATION_MESSAGE

    factory, token = good_link
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for _ in range(2):
        open_link(at, secrets.token_urlsafe(32))
        assert [e.value for e in at.error] == [INVALID_INVITATION_MESSAGE]
        at.run()  # a rerun of the refused page is not another guess
    assert failures(factory) == 2
    open_link(at, token)
    assert not at.exception
    assert len(at.error) == 1 and "Too many invitation links" in at.error[0].value
    assert not at.button  # nothing of the invitation is shown
    # Another browser session with the good link is not held back.
    fresh = open_link(AppTest.from_file(APP, default_timeout=TIMEOUT), token)
    assert not fresh.error and fresh.button(key="take_confirm")
