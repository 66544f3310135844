"""Alembic environment: runs on the connection passed in ``config.attributes["connection"]``.

The configuration is built in code by :func:`assessment.storage.db.alembic_config`; with no connection
given (the ``alembic`` command line with ``-x url=...``), an engine is made from that URL.
"""

from __future__ import annotations

import contextlib

from alembic import context

from assessment.storage.db import sqlite_foreign_keys_off
from assessment.storage.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with _sqlite_foreign_keys_off(connection), context.begin_transaction():
        context.run_migrations()


@contextlib.contextmanager
def _sqlite_foreign_keys_off(connection):
    """On SQLite, foreign keys are not enforced while migrating (Alembic's advice for batch mode).

    A batch migration rebuilds a table: copy, DROP, rename. With enforcement on, the DROP would delete the
    rows of tables that refer to it with ON DELETE CASCADE, or fail for the others. The pragma only takes
    effect outside a transaction, so it is set on the driver connection before the migration's transaction
    begins, and set back afterwards.
    """
    if connection.in_transaction():  # the caller began it (a restore), and set the pragma itself
        yield
        return
    with sqlite_foreign_keys_off(connection) as raw:
        yield
    problems = raw.execute("PRAGMA foreign_key_check").fetchall() if raw is not None else []
    if problems:
        raise RuntimeError(f"the migration left rows whose foreign keys point nowhere: {problems[:5]}")


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from assessment.settings import load_settings
    from assessment.storage.db import make_engine

    url = context.get_x_argument(as_dictionary=True).get("url") or load_settings().database_url
    engine = make_engine(url)
    with engine.connect() as conn:
        _run(conn)
        conn.commit()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported: pass a database")
run_migrations_online()
