"""The commissioner's walk-through in a real browser (issue 15): compare a chosen set across rounds, in the app alone.

Chromium (Debian's package) through Playwright against `streamlit run` with sign-in on: the commissioner signs in
at a real OpenID Connect provider process (``oidc-provider-mock``, as in test_sign_in.py) and holds the
commissioner role over eight of the twelve demo partnerships. The database is the demo with every round
closed (2 or 3 closed rounds per partnership), plus one more closed round of Thames Valley, imported as an
administrator would, whose answers are lower: so the trends hold an improvement (2026-H1) and a decline (2026-H2).

The job, done by the user's path only (clicks and typing):

1. On Portfolio, choose a hand-made set of three partnerships (not a region) out of the portfolio.
2. Read the size of the change and its 95% interval of one partnership and domain in the table; the test
   checks it against the library (the service layer over the same database, as the commissioner).
3. On Trends, put the three partnerships side by side and check that every domain that improved or declined
   in a round is marked in its chart: a blue point for improved, a vermillion one for declined, and no other
   point in those colours.

Nothing is asserted straight after a click: each step waits until the app is idle, and every check is an
auto-waiting ``expect`` with a generous timeout, so a rerun that has not finished drawing is waited for.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from tests.e2e.test_browser import (  # noqa: F401 - browser is a fixture, found by pytest by name
    browser,
    free_port,
    pytestmark,  # noqa: F401 - the e2e mark and the Chromium skip, one rule for every browser test
    screenshot,
    seed_demo_folder,
    serve_app,
    wait_until_idle,
)
from tests.e2e.test_leads_browser import choose
from tests.e2e.test_sign_in import identity_provider, sign_in, write_secrets  # noqa: F401 - a fixture

SUBJECT, EMAIL = "cal", "commissioner@example.org"  # a user the identity provider of test_sign_in.py knows
# The commissioner's portfolio (8 of the 12 demo partnerships) and the set chosen in it (3, from 3 regions).
PORTFOLIO = ("bedfordshire", "cheshire", "cleveland", "northamptonshire", "sussex", "thames-valley", "west-mercia",
             "west-yorkshire")
CHOSEN = ("cheshire", "sussex", "thames-valley")
DECLINING = "thames-valley"  # gets one more closed round (2026-H2) with lower answers
COLOURS = {"improved": "#0072B2", "declined": "#D55E00"}  # Okabe-Ito blue and vermillion (assessment.charts)
WAIT = 90_000  # ms: generous, the machine may be busy


def _add_a_declining_round(session, settings) -> None:
    """Thames Valley's 2026-H2 round: its 2026-H1 answers, each scored answer two levels lower (at least 1),
    imported into a new round and closed, exactly as an administrator would through the library."""
    from assessment.demo import generate_demo, shipped_questionnaires
    from assessment.storage import services
    from assessment.storage.imports import import_responses
    from assessment.storage.reference import forces

    found, _ = shipped_questionnaires(settings)
    data = generate_demo(found, forces(), partnerships=12, open_rounds=0)  # the same data seed_demo loaded
    previous = data.rounds.set_index("round").loc[f"{DECLINING}-2026-h1"]
    answers = data.answers[data.answers["round"] == f"{DECLINING}-2026-h1"].copy()
    scored = answers["value"].str.fullmatch(r"[1-5]")
    answers.loc[scored, "value"] = (answers.loc[scored, "value"].astype(int) - 2).clip(lower=1).astype(str)
    key = f"{DECLINING}-2026-h2"
    answers = answers.assign(round=key, respondent="h2-" + answers["respondent"].astype(str))
    services.create_round(session, DECLINING, "2026-H2", questionnaire=previous["questionnaire"],
                          version=previous["version"], actor="e2e", key=key)
    services.open_round(session, key, actor="e2e")
    columns = ["partnership", "round", "respondent", "agency", "item", "value", "comment"]
    import_responses(session, key, answers[columns].to_csv(index=False).encode("utf-8"), actor="e2e")
    services.close_round(session, key, actor="e2e")


@pytest.fixture(scope="module")
def commissioner_app(tmp_path_factory, identity_provider):  # noqa: F811 - the fixture imported above
    """The demo with every round closed and one declining round, the commissioner's grants, and the app served
    with sign-in at the identity provider; yields the URL and what the library says (as the commissioner)."""
    from assessment import service
    from assessment.permissions import Principal
    from assessment.storage.users import grant_role

    demo = seed_demo_folder(tmp_path_factory, "e2e-commissioner", resamples=300, partnerships=12, open_rounds=0)
    with demo.factory.begin() as session:
        _add_a_declining_round(session, demo.settings)
        for key in PORTFOLIO:
            grant_role(session, EMAIL, "commissioner", partnership=key, actor="e2e")
    commissioner = Principal.with_grants(EMAIL, [("commissioner", key) for key in PORTFOLIO])
    config = demo.settings
    options = {"resamples": config.bootstrap_resamples, "seed": config.bootstrap_seed,
               "min_respondents": config.min_respondents_for_change, "min_group_size": config.min_group_size}
    with demo.factory() as session:
        places = service.list_partnerships(session, commissioner)
        expected = pd.concat([service.partnership_trends(session, commissioner, key, **options) for key in CHOSEN],
                             ignore_index=True)
        listed = service.list_questionnaire_versions(session, commissioner)
        titles = {}  # domain id -> title, the newest version's title winning (as the app names them)
        for questionnaire, version in zip(listed["questionnaire"], listed["version"], strict=True):
            found = service.published_questionnaire(session, commissioner, questionnaire, version)
            titles.update({domain.id: domain.title for domain in found.domains})
    demo.engine.dispose()
    names = dict(zip(places["partnership"], places["name"], strict=True))
    port = free_port()
    secrets_file = write_secrets(demo.folder, port, identity_provider)
    with serve_app(demo.folder, demo.env, "--secrets.files", str(secrets_file), port=port, host="localhost") as url:
        yield url, names, expected.assign(domain_title=expected["domain"].map(titles))


@pytest.fixture
def page(browser):  # noqa: F811 - the fixture imported above
    context = browser.new_context(viewport={"width": 1400, "height": 1600})
    page = context.new_page()
    page.set_default_timeout(120_000)
    yield page
    context.close()


def go_to(page, title: str) -> None:
    """Open a page from the sidebar menu, as the user does."""
    from playwright.sync_api import expect

    page.locator('[data-testid="stSidebarNav"] a').filter(has_text=title).click()
    idle(page)
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible(timeout=WAIT)


def idle(page) -> None:
    """The page drawn and the script no longer running (Streamlit's status widget gone)."""
    wait_until_idle(page)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')")


def pick(page, label: str, names: list[str]) -> None:
    """Pick options of a Streamlit multiselect by its label, one at a time, as a keyboard user: type the name,
    wait for it to be offered, Enter, Escape; then wait for its tag in the box."""
    from playwright.sync_api import expect

    box = page.get_by_role("combobox", name=label, exact=True)
    for name in names:
        box.click()
        box.press_sequentially(name)
        expect(page.get_by_role("option", name=name, exact=True)).to_be_visible(timeout=WAIT)
        box.press("Enter")
        box.press("Escape")
        idle(page)
        expect(page.locator(f'[data-testid="stMultiSelectTagsContainer"] [data-tag][aria-label="{name}"]')
               ).to_be_attached(timeout=WAIT)  # its tag in the box


def cell_text(change: pd.Series) -> str:
    """A portfolio cell as the library's trend figures give it: verdict, size of change and 95% interval."""
    return (f"{change['verdict']} {change['change']:+.2f} (95% {change['change_low']:+.2f} to "
            f"{change['change_high']:+.2f})")


def test_the_commissioner_compares_a_chosen_set_across_rounds(commissioner_app, page):
    from playwright.sync_api import expect

    url, names, expected = commissioner_app
    chosen = [names[key] for key in CHOSEN]
    sign_in(page, url, SUBJECT)
    idle(page)

    # 1. Portfolio: a hand-made set of three partnerships, out of the eight the commissioner may see.
    go_to(page, "Portfolio")
    page.get_by_text("Partnerships I pick", exact=True).click()
    idle(page)
    page.get_by_role("combobox", name="Partnerships", exact=True).click()
    offered = page.get_by_role("option").filter(has_not_text="Select all")
    expect(offered).to_have_text(sorted(names[key] for key in PORTFOLIO), timeout=WAIT)  # only their portfolio
    page.keyboard.press("Escape")
    idle(page)
    pick(page, "Partnerships", chosen)
    expect(page.locator(".vega-embed").filter(has_text="3 partnerships · latest rounds")).to_have_count(
        1, timeout=WAIT)

    # 2. The size of the change and its interval, read in the table, is the library's.
    table = page.locator('[data-testid="stDataFrame"]').filter(has=page.locator("th", has_text="Partnership")).first
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(3, timeout=WAIT)  # the chosen set only
    expect(rows.locator('td[aria-colindex="1"]')).to_have_text(sorted(chosen), timeout=WAIT)
    first_domain = table.locator('th[aria-colindex="2"]')
    expect(first_domain).not_to_have_text("", timeout=WAIT)
    title = first_domain.text_content().strip()
    latest = expected[(expected["partnership"] == DECLINING) & (expected["domain_title"] == title)]
    latest = latest.sort_values("period").iloc[-1]
    assert latest["period"] == "2026-H2" and latest["verdict"] == "declined", latest  # the library's figure
    row = rows.filter(has=page.locator('td[aria-colindex="1"]', has_text=names[DECLINING]))
    expect(row.locator('td[aria-colindex="2"]')).to_have_text(cell_text(latest), timeout=WAIT)
    screenshot(page, "persona-commissioner-portfolio")

    # 3. Trends: the three side by side across rounds, each improved or declined domain marked by colour.
    go_to(page, "Trends")
    choose(page, "Partnership", names[DECLINING])
    for name in [names[key] for key in CHOSEN if key != DECLINING]:  # the Portfolio set came along: no new pick
        expect(page.locator(f'[data-testid="stMultiSelectTagsContainer"] [data-tag][aria-label="{name}"]')
               ).to_be_attached(timeout=WAIT)
    marked = expected[expected["verdict"].isin(list(COLOURS))]
    assert set(marked["verdict"]) == set(COLOURS)  # the data hold both an improvement and a decline
    for key in CHOSEN:
        chart = page.locator(".vega-embed").filter(has_text=f"{names[key]} · ")
        expect(chart).to_have_count(1, timeout=WAIT)
        points = chart.locator('[aria-roledescription="point"]')
        expect(points).to_have_count(int((expected["partnership"] == key).sum()), timeout=WAIT)
        mine = marked[marked["partnership"] == key]
        for verdict, colour in COLOURS.items():
            # every point in the colour is one of the library's changes of that verdict, and each of those is
            for change in mine[mine["verdict"] == verdict].itertuples():
                point = chart.locator(f'[aria-roledescription="point"][aria-label*="Domain: {change.domain_title}; '
                                      f'Period: {change.period};"]')
                expect(point).to_have_attribute("fill", colour, timeout=WAIT)
                expect(point).to_have_attribute("aria-label", re.compile(f"Change: {verdict}"), timeout=WAIT)
            expect(chart.locator(f'[aria-roledescription="point"][fill="{colour}"]')).to_have_count(
                int((mine["verdict"] == verdict).sum()), timeout=WAIT)
        if len(mine):  # the legend names what the colours mean
            for verdict in sorted(set(mine["verdict"])):
                expect(chart.locator("text", has_text=verdict).first).to_be_attached(timeout=WAIT)
    screenshot(page, "persona-commissioner-trends")
