"""The board pack in a real browser: the Results page's "Board pack" button downloads a self-contained HTML
file whose headline is the page's, and the page's tables fit a 1400 px window without sideways scrolling."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.test_browser import (  # noqa: F401  (the browser fixture, found by pytest by name)
    browser,
    pytestmark,  # noqa: F401 - the e2e mark and the Chromium skip, one rule for every browser test
    screenshot,
    seed_demo_folder,
    serve_app,
    wait_for_charts,
    wait_until_idle,
)

# Each table's scrolling area: how wide its content is against how wide it is shown.
TABLE_WIDTHS_JS = """() => Array.from(document.querySelectorAll('[data-testid="stDataFrame"] .dvn-scroller'))
    .map(s => ({scroll: s.scrollWidth, client: s.clientWidth}))"""


@pytest.fixture(scope="module")
def pack_app(tmp_path_factory):
    demo = seed_demo_folder(tmp_path_factory, "e2e-pack", resamples=300, partnerships=6, open_rounds=0)
    folder, env, engine = demo.folder, demo.env, demo.engine
    engine.dispose()
    with serve_app(folder, env) as url:
        yield url


def test_the_results_page_downloads_the_board_pack(pack_app, browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 1400, "height": 2400}, accept_downloads=True)
    requests: list[str] = []
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        page.goto(f"{pack_app}/results")
        wait_until_idle(page)
        page.get_by_text("Gap to peers", exact=True).wait_for()
        wait_for_charts(page, 3)
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')")
        overall = page.locator('[data-testid="stMetric"]').first.locator('[data-testid="stMetricValue"]').inner_text()
        page.wait_for_function(f"() => ({TABLE_WIDTHS_JS})().length >= 4")
        widths = page.evaluate(TABLE_WIDTHS_JS)
        screenshot(page, "results-with-board-pack")
        with page.expect_download() as download:
            page.get_by_role("button", name="Board pack (HTML)").click()
        path = download.value.path()
        document = Path(path).read_text(encoding="utf-8")
        assert download.value.suggested_filename.endswith("-board-pack.html")

        # the pack opened on its own: nothing is fetched from anywhere
        context.on("request", lambda request: requests.append(request.url))
        pack = context.new_page()
        pack.set_content(document)
        summary = pack.locator("section.summary").inner_text()
    finally:
        context.close()
    assert document.startswith("<!DOCTYPE html>")
    assert re.search(r"\d\.\d\d", overall), overall
    assert overall in summary  # the page's headline is the pack's
    assert [r for r in requests if not r.startswith(("about:", "data:"))] == []
    assert widths and all(w["scroll"] <= w["client"] + 2 for w in widths), widths
