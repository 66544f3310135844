"""The adversarial suite: the storage fixtures of tests/integration (``db`` on SQLite and PostgreSQL, the
table dump that shows a refused change left the database as it was, the valid Kent responses file).

Every case tries what a hostile or careless user would, and asserts that the product refuses it with a clear
message and changes nothing (or shows nothing it must not show).
"""

from __future__ import annotations

from tests.integration.conftest import (  # noqa: F401  (fixtures, found by pytest by name)
    ADMIN,
    ITEMS,
    PEOPLE,
    Database,
    db,
    dump_tables,
    empty_postgres,
    empty_sqlite,
    postgres_engine,
    postgres_server,
    responses_csv,
    snapshot,
    sqlite_db,
    table_dump,
)
