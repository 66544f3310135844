"""Databases for the import, autosave and page measurements, filled from the synthetic answers.

Each partnership-round of the synthetic data becomes a round in the database (key
``partnership-001-2026-h1``) with a CSV in the import format (one file per round, as a board uploads it).
The raw references write exactly the same respondent and answer rows into the same tables, one
transaction per round like the import: ``sqlite3`` ``executemany`` on SQLite, psycopg ``COPY`` on
PostgreSQL.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from benchmarks.generate import AGENCIES, DK_CODE, NA_CODE, SyntheticAnswers

__all__ = ["Database", "RoundData", "postgres_database", "round_data", "setup_database"]

ACTOR = "benchmark"


@dataclass(frozen=True)
class RoundData:
    """One round's answers: the CSV a board would upload, and the same rows for the raw references."""

    key: str
    partnership: str
    period: str
    csv: bytes
    respondents: list[tuple[str, str]]  # (respondent key, agency)
    answers: list[tuple[str, str, str]]  # (respondent key, item, value)

    @property
    def n_answers(self) -> int:
        return len(self.answers)


def round_key(partnership: str, period: str) -> str:
    return f"{partnership}-{period}".lower()


def round_data(data: SyntheticAnswers, groups: list[int]) -> list[RoundData]:
    """RoundData for the given group indexes (partnership * rounds + round)."""
    value_text = np.array(
        ["DK", "NA", *[str(v) for v in range(0, max(data.layout.scale_values) + 1)]], dtype=object
    )
    starts = np.searchsorted(data.group, np.arange(data.n_groups + 1))
    item_ids = np.array(data.layout.item_ids, dtype=object)
    agencies = np.array(AGENCIES, dtype=object)
    out = []
    for g in groups:
        lo, hi = starts[g], starts[g + 1]
        partnership = data.partnership_ids[g // data.spec.rounds]
        period = data.round_ids[g % data.spec.rounds]
        first = data.respondent[lo] if hi > lo else 0
        local = data.respondent[lo:hi] - first
        width = max(2, len(str(data.spec.respondents)))
        respondent = np.array(
            [f"r{i + 1:0{width}d}" for i in range(int(local.max()) + 1 if hi > lo else 0)], dtype=object
        )
        value = data.value[lo:hi].astype(np.int64)
        code = np.where(value == DK_CODE, 0, np.where(value == NA_CODE, 1, value + 2))
        frame = pd.DataFrame(
            {
                "partnership": partnership,
                "round": period,
                "respondent": respondent[local],
                "agency": agencies[data.agency[lo:hi]],
                "item": item_ids[data.item[lo:hi]],
                "value": value_text[code],
            }
        )
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False)
        people = frame.drop_duplicates("respondent")
        out.append(
            RoundData(
                key=round_key(partnership, period),
                partnership=partnership,
                period=period,
                csv=buffer.getvalue().encode("utf-8"),
                respondents=list(zip(people["respondent"], people["agency"], strict=True)),
                answers=list(zip(frame["respondent"], frame["item"], frame["value"], strict=True)),
            )
        )
    return out


@dataclass
class Database:
    """A project database (schema at head, questionnaire published) and its SQLAlchemy engine."""

    url: str
    engine: object
    factory: object
    round_ids: dict[str, int]

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def clear_answers(self) -> None:
        """Remove every respondent and answer (between timed import runs)."""
        from sqlalchemy import text

        with self.engine.begin() as connection:
            connection.execute(text("DELETE FROM answers"))
            connection.execute(text("DELETE FROM respondents"))


def setup_database(url: str, data: SyntheticAnswers, partnerships: list[str]) -> Database:
    """Upgrade the schema, publish the questionnaire, add the partnerships and a draft round per period."""
    from sqlalchemy import select

    from assessment.storage import services
    from assessment.storage.db import make_engine, make_session_factory, upgrade
    from assessment.storage.models import RoundRow

    engine = make_engine(url)
    upgrade(engine)
    factory = make_session_factory(engine)
    places = data.partnerships_frame().set_index("partnership")
    with factory.begin() as session:
        services.publish_questionnaire(session, data.questionnaire, actor=ACTOR)
        for partnership in partnerships:
            place = places.loc[partnership]
            groups = [g for g in str(place["groups"]).split(";") if g]
            services.add_partnership(
                session,
                partnership,
                f"Synthetic partnership {partnership[-3:]}",
                actor=ACTOR,
                nation=place["nation"],
                region=place["region"],
                groups=groups,
                share_practice=bool(place["share_practice"]),
                named_to_peers=bool(place["named_to_peers"]),
            )
            for period in data.round_ids:
                services.create_round(
                    session,
                    partnership,
                    period,
                    questionnaire=data.questionnaire.id,
                    version=data.questionnaire.version,
                    actor=ACTOR,
                )
        ids = dict(session.execute(select(RoundRow.key, RoundRow.id)).all())
    return Database(url, engine, factory, ids)


def import_through_project(db: Database, rounds: list[RoundData]) -> None:
    """The project's import path: one ``import_responses`` transaction per round file."""
    from assessment.storage import services

    for r in rounds:
        with db.factory.begin() as session:
            services.import_responses(session, r.key, r.csv, actor=ACTOR)


def _now_text() -> str:
    # SQLAlchemy's SQLite DateTime storage format.
    return dt.datetime.now(dt.UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def import_raw_sqlite(path: str, rounds: list[RoundData], round_ids: dict[str, int]) -> None:
    """The same rows with bare ``sqlite3`` ``executemany``, one transaction per round (same pragmas)."""
    connection = sqlite3.connect(path, timeout=15)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("PRAGMA synchronous=NORMAL")
        for r in rounds:
            now = _now_text()
            round_id = round_ids[r.key]
            cursor = connection.cursor()
            cursor.executemany(
                "INSERT INTO respondents (key, round_id, agency, invitation_id, started_at, submitted_at) "
                "VALUES (?, ?, ?, NULL, ?, ?)",
                [(key, round_id, agency, now, now) for key, agency in r.respondents],
            )
            ids = dict(cursor.execute("SELECT key, id FROM respondents WHERE round_id = ?", (round_id,)))
            cursor.executemany(
                "INSERT INTO answers (respondent_id, item, value, comment, updated_at) VALUES (?, ?, ?, '', ?)",
                [(ids[key], item, value, now) for key, item, value in r.answers],
            )
            connection.commit()
    finally:
        connection.close()


def import_raw_copy(url: str, rounds: list[RoundData], round_ids: dict[str, int]) -> None:
    """The same rows with psycopg ``COPY ... FROM STDIN``, one transaction per round."""
    import psycopg

    with psycopg.connect(url) as connection:
        for r in rounds:
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            round_id = round_ids[r.key]
            with connection.cursor() as cursor:
                with cursor.copy(
                    "COPY respondents (key, round_id, agency, started_at, submitted_at) FROM STDIN"
                ) as copy:
                    for key, agency in r.respondents:
                        copy.write_row((key, round_id, agency, now, now))
                cursor.execute("SELECT key, id FROM respondents WHERE round_id = %s", (round_id,))
                ids = dict(cursor.fetchall())
                with cursor.copy(
                    "COPY answers (respondent_id, item, value, comment, updated_at) FROM STDIN"
                ) as copy:
                    for key, item, value in r.answers:
                        copy.write_row((ids[key], item, value, "", now))
            connection.commit()


@contextlib.contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A uniquely named PostgreSQL database for the run, dropped afterwards; yields its SQLAlchemy URL."""
    import psycopg

    name = f"benchmarks_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sqlalchemy_url(psycopg_url: str) -> str:
    return psycopg_url.replace("postgresql://", "postgresql+psycopg://", 1)
