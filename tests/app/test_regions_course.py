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


def test_the_highest_region_table_follows_the_heatmap_rows(app):
    app.run()
    app.switch_page("app_pages/regions.py").run()
    best = next(d for d in app.dataframe if list(d.value.columns) == ["domain", "region", "median", "partnerships"])
    # (that every row is visible without scrolling inside the table: tests/e2e/test_persona_analyst.py)
    heatmap_order = list(dict.fromkeys(app.selectbox(key="regions_domain").options))  # the questionnaire's order
    shown = best.value["domain"].tolist()
    assert shown == [t for t in heatmap_order if t in set(shown)], shown


def test_strongest_regions_come_in_the_domains_order_not_the_regions():
    import pandas as pd

    # compare_regions' order: region first, then domain (a, b); East is best in b, West in a.
    regions = pd.DataFrame({
        "scope": "region", "nation": "England", "region": ["East", "East", "West", "West"],
        "domain": ["a", "b", "a", "b"], "partnerships": 3, "median": [2.0, 4.0, 3.0, 1.0],
        "q1": float("nan"), "q3": float("nan"), "suppressed": False})
    best = strongest_regions(regions)
    assert list(zip(best["domain"], best["region"], strict=True)) == [("a", "West"), ("b", "East")]


def _practice_pages(frame):
    """A page that lists ``frame`` as Compare regions does (the paging under test, nothing else)."""
    from app_pages import _regions_course as course

    course.practices("paging-test", frame)


def test_practices_come_a_page_at_a_time_instead_of_stopping(national_demo):
    """25 practices: three pages of 10, 10 and 5; page 2 has the 11th to 20th, and no practice appears twice."""
    from assessment import service
    from assessment.permissions import ANALYST, Principal

    analyst = Principal.with_grants("course group", [(ANALYST, None)])
    with national_demo() as session:
        real = service.promising_practices(session, analyst, "places_of_safety", period="2026-H1")
    assert 0 < len(real) <= course_page_size()  # the demo alone never needs a second page
    many = real.iloc[[i % len(real) for i in range(25)]].reset_index(drop=True)
    many["comment"] = [f"Practice {n:02d}: joint handover protocol, reviewed monthly" for n in range(1, 26)]
    at = AppTest.from_function(_practice_pages, args=(many,), default_timeout=TIMEOUT)
    at.run()
    assert_no_exception(at)
    pager = at.number_input(key="regions_practice_page")
    assert pager.label == "Page (of 3; 25 practices)" and pager.value == 1
    seen = {}
    for page in (1, 2, 3):
        if page > 1:
            at.number_input(key="regions_practice_page").set_value(page).run()
            assert_no_exception(at)
        seen[page] = [t.value.split(":")[0] for t in at.text]
    assert seen[1] == [f"Practice {n:02d}" for n in range(1, 11)]
    assert seen[2] == [f"Practice {n:02d}" for n in range(11, 21)]  # the 11th, 12th, 13th... are on page 2
    assert seen[3] == [f"Practice {n:02d}" for n in range(21, 26)]
    every = [p for page in seen.values() for p in page]
    assert len(every) == len(set(every)) == 25  # all of them, none twice


def course_page_size() -> int:
    from app_pages._regions_course import PAGE_SIZE

    return PAGE_SIZE


def test_a_named_practice_gives_its_contact_exactly_as_it_can_be_pasted(national_demo):
    """The leads' addresses with nothing invisible in them (plain() puts a word joiner after '@')."""
    from assessment import service
    from assessment.permissions import ANALYST, Principal

    analyst = Principal.with_grants("course group", [(ANALYST, None)])
    with national_demo() as session:
        practice = service.promising_practices(session, analyst, "places_of_safety", period="2026-H1").iloc[[0]]
    practice = practice.assign(partnership_name="Kent crisis care partnership",
                               contact="lead@kent.example.org, deputy@kent.example.org")
    at = AppTest.from_function(_practice_pages, args=(practice,), default_timeout=TIMEOUT)
    at.run()
    assert_no_exception(at)
    assert [c.value for c in at.code] == ["lead@kent.example.org, deputy@kent.example.org"]
    assert any(c.value == "Contact (the partnership's leads):" for c in at.caption)
