"""Interaction latency in a real browser (issue 17): Chromium through Playwright against `streamlit run`.

Each interaction is timed in the page, from just before the click to the page's last element being drawn:
the script state back to ``notRunning`` after the rerun the click started, the app's running icon gone, no
element left stale from the previous run, no skeleton, and every Vega chart on the page drawn (a canvas or
svg of nonzero size with something painted). The reference is the same kind of interaction on an empty app
(a title, a selectbox and a radio on each of two pages) served the same way and driven by the same browser
in the same run: a page switch against a page switch, a selectbox change against a selectbox change, a
radio change against a radio change. Runs of the app and of the reference take turns.

How a rerun is seen (so that a fast rerun is neither missed nor waited for): a script injected before the
page's own (``add_init_script``) wraps the page's WebSocket and reads the top-level fields of each message
from the server (a protobuf ``ForwardMsg``): an interaction is over when the server has said
``script_finished`` (successfully) after the click, two animation frames have been drawn since, and the
page is idle. Watching ``data-test-script-state`` alone was not enough: on the empty app React sometimes
never drew ``running`` for a fast rerun, and on a loaded machine it drew it up to 160 ms after the rerun's
first messages. When the messages cannot be read (not binary), the fallback is the old pair: a change to
``running`` seen by a MutationObserver on ``document`` (``subtree``, so a replaced app node does not lose
it), else a message after the click and a second without another (counted and reported). No fixed wait.

Also here: the first start with the demo on a fresh data folder (:func:`first_start`), from ``streamlit
run`` to the Home page being usable in Chromium.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("BENCHMARK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1400, "height": 2000}
#: A quiet gap after the last server message that ends a rerun React drew no ``running`` state for. Long:
#: on a loaded machine React drew ``running`` up to 160 ms after the rerun's first messages arrived, and a
#: shorter gap ended a page switch before its script had run. Runs ended this way are counted and reported.
QUIET_MS = 1000

EMPTY_APP = '''import streamlit as st

st.set_page_config(page_title="Empty", layout="wide", initial_sidebar_state="expanded")


def one():
    st.title("Empty page one")
    st.selectbox("Choice", ["a", "b", "c", "d"], key="choice_one")
    st.radio("Choose by", ["First", "Second"], horizontal=True, key="by_one")


def two():
    st.title("Empty page two")
    st.selectbox("Choice", ["a", "b", "c", "d"], key="choice_two")
    st.radio("Choose by", ["First", "Second"], horizontal=True, key="by_two")


st.navigation([st.Page(one, title="One", url_path="one"), st.Page(two, title="Two", url_path="two")]).run()
'''

# Injected before the page's scripts, on every document the context opens.
_INIT_JS = """(() => {
    const B = window.__bench = {runs: 0, msgs: 0, lastMsg: 0, state: null, t0: 0, runs0: 0, msgs0: 0,
                                finishes: 0, finishes0: 0, finishFrame: 0, frames: 0, parsed: 0};
    const tick = () => { B.frames += 1; requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
    // The top-level fields of a ForwardMsg (protobuf): field 6, a varint, is script_finished; 0 is
    // FINISHED_SUCCESSFULLY (2, finished early for a rerun, and 3, a fragment's run, do not end a rerun).
    const finished = (buffer) => {
        const bytes = new Uint8Array(buffer);
        let at = 0;
        const varint = () => {
            let value = 0, shift = 0, byte;
            do { byte = bytes[at++]; value += (byte & 0x7f) * Math.pow(2, shift); shift += 7; }
            while (byte & 0x80 && at < bytes.length);
            return value;
        };
        while (at < bytes.length) {
            const tag = varint(), field = Math.floor(tag / 8), wire = tag & 7;
            if (wire === 0) { const value = varint(); if (field === 6) return value === 0; }
            else if (wire === 2) { const length = varint(); at += length; }
            else if (wire === 1) { at += 8; } else if (wire === 5) { at += 4; } else { return false; }
        }
        return false;
    };
    const Native = window.WebSocket;
    window.WebSocket = class extends Native {
        constructor(...args) {
            super(...args);
            this.addEventListener('message', (event) => {
                B.msgs += 1; B.lastMsg = performance.now();
                if (event.data instanceof ArrayBuffer) {
                    B.parsed += 1;
                    if (finished(event.data)) { B.finishes += 1; B.finishFrame = B.frames; }
                }
            });
        }
    };
    const seen = () => {
        const app = document.querySelector('[data-test-script-state]');
        const state = app ? app.getAttribute('data-test-script-state') : null;
        if (state !== B.state) { B.state = state; if (state === 'running') B.runs += 1; }
    };
    new MutationObserver(seen).observe(document, {subtree: true, childList: true, attributes: true,
                                                   attributeFilter: ['data-test-script-state']});
    B.mark = () => { B.runs0 = B.runs; B.msgs0 = B.msgs; B.finishes0 = B.finishes; B.t0 = performance.now(); };
    B.charts = () => Array.from(document.querySelectorAll('.vega-embed')).every(embed => {
        const canvas = embed.querySelector('canvas');
        const surface = canvas || embed.querySelector('svg');
        if (!surface) return false;
        const box = surface.getBoundingClientRect();
        if (!(box.width > 0 && box.height > 0)) return false;
        if (!canvas) return surface.querySelectorAll('path, rect, line, text').length > 0;
        if (!canvas.width || !canvas.height) return false;
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 3; i < data.length; i += 64) { if (data[i] !== 0) return true; }
        return false;
    });
    B.idle = () => {
        seen();
        const app = document.querySelector('[data-testid="stApp"]');
        if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
        if (document.querySelector('[data-testid="stStatusWidgetRunningIcon"]')) return false;
        if (document.querySelector('[data-stale="true"]') || document.querySelector('[data-testid="stSkeleton"]'))
            return false;
        return B.charts();
    };
    // After B.mark(): false until the rerun the action started is over and drawn; then [ms, how it was seen].
    B.done = () => {
        if (!B.idle()) return false;
        const now = performance.now();
        if (B.parsed > 0) {  // the server said the script finished, and two frames were drawn since
            return B.finishes > B.finishes0 && B.frames >= B.finishFrame + 2 ? [now - B.t0, 'finished'] : false;
        }
        if (B.runs > B.runs0) return [now - B.t0, 'running'];
        if (B.msgs > B.msgs0 && now - B.lastMsg >= QUIET_MS) return [now - B.t0, 'messages'];
        return false;
    };
})();""".replace("QUIET_MS", str(QUIET_MS))


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


def _command(script: Path, port: int, prefix: list[str] | None = None) -> list[str]:
    return [*(prefix or [sys.executable, "-m"]), "streamlit", "run", str(script), "--server.headless", "true",
            "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none"]


@contextlib.contextmanager
def serve(script: Path, env: dict, log: Path, prefix: list[str] | None = None,
          poll: float = 0.5) -> Iterator[tuple[str, subprocess.Popen]]:
    """`streamlit run script` on a free loopback port; yields its URL and process, and stops it afterwards.

    ``prefix`` replaces ``python -m`` (e.g. to run the server under a profiler)."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as out:
        process = subprocess.Popen(_command(script, port, prefix), cwd=ROOT, env=env, stdout=out,  # noqa: S603
                                   stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    raise RuntimeError(f"streamlit exited with code {process.returncode}; see {log}")
                if _healthy(url):
                    break
                time.sleep(poll)
            yield url, process
        finally:
            process.send_signal(2)  # SIGINT: a profiler wrapping the server writes its report
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def new_page(browser):
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(_INIT_JS)
    page = context.new_page()
    page.set_default_timeout(60_000)
    return page


def wait_drawn(page, timeout_ms: int = 300_000) -> None:
    """Until the page is idle and everything on it drawn (after a load, or after an untimed action)."""
    page.wait_for_function("() => window.__bench && window.__bench.idle()", timeout=timeout_ms, polling="raf")


class NoRerun(RuntimeError):
    """The action started no rerun (nothing changed)."""


def timed(page, action: Callable[[], None], timeout_ms: int = 90_000) -> tuple[float, str]:
    """Seconds from just before ``action`` to the end of the rerun it started, all drawn; and how the end
    was seen. Raises :class:`NoRerun` when nothing ended within ``timeout_ms`` (the interaction is then
    reported as not measured, with what the page showed, and the others still run)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.evaluate("() => window.__bench.mark()")
    action()
    try:
        handle = page.wait_for_function("() => window.__bench.done()", timeout=timeout_ms, polling="raf")
    except PlaywrightTimeout as exc:
        state = page.evaluate("() => JSON.stringify({finishes: window.__bench.finishes - window.__bench.finishes0,"
                              " messages: window.__bench.msgs - window.__bench.msgs0, idle: window.__bench.idle(),"
                              " charts: window.__bench.charts()})")
        raise NoRerun(f"no finished, drawn rerun within {timeout_ms / 1000:.0f} s: {state}") from exc
    took_ms, how = handle.json_value()
    return took_ms / 1000, how


def summary(times: list[float]) -> dict[str, float]:
    return {"median": float(np.median(times)), "p95": float(np.percentile(times, 95))}


# -- actions: each returns the timed part as a callable (the untimed preparation done) ---------------------

def _nav_link(page, title: str):
    return page.locator('[data-testid="stSidebarNavLink"]').filter(has_text=title).first


def go_to(page, title: str) -> None:
    """Be on page ``title`` (untimed; nothing happens when already there)."""
    link = _nav_link(page, title)
    if link.get_attribute("aria-current") != "page":
        timed(page, link.click)


def switch_to(title: str) -> Callable:
    def prepare(page) -> Callable[[], None]:
        return _nav_link(page, title).click
    return prepare


def select_next(label: str) -> Callable:
    """Open the selectbox labelled ``label`` (untimed); the timed part clicks the option after the current
    one (wrapping), so a long list (150 partnerships) is walked through rather than two cached choices."""
    def prepare(page) -> Callable[[], None]:
        combo = page.get_by_role("combobox", name=label, exact=True).first
        current = combo.input_value().strip()
        combo.click()
        options = page.get_by_role("listbox").last.get_by_role("option")
        options.first.wait_for()
        texts = [t.strip() for t in options.all_inner_texts()]
        if current in texts:
            at = (texts.index(current) + 1) % len(texts)
        else:  # a long list may show only some options
            at = next((i for i, text in enumerate(texts) if text != current), None)
        if at is None or texts[at] == current:
            page.keyboard.press("Escape")
            raise NoRerun(f"the selectbox {label!r} offers nothing but {current!r}")
        # By its text: the list is virtualised and scrolls to the current option after it opens, so a
        # position read before the scroll can name another option (the current one: no rerun) by click time.
        return page.get_by_role("listbox").last.get_by_role("option", name=texts[at], exact=True).first.click
    return prepare


def radio_other(label: str) -> Callable:
    """The timed part clicks an option of the radio group ``label`` other than the selected one."""
    def prepare(page) -> Callable[[], None]:
        options = page.get_by_role("radiogroup", name=label, exact=True).first.locator(
            '[data-testid="stRadioOption"]')
        options.first.wait_for()
        selected = options.first.get_attribute("data-selected") == "true"
        return options.nth(1 if selected else 0).click
    return prepare


#: (figure name, page it starts on, its timed action, the reference kind, the page a switch returns to)
INTERACTIONS = (
    ("page switch Home -> Results", "Home", switch_to("Results"), "switch"),
    ("Results: partnership change", "Results", select_next("Partnership"), "select"),
    ("Results: peer group change", "Results", select_next("Peer group"), "select"),
    ("Trends: partnership change", "Trends", select_next("Partnership"), "select"),
    ("Compare regions: period change", "Compare regions", select_next("Period"), "select"),
    ("page switch Home -> Portfolio (open)", "Home", switch_to("Portfolio"), "switch"),
    ("Portfolio: selection change (all / one region)", "Portfolio", radio_other("Choose partnerships by"),
     "radio"),
)
_REFERENCE = {"switch": None, "select": select_next("Choice"), "radio": radio_other("Choose by")}


def _reference(page, kind: str, i: int) -> tuple[float, str]:
    if kind == "switch":
        go_to(page, "One" if i % 2 else "Two")
        return timed(page, switch_to("Two" if i % 2 else "One")(page))
    return timed(page, _REFERENCE[kind](page))


def _project_frame(frame: str) -> str | None:
    """``function (file:line)`` as py-spy names it (paths shortened), when the file is the project's."""
    where = frame[frame.rfind("(") + 1:].rstrip(")")
    file = where.rsplit(":", 1)[0].replace(str(ROOT) + "/", "")
    pages = {path.name for path in (ROOT / "app_pages").glob("*.py")}
    if file.startswith("assessment/") or file == "streamlit_app.py":
        return frame.replace(str(ROOT) + "/", "")
    if file.startswith("app_pages/") or file in pages:
        name = frame.replace(str(ROOT) + "/", "")
        return name if "app_pages/" in name else name.replace(f"({file}", f"(app_pages/{file}")
    return None


def summarise_profile(raw: Path, top: int = 14) -> list[tuple[float, str]]:
    """From py-spy's collapsed stacks (``-f raw``): the share of the script thread's busy samples spent in
    each function of the project (inclusive), largest first."""
    total, inclusive = 0, {}
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if "script_runner" not in stack or not count.isdigit():
            continue
        total += int(count)
        for name in {_project_frame(frame) for frame in stack.split(";")} - {None}:
            inclusive[name] = inclusive.get(name, 0) + int(count)
    ranked = sorted(inclusive.items(), key=lambda kv: -kv[1])[:top]
    return [(100 * n / total, name) for name, n in ranked] if total else []


@contextlib.contextmanager
def profiled(pid: int | None, out: Path | None) -> Iterator[None]:
    """py-spy sampling the server (every thread) while the block runs, when ``pid`` and ``out`` are given."""
    if pid is None or out is None or shutil.which("py-spy") is None:
        yield
        return
    spy = subprocess.Popen(["py-spy", "record", "-p", str(pid), "-r", "50", "-f", "raw", "-o", str(out),  # noqa: S603,S607
                            "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # attached before the first click
    try:
        yield
    finally:
        spy.send_signal(2)
        try:
            spy.wait(timeout=60)
        except subprocess.TimeoutExpired:
            spy.kill()


def _interaction(app, empty, name, start_page, prepare, kind, runs, log, pid=None, profile_dir=None) -> dict:
    go_to(app, start_page)
    first, _ = timed(app, prepare(app))  # the warm-up: caches filled for this interaction
    raw = profile_dir / f"{''.join(c if c.isalnum() else '-' for c in name)}.txt" if profile_dir else None
    with profiled(pid, raw):
        times, reference, seen = _runs(app, empty, start_page, prepare, kind, runs)
    quiet = seen.count("messages")
    log(f"   {name}: p95 {summary(times)['p95']:.2f} s (empty page {summary(reference)['p95']:.2f} s), "
        f"median {summary(times)['median']:.2f} s, first {first:.2f} s"
        + (f"; {quiet} of {len(seen)} reruns seen by messages only" if quiet else ""))
    hot = summarise_profile(raw) if raw is not None and raw.exists() else []
    for share, where in hot:
        log(f"      {share:5.1f}%  {where}")
    return {"name": name, "app": times, "reference": reference, "first": first, "seen_by_messages": quiet,
            "profile": hot}


def _runs(app, empty, start_page, prepare, kind, runs):
    times, reference, seen = [], [], []
    for i in range(1, runs + 1):
        go_to(app, start_page)
        took, how = timed(app, prepare(app))
        times.append(took)
        ref, ref_how = _reference(empty, kind, i)
        reference.append(ref)
        seen += [how, ref_how]
    return times, reference, seen


def measure(app_url: str, empty_url: str, runs: int, log=print, only: str | None = None,
            server_pid: int | None = None, profile_dir: Path | None = None) -> list[dict]:
    """Every interaction ``runs`` times on the app and as many reference runs on the empty app, in turn.

    Returns one dict per interaction: name, app and reference times (seconds), first (untimed warm-up) time.
    ``only``: run the interactions whose name contains one of its comma-separated parts. With ``profile_dir``, py-spy samples the app's
    server (``server_pid``) during each interaction's timed runs and the busiest project functions are logged.
    """
    from playwright.sync_api import sync_playwright

    out = []
    shots = Path(os.environ.get("BENCHMARK_SCREENSHOTS", tempfile.gettempdir()))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        app, empty = new_page(browser), new_page(browser)
        app.goto(app_url)
        try:
            wait_drawn(app)
        finally:
            app.screenshot(path=str(shots / "benchmark-browser.png"))
        empty.goto(empty_url)
        wait_drawn(empty)
        for name, start_page, prepare, kind in INTERACTIONS:
            if only and not any(part.strip().lower() in name.lower() for part in only.split(",")):
                continue
            try:
                out.append(_interaction(app, empty, name, start_page, prepare, kind, runs, log, server_pid,
                                        profile_dir))
            except Exception as exc:  # one interaction failing (a widget not found) must not lose the others
                with contextlib.suppress(Exception):
                    app.screenshot(path=str(shots / f"benchmark-browser-failed-{len(out)}.png"))
                log(f"   {name}: not measured ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})")
                with contextlib.suppress(Exception):
                    app.keyboard.press("Escape")
        browser.close()
    return out


def section(ctx, filled_copy) -> list:
    """The suite's browser section: every interaction on a copy of the filled database of the scale (its
    rounds closed through ``close_round``; built once, see :mod:`benchmarks.filled_cache`), beside the empty
    app; then the first start with the demo. ``filled_copy(ctx, path)`` gives the copy."""
    from benchmarks.harness import Measurement, Skip

    if (reason := available()) is not None:
        raise Skip(reason)
    db_path = ctx.work_dir / "browser.db"
    url, closes, reused = filled_copy(ctx, db_path)
    empty = ctx.work_dir / "empty_app.py"
    empty.write_text(EMPTY_APP, encoding="utf-8")
    env = {**os.environ, "ASSESSMENT_DATABASE_URL": url, "ASSESSMENT_DEMO": "0", "ASSESSMENT_AUTH": "none",
           "ASSESSMENT_DATA_DIR": str(ctx.work_dir)}
    runs = max(ctx.runs, 10)
    only = os.environ.get("BENCHMARK_BROWSER_ONLY")
    profile_dir = Path(os.environ["BENCHMARK_BROWSER_PROFILE"]) if os.environ.get("BENCHMARK_BROWSER_PROFILE") else None
    if profile_dir is not None:
        profile_dir.mkdir(parents=True, exist_ok=True)
    try:
        with serve(ROOT / "streamlit_app.py", env, ctx.work_dir / "app.log") as (app_url, server), \
                serve(empty, env, ctx.work_dir / "empty.log") as (empty_url, _):
            found = measure(app_url, empty_url, runs, log=ctx.log, only=only, server_pid=server.pid,
                            profile_dir=profile_dir)
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    out = []
    for figure in found:
        app, reference = summary(figure["app"]), summary(figure["reference"])
        out.append(Measurement(
            "browser", f"{figure['name']}, p95 of {len(figure['app'])} (Chromium, {len(closes)} closed rounds)",
            app["p95"], reference="the same kind of interaction on an empty app, p95",
            reference_value=reference["p95"], max_value=1.0, runs=tuple(figure["app"]),
            reference_runs=tuple(figure["reference"]),
            extra={"median_s": app["median"], "reference_median_s": reference["median"],
                   "first_visit_s": figure["first"], "seen_by_messages_only": figure["seen_by_messages"]},
            note=f"median {app['median']:.2f} s; first (warm-up, untimed) {figure['first']:.2f} s"))
    if not os.environ.get("BENCHMARK_BROWSER_SKIP_FIRST_START"):
        start = first_start({k: v for k, v in env.items() if k != "ASSESSMENT_DATA_DIR"}, log=ctx.log,
                            work=ctx.work_dir)
        out.append(Measurement(
            "browser", "first start with the demo, fresh data folder: launch to Home usable (Chromium)",
            start["home_usable_s"], max_value=5.0, extra=start,
            note=f"server healthy {start['healthy_s']:.2f} s; demo shown on Home {start['demo_shown_s']:.2f} s"))
    return out


# -- first start ---------------------------------------------------------------------------------------------

def first_start(env: dict, log=print, work: Path | None = None) -> dict:
    """``streamlit run`` on a fresh data folder with the demo asked for, Chromium already open (as a user's
    would be): seconds from the launch to the server answering its health check, to the Home page drawn
    and idle (usable: the frame, menu and Home content in place, the demo still loading in the background),
    and to Home showing the demo (its partnership picker drawn)."""
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="first-start-", dir=work))
    env = {k: v for k, v in env.items() if k != "ASSESSMENT_DATABASE_URL"}
    env.update(ASSESSMENT_DATA_DIR=str(folder / "data"), ASSESSMENT_DEMO="1", ASSESSMENT_AUTH="none")
    out: dict = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = new_page(browser)
            start = time.perf_counter()
            with serve(ROOT / "streamlit_app.py", env, folder / "app.log", poll=0.05) as (url, _):
                out["healthy_s"] = time.perf_counter() - start
                page.goto(url)
                page.get_by_role("heading", name="Police–mental health partnership maturity assessment").wait_for(
                    timeout=120_000)
                wait_drawn(page, 120_000)
                out["home_usable_s"] = time.perf_counter() - start
                page.locator('[data-testid="stSelectbox"]').filter(has_text="Partnership").first.wait_for(
                    timeout=300_000)
                wait_drawn(page, 120_000)
                out["demo_shown_s"] = time.perf_counter() - start
                page.screenshot(path=str(Path(tempfile.gettempdir()) / "benchmark-first-start.png"))
            browser.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    log(f"   first start: healthy {out.get('healthy_s', float('nan')):.2f} s, Home usable "
        f"{out.get('home_usable_s', float('nan')):.2f} s, demo on Home {out.get('demo_shown_s', float('nan')):.2f} s")
    return out
