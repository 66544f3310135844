"""Sign-in end to end: Chromium, `streamlit run` and a real OpenID Connect provider process.

The provider is ``oidc-provider-mock`` (from PyPI) started as its own process with predefined users; the app
is configured through a secrets file with one ``[auth.local-idp]`` provider, exactly as docs/access.md
describes. Nothing is monkeypatched: the browser goes through the provider's authorisation page and back to
``/oauth2callback``, and ``st.user`` holds the ID token's claims. Each role signs in, sees its navigation,
is refused one thing, and signs out; an unknown user sees only "no access yet"; an anonymous visitor asking
for /manage sees only the sign-in page; a respondent who refreshes stays on the assessment; and
``ASSESSMENT_AUTH=none`` on 0.0.0.0 does not start the app.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.test_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    pytestmark,  # noqa: F401 - the e2e mark and the Chromium skip, one rule for every browser test
)

ROOT = Path(__file__).resolve().parents[2]

USERS = {  # subject at the provider -> (email, what to grant)
    "ann": ("admin@example.org", ("administrator", None)),
    "lee": ("lead@example.org", ("partnership_lead", "alpha")),
    "bea": ("board@example.org", ("board_member", "alpha")),
    "cal": ("commissioner@example.org", ("commissioner", "beta")),
    "ana": ("analyst@example.org", ("analyst", None)),
    "stranger": ("stranger@example.org", None),
}
# The navigation each role sees, and one page it asks for by address but is not given.
EXPECTED = {
    "ann": (["Home", "Results", "Trends", "Actions", "Outcome indicators", "Take the assessment", "Compare regions",
             "Maturity and outcomes", "Portfolio", "Manage"], None),
    "lee": (["Home", "Results", "Trends", "Actions", "Outcome indicators", "Portfolio", "Manage"], "regions"),
    "bea": (["Home", "Results", "Trends", "Actions"], "manage"),
    "cal": (["Home", "Results", "Trends", "Actions", "Portfolio"], "manage"),
    "ana": (["Compare regions", "Maturity and outcomes"], "results"),
}


TITLES = {"Home": "Police–mental health partnership maturity assessment", "Compare regions": "Compare regions",
          "regions": "Compare regions", "manage": "Manage", "results": "Results"}


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[2]} exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - local
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer in time")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="module")
def identity_provider(tmp_path_factory):
    """oidc-provider-mock as its own process, with the users above predefined."""
    port = free_port()
    claims = [json.dumps({"sub": sub, "email": email, "name": sub.capitalize()}) for sub, (email, _) in USERS.items()]
    log = (tmp_path_factory.mktemp("idp") / "idp.log").open("w")
    process = subprocess.Popen(  # noqa: S603 - fixed arguments
        [sys.executable, "-m", "oidc_provider_mock", "--port", str(port), "--host", "127.0.0.1",
         *[arg for claim in claims for arg in ("--user-claims", claim)]],
        stdout=log, stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}"
    try:
        wait_for(f"{url}/.well-known/openid-configuration", process, timeout=60)
        yield url
    finally:
        stop(process)
        log.close()


def _prepare(folder: Path) -> tuple[dict, str]:
    """A real-data style database (no demo) with two partnerships, an open round, grants and one invite."""
    from assessment.questionnaire import load_questionnaire
    from assessment.settings import load_settings
    from assessment.storage import services
    from assessment.storage.db import make_engine, make_session_factory, upgrade
    from assessment.storage.users import grant_role

    env = {**os.environ, "ASSESSMENT_DATA_DIR": str(folder), "ASSESSMENT_DEMO": "0"}
    env.pop("ASSESSMENT_DATABASE_URL", None)
    env.pop("ASSESSMENT_AUTH", None)
    settings = load_settings(env)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    questionnaire = load_questionnaire(ROOT / "questionnaires" / "police-mental-health" / "1.1.0.yaml")
    factory = make_session_factory(engine)
    with factory.begin() as session:
        services.publish_questionnaire(session, questionnaire, actor="e2e")
        for key, force in (("alpha", "kent"), ("beta", "essex")):
            services.add_partnership(session, key, f"{key.capitalize()} crisis care partnership", members=[force],
                                     actor="e2e")
            services.create_round(session, key, "2026-H1", questionnaire=questionnaire.id,
                                  version=questionnaire.version, actor="e2e")
            services.open_round(session, f"{key}-2026-h1", actor="e2e")
        link = services.create_invitations(session, "alpha-2026-h1", "police", 1, actor="e2e",
                                           base_url=settings.base_url)[0]
        for email, grant in USERS.values():
            if grant is not None:
                grant_role(session, email, grant[0], partnership=grant[1], actor="e2e")
    engine.dispose()
    return env, link.rsplit("invite=", 1)[1]


def start_app(folder: Path, env: dict, *extra: str, address: str = "127.0.0.1") -> tuple[subprocess.Popen, str]:
    port = free_port()
    log = (folder / f"streamlit-{port}.log").open("w")
    process = subprocess.Popen(  # noqa: S603 - fixed arguments
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"), "--server.headless", "true",
         "--server.port", str(port), "--server.address", address, "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none", *extra],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    return process, f"http://localhost:{port}"


def write_secrets(folder: Path, port: int, identity_provider: str) -> Path:
    """A secrets file with one ``[auth.local-idp]`` provider at ``identity_provider`` (docs/access.md), for an
    app served at http://localhost:``port``."""
    secrets_file = folder / "secrets.toml"
    secrets_file.write_text(
        "[auth]\n"
        f'redirect_uri = "http://localhost:{port}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_urlsafe(32)}"\n\n'
        "[auth.local-idp]\n"
        'client_id = "partnership-assessment"\n'
        'client_secret = "not-checked-by-the-mock"\n'
        f'server_metadata_url = "{identity_provider}/.well-known/openid-configuration"\n', encoding="utf-8")
    return secrets_file


@pytest.fixture(scope="module")
def signed_app(tmp_path_factory, identity_provider):
    folder = tmp_path_factory.mktemp("signin-data")
    env, token = _prepare(folder)
    port = free_port()
    secrets_file = write_secrets(folder, port, identity_provider)
    log = (folder / "streamlit.log").open("w")
    process = subprocess.Popen(  # noqa: S603 - fixed arguments
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none", "--secrets.files", str(secrets_file)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}"
    try:
        wait_for(f"{url}/_stcore/health", process)
        yield url, token
    finally:
        stop(process)
        log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1600})
    page = context.new_page()
    page.set_default_timeout(90_000)
    yield page
    context.close()


def settled(page) -> None:
    page.wait_for_selector('[data-testid="stApp"]')
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')"
                           " && document.querySelector('[data-testid=\"stMainBlockContainer\"] h1')")


def sign_in(page, url: str, subject: str) -> None:
    page.goto(url)
    settled(page)
    page.get_by_role("button", name="Sign in with local idp").click()
    page.get_by_role("heading", name="Authorize Client").wait_for()  # the provider's own page
    if page.get_by_role("button", name=subject, exact=True).count():
        page.get_by_role("button", name=subject, exact=True).click()
    else:
        page.fill('input[name="sub"]', subject)
        page.get_by_role("button", name="Authorize").click()
    page.get_by_role("heading", name="Authorize Client").wait_for(state="detached")
    settled(page)


def navigation(page) -> list[str]:
    nav = page.locator('[data-testid="stSidebarNav"] a')
    nav.first.wait_for()
    # Each link holds the icon's name (a ligature) and the title on separate lines: keep the title.
    return [text.strip().splitlines()[-1].strip() for text in nav.all_inner_texts()]


def title(page) -> str:
    return page.locator('[data-testid="stMainBlockContainer"] h1').first.inner_text().strip()


@pytest.mark.parametrize("subject", list(EXPECTED))
def test_each_role_signs_in_sees_its_navigation_is_refused_one_page_and_signs_out(signed_app, page, subject):
    url, _ = signed_app
    sign_in(page, url, subject)
    pages, refused = EXPECTED[subject]
    if len(pages) > 1:
        assert navigation(page) == pages
    else:  # Streamlit shows no navigation for a single page
        assert title(page) == TITLES[pages[0]]
        assert not page.locator('[data-testid="stSidebarNav"]').count()
    assert page.get_by_text(f"Signed in as {USERS[subject][0]}").is_visible()
    if refused is not None:
        page.goto(f"{url}/{refused}")
        settled(page)
        assert title(page) != TITLES[refused]
        assert title(page) == TITLES[pages[0]]  # their own first page instead
        dialog = page.get_by_role("dialog")  # Streamlit says the page was not found
        if dialog.count():
            assert "not found" in dialog.inner_text().lower()
            page.keyboard.press("Escape")
            dialog.wait_for(state="detached")
    else:  # the administrator may go everywhere, e.g. Manage with its Users tab
        page.goto(f"{url}/manage")
        settled(page)
        assert title(page) == "Manage"
        assert page.get_by_role("tab", name="Users").is_visible()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="End session").click()  # the provider's end-session page
    page.get_by_role("button", name="Sign in with local idp").wait_for()
    assert not page.locator('[data-testid="stSidebarNav"]').count()


def test_an_unknown_user_sees_only_that_they_have_no_access_yet(signed_app, page):
    url, _ = signed_app
    sign_in(page, url, "stranger")
    page.get_by_text("You have no access yet").wait_for()
    assert not page.locator('[data-testid="stSidebarNav"]').count()
    page.goto(f"{url}/manage")
    page.get_by_text("You have no access yet").wait_for()


def test_an_anonymous_visitor_asking_for_manage_sees_only_the_sign_in_page(signed_app, page):
    url, _ = signed_app
    page.goto(f"{url}/manage")
    settled(page)
    page.get_by_role("button", name="Sign in with local idp").wait_for()
    assert title(page) == "Partnership maturity assessment"
    assert not page.locator('[data-testid="stSidebarNav"]').count()
    assert not page.get_by_role("tab").count()


def test_a_respondent_who_refreshes_stays_on_the_assessment(signed_app, page):
    url, token = signed_app
    page.goto(f"{url}/?invite={token}")
    settled(page)
    assert title(page) == "Take the assessment"
    page.wait_for_function("() => !window.location.search.includes('invite=')")
    page.reload()
    settled(page)
    assert title(page) == "Take the assessment"
    assert not page.locator('[data-testid="stSidebarNav"]').count()
    assert not page.get_by_role("button", name="Sign in with local idp").count()


def test_auth_none_on_every_interface_does_not_start(tmp_path, page):
    env, _ = _prepare(tmp_path)
    process, url = start_app(tmp_path, {**env, "ASSESSMENT_AUTH": "none"}, address="0.0.0.0")
    try:
        wait_for(f"{url}/_stcore/health", process)
        page.goto(url)
        settled(page)
        page.get_by_text("ASSESSMENT_AUTH=none runs without sign-in").wait_for()
        assert not page.locator('[data-testid="stSidebarNav"]').count()
        page.goto(f"{url}/manage")
        settled(page)
        assert not page.get_by_role("tab").count()
    finally:
        stop(process)
