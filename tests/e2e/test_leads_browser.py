"""Partnership leads, the course group and commissioners in a real browser (issue 15).

Chromium (Debian's package) through Playwright against `streamlit run` on a demo database, as the single
operator (``ASSESSMENT_AUTH=none`` on loopback). Each test does one job with the app alone.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.test_browser import (  # noqa: F401 - browser is a fixture, found by pytest by name
    browser,
    pytestmark,  # noqa: F401 - the e2e mark and the Chromium skip, one rule for every browser test
    seed_demo_folder,
    serve_app,
    wait_until_idle,
)


@pytest.fixture(scope="module")
def lead_app(tmp_path_factory):
    """A demo database (12 partnerships, 2 open rounds) served with no sign-in on loopback."""
    demo = seed_demo_folder(tmp_path_factory, "e2e-leads", resamples=500, extra_env={"ASSESSMENT_AUTH": "none"},
                            partnerships=12, open_rounds=2)
    folder, env, engine, factory = demo.folder, demo.env, demo.engine, demo.factory
    with serve_app(folder, env) as url:
        yield url, factory
    engine.dispose()


@pytest.fixture
def page(browser):  # noqa: F811 - the fixture imported above
    context = browser.new_context(viewport={"width": 1400, "height": 1600})
    page = context.new_page()
    page.set_default_timeout(120_000)
    yield page
    context.close()


def selected_tab(page) -> str:
    return page.get_by_role("tab", selected=True).inner_text().strip()


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()
    wait_until_idle(page)
    assert selected_tab(page) == name


def test_manage_stays_on_the_tab_where_the_lead_acted(lead_app, page):
    url, _ = lead_app
    page.goto(f"{url}/manage")
    wait_until_idle(page)
    open_tab(page, "Partnerships")
    form = page.locator('[data-testid="stForm"]').filter(has_text="Add partnership")  # the heading sits above the form
    form.get_by_label("Name").fill("Thames Valley crisis care partnership")
    form.get_by_label(re.compile("^Key")).fill("thames-valley-e2e")
    form.get_by_role("button", name="Add partnership").click()
    page.get_by_text("Added Thames Valley crisis care partnership").wait_for()
    wait_until_idle(page)
    assert selected_tab(page) == "Partnerships"

    open_tab(page, "Rounds")
    form = page.locator('[data-testid="stForm"]').filter(has_text="Create a round")
    form.get_by_role("textbox", name="Period").fill("2026-H2")
    form.get_by_role("button", name="Create round").click()
    page.get_by_text(re.compile(r"Created round .* \(draft\)")).wait_for()
    wait_until_idle(page)
    assert selected_tab(page) == "Rounds"


def choose(page, label: str, option: str | re.Pattern) -> None:
    """Pick an option of a Streamlit selectbox by its label."""
    page.get_by_role("combobox", name=label, exact=True).first.click()
    page.get_by_role("option", name=option).first.click()
    wait_until_idle(page)


def test_invite_links_are_built_on_the_address_the_app_is_served_at(lead_app, page):
    url, _ = lead_app  # a free port, not 8501, and no ASSESSMENT_BASE_URL
    page.goto(f"{url}/manage")
    wait_until_idle(page)
    open_tab(page, "Invitations")
    assert page.get_by_text("Invite links are built on").count() == 0  # no warning: nothing differs
    choose(page, "Link", re.compile(r"· issued$"))
    page.get_by_role("button", name=re.compile("^Re-issue")).click()
    page.get_by_text(re.compile("^New link for link")).wait_for()
    link = page.locator('[data-testid="stCode"]').first.inner_text().strip()
    assert link.startswith(f"{url}/?invite="), link
    assert selected_tab(page) == "Invitations"
