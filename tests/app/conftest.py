"""App tests run as the single operator on a laptop (``ASSESSMENT_AUTH=none`` on a loopback address) unless a
test says otherwise; tests/app/test_access.py covers sign-in, roles and the demo's "view as" switch."""

from __future__ import annotations

import os
from contextlib import contextmanager

import pytest
from streamlit import config as st_config


@pytest.fixture(autouse=True)
def loopback_address():
    """Streamlit's ``server.address`` as ``--server.address 127.0.0.1`` would set it."""
    before = st_config.get_option("server.address"), st_config.get_option("client.showErrorDetails")
    st_config.set_option("server.address", "127.0.0.1")
    st_config.set_option("client.showErrorDetails", "full")  # a failing test shows the whole error
    yield
    st_config.set_option("server.address", before[0])
    st_config.set_option("client.showErrorDetails", before[1])


@contextmanager
def seeded_app_database(tmp_path_factory, name: str, *, resamples: int, **seed):
    """A demo database in a fresh data folder, with the environment pointing the app at it (the operator on a
    laptop, no demo on start); yields ``(session factory, settings)`` and puts the environment back after.
    ``seed`` goes to :func:`assessment.demo.seed_demo` (for example ``partnerships=12, open_rounds=3``)."""
    import streamlit as st

    from assessment.demo import prepare_database, seed_demo, shipped_questionnaires
    from assessment.settings import load_settings
    from assessment.storage.db import make_engine, make_session_factory

    folder = tmp_path_factory.mktemp(name)
    env = {"ASSESSMENT_DATA_DIR": str(folder), "ASSESSMENT_DEMO": "0", "ASSESSMENT_AUTH": "none",
           "ASSESSMENT_BOOTSTRAP_RESAMPLES": str(resamples)}
    saved = {k: os.environ.get(k) for k in (*env, "ASSESSMENT_DATABASE_URL")}
    os.environ.pop("ASSESSMENT_DATABASE_URL", None)
    os.environ.update(env)
    settings = load_settings()
    engine = make_engine(settings.database_url)
    try:
        prepare_database(engine, settings)
        found, _ = shipped_questionnaires(settings)
        factory = make_session_factory(engine)
        with factory.begin() as session:
            seed_demo(session, found, **seed)
        st.cache_resource.clear()
        st.cache_data.clear()
        yield factory, settings
    finally:
        st.cache_resource.clear()
        st.cache_data.clear()
        engine.dispose()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
