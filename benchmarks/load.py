"""Many users at once (issue 17): respondents answering and staff on Results, against `streamlit run`.

Each session is a headless client of Streamlit's own websocket protocol (``/_stcore/stream``, the protobuf
``BackMsg`` / ``ForwardMsg`` messages of ``streamlit.proto``), doing what the browser does: it asks for a
script run with the address's query string and the widget values the user set, and reads the elements the
run sends back. Thirty Chromium contexts would saturate a 2-core machine by themselves (the browser, not the
app, would be measured); one Python process with asyncio holds 35 sessions for a few per cent of a core.

A respondent opens an invitation link, confirms the agency, then answers statements one by one: each answer
is a radio value sent as the browser sends it (the option's label as a ``string_value``); it is **saved**
when the run it starts sends back the progress line counting it ("k of N statements answered"), which the
page draws after the answer is stored. A staff session opens Results and changes the peer group every few
seconds. The server-side time of each save (``save_answer`` and its commit, in the page) comes from the
app's opt-in timing log (``ASSESSMENT_TIMING_LOG``, :mod:`assessment.timing`).
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from dataclasses import dataclass, field

import numpy as np

#: The page's progress line, drawn after the answer is stored: "3 of 41 statements answered · saved as you go".
PROGRESS = re.compile(r"^(\d+) of (\d+) statements answered")
FINISHED_SUCCESSFULLY = 0  # ForwardMsg.ScriptFinishedStatus


class LoadError(Exception):
    """A session saw something a user would call an error (an exception, an error message, a lost save)."""


@dataclass
class Run:
    """What one script run sent: the elements by type (in order) and whether it ended."""

    elements: list = field(default_factory=list)  # (type, proto) pairs
    errors: list[str] = field(default_factory=list)
    progress: list[str] = field(default_factory=list)

    def of_type(self, kind: str) -> list:
        return [proto for t, proto in self.elements if t == kind]


class Session:
    """One browser tab, spoken to through Streamlit's websocket protocol."""

    def __init__(self, url: str, query_string: str = "", page_name: str = "") -> None:
        self.ws_url = url.replace("http://", "ws://") + "/_stcore/stream"
        self.query_string = query_string
        self.page_name = page_name
        self.page_script_hash = ""
        self.widgets: dict[str, object] = {}  # widget id -> (kind, value) the "browser" holds
        self.ws = None
        self.run = Run()
        self._finished: asyncio.Event | None = None
        self._reader: asyncio.Task | None = None
        self._watch: tuple[re.Pattern, asyncio.Event] | None = None

    async def open(self) -> Run:
        from websockets.asyncio.client import connect

        self.ws = await connect(self.ws_url, subprotocols=["streamlit"], max_size=None, open_timeout=120,
                                ping_interval=None)
        self._reader = asyncio.create_task(self._read())
        return await self.rerun()

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()

    def _back(self, triggers: dict[str, bool] | None = None) -> bytes:
        from streamlit.proto.BackMsg_pb2 import BackMsg

        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query_string
        state.page_script_hash = self.page_script_hash
        state.page_name = self.page_name if not self.page_script_hash else ""
        for widget_id, value in self.widgets.items():
            w = state.widget_states.widgets.add()
            w.id = widget_id
            w.string_value = value
        for widget_id in triggers or {}:
            w = state.widget_states.widgets.add()
            w.id = widget_id
            w.trigger_value = True
        return msg.SerializeToString()

    async def rerun(self, triggers: dict[str, bool] | None = None, *, watch: re.Pattern | None = None,
                    timeout: float = 300) -> Run:
        """Ask for a run (with ``triggers``: button clicks) and wait until it finishes successfully (a run
        that calls ``st.rerun`` is followed to the run after it). With ``watch``, the returned run's
        ``seen_at`` is when a progress line matching it arrived."""
        self._finished = asyncio.Event()
        self.run = Run()
        self.seen_at = None
        self._watch = watch
        await self.ws.send(self._back(triggers))
        await asyncio.wait_for(self._finished.wait(), timeout)
        if self.run.errors:
            raise LoadError("; ".join(self.run.errors))
        return self.run

    async def _read(self) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        async for data in self.ws:
            msg = ForwardMsg()
            msg.ParseFromString(data)
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                self.run = Run()  # a new run (after st.rerun): only its elements count
            elif kind == "navigation":  # st.navigation apps: the page shown (new_session names the main script)
                self.page_script_hash = msg.navigation.page_script_hash
            elif kind == "page_info_changed":
                self.query_string = msg.page_info_changed.query_string
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                etype = element.WhichOneof("type")
                proto = getattr(element, etype) if etype else None
                self.run.elements.append((etype, proto))
                if etype == "exception":
                    self.run.errors.append(f"exception: {proto.type}: {proto.message}")
                elif etype == "alert" and proto.format == proto.ERROR:
                    self.run.errors.append(f"error message: {proto.body[:200]}")
                elif etype == "progress":
                    self.run.progress.append(proto.text)
                    if self._watch is not None and self.seen_at is None and self._watch.search(proto.text):
                        self.seen_at = time.perf_counter()
            elif (kind == "script_finished" and msg.script_finished == FINISHED_SUCCESSFULLY
                  and self._finished is not None):
                self._finished.set()
        if self._finished is not None and not self._finished.is_set():
            self.run.errors.append("the server closed the connection")
            self._finished.set()


def _button(run: Run, label: str):
    found = [b for b in run.of_type("button") if b.label == label]
    if not found:
        raise LoadError(f"no button {label!r} on the page (buttons: {[b.label for b in run.of_type('button')]})")
    return found[0]


@dataclass
class Result:
    saves: list[float] = field(default_factory=list)  # click -> saved confirmation, seconds
    runs: list[float] = field(default_factory=list)  # click -> run finished, seconds
    staff: list[float] = field(default_factory=list)  # staff: peer group change -> Results run finished
    errors: list[str] = field(default_factory=list)


async def respondent(url: str, token: str, answers: int, think: tuple[float, float], result: Result,
                     rng: random.Random, ready: asyncio.Event | None = None,
                     confirmed: list[int] | None = None, ramp: float = 0.0) -> Session:
    """Open the link (after a random wait of up to ``ramp`` seconds), confirm the agency, then answer ``answers``
    statements, timing each save."""
    session = Session(url, f"invite={token}")
    counted = False
    try:
        await asyncio.sleep(rng.uniform(0, ramp))
        run = await session.open()
        run = await session.rerun({_button(run, "Yes, this is my agency: start").id: True})
        if confirmed is not None:
            confirmed.append(1)
            counted = True
        if ready is not None:
            await ready.wait()
        done = 0
        while done < answers:
            radios = [r for r in run.of_type("radio") if r.id not in session.widgets]
            if not radios:  # every statement of this section answered: the next section
                run = await session.rerun({_button(run, "Next").id: True})
                continue
            radio = radios[0]
            answered = _answered(run)
            await asyncio.sleep(rng.uniform(*think))
            session.widgets[radio.id] = radio.options[rng.randrange(min(5, len(radio.options)))]
            start = time.perf_counter()
            run = await session.rerun(watch=re.compile(rf"^{answered + 1} of \d+ statements answered"))
            end = time.perf_counter()
            if session.seen_at is None:
                raise LoadError(f"answer not confirmed: progress {run.progress}, expected {answered + 1} answered")
            result.saves.append(session.seen_at - start)
            result.runs.append(end - start)
            done += 1
    except Exception as exc:  # counted and reported: the figure is "0 errors"
        result.errors.append(f"respondent: {type(exc).__name__}: {exc}")
        if confirmed is not None and not counted:
            confirmed.append(0)  # failed before it could start answering: nobody waits for it
    return session


def _answered(run: Run) -> int:
    for text in run.progress:
        if found := PROGRESS.match(text):
            return int(found.group(1))
    raise LoadError(f"no progress line on the page ({run.progress})")


async def staff(url: str, stop: asyncio.Event, think: float, result: Result, rng: random.Random,
                opened: list[int] | None = None) -> Session:
    """Open Results and change the peer group every ``think`` seconds until ``stop`` is set."""
    session = Session(url, "", "results")
    try:
        try:
            run = await session.open()
        finally:
            if opened is not None:
                opened.append(1)  # open, or failed (counted in the errors): either way nobody waits for it
        while not stop.is_set():
            boxes = [s for s in run.of_type("selectbox") if s.label.startswith("Peer group")]
            if not boxes:
                raise LoadError(f"no peer group box on Results ({[s.label for s in run.of_type('selectbox')]})")
            box = boxes[0]
            current = session.widgets.get(box.id, box.options[box.default] if box.options else "")
            choices = [o for o in box.options if o != current] or list(box.options)
            session.widgets[box.id] = rng.choice(choices)
            start = time.perf_counter()
            run = await session.rerun()
            result.staff.append(time.perf_counter() - start)
            with _suppress_timeout():
                await asyncio.wait_for(stop.wait(), think * rng.uniform(0.5, 1.5))
    except Exception as exc:
        result.errors.append(f"staff: {type(exc).__name__}: {exc}")
    return session


class _suppress_timeout:
    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        return kind is asyncio.TimeoutError


async def load(url: str, tokens: list[str], staff_sessions: int, answers: int, think: tuple[float, float],
               staff_think: float, seed: int = 17, on_all_open=None, on_done=None, ramp: float = 0.0
               ) -> tuple[Result, list[Session]]:
    """``len(tokens)`` respondents and ``staff_sessions`` staff at once; the respondents start answering together
    once every one of them has confirmed the agency and every member of staff has opened Results. ``on_all_open()`` runs then (e.g. to read the RSS), and
    ``on_done()`` when every session has finished, before they are closed."""
    rng = random.Random(seed)
    result = Result()
    stop, ready = asyncio.Event(), asyncio.Event()
    confirmed: list[int] = []
    staff_tasks = [asyncio.create_task(staff(url, stop, staff_think, result, random.Random(rng.random()), confirmed))
                   for _ in range(staff_sessions)]
    respondents = [asyncio.create_task(respondent(url, t, answers, think, result, random.Random(rng.random()),
                                                  ready, confirmed, ramp)) for t in tokens]
    while len(confirmed) < len(tokens) + staff_sessions:  # every session open (or failed to open)
        await asyncio.sleep(0.1)
    if on_all_open is not None:
        on_all_open()
    ready.set()
    sessions = list(await asyncio.gather(*respondents))
    stop.set()
    sessions += list(await asyncio.gather(*staff_tasks))
    if on_done is not None:
        on_done()
    for session in sessions:
        await session.close()
    return result, sessions


def summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0, "median": float("nan"), "p95": float("nan"), "max": float("nan")}
    return {"n": len(values), "median": float(np.median(values)), "p95": float(np.percentile(values, 95)),
            "max": float(max(values))}


def rss_of(pid: int) -> int:
    """Resident set size of process ``pid`` in bytes (Linux /proc)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise LoadError(f"no VmRSS for process {pid}")


def cpu_of(pid: int) -> float:
    """User + system CPU seconds used so far by process ``pid`` (all its threads; Linux /proc)."""
    import os

    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Plan:
    """The load: how many of whom, how many answers each, how long a respondent reads before answering."""

    respondents: int = 30
    staff: int = 5
    answers: int = 20
    think: tuple[float, float] = (2.0, 6.0)  # seconds, uniform: a real reader takes longer (a statement and 5 levels)
    staff_think: float = 5.0  # seconds between peer-group changes (0.5-1.5 times this)
    ramp: float = 10.0  # the respondents open their links within this many seconds (all in the same instant: 0)
    partnerships: int = 40  # the demo's size
    open_rounds: int = 4


AGENCIES = ("police", "mental_health_trust", "ambulance", "lived_experience")


def run_section(work_dir, log=print, plan: Plan | None = None, database_url: str | None = None) -> dict:
    """Seed the demo, serve the app, run one respondent alone (the reference), then the load; return the figures.

    The database is SQLite in a fresh data folder (the app's default), or ``database_url`` (an empty
    database, e.g. PostgreSQL). Everything a figure needs is in the returned dict (seconds, bytes, counts);
    the suite turns it into rows.
    """
    import os
    import shutil
    import tempfile
    from pathlib import Path

    from assessment.demo import prepare_database, seed_demo, shipped_questionnaires
    from assessment.settings import load_settings
    from assessment.storage import services
    from assessment.storage.db import make_engine, make_session_factory
    from assessment.timing import TIMING_LOG, read_timings
    from benchmarks import browser

    plan = plan or Plan()
    folder = Path(work_dir) / "load-data"
    folder.mkdir(parents=True, exist_ok=True)
    timing_log = folder / "timing.log"
    env = {**os.environ, "ASSESSMENT_DATA_DIR": str(folder), "ASSESSMENT_DEMO": "0", "ASSESSMENT_AUTH": "none",
           "ASSESSMENT_BOOTSTRAP_RESAMPLES": "500", TIMING_LOG: str(timing_log)}
    env.pop("ASSESSMENT_DATABASE_URL", None)
    if database_url:
        env["ASSESSMENT_DATABASE_URL"] = database_url
    settings = load_settings(env)
    engine = make_engine(settings.database_url)
    start = time.perf_counter()
    prepare_database(engine, settings)
    found, _ = shipped_questionnaires(settings)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        seed_demo(session, found, partnerships=plan.partnerships, open_rounds=plan.open_rounds)
    tokens: list[str] = []
    with factory.begin() as session:
        rounds = services.list_rounds(session)
        open_rounds = list(rounds.loc[rounds["status"] == "open", "round"])
        needed = plan.respondents + 2  # + the warm-up and the reference respondent
        for n in range(needed):
            links = services.create_invitations(session, open_rounds[n % len(open_rounds)],
                                                AGENCIES[n % len(AGENCIES)], 1, actor="benchmark",
                                                base_url=settings.base_url)
            tokens.append(links[0].rsplit("invite=", 1)[1])
    engine.dispose()
    log(f"   demo seeded on {engine.dialect.name} ({plan.partnerships} partnerships, {len(open_rounds)} open rounds), "
        f"{len(tokens)} "
        f"invitations made in {time.perf_counter() - start:.0f} s")

    out: dict = {"plan": plan, "stored_before": _count_answers(settings.database_url)}

    def server_saves(since: int) -> list[float]:
        text = timing_log.read_text() if timing_log.exists() else ""
        return read_timings(text[since:], "save_answer")

    def log_size() -> int:
        return len(timing_log.read_text()) if timing_log.exists() else 0

    with browser.serve(browser.ROOT / "streamlit_app.py", env, folder / "app.log") as (url, process):
        pid = process.pid
        # warm-up (untimed): one respondent answers twice and one member of staff opens Results, so the first
        # visit's costs (imports, cached reads) are not in either figure
        warm = Result()
        warm_sessions = asyncio.run(_warm(url, tokens[0], warm))
        if warm.errors:
            raise LoadError(f"warm-up failed: {warm.errors}")
        del warm_sessions
        time.sleep(1.0)
        out["rss_idle"] = rss_of(pid)

        mark, cpu, began = log_size(), cpu_of(pid), time.perf_counter()
        alone, _ = asyncio.run(load(url, [tokens[1]], 0, plan.answers, plan.think, plan.staff_think))
        out["alone"], out["alone_server"] = alone, server_saves(mark)
        out["alone_cpu"], out["alone_took"] = cpu_of(pid) - cpu, time.perf_counter() - began
        log(f"   one respondent alone: save p95 {summary(alone.saves)['p95'] * 1e3:.0f} ms (click to saved), "
            f"{summary(out['alone_server'])['p95'] * 1e3:.0f} ms on the server; errors {len(alone.errors)}")

        mark, cpu, client_cpu = log_size(), cpu_of(pid), time.process_time()
        rss_open: list[int] = []
        began = time.perf_counter()
        profile = _profile(pid, folder)
        busy, _ = asyncio.run(load(url, tokens[2:2 + plan.respondents], plan.staff, plan.answers, plan.think,
                                   plan.staff_think, on_all_open=lambda: rss_open.append(rss_of(pid)),
                                   on_done=lambda: rss_open.append(rss_of(pid)), ramp=plan.ramp))
        out["took"] = time.perf_counter() - began
        out["busy_cpu"], out["client_cpu"] = cpu_of(pid) - cpu, time.process_time() - client_cpu
        if profile is not None:
            profile.wait(timeout=120)
        out["rss_all_open"], out["rss_all_done"] = rss_open
        out["busy"], out["busy_server"] = busy, server_saves(mark)
        log(f"   {plan.respondents} respondents + {plan.staff} staff: save p95 "
            f"{summary(busy.saves)['p95'] * 1e3:.0f} ms (click to saved), "
            f"{summary(out['busy_server'])['p95'] * 1e3:.0f} ms on the server; {len(busy.saves)} saves, "
            f"{len(busy.staff)} Results reruns, errors {len(busy.errors)} in {out['took']:.0f} s")
        log(f"   server CPU: {out['alone_cpu']:.1f} s in {out['alone_took']:.0f} s alone, {out['busy_cpu']:.1f} s in "
            f"{out['took']:.0f} s under the load ({out['busy_cpu'] / out['took']:.2f} cores); this client "
            f"{out['client_cpu']:.1f} s")
        for error in busy.errors[:5]:
            log(f"   error: {error}")
    kept = Path(tempfile.gettempdir()) / "benchmark-load-app.log"
    shutil.copy(folder / "app.log", kept)
    log(f"   the app's log: {kept}")
    # every confirmed save is in the database (each answers a statement not answered before: one new row each)
    out["stored"] = _count_answers(settings.database_url) - out["stored_before"]
    out["confirmed"] = len(warm.saves) + len(alone.saves) + len(busy.saves)
    return out


def _count_answers(url: str) -> int:
    from sqlalchemy import text

    from assessment.storage.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM answers")).scalar_one())
    finally:
        engine.dispose()


def _profile(pid: int, folder):
    """With ``BENCHMARK_LOAD_PROFILE=out.svg`` (or ``.txt``: collapsed stacks) and py-spy installed, sample the
    server for the first 60 s of the load, only the thread holding the GIL (what the one Python process spends
    its one core on)."""
    import os
    import shutil
    import subprocess

    out = os.environ.get("BENCHMARK_LOAD_PROFILE")
    if not out or shutil.which("py-spy") is None:
        return None
    return subprocess.Popen(["py-spy", "record", "--pid", str(pid), "--duration", "60", "--rate", "50",  # noqa: S603,S607
                             "--format", "raw" if out.endswith(".txt") else "flamegraph", "--output", out,
                             "--gil"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def _warm(url: str, token: str, result: Result) -> list[Session]:
    rng = random.Random(0)
    found = await respondent(url, token, 2, (0.0, 0.1), result, rng)
    stop = asyncio.Event()
    stop.set()
    other = await staff(url, stop, 0.1, result, rng)
    for session in (found, other):
        await session.close()
    return [found, other]
