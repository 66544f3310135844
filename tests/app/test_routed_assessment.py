"""The respondent page with a routed questionnaire (answered_by): each agency sees only its own items, and
the scale's instruction is shown above them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "streamlit_app.py")
ROUTED = ROOT / "tests" / "data" / "routed" / "routed-partnership" / "1.0.0.yaml"
TIMEOUT = 30
ROUND = "kent-routed"


@pytest.fixture(scope="module")
def routed_database(tmp_path_factory):
    """An empty database with the routed questionnaire published and an open round on it."""
    from assessment.demo import prepare_database
    from assessment.questionnaire import load_questionnaire
    from assessment.settings import load_settings
    from assessment.storage import services
    from assessment.storage.db import make_engine, make_session_factory

    folder = tmp_path_factory.mktemp("app-routed")
    env = {"ASSESSMENT_DATA_DIR": str(folder), "ASSESSMENT_DEMO": "0", "ASSESSMENT_AUTH": "none"}
    saved = {k: os.environ.get(k) for k in (*env, "ASSESSMENT_DATABASE_URL")}
    os.environ.pop("ASSESSMENT_DATABASE_URL", None)
    os.environ.update(env)
    settings = load_settings()
    engine = make_engine(settings.database_url)
    prepare_database(engine, settings)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        q = load_questionnaire(ROUTED)
        services.publish_questionnaire(session, q, actor="test")
        services.add_partnership(session, "kent", "Kent and Medway crisis care partnership", members=["kent"],
                                 actor="test")
        services.create_round(session, "kent", "2026-H2", questionnaire=q.id, version=q.version, key=ROUND,
                              actor="test")
        services.open_round(session, ROUND, actor="test")
    st.cache_resource.clear()
    st.cache_data.clear()
    yield factory
    st.cache_resource.clear()
    st.cache_data.clear()
    engine.dispose()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def start(factory, agency: str) -> AppTest:
    from assessment.storage import services

    with factory.begin() as session:
        link = services.create_invitations(session, ROUND, agency, 1, actor="test", base_url="http://localhost")[0]
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["invite"] = link.rsplit("invite=", 1)[1]
    at.run()
    at.button(key="take_confirm").click().run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def items_on_every_page(at: AppTest) -> tuple[list[str], list[str]]:
    """(headers, item ids) of every domain page, walking with Next up to the review."""
    headers, items = [], []
    while True:
        headers.append(at.header[0].value)
        items += [radio.key.removeprefix("take_value_") for radio in at.radio]
        assert not at.exception, [e.message for e in at.exception]
        last = at.button(key="take_next").label == "Review and submit"
        at.button(key="take_next").click().run()
        if last:
            return headers, items


def test_a_police_respondent_sees_only_police_items_and_the_instruction(routed_database):
    at = start(routed_database, "police")
    instruction = [info.value for info in at.info]
    assert any("Choose the highest level whose description is fully true" in text for text in instruction)
    headers, items = items_on_every_page(at)
    # police are asked governance (2), response (control_room, handover) and justice (2)
    assert items == ["governance.board", "governance.escalation", "response.control_room", "response.handover",
                     "justice.custody_assessment", "justice.liaison"]
    assert "response.ambulance_time" not in items and "response.crisis_team" not in items
    assert headers == ["1 of 3: Shared governance", "2 of 3: Response to mental health calls",
                       "3 of 3: Criminal justice"]
    assert at.header[0].value == "Review and submit"
    assert at.button(key="take_goto_response").label == "Response to mental health calls: 0 of 2 answered"
    assert any("6 statement(s) are not answered" in warning.value for warning in at.warning)


def test_an_ambulance_respondent_skips_the_domain_it_is_not_asked(routed_database):
    at = start(routed_database, "ambulance")
    headers, items = items_on_every_page(at)
    assert items == ["governance.board", "governance.escalation", "response.control_room", "response.handover",
                     "response.ambulance_time", "response.crisis_team"]
    assert headers == ["1 of 2: Shared governance", "2 of 2: Response to mental health calls"]
    assert "justice" not in " ".join(button.key or "" for button in at.button)


def test_manage_offers_the_highest_published_version_for_new_rounds(routed_database):
    from assessment.questionnaire import load_questionnaire
    from assessment.storage import services
    from tests.conftest import MINI_DIR

    # published newest first and oldest last: the default must follow the version numbers, not the order
    with routed_database.begin() as session:
        for version in ("1.1.0", "1.0.0"):
            services.publish_questionnaire(session, load_questionnaire(MINI_DIR / f"{version}.yaml"), actor="test")
    st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page("app_pages/manage.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.selectbox(key="manage_round_version").value == ("mini-partnership", "1.1.0")


def test_results_show_what_each_domains_level_looks_like(routed_database):
    from assessment.storage import services

    # three police and three trust respondents answer and submit; the round is closed and scored
    answers = {"police": {"governance.board": "4", "governance.escalation": "3", "justice.custody_assessment": "3",
                          "justice.liaison": "3"},
               "mental_health_trust": {"governance.board": "3", "governance.escalation": "3",
                                       "justice.custody_assessment": "3", "justice.liaison": "2"}}
    with routed_database.begin() as session:
        for agency, given in answers.items():
            for link in services.create_invitations(session, ROUND, agency, 3, actor="test", base_url="http://x"):
                who = services.start_respondent(session, link.rsplit("invite=", 1)[1])
                services.save_answers(session, ROUND, who.respondent,
                                      [{"item": item, "value": value} for item, value in given.items()])
                services.submit_respondent(session, ROUND, who.respondent)
        services.close_round(session, ROUND, actor="test")
    st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page("app_pages/results.py").run()
    assert not at.exception, [e.message for e in at.exception]
    table = next(t.value for t in at.dataframe if "looks_like" in t.value.columns).set_index("domain_title")
    # governance: police 3.5, trust 3.0 -> 3.25, level 3 Defined; justice: police 3.0, trust 2.5 -> 2.75, level 3
    assert table.loc["Shared governance", "level_label"] == "Defined"
    assert table.loc["Shared governance", "looks_like"] == (
        "A board with terms of reference meets quarterly with an action plan.")
    assert table.loc["Criminal justice", "looks_like"] == "Liaison and diversion staff in custody every day."
    assert table.loc["Response to mental health calls", "looks_like"] == ""  # no scored respondent: no level
