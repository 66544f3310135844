"""Cached resources and cached reads for the pages (the only place the app touches the database).

``st.cache_resource`` holds one engine and session factory per process, created from ``load_settings()``;
the first call prepares the database (schema upgrade, reference data, shipped questionnaires, synthetic
demo when the ``ASSESSMENT_DEMO`` setting asks for it). ``st.cache_data`` reads take the database's data
version as their first argument, so any write (here or in another replica) changes the key and the next
read is fresh; nothing has to be cleared by hand.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pandas as pd
import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from assessment import demo, peers, trends
from assessment.questionnaire.schema import Questionnaire
from assessment.settings import Settings, load_settings
from assessment.storage import services
from assessment.storage.db import make_engine, make_session_factory

_START_LOCK = threading.Lock()


@dataclass(frozen=True)
class Database:
    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    start: demo.StartReport


@st.cache_resource(show_spinner="Preparing the database (first start only)…")
def database() -> Database:
    settings = load_settings()
    engine = make_engine(settings.database_url)
    with _START_LOCK:  # one preparation per process, even with several sessions starting at once
        report = demo.prepare_database(engine, settings)
    return Database(settings, engine, make_session_factory(engine), report)


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


def data_version() -> str:
    """Changes whenever stored data changes: the first argument of every cached read."""
    with reading() as session:
        return services.data_version(session)


# -- cached reads (first argument: the data version) --------------------------------------------------------
@st.cache_data(show_spinner=False, max_entries=8)
def partnerships(version: str) -> pd.DataFrame:
    with reading() as session:
        return services.list_partnerships(session)


@st.cache_data(show_spinner=False, max_entries=8)
def rounds(version: str) -> pd.DataFrame:
    with reading() as session:
        return services.list_rounds(session)


@st.cache_data(show_spinner=False, max_entries=8)
def questionnaires(version: str) -> dict[tuple[str, str], Questionnaire]:
    with reading() as session:
        listed = services.list_questionnaire_versions(session)
        return {(q, v): services.published_questionnaire(session, q, v)
                for q, v in zip(listed["questionnaire"], listed["version"], strict=True)}


@st.cache_data(show_spinner=False, max_entries=8)
def questionnaire_versions(version: str) -> pd.DataFrame:
    with reading() as session:
        return services.list_questionnaire_versions(session)


@st.cache_data(show_spinner=False, max_entries=8)
def partnership_scores(version: str) -> pd.DataFrame:
    """Materialised partnership domain scores of every closed round (peers need them all).

    Kept as scoring wrote them: ``assessment.peers`` reads ``score_hidden`` to decide whether a score is
    a peer value, and ``assessment.disclosure.blank_suppressed`` hides flagged figures for display.
    """
    with reading() as session:
        return services.partnership_scores(session)


@st.cache_data(show_spinner=False, max_entries=16)
def round_frames(version: str, round_key: str) -> dict[str, pd.DataFrame]:
    """The agency and item frames of one closed round."""
    with reading() as session:
        return {"agencies": services.agency_scores(session, [round_key]),
                "items": services.item_scores(session, [round_key])}


@st.cache_data(show_spinner=False, max_entries=8)
def comments(version: str) -> pd.DataFrame:
    with reading() as session:
        return services.answer_comments(session)


@st.cache_data(show_spinner="Computing change intervals…", max_entries=64)
def partnership_trends(version: str, partnership: str) -> pd.DataFrame:
    """Domain trends of one partnership with bootstrap intervals (seeded, so the same on every replica)."""
    config = settings()
    with reading() as session:
        respondents = services.respondent_scores(session, partnership=partnership)
    if respondents.empty:
        return pd.DataFrame(columns=list(trends.TREND_COLUMNS))
    return trends.domain_trends(
        respondents, partnership=partnership, questionnaires=questionnaires(version),
        resamples=config.bootstrap_resamples, seed=config.bootstrap_seed,
        min_respondents=config.min_respondents_for_change, min_group_size=config.min_group_size,
    )


@st.cache_data(show_spinner="Computing change verdicts for every partnership…", max_entries=4)
def all_trends(version: str) -> pd.DataFrame:
    frames = [partnership_trends(version, key) for key in partnerships(version)["partnership"]]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(trends.TREND_COLUMNS))


@st.cache_data(show_spinner=False, max_entries=32)
def peer_comparison(version: str, partnership: str, round_key: str, peer_group: str) -> tuple[pd.DataFrame, str | None]:
    """The gap table against a peer group, and the next wider group when this one is too small."""
    config = settings()
    scores, places, qs = partnership_scores(version), partnerships(version), questionnaires(version)
    table = peers.compare_with_peers(scores, places, partnership=partnership, round=round_key,
                                     peer_group=peer_group, min_peers=config.min_peers, questionnaires=qs,
                                     min_peers_spread=config.min_peers_spread,
                                     min_peers_extremes=config.min_peers_extremes)
    wider = None
    if table.empty or table["suppressed"].astype(bool).all():
        wider = peers.wider_peer_group(scores, places, partnership=partnership, round=round_key,
                                       peer_group=peer_group, min_peers=config.min_peers, questionnaires=qs)
    return table, wider


@st.cache_data(show_spinner=False, max_entries=8)
def region_comparison(version: str, period: str) -> pd.DataFrame:
    config = settings()
    return peers.compare_regions(partnership_scores(version), partnerships(version), period=period,
                                 min_peers=config.min_peers, min_peers_spread=config.min_peers_spread,
                                 questionnaires=questionnaires(version))


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
