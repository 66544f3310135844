"""Every page in Chromium with no internet, scanned by axe-core, and the respondent's keyboard (issue 15).

* Sign-in: the sign-in page a visitor sees (the app served with sign-in on, as test_sign_in.py does, with a
  local OpenID Connect provider process) and the "no access yet" page of a signed-in user without a role.
* Offline: the browser context routes every request; anything not addressed to the app on 127.0.0.1 is
  refused and recorded, and the test fails on any such attempt (fonts, icons, the favicon...).
* Accessibility: axe-core (``axe-playwright-python``, which ships ``axe.min.js`` inside the package: nothing
  is fetched at test time) scans every page, staff and respondent; no serious or critical violation.
* Respondents: a refresh and a new tab stay in the assessment without the staff menu; Next opens a section
  at its heading (with the keyboard focus on it); two quick arrow presses keep the focus on the answers,
  and the focus ring is clearly visible.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from app_pages._frame import menu_for
from tests.e2e.test_browser import (  # noqa: F401 - browser is a fixture
    browser,
    free_port,
    seed_demo_folder,
    serve_app,
    wait_until_idle,
)
from tests.e2e.test_sign_in import _prepare, identity_provider, sign_in, write_secrets  # noqa: F401 - a fixture

pytest.importorskip("axe_playwright_python")

pytestmark = [pytest.mark.e2e]
# Every page of the administrator's menu (the frame's one list, so a new page is scanned without editing this).
STAFF_PAGES = tuple(key for keys in menu_for("administrator").values() for key in keys)
IMPACTS = ("serious", "critical")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The demo (12 partnerships, 2 open rounds), five fresh invite links, `streamlit run` on a free port."""
    from assessment.storage import services

    demo = seed_demo_folder(tmp_path_factory, "e2e-everywhere", resamples=200, partnerships=12, open_rounds=2)
    folder, env, settings, engine, factory = demo.folder, demo.env, demo.settings, demo.engine, demo.factory
    with factory.begin() as session:
        rounds = services.list_rounds(session)
        open_round = rounds.loc[rounds["status"] == "open", "round"].iloc[0]
        links = services.create_invitations(session, open_round, "ambulance", 5, actor="e2e",
                                            base_url=settings.base_url)
    engine.dispose()
    with serve_app(folder, env) as url:
        yield url, [link.rsplit("invite=", 1)[1] for link in links]


class Offline:
    """Requests outside the deployment, refused and recorded."""

    def __init__(self, context) -> None:
        self.refused: list[str] = []
        context.route("**/*", self.route)

    def route(self, route) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob") or parts.hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            self.refused.append(url)
            route.abort()


@pytest.fixture
def offline(browser):  # noqa: F811 - the fixture imported above
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    guard = Offline(context)
    page = context.new_page()
    page.set_default_timeout(120_000)
    yield page, guard
    context.close()


def settle(page) -> None:
    wait_until_idle(page)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')")
    page.wait_for_timeout(800)  # charts and icons finish drawing (not a timing assertion)


def serious(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes'][0]['target']}" for v in found
            if v["impact"] in IMPACTS]


def start(page, url: str, token: str) -> None:
    page.goto(f"{url}/?invite={token}")
    settle(page)
    page.get_by_role("button", name="Yes, this is my agency: start").click()
    page.get_by_role("heading", name="1 of", exact=False).wait_for()
    page.wait_for_function("() => window.location.search.includes('resume=')")
    settle(page)


def test_every_staff_page_stays_inside_the_deployment_and_passes_axe(app, offline):
    url, _ = app
    page, guard = offline
    problems = {}
    for path in STAFF_PAGES:
        page.goto(f"{url}/{path}")
        settle(page)
        problems[path] = serious(page)
    assert not guard.refused, f"requests left the deployment: {sorted(set(guard.refused))}"
    assert not any(problems.values()), {page: found for page, found in problems.items() if found}


def test_every_respondent_page_stays_inside_the_deployment_and_passes_axe(app, offline):
    url, tokens = app
    page, guard = offline
    problems = {}
    page.goto(f"{url}/?invite={tokens[0]}")
    settle(page)
    problems["confirm"] = serious(page)
    page.get_by_role("button", name="Yes, this is my agency: start").click()
    page.get_by_role("heading", name="1 of", exact=False).wait_for()
    settle(page)
    problems["section"] = serious(page)
    page.reload()
    settle(page)
    problems["resumed"] = serious(page)
    page.goto(f"{url}/?invite={'x' * 43}")
    settle(page)
    problems["invalid link"] = serious(page)
    assert not guard.refused, f"requests left the deployment: {sorted(set(guard.refused))}"
    assert not any(problems.values()), {page: found for page, found in problems.items() if found}


@pytest.fixture(scope="module")
def signed_app(tmp_path_factory, identity_provider):  # noqa: F811 - the fixture imported above
    """A real-data style database (no demo), served with sign-in on at the local identity provider."""
    folder = tmp_path_factory.mktemp("e2e-everywhere-signed")
    env, _ = _prepare(folder)
    port = free_port()
    secrets_file = write_secrets(folder, port, identity_provider)
    with serve_app(folder, env, "--secrets.files", str(secrets_file), port=port, host="localhost") as url:
        yield url


def test_the_sign_in_pages_stay_inside_the_deployment_and_pass_axe(signed_app, offline):
    page, guard = offline
    problems = {}
    page.goto(f"{signed_app}/manage")  # a visitor asking for a staff page gets the sign-in page
    settle(page)
    page.get_by_role("button", name="Sign in with local idp").wait_for()
    problems["sign in"] = serious(page)
    assert not guard.refused, f"requests left the deployment: {sorted(set(guard.refused))}"
    sign_in(page, signed_app, "stranger")  # through the provider on this machine, and back
    page.get_by_text("You have no access yet").wait_for()
    # The mock provider's own page (a test stand-in, not part of the deployment) asks a CDN for a stylesheet:
    # forget that, and load the app's page afresh to check what the app itself asks for.
    guard.refused.clear()
    page.reload()
    settle(page)
    page.get_by_text("You have no access yet").wait_for()
    problems["no access yet"] = serious(page)
    assert not guard.refused, f"requests left the deployment: {sorted(set(guard.refused))}"
    assert not any(problems.values()), {page: found for page, found in problems.items() if found}


def test_a_refresh_and_a_new_tab_stay_in_the_assessment_without_the_staff_menu(app, offline):
    url, tokens = app
    page, _ = offline
    start(page, url, tokens[1])
    page.get_by_role("radiogroup").first.get_by_role("radio").nth(2).check(force=True)
    page.get_by_text("1 of", exact=False).first.wait_for()
    assert "invite=" not in page.url and "resume=" in page.url
    page.reload()
    settle(page)
    page.get_by_role("heading", name="1 of", exact=False).wait_for()  # the first section still has gaps
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0
    assert page.get_by_text("Home", exact=True).count() == 0
    other = page.context.new_page()  # a new tab on the same address
    other.goto(page.url)
    settle(other)
    other.get_by_role("heading", name="1 of", exact=False).wait_for()
    assert other.locator('[data-testid="stSidebarNav"]').count() == 0


HEADING_TOP = """() => { const h = Array.from(document.querySelectorAll('h2'))
  .find(h => h.textContent.trim().startsWith('2 of')); return h && [h.getBoundingClientRect().top,
  document.activeElement === h]; }"""


def test_next_opens_the_section_at_its_heading(app, offline):
    url, tokens = app
    page, _ = offline
    start(page, url, tokens[2])
    page.get_by_role("button", name="Next").click()  # at the bottom of a long section
    page.get_by_role("heading", name="2 of", exact=False).wait_for()
    page.wait_for_function(f"() => {{ const t = ({HEADING_TOP})(); return t && t[1]; }}")
    top, focused = page.evaluate(HEADING_TOP)
    assert focused
    assert 0 <= top < 200, f"the heading is {top}px from the top of the window"


FOCUS = """() => { const e = document.activeElement; const label = e.closest('label');
  const style = getComputedStyle(label || e);
  return [e.tagName, e.type || '', !!e.closest('[role=radiogroup]'), style.outlineStyle, parseFloat(style.outlineWidth),
          style.outlineColor]; }"""


def test_two_quick_arrow_presses_keep_the_focus_and_the_ring_is_visible(app, offline):
    url, tokens = app
    page, _ = offline
    start(page, url, tokens[3])
    first = page.get_by_role("radiogroup").first.get_by_role("radio").first
    first.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.get_by_text("1 of", exact=False).first.wait_for()  # saved
    settle(page)
    tag, kind, in_group, outline, width, colour = page.evaluate(FOCUS)
    assert (tag, kind, in_group) == ("INPUT", "radio", True), page.evaluate(FOCUS)
    assert outline == "solid" and width >= 2, (outline, width)
    assert colour == "rgb(29, 78, 216)", colour
