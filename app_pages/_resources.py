"""Cached resources and cached reads for the pages (the only place the app touches the database).

``st.cache_resource`` holds one engine and session factory per process, created from ``load_settings()``;
the first call prepares the database (schema upgrade, reference data, shipped questionnaires, synthetic
demo when the ``ASSESSMENT_DEMO`` setting asks for it). ``st.cache_data`` reads take the database's data
version as their first argument, so any write (here or in another replica) changes the key and the next
read is fresh; nothing has to be cleared by hand.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pandas as pd
import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from assessment import demo, service
from assessment.permissions import ANALYST, Principal
from assessment.questionnaire.schema import Questionnaire
from assessment.settings import Settings, load_settings
from assessment.storage.db import make_engine, make_session_factory

_START_LOCK = threading.Lock()
# Published questionnaires are read for everyone alike (they hold no partnership data).
_STAFF_READER = Principal.with_grants("app:questionnaires", [(ANALYST, None)], read_only=True)


class FirstStart:
    """The database's preparation, once per process, in a background thread (issue 15).

    First the schema, reference data and shipped questionnaires (seconds: every page waits for these), then,
    when ``ASSESSMENT_DEMO`` asks for it, the synthetic demo (8-20 s): pages work meanwhile and the frame
    shows the progress (:func:`first_start_notice`). Navigating, a second session or a rerun never starts it
    again: :meth:`begin` starts the thread only once, under a process-wide lock.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.schema_ready = threading.Event()
        self.done = threading.Event()
        self.began_at = 0.0
        self.report: demo.StartReport | None = None
        self.error: BaseException | None = None
        self.schema_ok = False

    def begin(self, engine: Engine, settings: Settings) -> None:
        with self.lock:
            if self.thread is None:
                self.began_at = time.monotonic()
                self.thread = threading.Thread(target=self._run, args=(engine, settings), name="first-start",
                                               daemon=True)
                self.thread.start()

    def _run(self, engine: Engine, settings: Settings) -> None:
        try:
            with _START_LOCK:
                self.report = demo.prepare_database(engine, settings, demo=False)
                self.schema_ok = True
                self.schema_ready.set()
                if settings.demo:
                    self.report = demo.prepare_database(engine, settings)  # seeds only an empty database
        except BaseException as exc:  # shown by wait_for_schema / first_start_notice, never lost
            self.error = exc
        finally:
            self.schema_ready.set()
            self.done.set()

    def wait_for_schema(self) -> None:
        self.schema_ready.wait()
        if not self.schema_ok:
            raise RuntimeError("the database could not be prepared") from self.error

    def elapsed(self) -> float:
        return time.monotonic() - self.began_at


@st.cache_resource(show_spinner=False)
def first_start() -> FirstStart:
    """The process's one preparation (a cached resource: shared by every session of this process)."""
    return FirstStart()


@dataclass(frozen=True)
class Database:
    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    start: FirstStart


@st.cache_resource(show_spinner="Preparing the database (first start only)…")
def database() -> Database:
    settings = load_settings()
    engine = make_engine(settings.database_url)
    preparation = first_start()
    preparation.begin(engine, settings)
    preparation.wait_for_schema()
    return Database(settings, engine, make_session_factory(engine), preparation)


def demo_loading() -> bool:
    """True while the first start is still loading the synthetic demo."""
    preparation = database().start
    return not preparation.done.is_set()


def settings() -> Settings:
    return database().settings


@contextmanager
def reading() -> Iterator[Session]:
    """A read-only session (rolled back at the end)."""
    with database().factory() as session:
        yield session


@contextmanager
def writing() -> Iterator[Session]:
    """One user action = one transaction: commits at the end, rolls back on an exception."""
    with database().factory.begin() as session:
        yield session


PRINCIPAL_KEY = "access_principal"


def principal() -> Principal:
    """Who is acting in this browser session (set by the frame; anonymous until then)."""
    return st.session_state.get(PRINCIPAL_KEY) or Principal.anonymous()


def data_version() -> str:
    """Changes whenever stored data changes: the first argument of every cached read."""
    with reading() as session:
        return service.data_version(session, principal())


# -- cached reads (first argument: the data version; then who is asking, by their cache key) ----------------
# ``_who`` is the principal itself (not hashed); ``who`` is its cache key, so each principal gets its own copy.
_READS: dict = {}


@st.cache_data(show_spinner=False, max_entries=128)
def _cached_read(name: str, version: str, who: str, _who: Principal, args: tuple):
    return _READS[name](version, _who, *args)


def _cached(function):
    """Register a read ``f(version, who, *args)``; pages call ``f(version, *args)`` as the current principal."""
    _READS[function.__name__] = function

    def read(version: str, *args):
        acting = principal()
        return _cached_read(function.__name__, version, acting.cache_key, acting, tuple(args))

    read.__name__, read.__doc__ = function.__name__, function.__doc__
    return read


@_cached
def partnerships(version: str, who: Principal) -> pd.DataFrame:
    with reading() as session:
        return service.list_partnerships(session, who)


@_cached
def rounds(version: str, who: Principal) -> pd.DataFrame:
    with reading() as session:
        return service.list_rounds(session, who)


@st.cache_data(show_spinner=False, max_entries=8)
def questionnaires(version: str) -> dict[tuple[str, str], Questionnaire]:
    """Published questionnaire definitions (not partnership data: the same for every member of staff)."""
    with reading() as session:
        listed = service.list_questionnaire_versions(session, _STAFF_READER)
        return {(q, v): service.published_questionnaire(session, _STAFF_READER, q, v)
                for q, v in zip(listed["questionnaire"], listed["version"], strict=True)}


@_cached
def questionnaire_versions(version: str, who: Principal) -> pd.DataFrame:
    with reading() as session:
        return service.list_questionnaire_versions(session, who)


@_cached
def partnership_scores(version: str, who: Principal) -> pd.DataFrame:
    """Stored partnership domain scores of the closed rounds the principal may see.

    Kept as scoring wrote them: ``assessment.disclosure.blank_suppressed`` hides flagged figures for display.
    """
    with reading() as session:
        return service.partnership_scores(session, who)


@_cached
def round_frames(version: str, who: Principal, round_key: str) -> dict[str, pd.DataFrame]:
    """The agency and item frames of one closed round."""
    with reading() as session:
        return service.round_scores(session, who, round_key)


@_cached
def comments(version: str, who: Principal, round_key: str) -> pd.DataFrame:
    config = settings()
    with reading() as session:
        return service.answer_comments(session, who, round_key, min_group_size=config.min_group_size,
                                       small_groups=False)


def _trend_options() -> dict:
    config = settings()
    return {"resamples": config.bootstrap_resamples, "seed": config.bootstrap_seed,
            "min_respondents": config.min_respondents_for_change, "min_group_size": config.min_group_size}


@_cached
def partnership_trends(version: str, who: Principal, partnership: str) -> pd.DataFrame:
    """Domain trends of one partnership with bootstrap intervals (seeded, so the same on every replica)."""
    with reading() as session:
        return service.partnership_trends(session, who, partnership, **_trend_options())


@_cached
def latest_trends(version: str, who: Principal) -> pd.DataFrame:
    """Each partnership's latest round per domain, of those the principal may see (the portfolio grid)."""
    with reading() as session:
        return service.portfolio_trends(session, who, latest_only=True, **_trend_options())


def trend_options() -> dict:
    """The trend settings (bootstrap resamples and seed, fewest respondents for a change, smallest group)."""
    return _trend_options()


@_cached
def peer_comparison(version: str, who: Principal, partnership: str, round_key: str,
                    peer_group: str) -> tuple[pd.DataFrame, str | None]:
    """The gap table against a peer group, and the next wider group when this one is too small."""
    with reading() as session:
        config = settings()
        return service.peer_comparison(session, who, partnership, round_key, peer_group,
                                       min_peers=config.min_peers, min_peers_spread=config.min_peers_spread,
                                       min_peers_extremes=config.min_peers_extremes,
                                       window_months=config.peer_window_months,
                                       min_group_size=config.min_group_size)


@_cached
def region_comparison(version: str, who: Principal, period: str) -> pd.DataFrame:
    with reading() as session:
        return service.compare_regions(session, who, period, min_peers=settings().min_peers,
                                       min_peers_spread=settings().min_peers_spread,
                                       window_months=settings().peer_window_months,
                                       min_group_size=settings().min_group_size)


@_cached
def region_periods(version: str, who: Principal) -> pd.DataFrame:
    with reading() as session:
        return service.region_periods(session, who)


@_cached
def promising_practices(version: str, who: Principal, domain: str, period: str) -> pd.DataFrame:
    with reading() as session:
        return service.promising_practices(session, who, domain, period=period, min_peers=settings().min_peers,
                                           min_peers_spread=settings().min_peers_spread,
                                           min_group_size=settings().min_group_size)


@st.cache_data(show_spinner=False, max_entries=256)
def signed_in_principal(version: str, issuer: str, subject: str) -> Principal | None:
    """A signed-in user's principal with their current grants (read again whenever data changes)."""
    with reading() as session:
        return service.signed_in_principal(session, Principal.anonymous(), issuer=issuer, subject=subject)


def is_demo(version: str) -> bool:
    return _is_demo(version)


@st.cache_data(show_spinner=False, max_entries=4)
def _is_demo(version: str) -> bool:
    with reading() as session:
        return demo.is_demo_loaded(session)


@st.cache_data(show_spinner=False, max_entries=256)
def chart_spec(builder: str, view: tuple, _frame: pd.DataFrame, **options) -> dict:
    """A chart builder's Vega-Lite spec, built once per view.

    ``view`` must identify everything the frame was made from (the data version first, then the round,
    peer group, domain... the page shows); the frame itself is not hashed. Building and validating an Altair
    spec costs tens of milliseconds, and every click reruns the page.
    """
    from assessment import charts

    return getattr(charts, builder)(_frame, **options).to_dict()


@_cached
def results_model(version: str, who: Principal, round_key: str, peer_group: str):
    """The results model of a closed round (``assessment.service.results_model``): the Results page and its
    board pack both render it."""
    with reading() as session:
        return service.results_model(session, who, round_key, peer_group, settings=settings())


def board_pack(model, fmt: str) -> Callable[[], bytes]:
    """A function that renders the board pack from the very model the page shows, as the principal viewing the
    page: for ``st.download_button(data=...)``, which calls it when the button is clicked, outside the page's
    run (so without the session's state: who is acting is taken now)."""
    who, config = principal(), settings()

    def render() -> bytes:
        return service.board_pack(None, who, model.context.round, model.context.peer_group, settings=config,
                                  fmt=fmt, model=model)

    return render
