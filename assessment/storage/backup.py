"""Back up the whole database to one file and restore it into an empty database, on any engine.

The backup is a zip archive: ``manifest.json`` (format, schema revision, time, row count per table) and
one ``<table>.jsonl`` per table, one JSON array per row in the manifest's column order (times as ISO
text). Because it holds values, not SQL, a backup taken from SQLite restores into PostgreSQL and back:
this is how a deployment outgrows the embedded default.

Restore refuses a database that holds anything beyond the shipped reference data (which the backup
carries too). It brings the schema to the backup's revision, loads every table in foreign-key order in
one transaction, moves PostgreSQL's id sequences past the restored ids, then upgrades to the newest
schema.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Date, DateTime, Engine, Integer, delete, func, select, text
from sqlalchemy.orm import Session

from assessment.storage._common import Conflict, StorageError
from assessment.storage.models import Base, OrganisationRow

__all__ = ["BACKUP_FORMAT", "BackupInfo", "backup", "restore"]

BACKUP_FORMAT = "partnership-assessment-backup/1"
CHUNK = 2_000


@dataclass(frozen=True)
class BackupInfo:
    path: str
    revision: str
    created_at: str
    rows: dict[str, int]


def _plain(value):
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def backup(engine: Engine, path: str | Path) -> BackupInfo:
    """Write every table to one file (a consistent snapshot: one read transaction)."""
    from assessment.storage.db import current_revision

    revision = current_revision(engine)
    if revision is None:
        raise StorageError("the database has no schema yet: nothing to back up")
    path = Path(path)
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    counts: dict[str, int] = {}
    columns: dict[str, list[str]] = {}
    tmp = path.with_name(path.name + ".partial")
    with engine.connect() as connection, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        # One snapshot for every table, while the app keeps writing.
        # (SQLite: the engine begins a read transaction at the first statement, see storage/db.py.)
        if engine.dialect.name == "postgresql":
            connection.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        for table in Base.metadata.sorted_tables:
            names = [c.name for c in table.columns]
            columns[table.name] = names
            order = list(table.primary_key.columns)
            n = 0
            with archive.open(f"{table.name}.jsonl", "w") as raw, io.TextIOWrapper(raw, encoding="utf-8") as out:
                result = connection.execute(select(*table.columns).order_by(*order)).yield_per(CHUNK)
                for row in result:
                    out.write(json.dumps([_plain(v) for v in row], ensure_ascii=False, separators=(",", ":")))
                    out.write("\n")
                    n += 1
            counts[table.name] = n
        manifest = {"format": BACKUP_FORMAT, "revision": revision, "created_at": created,
                    "dialect": engine.dialect.name, "tables": columns, "rows": counts}
        archive.writestr("manifest.json", json.dumps(manifest, indent=2))
    tmp.replace(path)
    return BackupInfo(str(path), revision, created, counts)


def _read_manifest(archive: zipfile.ZipFile) -> dict:
    try:
        manifest = json.loads(archive.read("manifest.json"))
    except (KeyError, json.JSONDecodeError) as exc:
        raise StorageError("this file is not a backup made by `assessment backup` (no manifest)") from exc
    if manifest.get("format") != BACKUP_FORMAT:
        raise StorageError(f"unsupported backup format {manifest.get('format')!r} (expected {BACKUP_FORMAT})")
    return manifest


def _check_empty(session: Session) -> None:
    """Refuse anything but an empty database; the shipped forces alone are removed (the backup has them)."""
    occupied = []
    for table in Base.metadata.sorted_tables:
        count = session.scalar(select(func.count()).select_from(table)) or 0
        if table.name == "organisations":
            count -= session.scalar(select(func.count()).select_from(table)
                                    .where(OrganisationRow.reference.is_(True))) or 0
        if count:
            occupied.append(f"{table.name} ({count} rows)")
    if occupied:
        raise Conflict("restore needs an empty database, but this one holds data: " + ", ".join(occupied)
                       + ". Point ASSESSMENT_DATABASE_URL at a new, empty database.")
    session.execute(delete(OrganisationRow).where(OrganisationRow.reference.is_(True)))


def _converter(column):
    if isinstance(column.type, DateTime):
        return lambda v: None if v is None else dt.datetime.fromisoformat(v)
    if isinstance(column.type, Date):
        return lambda v: None if v is None else dt.date.fromisoformat(v)
    return None


def restore(engine: Engine, path: str | Path) -> BackupInfo:
    """Load a backup into an empty database (any engine), then upgrade it to the newest schema."""
    from alembic import command
    from alembic.script import ScriptDirectory

    from assessment.storage.db import alembic_config, upgrade

    path = Path(path)
    with zipfile.ZipFile(path) as archive:
        manifest = _read_manifest(archive)
        revision = manifest["revision"]
        scripts = ScriptDirectory.from_config(alembic_config())
        try:
            scripts.get_revision(revision)
        except Exception as exc:
            raise StorageError(f"the backup's schema revision {revision} is unknown to this version of the "
                               "software: restore it with the version that made it") from exc
        with engine.connect() as connection:
            command.upgrade(alembic_config(connection), revision)
            connection.commit()
        with Session(engine) as session, session.begin():
            _check_empty(session)
            tables = {t.name: t for t in Base.metadata.sorted_tables}
            for table in Base.metadata.sorted_tables:
                names = manifest["tables"].get(table.name)
                if names is None:
                    continue
                unknown = [n for n in names if n not in table.columns]
                if unknown:
                    raise StorageError(f"table {table.name} in the backup has unknown columns {unknown}")
                converters = [(i, c) for i, n in enumerate(names) if (c := _converter(tables[table.name].columns[n]))]
                batch: list[dict] = []
                with archive.open(f"{table.name}.jsonl") as raw:
                    for line in io.TextIOWrapper(raw, encoding="utf-8"):
                        values = json.loads(line)
                        for i, convert in converters:
                            values[i] = convert(values[i])
                        batch.append(dict(zip(names, values, strict=True)))
                        if len(batch) >= CHUNK:
                            session.execute(table.insert(), batch)
                            batch = []
                if batch:
                    session.execute(table.insert(), batch)
            if engine.dialect.name == "postgresql":
                for table in Base.metadata.sorted_tables:
                    pk = list(table.primary_key.columns)
                    if len(pk) == 1 and isinstance(pk[0].type, Integer) and pk[0].autoincrement in (True, "auto"):
                        session.execute(text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "
                            f"COALESCE(MAX({pk[0].name}), 1), MAX({pk[0].name}) IS NOT NULL) FROM {table.name}"))
    upgrade(engine)
    return BackupInfo(str(path), revision, manifest["created_at"], dict(manifest["rows"]))
