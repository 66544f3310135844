"""The app in a real browser: Chromium (Debian's package) driven by Playwright against `streamlit run`.

Checks that the charts really render (Vega draws a non-empty canvas or svg inside ``.vega-embed``) and that
a respondent's invite link opens the assessment and leaves the address bar. Screenshots are saved to
``test-artifacts/`` (git-ignored) for a human to look at.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.e2e,
    # In CI the browser test must run (.ci/run installs chromium); elsewhere it is skipped without one.
    pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("CI"),
                       reason="Debian's chromium is not installed (apt-get install -y chromium)"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:  # noqa: S310 - local
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError("the app did not become healthy in time")


@dataclass
class DemoFolder:
    """A seeded demo database in its own data folder, and the environment that points `streamlit run` at it."""

    folder: Path
    env: dict
    settings: object
    engine: object
    factory: object


def seed_demo_folder(tmp_path_factory, name: str, *, resamples: int, extra_env: dict | None = None,
                     **seed) -> DemoFolder:
    """A fresh data folder with the demo seeded in it (``seed`` goes to :func:`assessment.demo.seed_demo`, e.g.
    ``partnerships=12, open_rounds=2``); the caller disposes of ``engine`` when done with ``factory``."""
    from assessment.demo import prepare_database, seed_demo, shipped_questionnaires
    from assessment.settings import load_settings
    from assessment.storage.db import make_engine, make_session_factory

    folder = tmp_path_factory.mktemp(name)
    env = {**os.environ, "ASSESSMENT_DATA_DIR": str(folder), "ASSESSMENT_DEMO": "0",
           "ASSESSMENT_BOOTSTRAP_RESAMPLES": str(resamples), **(extra_env or {})}
    env.pop("ASSESSMENT_DATABASE_URL", None)
    settings = load_settings(env)
    engine = make_engine(settings.database_url)
    prepare_database(engine, settings)
    found, _ = shipped_questionnaires(settings)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        seed_demo(session, found, **seed)
    return DemoFolder(folder, env, settings, engine, factory)


@pytest.fixture(scope="module")
def running_app(tmp_path_factory):
    """A demo database (12 partnerships), one fresh invite, and `streamlit run` on a free port."""
    from assessment.storage import services

    demo = seed_demo_folder(tmp_path_factory, "e2e-data", resamples=500, partnerships=12, open_rounds=2)
    folder, env, settings, engine, factory = demo.folder, demo.env, demo.settings, demo.engine, demo.factory
    with factory.begin() as session:
        rounds = services.list_rounds(session)
        open_round = rounds.loc[rounds["status"] == "open", "round"].iloc[0]
        link = services.create_invitations(session, open_round, "ambulance", 1, actor="e2e",
                                           base_url=settings.base_url)[0]
    engine.dispose()

    with serve_app(folder, env) as url:
        yield url, link.rsplit("invite=", 1)[1]


@contextlib.contextmanager
def serve_app(folder: Path, env: dict, *args: str, port: int | None = None, host: str = "127.0.0.1"):
    """`streamlit run` on a loopback port (``port``, or a free one) with ``env`` and any further ``args`` (e.g.
    ``--secrets.files``); yields its URL on ``host`` (``localhost`` for sign-in, whose redirect address names
    it), stops it afterwards (its log is copied to test-artifacts/ when it did not stop cleanly)."""
    port = port or free_port()
    url = f"http://{host}:{port}"
    log = (folder / "streamlit.log").open("w")
    process = subprocess.Popen(  # noqa: S603 - fixed arguments
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none", *args],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_healthy(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        if process.returncode not in (0, -15, None):
            ARTIFACTS.mkdir(exist_ok=True)
            shutil.copy(folder / "streamlit.log", ARTIFACTS / "streamlit.log")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 2400})
    page = context.new_page()
    page.set_default_timeout(120_000)  # generous: CI machines can be busy
    yield page
    context.close()


def wait_until_idle(page) -> None:
    page.wait_for_selector('[data-testid="stApp"]')
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stSkeleton\"]')"
        " && document.querySelectorAll('[data-testid=\"stMainBlockContainer\"] *').length > 20")


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


# Each Vega chart's drawing surface with its size (and, for a canvas, whether any pixel is drawn).
CHARTS_JS = """() => Array.from(document.querySelectorAll('.vega-embed')).map(embed => {
    const canvas = embed.querySelector('canvas');
    const svg = embed.querySelector('svg.marks') || embed.querySelector('svg');
    const surface = canvas || svg;
    if (!surface) return {kind: 'none', width: 0, height: 0, drawn: false};
    const box = surface.getBoundingClientRect();
    let drawn = false;
    if (canvas) {
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 3; i < data.length; i += 4) { if (data[i] !== 0) { drawn = true; break; } }
    } else {
        drawn = svg.querySelectorAll('path, rect, line, text').length > 0;
    }
    return {kind: canvas ? 'canvas' : 'svg', width: box.width, height: box.height, drawn};
})"""


def wait_for_charts(page, count: int) -> list[dict]:
    """Wait until at least ``count`` charts are drawn and at least 100 px each way; return them all."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    with contextlib.suppress(PlaywrightTimeout):  # on a timeout, the assertions report what was there
        page.wait_for_function(
            f"() => {{ const charts = ({CHARTS_JS})(); return charts.length >= {count} && charts.every("
            "c => c.drawn && c.width > 100 && c.height > 100); }")
    return page.evaluate(CHARTS_JS)


def test_results_page_draws_its_charts(running_app, page):
    url, _ = running_app
    page.goto(f"{url}/results")
    wait_until_idle(page)
    page.get_by_text("Gap to peers", exact=True).wait_for()
    charts = wait_for_charts(page, 4)
    screenshot(page, "results")
    assert len(charts) >= 4, charts  # domain scores, gap, agencies, item distribution
    for chart in charts:
        assert chart["kind"] in ("canvas", "svg")
        assert chart["width"] > 100 and chart["height"] > 100, chart
        assert chart["drawn"], chart


def test_regions_page_draws_the_heatmap(running_app, page):
    url, _ = running_app
    page.goto(f"{url}/regions")
    wait_until_idle(page)
    charts = wait_for_charts(page, 1)
    screenshot(page, "regions")
    # 12 demo partnerships leave every region below min_peers: the heatmap shows n, the spread says why it is empty
    assert len(charts) == 1 and charts[0]["drawn"] and charts[0]["height"] > 100, charts
    assert page.get_by_text("so no regional spread can be shown").count() == 1


def test_an_invite_link_opens_the_assessment_and_leaves_the_address_bar(running_app, page):
    url, token = running_app
    page.goto(f"{url}/?invite={token}")
    wait_until_idle(page)
    confirm = page.get_by_role("button", name="Yes, this is my agency: start")
    confirm.wait_for()
    page.wait_for_function("() => !window.location.search.includes('invite')")
    assert token not in page.url
    assert page.get_by_text("Ambulance service").count() >= 1
    confirm.click()
    page.get_by_role("radiogroup").first.wait_for()
    radios = page.get_by_role("radiogroup")
    assert radios.count() >= 3  # one per statement of the first domain
    page.get_by_text("0 of", exact=False).first.wait_for()  # the progress bar
    radios.first.get_by_role("radio").nth(3).check(force=True)
    page.get_by_text("1 of", exact=False).first.wait_for()  # saved, and the progress moved on
    screenshot(page, "take-assessment")


def test_a_forged_link_gets_the_uniform_message(running_app, page):
    url, _ = running_app
    page.goto(f"{url}/?invite={'x' * 43}")
    wait_until_idle(page)
    page.get_by_text("This invitation link is not valid", exact=False).wait_for()
    screenshot(page, "invalid-link")
