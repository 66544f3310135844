"""First start (issue 15): the Home page is usable while the synthetic demo loads, with a progress indicator,
and neither navigating nor a second session starts the preparation again.

The demo's loading is held on an event (it takes 8-20 s for real), so the test sees the app mid-way through
a first start without timing anything."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from assessment import demo

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")


@pytest.fixture
def slow_first_start(tmp_path, monkeypatch):
    """An empty database with ASSESSMENT_DEMO=1 whose demo loading waits for ``release``; ``calls`` records each
    preparation (``False``: schema only; ``None``: with the demo)."""
    monkeypatch.delenv("ASSESSMENT_DATABASE_URL", raising=False)
    for key, value in {"ASSESSMENT_DATA_DIR": str(tmp_path), "ASSESSMENT_DEMO": "1", "ASSESSMENT_AUTH": "none"}.items():
        monkeypatch.setenv(key, value)
    release, calls, real = threading.Event(), [], demo.prepare_database

    def prepare(engine, settings, *, demo=None):
        calls.append(demo)
        if demo is None:
            assert release.wait(60), "the test never released the demo"
        return real(engine, settings, demo=False)  # the orchestration is under test, not the 15 s of seeding

    monkeypatch.setattr("assessment.demo.prepare_database", prepare)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield release, calls
    release.set()
    st.cache_resource.clear()
    st.cache_data.clear()


def test_home_is_usable_while_the_demo_loads_and_nothing_prepares_twice(slow_first_start):
    from app_pages import _resources as resources

    release, calls = slow_first_start
    home = AppTest.from_file(APP, default_timeout=30).run()
    assert not home.exception, [e.message for e in home.exception]
    assert home.title[0].value == "Police–mental health partnership maturity assessment"
    assert home.metric[0].label == "Partnerships"  # the page works (on the data there is so far)
    loading = [p for p in home.get("progress") if "Loading the synthetic demo" in p.proto.text]
    assert len(loading) == 1
    # navigating and a second browser session during the first start
    home.switch_page("app_pages/results.py").run()
    home.switch_page("app_pages/home.py").run()
    other = AppTest.from_file(APP, default_timeout=30).run()
    assert not home.exception and not other.exception
    assert calls == [False, None], calls  # the schema once, the demo once: never restarted
    release.set()
    assert resources.first_start().done.wait(30)
    home.run()
    assert not [p for p in home.get("progress") if "Loading the synthetic demo" in p.proto.text]
    assert calls == [False, None], calls


def test_sessions_starting_at_once_begin_one_preparation(slow_first_start, tmp_path):
    from app_pages._resources import FirstStart
    from assessment.settings import load_settings
    from assessment.storage.db import make_engine

    release, calls = slow_first_start
    preparation, settings = FirstStart(), load_settings()
    engine = make_engine(settings.database_url)
    together = threading.Barrier(8)

    def session() -> None:
        together.wait()
        preparation.begin(engine, settings)
        preparation.wait_for_schema()

    threads = [threading.Thread(target=session) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    release.set()
    assert preparation.done.wait(30)
    assert calls == [False, None], calls
    engine.dispose()
