"""Engine and session factories, and the schema upgrade; nothing is created at import time.

The default database is an SQLite file in the data folder (WAL journal, foreign keys on, a busy timeout so
concurrent writers wait instead of failing). Multi-user deployments point ``ASSESSMENT_DATABASE_URL`` at
PostgreSQL (``postgresql+psycopg://user@host:5432/db``); nothing in the storage layer assumes SQLite.

Write transactions and the round lock
-------------------------------------
``factory.begin()`` is a write transaction, ``factory()`` a read session. On PostgreSQL the difference is
only the row locks the service functions take (``FOR SHARE`` on the round for an answer save, submission or
import, ``FOR UPDATE`` to close it). On SQLite there are no row locks: a write transaction must hold the
database's write lock from its first statement, or a status check can read an open round that another
transaction closes before the write lands. The sqlite3 driver begins a transaction only at the first
INSERT/UPDATE/DELETE, so SQLAlchemy's documented recipe takes over: the driver's own BEGIN is switched off
(``isolation_level = None``) and the engine's ``begin`` event emits ``BEGIN IMMEDIATE`` for write
transactions and a plain (deferred) ``BEGIN`` for read sessions, which stay cheap: in WAL mode a reader
never waits for the writer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from assessment.storage.errors import SchemaOutOfDate
from assessment.storage.limits import check_flushed_text

__all__ = [
    "UPGRADE_LOCK_KEY",
    "SessionFactory",
    "alembic_config",
    "check_schema",
    "current_revision",
    "head_revision",
    "holds_write_lock",
    "make_engine",
    "make_session_factory",
    "upgrade",
    "write_engine",
]

# Any fixed 64-bit number: replicas starting at once queue on this PostgreSQL advisory lock.
UPGRADE_LOCK_KEY = 7_246_513_906_021_001
SQLITE_TIMEOUT_SECONDS = 15
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


# The execution option that says how an SQLite transaction begins ("IMMEDIATE" for a write transaction).
SQLITE_BEGIN_OPTION = "assessment_sqlite_begin"
_BEGUN_AS = "assessment_sqlite_begun_as"  # kept in the connection's info: how its current transaction began


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # The driver must not begin transactions itself (it would do so lazily, at the first write): the
    # engine's "begin" event does it (SQLAlchemy's recipe for transaction control with sqlite3).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_TIMEOUT_SECONDS * 1000}")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    mode = "IMMEDIATE" if connection.get_execution_options().get(SQLITE_BEGIN_OPTION) == "IMMEDIATE" else "DEFERRED"
    connection.exec_driver_sql(f"BEGIN {mode}")
    connection.info[_BEGUN_AS] = mode


def write_engine(engine: Engine) -> Engine:
    """The same engine (same pool) whose transactions are write transactions: ``BEGIN IMMEDIATE`` on SQLite,
    so the write lock is held from the first statement; nothing changes on other databases."""
    return engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})


def holds_write_lock(session: Session) -> bool:
    """Whether the session's transaction may rely on what it reads staying true until it commits.

    Always true on PostgreSQL (the callers take row locks); on SQLite only in a write transaction
    (``BEGIN IMMEDIATE``, i.e. a session from ``factory.begin()``).
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return True
    return connection.info.get(_BEGUN_AS) == "IMMEDIATE"


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
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


class SessionFactory(sessionmaker[Session]):
    """``factory()`` is a read session; ``with factory.begin() as session:`` is one write transaction
    (committed at the end, rolled back on an exception), which on SQLite begins ``IMMEDIATE``."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine, expire_on_commit=False)
        self.writer = write_engine(engine)
        # text longer than its column or holding NUL is refused here on every engine (PostgreSQL would refuse
        # it, SQLite would store it): the same data on both
        event.listen(self, "before_flush", check_flushed_text)

    @contextmanager
    def begin(self) -> Iterator[Session]:  # type: ignore[override]
        with self(bind=self.writer) as session, session.begin():
            yield session


def make_session_factory(engine: Engine) -> SessionFactory:
    """Sessions on ``engine`` with ``expire_on_commit=False`` (objects stay readable after the caller commits):
    ``factory()`` to read, ``factory.begin()`` to write (see the module's notes on write transactions)."""
    return SessionFactory(engine)


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


def check_schema(engine: Engine) -> None:
    """Refuse to read a database whose schema is not the newest (read-only commands never migrate).

    Raises ``SchemaOutOfDate`` saying to run ``assessment db upgrade`` (or, for a revision this software
    does not know, that a newer version made it).
    """
    from alembic.script import ScriptDirectory

    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    where = engine.url.render_as_string(hide_password=True)
    if current is None:
        raise SchemaOutOfDate(f"the database at {where} has no schema yet: run `assessment db upgrade`")
    try:
        ScriptDirectory.from_config(alembic_config()).get_revision(current)
    except Exception as exc:  # alembic raises its own error types for an unknown revision
        raise SchemaOutOfDate(f"the database at {where} is at schema revision {current}, which this version of "
                              "the software does not know (a newer version upgraded it)") from exc
    raise SchemaOutOfDate(f"the database at {where} is at schema revision {current}, older than this software's "
                          f"{head}: run `assessment db upgrade`")


def upgrade(engine: Engine, *, load_reference: bool = True) -> None:
    """Bring the schema to the newest migration and load the shipped reference data if missing.

    On PostgreSQL the work runs under an advisory lock, so app replicas starting together upgrade once
    and the others wait, then find nothing to do. Safe to call on every start.
    """
    from alembic import command

    is_postgres = engine.dialect.name == "postgresql"
    with write_engine(engine).connect() as connection:
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


@contextmanager
def sqlite_foreign_keys_off(connection: Connection) -> Iterator[object | None]:
    """On SQLite, foreign keys are not enforced inside the block; yields the driver connection (``None`` on
    other databases, where nothing changes).

    The pragma only takes effect outside a transaction, so it is set on the driver connection and the block
    must be entered before the transaction begins; it is set back afterwards. Used where a table is rebuilt
    (Alembic batch mode: copy, DROP, rename), which with enforcement on would delete or refuse the rows that
    refer to it: migrations and the restore of an older backup, each checking the result themselves.
    """
    raw = connection.connection.driver_connection if connection.dialect.name == "sqlite" else None
    if raw is None:
        yield None
        return
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield raw
    finally:
        raw.execute("PRAGMA foreign_keys=ON")
