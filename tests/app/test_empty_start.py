"""With ASSESSMENT_DEMO=0 the app starts empty: reference data and questionnaires only, and every page says
what to do next instead of failing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")


@pytest.fixture(scope="module")
def empty_start(tmp_path_factory):
    folder = tmp_path_factory.mktemp("empty-data")
    env = {"ASSESSMENT_DATA_DIR": str(folder), "ASSESSMENT_DEMO": "0", "ASSESSMENT_AUTH": "none"}
    saved = {k: os.environ.get(k) for k in (*env, "ASSESSMENT_DATABASE_URL")}
    os.environ.pop("ASSESSMENT_DATABASE_URL", None)
    os.environ.update(env)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield folder
    st.cache_resource.clear()
    st.cache_data.clear()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.mark.parametrize("page", ["home", "results", "trends", "indicators", "regions", "outcomes", "portfolio", "manage",
                                  "take_assessment"])
def test_every_page_renders_on_an_empty_database(empty_start, page):
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    if page != "home":
        at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, ["\n".join([e.message, *e.stack_trace]) for e in at.exception]
    assert not any("Synthetic demo data" in w.value for w in at.warning)
    if page in ("home", "results", "trends"):
        assert any("No partnerships yet" in i.value for i in at.info)


def test_the_empty_start_created_the_database_with_questionnaires_and_forces(empty_start):
    from assessment.settings import load_settings
    from assessment.storage import services
    from assessment.storage.db import make_engine, make_session_factory

    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    engine = make_engine(load_settings().database_url)
    with make_session_factory(engine)() as session:
        assert len(services.list_questionnaire_versions(session)) >= 2
        assert len(services.list_organisations(session)) == 44
        assert services.list_partnerships(session).empty
    engine.dispose()
    assert (empty_start / "assessment.db").exists()
