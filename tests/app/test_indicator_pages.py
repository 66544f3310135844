"""Outcome indicators in the app (AppTest, synthetic demo with indicator values): the entry page saves and
refuses, the reconciliation view flags police–NHS mismatches, Results and Trends show the indicators beside
maturity, Compare regions shows indicator medians, and the course group's association view shows rho,
its interval and n with named points only."""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.app.test_pages import APP, TIMEOUT, assert_no_exception, table_with
from tests.app.test_pages import demo_database as demo_database  # noqa: F401 - the shared fixture


@pytest.fixture
def app(demo_database) -> AppTest:  # noqa: F811
    return AppTest.from_file(APP, default_timeout=TIMEOUT)


def _page(app: AppTest, page: str) -> AppTest:
    app.run()
    app.switch_page(f"app_pages/{page}.py").run()
    assert_no_exception(app)
    return app


def _stored(factory, partnership: str, period: str) -> pd.DataFrame:
    from assessment.storage.indicators import indicator_values

    with factory() as session:
        return indicator_values(session, [partnership], [period])


def test_results_show_each_domains_indicators_beside_its_score(app):
    _page(app, "results")
    assert "Outcome indicators beside maturity" in [h.value for h in app.header]
    table = table_with(app, "domain_title", "score", "level_label", "name", "agency_name", "shown", "reason")
    assert len(table) >= 10
    assert "Section 136 detentions" in set(table["name"])
    # a rate per 100,000 is blank with the reason (no confirmed population figures ship)
    rate = table[table["name"] == "Section 136 detentions per 100,000 residents"]
    assert rate["shown"].eq("").all() and rate["reason"].str.contains("not confirmed").all()


def test_trends_show_the_indicators_by_period(app):
    _page(app, "trends")
    table = table_with(app, "domain_title", "name", "agency")
    assert {"2025-H1", "2025-H2", "2026-H1"} <= set(table.columns)


def test_the_entry_page_saves_a_figure_and_refuses_a_bad_one_without_changing_anything(app, demo_database):
    _page(app, "indicators")
    assert app.title[0].value == "Outcome indicators"
    partnership = app.selectbox(key="indicators_partnership").value
    period = app.text_input(key="indicators_period").value
    before = _stored(demo_database, partnership, period)
    app.session_state["indicators_editor"] = {"edited_rows": {0: {"value": "77"}}, "added_rows": [],
                                              "deleted_rows": []}
    app.run()
    app.button(key="indicators_save").click().run()
    assert_no_exception(app)
    after = _stored(demo_database, partnership, period)
    police = after[(after["indicator"] == "s136-detentions") & (after["agency"] == "police")]
    assert police["value"].item() == 77.0
    assert any("Saved 1 figure(s)" in s.value for s in app.success)

    app.session_state["indicators_editor"] = {"edited_rows": {0: {"value": "seventy"}}, "added_rows": [],
                                              "deleted_rows": []}
    app.run()
    app.button(key="indicators_save").click().run()
    assert_no_exception(app)
    assert any("Nothing was saved" in e.value for e in app.error)
    problems = table_with(app, "row", "column", "code", "problem")
    assert list(problems["column"]) == ["value"]
    assert _stored(demo_database, partnership, period).equals(after)
    assert len(before) == len(after)


def test_the_reconciliation_view_shows_both_figures_and_flags_mismatches(app):
    _page(app, "indicators")
    pairs = table_with(app, "period", "name", "agency", "shown", "other_agency", "other_shown", "difference", "ratio",
                       "flagged")
    assert set(pairs["agency"]) == {"Police"} and set(pairs["other_agency"]) == {"Mental health trust"}
    flagged = pairs[pairs["flagged"].astype(bool)]
    assert len(flagged) == sum("differ by" in w.value for w in app.warning)


def test_compare_regions_shows_indicator_medians_under_the_rule_of_scores(app):
    _page(app, "regions")
    assert "Outcome indicators by region" in [h.value for h in app.header]
    table = table_with(app, "scope", "region", "partnerships", "median", "q1", "q3", "suppressed")
    small = table[table["partnerships"] < 3]
    assert small["median"].isna().all() and small["suppressed"].all()


def test_the_association_view_shows_rho_interval_and_n_worded_as_association(app):
    _page(app, "outcomes")
    assert app.title[0].value == "Maturity and outcomes"
    assert "not an effect" in app.markdown[0].value
    app.selectbox(key="outcomes_domain").set_value("places_of_safety").run()
    app.selectbox(key="outcomes_indicator").set_value("s136-pos-police-station-percent").run()
    assert_no_exception(app)
    labels = [m.label for m in app.metric]
    assert labels == ["Spearman's rho", "95% interval", "Partnerships (n)"]
    assert int(app.metric[2].value) >= 5
    assert app.metric[0].value != "—"
    words = " ".join(m.value for m in app.markdown) + " ".join(c.value for c in app.caption)
    assert "effect" not in words.replace("not an effect", "").replace("never an effect", "")


def test_results_carry_the_data_quality_note_of_the_rounds_period(app, demo_database):
    from assessment.indicators import get_catalogue
    from assessment.storage import services
    from assessment.storage.indicators import import_indicator_values

    _page(app, "results")
    partnership = app.selectbox(key="results_partnership").value
    round_key = app.selectbox(key="results_round").value
    with demo_database() as session:
        period = services.round_info(session, round_key).period
    rows = (f"partnership,period,indicator,agency,value\n{partnership},{period},s136-detentions,police,300\n"
            f"{partnership},{period},s136-detentions,mental_health_trust,150\n")
    with demo_database.begin() as session:
        import_indicator_values(session, rows.encode(), actor="test", catalogue=get_catalogue())
    app.run()
    assert_no_exception(app)
    notes = [w.value.replace("\\", "") for w in app.warning if "differ by" in w.value]  # shown as plain text
    assert len(notes) >= 1 and all(n.startswith(f"{period}:") for n in notes)
    assert any("differ by 150 (50% of the larger" in n for n in notes), notes
