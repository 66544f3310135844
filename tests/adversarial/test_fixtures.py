"""The shared fixtures reach this folder: a database on each engine, dumped table by table."""

from __future__ import annotations


def test_each_engine_starts_with_the_reference_forces_only(db, table_dump):
    tables = table_dump(db.engine)
    assert tables["organisations"], "the shipped forces are loaded"
    assert not tables["answers"] and not tables["audit_events"]
