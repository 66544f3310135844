"""Alembic environment: runs on the connection passed in ``config.attributes["connection"]``.

The configuration is built in code by :func:`assessment.storage.db.alembic_config`; with no connection
given (the ``alembic`` command line with ``-x url=...``), an engine is made from that URL.
"""

from __future__ import annotations

from alembic import context

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
    with context.begin_transaction():
        context.run_migrations()


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
