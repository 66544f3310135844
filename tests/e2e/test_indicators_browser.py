"""Results with outcome indicators in a real browser (Chromium via Playwright against `streamlit run`): the
indicators beside maturity are drawn as a table (domain, score, maturity level, indicator, who reported it,
the figure), and the page's charts still render."""

from __future__ import annotations

from tests.e2e.test_browser import (  # noqa: F401 - fixtures shared with the other browser tests
    browser,
    page,
    pytestmark,
    running_app,
    screenshot,
    wait_for_charts,
    wait_until_idle,
)


def test_results_show_the_indicators_beside_maturity(running_app, page):  # noqa: F811
    url, _ = running_app
    page.goto(f"{url}/results")
    wait_until_idle(page)
    heading = page.get_by_text("Outcome indicators beside maturity", exact=True)
    heading.wait_for()
    heading.scroll_into_view_if_needed()
    # the table is a canvas grid (glide-data-grid); its header row and cells are in the accessible table
    grid = page.locator('[data-testid="stDataFrame"]').filter(has_text="Reported by")
    grid.first.wait_for()
    text = grid.first.text_content() or ""
    # the grid renders the rows and columns in view: the headers and the first linked indicators
    assert "Indicator" in text and "Reported by" in text and "Maturity level" in text
    from assessment.indicators import get_catalogue

    assert any(indicator.name[:40] in text for indicator in get_catalogue().indicators), text
    charts = wait_for_charts(page, 4)
    screenshot(page, "results-with-indicators")
    assert len(charts) >= 4 and all(c["drawn"] for c in charts), charts
