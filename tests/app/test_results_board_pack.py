"""The Results page renders the results model, and offers the board pack made from that same model.

AppTest on a small synthetic demo (SQLite). The page's headline metrics, domain scores and gaps are the
model's numbers (the pack's numbers are the model's too: tests/integration/test_board_pack.py).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from assessment.permissions import Principal
from tests.app.conftest import seeded_app_database

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "streamlit_app.py")


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory):
    with seeded_app_database(tmp_path_factory, "results-pack", resamples=200, partnerships=8,
                             open_rounds=0) as (factory, settings):
        yield factory, settings


def _round_with_peers(demo_database) -> tuple[str, str]:
    """A closed round with peer medians in several domains."""
    from assessment import service

    factory, settings = demo_database
    admin = Principal.administrator("test")
    with factory() as session:
        rounds = service.list_rounds(session, admin)
        for row in rounds[rounds["status"] == "closed"].iloc[::-1].itertuples():
            table, _ = service.peer_comparison(session, admin, row.partnership, row.round, "all",
                                               min_peers=settings.min_peers, window_months=settings.peer_window_months)
            if table["median"].notna().sum() > 3:
                return row.partnership, row.round
    pytest.fail("no demo round has peers")


def _results(sort_by_gap: bool = False, where: tuple[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if where is not None:
        at.session_state["app_partnership"], at.session_state["app_round"] = where
    at.run()
    at.switch_page("app_pages/results.py").run()
    if sort_by_gap:
        at.toggle(key="results_sort_by_gap").set_value(True).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _model(demo_database, at: AppTest):
    from assessment import service

    factory, settings = demo_database
    with factory() as session:
        return service.results_model(session, Principal.administrator("test"), at.session_state["app_round"],
                                     at.selectbox(key="results_peer_group").value, settings=settings)


def test_the_page_shows_the_models_headline_and_domain_scores(demo_database):
    at = _results(where=_round_with_peers(demo_database))
    model = _model(demo_database, at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Overall score"] == f"{model.headline.score:.2f}"
    assert metrics["Respondents (n)"] == str(model.headline.n_respondents)
    assert metrics["Domains with a score shown"] == f"{model.headline.n_domains_scored} of {model.headline.n_domains}"
    table = next(t.value for t in at.dataframe if "looks_like" in t.value.columns)
    pd.testing.assert_series_equal(table["score"].reset_index(drop=True), model.domains["score"], check_names=False)
    gaps = next(t.value for t in at.dataframe if "gap_to_median" in t.value.columns)
    pd.testing.assert_series_equal(gaps["gap_to_median"].reset_index(drop=True), model.domains["gap_to_median"],
                                   check_names=False)


def test_rows_can_be_sorted_by_gap(demo_database):
    at = _results(sort_by_gap=True, where=_round_with_peers(demo_database))
    gaps = next(t.value for t in at.dataframe if "gap_to_median" in t.value.columns)["gap_to_median"].dropna()
    assert gaps.is_monotonic_increasing and len(gaps) > 3


def test_the_board_pack_download_is_offered_and_built_from_the_model(demo_database):
    from assessment.reports.board_pack import PDF_HELP, pdf_available

    at = _results()
    buttons = {b.key: b for b in at.get("download_button")}
    assert buttons["results_board_pack_html"].label == "Board pack (HTML)"
    if pdf_available():
        assert buttons["results_board_pack_pdf"].label == "Board pack (PDF)"
    else:
        assert any(PDF_HELP in c.value for c in at.caption)
    buttons["results_board_pack_html"].click()
    at.run()
    assert not at.exception, [e.message for e in at.exception]


def test_manage_offers_the_printable_questionnaire(demo_database):
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("app_pages/manage.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.selectbox(key="manage_print_version").value == ("police-mental-health", "2.0.0")
    at.selectbox(key="manage_print_agency").set_value("police").run()
    buttons = {b.key: b for b in at.get("download_button")}
    assert buttons["manage_print_html"].label == "Questionnaire (HTML)"
    buttons["manage_print_html"].click()
    at.run()
    assert not at.exception, [e.message for e in at.exception]


def _round_whose_region_is_too_small(demo_database) -> tuple[str, str, str]:
    """A closed round whose region has too few peers, so the page offers the partnership's nation instead."""
    from assessment import service

    factory, settings = demo_database
    admin = Principal.administrator("test")
    with factory() as session:
        rounds = service.list_rounds(session, admin)
        places = service.list_partnerships(session, admin).set_index("partnership")
        for row in rounds[rounds["status"] == "closed"].itertuples():
            model = service.results_model(session, admin, row.round, "region", settings=settings)
            if model.wider_peer_group == "nation":
                return row.partnership, row.round, places.loc[row.partnership, "nation"]
    pytest.fail("no demo round has a region too small and a nation large enough")


def test_the_wider_group_button_names_the_nation_with_its_capital(demo_database):
    partnership, round_key, nation = _round_whose_region_is_too_small(demo_database)
    assert nation[:1].isupper()
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["app_partnership"], at.session_state["app_round"] = partnership, round_key
    at.session_state["results_peer_group"] = "region"
    at.run()
    at.switch_page("app_pages/results.py").run()
    assert not at.exception, [e.message for e in at.exception]
    widen = at.button(key="results_widen")
    shown = widen.label.replace("\\", "")  # the label is Markdown-escaped (widgets.plain); the reader sees this
    assert shown == f"Compare with same nation ({nation})"  # "(england)" was the bug
    assert any(f"**Same nation ({nation})**" in i.value.replace("\\", "") for i in at.info)
    widen.click().run()
    assert at.selectbox(key="results_peer_group").value == "nation"
