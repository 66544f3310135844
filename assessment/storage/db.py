"""Engine and session factories, and the schema upgrade; nothing is created at import time.

The default database is an SQLite file in the data folder (WAL journal, foreign keys on, a busy timeout so
concurrent writers wait instead of failing). Multi-user deployments point ``ASSESSMENT_DATABASE_URL`` at
PostgreSQL (``postgresql+psycopg://user@host:5432/db``); nothing in the storage layer assumes SQLite.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

__all__ = [
    "UPGRADE_LOCK_KEY",
    "alembic_config",
    "current_revision",
    "head_revision",
    "make_engine",
    "make_session_factory",
    "upgrade",
]

# Any fixed 64-bit number: replicas starting at once queue on this PostgreSQL advisory lock.
UPGRADE_LOCK_KEY = 7_246_513_906_021_001
SQLITE_TIMEOUT_SECONDS = 15
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_TIMEOUT_SECONDS * 1000}")
    cursor.close()


def make_engine(url: str, **kwargs) -> Engine:
    """An engine for ``url``; for SQLite, the folder is created and the connection pragmas are set.

    Parameters
    ----------
    url : str
        A SQLAlchemy URL: ``sqlite:///path/to/file.db`` or ``postgresql+psycopg://user@host:5432/db``.
    **kwargs
        Passed to :func:`sqlalchemy.create_engine`.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        connect_args = {"timeout": SQLITE_TIMEOUT_SECONDS, "check_same_thread": False}
        connect_args.update(kwargs.pop("connect_args", {}))
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """``sessionmaker(engine, expire_on_commit=False)``: objects stay readable after the caller commits."""
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(connection=None):
    """An Alembic configuration built in code (works from an installed package, no alembic.ini needed)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest migration shipped with this version of the code."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise RuntimeError("no migrations found")
    return head


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, *, load_reference: bool = True) -> None:
    """Bring the schema to the newest migration and load the shipped reference data if missing.

    On PostgreSQL the work runs under an advisory lock, so app replicas starting together upgrade once
    and the others wait, then find nothing to do. Safe to call on every start.
    """
    from alembic import command

    is_postgres = engine.dialect.name == "postgresql"
    with engine.connect() as connection:
        if is_postgres:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": UPGRADE_LOCK_KEY})
            connection.commit()
        try:
            command.upgrade(alembic_config(connection), "head")
            connection.commit()
            if load_reference:
                from assessment.storage.reference import load_reference_data

                with Session(bind=connection) as session:
                    load_reference_data(session)
                    session.commit()
        finally:
            if is_postgres:
                connection.rollback()
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": UPGRADE_LOCK_KEY})
                connection.commit()
