"""The course-group analyst's walk-through in a real browser (issue 15): find the strongest region per domain and
a named practice, and how to contact its partnership, with nothing but the app.

Chromium (Debian's package) through Playwright against `streamlit run` on the full synthetic demo (40
partnerships, so regions are large enough to compare). Nobody signs in: the demo's read-only "view as" switch
gives the analyst's own menu and principal. Each partnership lead of one partnership that opted to be named is
given an address first (the demo has no users), so its practice has a contact.

The expected figures are the library's, read through the service layer over the same database; the user's path
is the UI only. Every read waits for the app to be idle and then uses Playwright's auto-waiting ``expect`` (an
earlier draft read the page while Streamlit was still redrawing it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from tests.e2e.test_browser import (  # noqa: F401 - browser is a fixture, found by pytest by name
    browser,
    pytestmark,  # noqa: F401 - the e2e mark and the Chromium skip, one rule for every browser test
    screenshot,
    seed_demo_folder,
    serve_app,
    wait_for_charts,
    wait_until_idle,
)

WAIT = 60_000  # ms, for each auto-waiting expectation: generous, the machine may be busy
LEAD_EMAIL = "crisis.lead@{key}.example.org"


@dataclass(frozen=True)
class Expected:
    """What the library says the analyst should find (computed over the served database)."""

    latest: str  # the period the page opens on
    latest_n: int  # partnerships that closed a round in it
    busiest: str  # the period with most closed rounds
    busiest_n: int
    strongest: list[tuple[str, str, float, int]]  # (domain title, region, median, n) in the heatmap's order
    domain_title: str  # the domain with the named practice
    partnership_name: str
    region: str
    statement: str  # the item statement the practice was written against
    comment: str
    contact: str


def _domain_titles_and_statements(session) -> tuple[dict[str, str], dict[str, str]]:
    """As the page reads them: every published version, the newest title winning."""
    from assessment import service
    from assessment.permissions import Principal

    admin = Principal.administrator("e2e")
    titles: dict[str, str] = {}
    statements: dict[str, str] = {}
    listed = service.list_questionnaire_versions(session, admin)
    for qid, version in zip(listed["questionnaire"], listed["version"], strict=True):
        for domain in service.published_questionnaire(session, admin, qid, version).domains:
            titles[domain.id] = domain.title
            statements.update({item.id: item.text for item in domain.items})
    return titles, statements


def _expected_and_a_contact(session, settings) -> Expected:
    """The library's answer for the latest period; gives the first named practice's partnership a lead."""
    from assessment import service
    from assessment.peers import strongest_regions
    from assessment.permissions import ANALYST, PARTNERSHIP_LEAD, Principal
    from assessment.storage.users import add_user, grant_role

    analyst = Principal.with_grants("course group", [(ANALYST, None)])
    admin = Principal.administrator("e2e")
    periods = service.region_periods(session, analyst)
    latest, latest_n = periods["period"].iloc[0], int(periods["partnerships"].iloc[0])
    busiest_row = periods.sort_values("partnerships", ascending=False, kind="stable").iloc[0]
    titles, statements = _domain_titles_and_statements(session)
    regions = service.compare_regions(session, analyst, latest, min_peers=settings.min_peers,
                                      min_peers_spread=settings.min_peers_spread,
                                      window_months=settings.peer_window_months)
    best = strongest_regions(regions)
    order = {d: i for i, d in enumerate(titles)}
    best = best.iloc[best["domain"].map(order).to_numpy().argsort(kind="stable")]
    strongest = [(titles[r.domain], r.region, float(r.median), int(r.partnerships)) for r in best.itertuples()]

    def practices(domain):
        return service.promising_practices(session, analyst, domain, period=latest, min_peers=settings.min_peers,
                                           min_peers_spread=settings.min_peers_spread)

    keys = service.list_partnerships(session, admin).set_index("name")["partnership"]
    for domain in titles:  # the Domain picker's order
        named = practices(domain)
        named = named[named["partnership_name"] != ""]
        if len(named):
            break
    else:
        pytest.fail("the demo has no practice from a partnership that opted to be named")
    key = keys[named["partnership_name"].iloc[0]]
    email = LEAD_EMAIL.format(key=key)
    add_user(session, email, actor="e2e", name="Crisis care lead")
    grant_role(session, email, PARTNERSHIP_LEAD, actor="e2e", partnership=key)
    practice = practices(domain).query("partnership_name != ''").iloc[0]
    assert practice["contact"] == email  # the service's answer, now that the partnership has a lead
    return Expected(latest, latest_n, busiest_row["period"], int(busiest_row["partnerships"]), strongest,
                    titles[domain], practice["partnership_name"], practice["region"],
                    statements[practice["item"]], practice["comment"], email)


@pytest.fixture(scope="module")
def analyst_app(tmp_path_factory):
    """The full demo served with sign-in on and nobody signed in: the demo's "view as" switch."""
    demo = seed_demo_folder(tmp_path_factory, "e2e-analyst", resamples=200)
    demo.env.pop("ASSESSMENT_AUTH", None)  # the default (sign-in): no operator, so the demo's "view as" switch
    with demo.factory.begin() as session:
        expected = _expected_and_a_contact(session, demo.settings)
    try:
        with serve_app(demo.folder, demo.env) as url:
            yield url, expected
    finally:
        demo.engine.dispose()


@pytest.fixture
def page(browser):  # noqa: F811 - the fixture imported above
    context = browser.new_context(viewport={"width": 1400, "height": 1600})
    page = context.new_page()
    page.set_default_timeout(120_000)
    yield page
    context.close()


def _grid_rows(page, grid) -> list[list[str]]:
    """The cells of a st.dataframe, row by row, from the grid's accessible table (the canvas has no text)."""
    return grid.locator("tbody tr").evaluate_all(
        "rows => rows.map(r => Array.from(r.querySelectorAll('td')).map(c => c.innerText.trim()))")


def pick(page, label: str, option: str) -> None:
    """Choose ``option`` in the selectbox ``label`` as a user does, opening the list again if a redraw of the
    page closed it before the option could be clicked (seen once: the list never showed the option)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect

    box = page.get_by_role("combobox", name=label, exact=True)
    for _ in range(4):
        wait_until_idle(page)
        box.scroll_into_view_if_needed()
        box.click()
        try:
            page.get_by_role("option", name=option).first.click(timeout=15_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    else:
        screenshot(page, "persona-analyst-failed")
        pytest.fail(f"the option {option!r} of {label!r} never showed")
    wait_until_idle(page)
    expect(box).to_have_value(option, timeout=WAIT)


def test_the_analyst_finds_the_strongest_region_per_domain_and_a_named_practice(analyst_app, page):
    from playwright.sync_api import expect

    url, want = analyst_app
    page.goto(url)
    wait_until_idle(page)

    # Acting as the course group's analyst: their menu, nothing of a partnership's own pages.
    pick(page, "View as (synthetic demo only)", "analyst (course group)")
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_role("link", name="Compare regions")).to_be_visible(timeout=WAIT)
    expect(nav.get_by_role("link", name="Results")).to_have_count(0, timeout=WAIT)
    nav.get_by_role("link", name="Compare regions").click()
    wait_until_idle(page)
    expect(page.get_by_role("heading", name="Compare regions", level=1)).to_be_visible(timeout=WAIT)

    # It opens on the latest period, and says why when another period has more closed rounds.
    expect(page.get_by_role("combobox", name="Period", exact=True)).to_have_value(want.latest, timeout=WAIT)
    assert want.busiest != want.latest and want.busiest_n > want.latest_n  # the demo's periods: the case to explain
    expect(page.get_by_text(f"Showing the latest period, {want.latest} ({want.latest_n} partnership(s) closed a "
                            f"round in it). {want.busiest} has more ({want.busiest_n})")).to_be_visible(timeout=WAIT)

    # The heatmap stars the highest region in each domain (ties: each), n in every cell.
    charts = wait_for_charts(page, 1)
    assert charts and charts[0]["drawn"], charts
    heatmap = page.locator(".vega-embed").first
    stars = heatmap.locator("text").filter(has_text=re.compile(r"^★ \d\.\d · n=\d+$"))  # not the subtitle's ★
    expect(stars).to_have_count(len(want.strongest), timeout=WAIT)

    # The table under it names them, one row per domain, all visible, in the heatmap's order.
    grid = page.get_by_test_id("stDataFrame").filter(has_text="Highest region")
    expect(grid.locator("tbody tr")).to_have_count(len(want.strongest), timeout=WAIT)
    rows = _grid_rows(page, grid)
    assert [(r[0], r[1]) for r in rows] == [(d, region) for d, region, _, _ in want.strongest]
    assert [(round(float(r[2]), 6), int(r[3])) for r in rows] == [(round(m, 6), n) for _, _, m, n in want.strongest]
    box = grid.bounding_box()
    assert box is not None and box["height"] >= 35 * (len(want.strongest) + 1)  # every row shown, no inner scroll

    # Promising practices of the domain where a partnership opted to be named: its region, statement, contact.
    pick(page, "Domain", want.domain_title)
    card = page.get_by_test_id("stVerticalBlock").filter(has=page.get_by_text(want.comment, exact=True)).last
    expect(card).to_be_visible(timeout=WAIT)
    expect(card).to_contain_text(f"On: {want.statement}", timeout=WAIT)
    expect(card).to_contain_text(f"{want.partnership_name} · {want.region} · in the top quartile", timeout=WAIT)
    contact = card.get_by_test_id("stCode").locator("code")
    expect(contact).to_have_text(want.contact, timeout=WAIT)
    assert contact.inner_text().strip() == want.contact  # exactly: nothing invisible inside the address
    screenshot(page, "persona-analyst")
