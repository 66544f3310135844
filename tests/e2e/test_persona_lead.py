"""Persona walk-through (issue 15): a partnership lead runs a round whose respondents refresh and resume.

Chromium (Debian's package) through Playwright against `streamlit run` on a small demo database, as the
single operator (``ASSESSMENT_AUTH=none`` on loopback). Everything happens in the app's own pages; the only
thing read outside the browser is the file of invite links the app offers for download, as a lead would open
it before sending each link to one person.

The lead adds a partnership, creates a round for ``2026-H2``, opens it and downloads four ambulance links.
Three respondents, each in their own browser, answer the first section and part of the second, refresh the
page (they stay in the assessment, never see the staff menu, and resume at the second section: the first with
unanswered statements), finish and submit; one of them carries on in a new tab. A fourth starts and stops.
The lead watches the response rate, closes the round after its confirmation, and reads the round's Results.

Every check waits for the app to be idle (no script running, nothing stale) and then lets Playwright's
``expect`` wait for the exact state expected; nothing is read from the page straight after a click.
"""

from __future__ import annotations

import csv
import re

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
from tests.e2e.test_leads_browser import choose, selected_tab

NAME = "Persona Vale crisis care partnership"
KEY = "persona-vale"
PERIOD = "2026-H2"
LINKS = 4  # three respondents submit, one starts and stops
WAIT = 60_000  # ms: generous, for a busy 2-core machine (a wait, not a timed assertion)


@pytest.fixture(scope="module")
def lead_app(tmp_path_factory):
    """A small demo database (6 partnerships, 1 open round) served with no sign-in on loopback."""
    demo = seed_demo_folder(tmp_path_factory, "e2e-persona-lead", resamples=200,
                            extra_env={"ASSESSMENT_AUTH": "none"}, partnerships=6, open_rounds=1)
    with serve_app(demo.folder, demo.env) as url:
        yield url
    demo.engine.dispose()


def new_page(browser, **options):  # noqa: F811 - the fixture imported above
    """A page in a browser context of its own (its own cookies and Streamlit session: one person)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1600}, **options)
    page = context.new_page()
    page.set_default_timeout(120_000)
    return page


def settle(page) -> None:
    """Wait until Streamlit is idle: the page drawn, no script running and no element left stale."""
    wait_until_idle(page)
    page.wait_for_function(
        "() => { const app = document.querySelector('[data-testid=\"stApp\"]');"
        " return app && app.getAttribute('data-test-script-state') === 'notRunning'"
        " && !document.querySelector('[data-stale=\"true\"]'); }")


def expect():
    from playwright.sync_api import expect as playwright_expect

    playwright_expect.set_options(timeout=WAIT)
    return playwright_expect


def panel(page):
    """The visible tab panel of Manage (the other tabs are in the page too, hidden)."""
    return page.locator('[role="tabpanel"]:visible')


def metric(scope, label: str):
    """The value of the metric with exactly this label, within ``scope`` (a page or a locator)."""
    page = getattr(scope, "page", scope)
    label_locator = page.locator('[data-testid="stMetricLabel"]').filter(has_text=re.compile(rf"^{re.escape(label)}$"))
    return scope.locator('[data-testid="stMetric"]').filter(has=label_locator).locator('[data-testid="stMetricValue"]')


def grid_row(frame, first_cell: str):
    """The row of a Streamlit dataframe whose first cell is ``first_cell`` (the grid is drawn on a canvas; its
    accessible table, inside the canvas, carries the text)."""
    return frame.locator('tr[role="row"]').filter(has=frame.page.locator("td", has_text=re.compile(
        rf"^{re.escape(first_cell)}$")))


def expect_row(frame, agency: str, *counts: int | re.Pattern) -> None:
    """Wait until the dataframe's row for ``agency`` reads these cells (a number, or a pattern for a rate)."""
    cells = grid_row(frame, agency).locator("td")
    for index, value in enumerate(counts, start=1):
        expect()(cells.nth(index)).to_have_text(value if isinstance(value, re.Pattern) else str(value))


def percent(part: int, whole: int) -> re.Pattern:
    """A response rate as a table's accessible text gives it: ``75%``/``75.00%`` (a number column formatted as
    a percent) or the fraction ``0.75`` (a progress column)."""
    rate = part / whole
    return re.compile(rf"^(?:{round(100 * rate)}(?:\.0+)?\s?%|{re.escape(f'{rate:g}')}0*)$")


def fits(frame) -> bool:
    """Whether a dataframe comes to show every column without sideways scrolling (waits for it a while)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        frame.page.wait_for_function(
            "e => { const s = e.querySelector('.dvn-scroller'); return !!s && s.scrollWidth <= s.clientWidth; }",
            arg=frame.element_handle(), timeout=15_000)
    except PlaywrightTimeout:
        return False
    return True


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()
    settle(page)
    expect()(page.get_by_role("tab", selected=True)).to_have_text(name)


# --- the respondent -------------------------------------------------------------------------------------------

PROGRESS = re.compile(r"^(\d+) of (\d+) statements answered")


class Respondent:
    """One person answering from an invite link, in a browser context of their own."""

    def __init__(self, browser, link: str, choice: int) -> None:  # noqa: F811 - the fixture imported above
        self.page = new_page(browser)
        self.link = link
        self.choice = choice  # which answer (0-based among the levels) this person tends to give
        self.answered = 0
        self.total = None

    def heading(self, number: int):
        return self.page.get_by_role("heading", name=re.compile(rf"^{number} of \d+:"))

    def progress(self):
        return self.page.get_by_text(PROGRESS)

    def staff_menu_absent(self) -> None:
        expect()(self.page.locator('[data-testid="stSidebarNav"]')).to_have_count(0)
        expect()(self.page.get_by_role("link", name="Manage")).to_have_count(0)
        expect()(self.page.get_by_text("Manage", exact=True)).to_have_count(0)

    def start(self) -> None:
        page = self.page
        page.goto(self.link)
        settle(page)
        start = page.get_by_role("button", name="Yes, this is my agency: start")
        expect()(start).to_be_visible()
        expect()(page.get_by_text("Ambulance service").first).to_be_visible()
        self.staff_menu_absent()
        start.click()
        expect()(self.heading(1)).to_be_visible()
        page.wait_for_function("() => window.location.search.includes('resume=')")
        assert "invite=" not in page.url  # the token left the address bar
        settle(page)
        match = PROGRESS.match(self.progress().inner_text().strip())
        assert match and match.group(1) == "0", match
        self.total = int(match.group(2))
        self.staff_menu_absent()

    def sections(self) -> int:
        text = self.page.get_by_role("heading", name=re.compile(r"^\d+ of \d+:")).inner_text()
        return int(re.match(r"^\d+ of (\d+):", text.strip()).group(1))

    def answer_section(self, number: int, *, limit: int | None = None) -> int:
        """Answer the unanswered statements of the section shown (at most ``limit``); returns how many."""
        page = self.page
        expect()(self.heading(number)).to_be_visible()
        settle(page)
        groups = page.get_by_role("radiogroup")
        count, done = groups.count(), 0
        assert count >= 1
        for index in range(count):
            if limit is not None and done >= limit:
                break
            radios = groups.nth(index).get_by_role("radio")
            if any(radios.nth(k).is_checked() for k in range(radios.count())):
                continue
            radios.nth((self.choice + index) % 5).check(force=True)  # a level 1-5, never "don't know"
            self.answered += 1
            done += 1
            # saved: the progress bar counts it (after the rerun), then the page is idle again
            expect()(self.progress()).to_have_text(re.compile(rf"^{self.answered} of {self.total} "))
            settle(page)
        return done

    def next(self, number: int, sections: int) -> None:
        label = "Next" if number < sections else "Review and submit"
        self.page.get_by_role("button", name=label, exact=True).click()
        target = self.heading(number + 1) if number < sections else self.page.get_by_role(
            "heading", name="Review and submit")
        expect()(target).to_be_visible()
        settle(self.page)

    def refresh_and_check_resume(self, section: int) -> None:
        """A refresh keeps the respondent in the assessment, at ``section`` (the first with gaps)."""
        page = self.page
        page.reload()
        settle(page)
        expect()(self.heading(section)).to_be_visible()
        expect()(page.get_by_text("Welcome back: your saved answers are kept")).to_be_visible()
        expect()(self.progress()).to_have_text(re.compile(rf"^{self.answered} of {self.total} "))
        assert "resume=" in page.url
        self.staff_menu_absent()

    def finish(self, start: int, sections: int) -> None:
        for number in range(start, sections + 1):
            self.answer_section(number)
            self.next(number, sections)
        page = self.page
        assert self.answered == self.total
        expect()(page.get_by_text("statement(s) are not answered")).to_have_count(0)
        page.get_by_role("button", name="Submit my answers").click()
        expect()(page.get_by_text("Thank you. Your answers are submitted")).to_be_visible()
        settle(page)
        assert "resume=" not in page.url  # nothing is left to resume
        self.staff_menu_absent()

    def close(self) -> None:
        self.page.context.close()


# --- the lead -------------------------------------------------------------------------------------------------

def tracking(page, *, invited: int, started: int, submitted: int) -> None:
    """Manage › Response tracking for the round, waiting for exactly these totals."""
    page.goto(page.url.split("?", 1)[0])  # the lead comes back to Manage later: the page is drawn afresh
    settle(page)
    open_tab(page, "Response tracking")
    choose(page, "Open round", f"{NAME} · {PERIOD}")
    settle(page)
    shown = panel(page)
    for label, value in (("Invited", invited), ("Started", started), ("Submitted", submitted)):
        expect()(metric(shown, label)).to_have_text(str(value))
    rates = shown.locator('[data-testid="stDataFrame"]')
    expect_row(rates, "Ambulance service", invited, started, submitted, percent(submitted, invited))


def test_lead_runs_a_round_with_respondents_who_refresh_and_resume(lead_app, browser, tmp_path):  # noqa: F811
    lead = new_page(browser, accept_downloads=True)
    try:
        lead_runs_a_round(lead_app, browser, lead, tmp_path)
    except Exception:
        screenshot(lead, "persona-lead-failed")  # where the lead was, for a human to look at
        raise
    finally:
        lead.context.close()


def lead_runs_a_round(url: str, browser, lead, tmp_path) -> None:  # noqa: F811
    page = lead

    # 1. Manage › Partnerships: add the partnership; the page stays on that tab
    page.goto(f"{url}/manage")
    settle(page)
    open_tab(page, "Partnerships")
    form = page.locator('[data-testid="stForm"]').filter(has_text="Add partnership")
    form.get_by_label("Name").fill(NAME)
    form.get_by_label(re.compile("^Key")).fill(KEY)
    form.get_by_role("button", name="Add partnership").click()
    expect()(page.get_by_text(f"Added {NAME}")).to_be_visible()
    settle(page)
    assert selected_tab(page) == "Partnerships"

    # 2. Manage › Rounds: create the round for 2026-H2, then open it
    open_tab(page, "Rounds")
    choose(page, "Partnership", NAME)
    form = page.locator('[data-testid="stForm"]').filter(has_text="Create a round")
    form.get_by_role("textbox", name="Period").fill(PERIOD)
    form.get_by_role("button", name="Create round").click()
    created = page.get_by_text(re.compile(r"^Created round \S+ \(draft\)"))
    expect()(created).to_be_visible()
    round_key = re.match(r"^Created round (\S+) \(draft\)", created.inner_text().strip()).group(1)
    settle(page)
    assert selected_tab(page) == "Rounds"
    choose(page, "Round", f"{NAME} · {PERIOD} (draft)")
    page.get_by_role("button", name="Open round", exact=True).click()
    expect()(page.get_by_text(f"Round {round_key} is open")).to_be_visible()
    settle(page)
    assert selected_tab(page) == "Rounds"

    # 3. Manage › Invitations: four ambulance links, downloaded
    open_tab(page, "Invitations")
    choose(page, "Open round", f"{NAME} · {PERIOD}")
    form = page.locator('[data-testid="stForm"]').filter(has_text="Generate links")
    form.get_by_role("combobox", name="Agency", exact=True).click()
    page.get_by_role("option", name="Ambulance service", exact=True).click()
    form.get_by_label("How many links").fill(str(LINKS))
    form.get_by_role("button", name="Generate links").click()
    expect()(page.get_by_text(f"{LINKS} link(s) generated")).to_be_visible()
    settle(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the links (CSV)").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    with saved.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["agency"] for row in rows] == ["ambulance"] * LINKS
    assert {row["round"] for row in rows} == {round_key}
    links = [row["link"] for row in rows]
    assert all(link.startswith(f"{url}/?invite=") for link in links), links  # on the address the app is served at
    screenshot(page, "persona-lead-invitations")

    tracking(page, invited=LINKS, started=0, submitted=0)

    # 4. Three respondents answer, refresh, resume and submit; the second carries on in a new tab
    for number, link in enumerate(links[:3]):
        person = Respondent(browser, link, choice=number + 2)
        try:
            person.start()
            sections = person.sections()
            person.answer_section(1)
            person.next(1, sections)
            assert person.answer_section(2, limit=1) == 1  # part of the second section
            person.refresh_and_check_resume(2)  # the first section with unanswered statements
            if number == 1:  # a new tab on the same address: the same answers, still no staff menu
                other = person.page.context.new_page()
                other.set_default_timeout(120_000)
                other.goto(person.page.url)
                first = person.page
                person.page = other
                settle(other)
                expect()(person.heading(2)).to_be_visible()
                expect()(person.progress()).to_have_text(re.compile(rf"^{person.answered} of {person.total} "))
                person.staff_menu_absent()
                first.close()
            person.finish(2, sections)
            screenshot(person.page, f"persona-lead-respondent-{number + 1}-done")
        except Exception:
            screenshot(person.page, f"persona-lead-respondent-{number + 1}-failed")  # for a human to look at
            raise
        finally:
            person.close()
        if number == 0:  # the lead sees the first response counted
            tracking(page, invited=LINKS, started=1, submitted=1)

    # a fourth person starts and stops
    late = Respondent(browser, links[3], choice=0)
    try:
        late.start()
        late.answer_section(1, limit=1)
    finally:
        late.close()

    # 5. The lead: the response rate per agency, then closing after the confirmation
    tracking(page, invited=LINKS, started=LINKS, submitted=3)
    screenshot(page, "persona-lead-tracking")

    open_tab(page, "Rounds")
    choose(page, "Round", f"{NAME} · {PERIOD} (open)")
    page.get_by_role("button", name="Close round…").click()
    confirm = page.locator(".st-key-manage_close_confirm")
    expect()(confirm).to_be_visible()
    settle(page)
    expect()(confirm.get_by_text(f"Close {NAME} · {PERIOD} (open)?")).to_be_visible()
    expect()(metric(confirm, "Started but not submitted")).to_have_text("1")
    expect()(confirm.get_by_text("No agency's figures will be hidden.")).to_be_visible()
    screenshot(page, "persona-lead-close-confirm")
    rates = confirm.locator('[data-testid="stDataFrame"]')
    expect_row(rates, "Ambulance service", LINKS, LINKS, 3, percent(3, LINKS))  # the rate per agency
    assert fits(rates), "the response rates need sideways scrolling in the confirmation"
    confirm.get_by_role("button", name="Yes, close the round").click()
    expect()(page.get_by_text(f"Round {round_key} is closed and its scores are computed.")).to_be_visible()
    settle(page)
    assert selected_tab(page) == "Rounds"

    # 6. Results for that round, reached through the app's menu
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Results").click()
    expect()(page.get_by_role("heading", name="Results")).to_be_visible()
    settle(page)
    choose(page, "Partnership", NAME)
    settle(page)
    expect()(page.get_by_role("combobox", name="Round", exact=True)).to_be_visible()
    caption = page.locator('[data-testid="stCaptionContainer"]').filter(
        has_text=re.compile(rf"^{re.escape(NAME)} · {PERIOD} · questionnaire "))
    expect()(caption).to_be_visible()
    expect()(metric(page, "Respondents (n)")).to_have_text("3")
    expect()(metric(page, "Agencies that responded")).to_have_text("1")
    charts = wait_for_charts(page, 1)
    screenshot(page, "persona-lead-results")
    assert charts and all(chart["drawn"] for chart in charts), charts
