"""Interaction latency in a real browser (issue 17): Chromium through Playwright against `streamlit run`.

Each interaction is timed from the click to the page's last element being drawn: the app's running icon
gone, no element left stale from the previous run, no skeleton, and every Vega chart on the page drawn
(a canvas with a painted pixel or an svg with marks). The reference is the same kind of interaction on an
empty app (a title and a selectbox on each of two pages) served the same way and driven by the same
browser in the same run: a page switch against a page switch, a selectbox change against a selectbox
change. Runs of the app and of the reference take turns.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("BENCHMARK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

EMPTY_APP = '''import streamlit as st

st.set_page_config(page_title="Empty", layout="centered", initial_sidebar_state="expanded")

def one():
    st.title("Empty page one")
    st.selectbox("Choice", ["a", "b", "c"], key="choice_one")


def two():
    st.title("Empty page two")
    st.selectbox("Choice", ["a", "b", "c"], key="choice_two")


st.navigation([st.Page(one, title="One", url_path="one"), st.Page(two, title="Two", url_path="two")]).run()
'''

# Before each timed action an observer records whether the app's script state became "running" (caught
# even when the rerun is over before the next poll), so a fast rerun is never mistaken for no rerun.
_ARM_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    window.__benchRan = false;
    if (window.__benchObserver) window.__benchObserver.disconnect();
    window.__benchObserver = new MutationObserver(() => {
        if (app.getAttribute('data-test-script-state') === 'running') window.__benchRan = true;
    });
    window.__benchObserver.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""
_RAN_JS = "() => window.__benchRan === true"
_IDLE_JS = """() => {
    if (!document.querySelector('[data-testid="stApp"]')) return false;
    if (document.querySelector('[data-testid="stStatusWidgetRunningIcon"]')) return false;
    if (document.querySelector('[data-testid="stApp"]').getAttribute('data-test-script-state') === 'running') return false;
    if (document.querySelector('[data-stale="true"]') || document.querySelector('[data-testid="stSkeleton"]')) return false;
    if (document.querySelectorAll('[data-testid="stMainBlockContainer"] *').length < 10) return false;
    return Array.from(document.querySelectorAll('.vega-embed')).every(embed => {
        const canvas = embed.querySelector('canvas');
        if (canvas) {
            if (!canvas.width || !canvas.height) return false;
            const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            for (let i = 3; i < data.length; i += 4) { if (data[i] !== 0) return true; }
            return false;
        }
        const svg = embed.querySelector('svg');
        return !!svg && svg.querySelectorAll('path, rect, line, text').length > 0;
    });
}"""


def available() -> str | None:
    """Why the browser section cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (apt-get install -y chromium, or set BENCHMARK_CHROMIUM)"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:  # noqa: S310 - loopback
            return response.status == 200
    except OSError:
        return False


@contextlib.contextmanager
def serve(script: Path, env: dict, log: Path) -> Iterator[str]:
    """`streamlit run script` on a free loopback port; yields its URL and stops it afterwards."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as out:
        process = subprocess.Popen(  # noqa: S603 - fixed arguments
            [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true", "--server.port",
             str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    raise RuntimeError(f"streamlit exited with code {process.returncode}; see {log}")
                if _healthy(url):
                    break
                time.sleep(0.5)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def settle(page, timeout_ms: int = 300_000) -> None:
    """Wait for the rerun the armed action started (up to 2 s for it to begin), then until everything is
    drawn. Call :func:`arm` before the action."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(_RAN_JS, timeout=2_000, polling="raf")
    page.wait_for_function(_IDLE_JS, timeout=timeout_ms, polling="raf")


def arm(page) -> None:
    page.evaluate(_ARM_JS)


def click_nav(page, title: str) -> bool:
    """Click the menu link ``title``; False (and no click: Streamlit makes it inert) when already there."""
    link = page.locator('[data-testid="stSidebarNavLink"]').filter(has_text=title).first
    if link.get_attribute("aria-current") == "page":
        return False
    arm(page)
    link.click()
    return True


def choose(page, label: str, index: int) -> None:
    """Pick option ``index`` of the selectbox labelled ``label``."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    box.locator('[data-baseweb="select"]').first.click()
    page.get_by_role("option").nth(index).click()


def timed(page, action: Callable[[], None]) -> float:
    arm(page)
    start = time.perf_counter()
    action()
    settle(page)
    return time.perf_counter() - start


def summary(times: list[float]) -> dict[str, float]:
    return {"median": float(np.median(times)), "p95": float(np.percentile(times, 95))}


def choose_next(page, label: str) -> None:
    """Pick the option after the current one in the selectbox labelled ``label`` (always a change)."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    select = box.locator('[data-baseweb="select"]').first
    current = select.inner_text().strip()
    arm(page)
    select.click()
    options = page.get_by_role("option")
    texts = [t.strip() for t in options.all_inner_texts()]
    at = texts.index(current) if current in texts else -1
    options.nth((at + 1) % len(texts) if len(texts) > 1 else 0).click()


#: (figure name, page the interaction starts on, the timed action, the reference action on the empty app)
INTERACTIONS = (
    ("page switch Home -> Results", "Home", lambda p: click_nav(p, "Results"), "switch"),
    ("Results: partnership change", "Results", lambda p: choose_next(p, "Partnership"), "select"),
    ("Results: peer group change", "Results", lambda p: choose_next(p, "Peer group"), "select"),
    ("Trends: partnership change", "Trends", lambda p: choose_next(p, "Partnership"), "select"),
    ("Compare regions: period change", "Compare regions", lambda p: choose_next(p, "Period"), "select"),
    ("page switch Home -> Portfolio", "Home", lambda p: click_nav(p, "Portfolio"), "switch"),
)


def _reference(page, kind: str, i: int) -> float:
    if kind == "switch":
        click_nav(page, "One" if i % 2 else "Two")  # back to the other page, untimed
        settle(page)
        return timed(page, lambda: click_nav(page, "Two" if i % 2 else "One"))
    return timed(page, lambda: choose_next(page, "Choice"))


def _interaction(app, empty, name, start_page, action, kind, runs, log) -> dict:
    times, reference = [], []
    first = None
    for i in range(runs + 1):
        if (kind == "switch" or i == 0) and click_nav(app, start_page):
            settle(app)
        took = timed(app, lambda: action(app))
        if i == 0:
            first = took  # the warm-up: caches filled for this interaction
            continue
        times.append(took)
        reference.append(_reference(empty, kind, i))
    log(f"   {name}: p95 {summary(times)['p95']:.2f} s (empty page {summary(reference)['p95']:.2f} s), "
        f"first {first:.2f} s")
    return {"name": name, "app": times, "reference": reference, "first": first}


def measure(app_url: str, empty_url: str, runs: int, log=print) -> list[dict]:
    """Every interaction ``runs`` times on the app and as many reference runs on the empty app, in turn.

    Returns one dict per interaction: name, app and reference times (seconds), first (untimed warm-up) time.
    """
    from playwright.sync_api import sync_playwright

    out = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        app = browser.new_context(viewport={"width": 1400, "height": 2000}).new_page()
        empty = browser.new_context(viewport={"width": 1400, "height": 2000}).new_page()
        for p in (app, empty):
            p.set_default_timeout(60_000)
        app.goto(app_url)
        try:
            settle(app)
        finally:
            app.screenshot(path=os.environ.get("BENCHMARK_SCREENSHOT", "/tmp/benchmark-browser.png"))
        empty.goto(empty_url)
        settle(empty)
        for name, start_page, action, kind in INTERACTIONS:
            try:
                out.append(_interaction(app, empty, name, start_page, action, kind, runs, log))
            except Exception as exc:  # one interaction failing (a widget not found) must not lose the others
                log(f"   {name}: not measured ({type(exc).__name__}: {str(exc).splitlines()[0][:160]})")
        browser.close()
    return out
