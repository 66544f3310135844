"""Compare regions as the course group uses it (issue 15): the latest period, n and a star in the heatmap, the
highest region per domain, practices with region, statement, no repeats, pages and a contact."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from assessment import charts
from assessment.peers import strongest_regions
from tests.app.conftest import seeded_app_database
from tests.app.test_pages import APP, TIMEOUT, assert_no_exception


@pytest.fixture(scope="module")
def national_demo(tmp_path_factory):
    """The full demo (43 force areas): regions large enough to compare, practices to page through."""
    with seeded_app_database(tmp_path_factory, "regions-data", resamples=500) as (factory, _):
        yield factory


@pytest.fixture
def app(national_demo) -> AppTest:
    return AppTest.from_file(APP, default_timeout=TIMEOUT)


def test_regions_open_on_the_latest_period_and_name_the_highest_region_per_domain(app):
    app.run()
    app.switch_page("app_pages/regions.py").run()
    assert_no_exception(app)
    period = app.selectbox(key="regions_period")
    assert period.value == period.options[0] == "2026-H1"  # the demo's latest period, listed first
    best = next(d.value for d in app.dataframe if list(d.value.columns) == ["domain", "region", "median",
                                                                            "partnerships"])
    assert len(best) >= 12 and best["median"].notna().all()  # every domain of the questionnaire has one


def test_practices_have_region_statement_and_no_repeats(app):
    app.run()
    app.switch_page("app_pages/regions.py").run()
    texts = [t.value for t in app.text]
    assert texts and len(texts) == len({" ".join(t.split()).casefold() for t in texts})  # no comment twice
    captions = [c.value for c in app.caption]
    assert any(c.startswith("On: ") for c in captions)  # the item statement
    assert any("· in the top quartile" in c and "region not known" not in c for c in captions)


def test_the_heatmap_gives_n_in_every_cell_a_national_column_and_stars_the_highest_region():
    import pandas as pd

    regions = pd.DataFrame({
        "scope": ["nation", "region", "region", "region"], "nation": "England",
        "region": ["", "North East", "South West", "London"], "domain": "triage",
        "partnerships": [9, 3, 4, 2], "median": [3.0, 2.5, 3.5, float("nan")], "q1": float("nan"),
        "q3": float("nan"), "suppressed": [False, False, False, True]})
    assert strongest_regions(regions)["region"].tolist() == ["South West"]
    values = charts.build_region_heatmap(regions).to_dict()["datasets"]
    (rows,) = values.values()
    labels = {r["region"]: r["label"] for r in rows}
    assert labels == {"England (national median)": "3.0 · n=9", "North East": "2.5 · n=3",
                      "South West": "★ 3.5 · n=4", "London": "n=2"}
