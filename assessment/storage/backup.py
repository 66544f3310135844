"""Back up the whole database to one file and restore it into an empty database, on any engine.

The backup is a zip archive of three kinds of member:

- ``<table>.jsonl`` for every table: one JSON array per row, in the manifest's column order (times as
  ISO text). Because it holds values, not SQL, a backup taken from SQLite restores into PostgreSQL and
  back: this is how a deployment outgrows the embedded default.
- ``manifest.json``: the format, the schema (Alembic) revision, the time, and for every table its
  columns, row count, size and SHA-256.
- ``manifest.sig``: the HMAC-SHA256 of ``manifest.json`` under ``ASSESSMENT_BACKUP_KEY`` (absent when no
  key is set). The checksums alone cannot tell a damaged file from a forged one that agrees with itself;
  the signature can, because a forger does not hold the key.

Restore trusts nothing in the file. Before it writes anything it checks the member names (no paths,
nothing unknown, nothing missing), the signature (an unsigned or wrongly signed backup is restored only
when the caller accepts it), the declared sizes against the limits below (a zip bomb is refused from its
header, never expanded), then streams every member once to check its SHA-256, its row count and every
row: JSON, column types, lengths, NUL characters, primary keys, unique keys and foreign keys. Only then,
in one transaction, it refuses a database that holds anything beyond the shipped reference forces,
brings the (empty) schema to the backup's revision, loads every table in foreign-key order (invitations
come back revoked: a backup never carries working invite links into another deployment), checks the
stored row counts, upgrades the schema to the newest revision (the migrations move the data of an older
backup, e.g. the JSON score frames of revisions before 0008 into the typed score tables), moves
PostgreSQL's id counters past the restored ids and records the restore in the audit trail. Any refusal
or failure rolls the whole transaction back: the target database is left as it was.

A backup is checked against the schema of its own revision: the models at the newest revision, otherwise
the tables the migrations create up to that revision (built once in an in-memory SQLite database and
read back with generic column types).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import hmac
import json
import math
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    delete,
    event,
    func,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from assessment.storage._common import Conflict, StorageError, audit
from assessment.storage.db import sqlite_foreign_keys_off
from assessment.storage.limits import COMMENT_LIMIT
from assessment.storage.models import Base, OrganisationRow

__all__ = [
    "BACKUP_FORMAT",
    "MAX_MEMBER_BYTES",
    "MAX_TEXT_CHARS",
    "MAX_TOTAL_BYTES",
    "BackupInfo",
    "BackupRefused",
    "RestoreReport",
    "UnsignedBackup",
    "backup",
    "restore",
    "sign_manifest",
]

BACKUP_FORMAT = "partnership-assessment-backup/2"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"

#: Largest uncompressed table file restore accepts (a national dataset is about a tenth of this).
MAX_MEMBER_BYTES = 1 << 30
#: Largest uncompressed backup restore accepts, all tables together.
MAX_TOTAL_BYTES = 4 << 30
MAX_MANIFEST_BYTES = 1 << 20
MAX_SIGNATURE_BYTES = 1 << 10
#: Longest line (row) of a table file; a longer one is refused without reading the rest of it.
MAX_ROW_BYTES = 64 << 20
#: Longest text in a text column written by people (peer group descriptions); an answer's comment follows
#: the import's and the respondent's rule (``COMMENT_LIMIT``); generated text (a round's stored score
#: frames) is limited by ``MAX_ROW_BYTES`` only.
MAX_TEXT_CHARS = 100_000
TEXT_COLUMN_LIMITS = {("answers", "comment"): COMMENT_LIMIT}
#: Text columns holding generated JSON: the score frames of backups made before the typed score tables (0008).
GENERATED_TEXT: frozenset[tuple[str, str]] = frozenset({("score_frames", "frame")})
#: The range of an INTEGER column on PostgreSQL (SQLite would store more: the two must agree).
INTEGER_RANGE = (-(2**31), 2**31 - 1)

CHUNK = 2_000  # rows per INSERT
READ_BYTES = 1 << 20
REVISION_PATTERN = re.compile(r"^[0-9A-Za-z_]{1,32}$")


class BackupRefused(StorageError):
    """The file is not a backup this database can trust, or does not fit it; nothing was written."""


class UnsignedBackup(BackupRefused):
    """The backup has no valid signature for the configured key (restore it only with ``accept_unsigned``)."""


@dataclass(frozen=True)
class BackupInfo:
    """What ``backup`` wrote: the file, the schema revision, rows per table and whether it is signed."""

    path: str
    revision: str
    created_at: str
    rows: dict[str, int]
    signed: bool = False


@dataclass(frozen=True)
class RestoreReport:
    """What ``restore`` loaded: the rows actually stored per table (counted in the database afterwards)."""

    path: str
    revision: str
    created_at: str
    rows: dict[str, int]
    signed: bool
    invitations_revoked: int
    upgraded_to: str | None = None  # the newest revision, when the backup was older and was upgraded to it


def _secret(key) -> bytes | None:
    """The key as bytes, from a ``str``, a pydantic ``SecretStr`` or None."""
    if key is None:
        return None
    if hasattr(key, "get_secret_value"):
        key = key.get_secret_value()
    return key.encode("utf-8") if key else None


def sign_manifest(manifest: bytes, key) -> str:
    """The HMAC-SHA256 of the manifest's exact bytes under ``key``, as hex."""
    secret = _secret(key)
    if secret is None:
        raise ValueError("signing a backup needs a key (ASSESSMENT_BACKUP_KEY)")
    return hmac.new(secret, manifest, hashlib.sha256).hexdigest()


def _member(table_name: str) -> str:
    return f"{table_name}.jsonl"


def _plain(value):
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


# -- the schema of a revision -------------------------------------------------------------------------------

def _generic_type(_inspector, _table, column_info) -> None:
    column_info["type"] = column_info["type"].as_generic()


def _reflected_schema(revision: str) -> tuple[Table, ...]:
    """The tables the migrations create up to ``revision``, in foreign-key order, with generic column types
    (so they check values and insert rows on any engine)."""
    from alembic import command

    from assessment.storage.db import alembic_config, make_engine

    engine = make_engine("sqlite://")  # in memory: one connection holds the whole database
    try:
        with engine.connect() as connection:
            command.upgrade(alembic_config(connection), revision)
            connection.commit()
            meta = MetaData()
            event.listen(meta, "column_reflect", _generic_type)
            meta.reflect(connection)
    finally:
        engine.dispose()
    return tuple(table for table in meta.sorted_tables if table.name != "alembic_version")


@functools.lru_cache(maxsize=8)
def _schema_at(revision: str) -> tuple[Table, ...]:
    """The tables of schema revision ``revision`` in foreign-key order: the models at the newest revision,
    the migrations' tables at an older one."""
    from assessment.storage.db import head_revision

    if revision == head_revision():
        return tuple(Base.metadata.sorted_tables)
    return _reflected_schema(revision)


# -- backup -------------------------------------------------------------------------------------------------

def backup(engine: Engine, path: str | Path, *, key=None, actor: str = "system") -> BackupInfo:
    """Write every table to one file (a consistent snapshot: one read transaction), signed when ``key`` is
    given, and record the backup in the audit trail.

    The tables are those of the database's schema revision (the command line backs up only a database at
    the newest revision; an older one is what the software of that revision wrote).
    """
    from assessment.storage.db import current_revision

    revision = current_revision(engine)
    if revision is None:
        raise StorageError("the database has no schema yet: nothing to back up")
    path = Path(path)
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    tables: dict[str, dict[str, Any]] = {}
    tmp = path.with_name(path.name + ".partial")
    with engine.connect() as connection, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        # One snapshot for every table, while the app keeps writing. (SQLite: the engine begins a read
        # transaction at the first statement, see storage/db.py.)
        if engine.dialect.name == "postgresql":
            connection.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        for table in _schema_at(revision):
            names = [c.name for c in table.columns]
            digest, size, count = hashlib.sha256(), 0, 0
            with archive.open(_member(table.name), "w", force_zip64=True) as out:
                result = connection.execute(select(*table.columns).order_by(*table.primary_key.columns))
                for rows in result.yield_per(CHUNK).partitions():
                    block = "".join(json.dumps([_plain(v) for v in row], ensure_ascii=False, separators=(",", ":"))
                                    + "\n" for row in rows).encode("utf-8")
                    digest.update(block)
                    out.write(block)
                    size += len(block)
                    count += len(rows)
            tables[table.name] = {"columns": names, "rows": count, "bytes": size, "sha256": digest.hexdigest()}
        manifest = json.dumps({"format": BACKUP_FORMAT, "revision": revision, "created_at": created,
                               "dialect": engine.dialect.name, "tables": tables}, indent=2).encode("utf-8")
        archive.writestr(MANIFEST, manifest)
        signed = _secret(key) is not None
        if signed:
            archive.writestr(SIGNATURE, sign_manifest(manifest, key) + "\n")
    tmp.replace(path)
    counts = {name: t["rows"] for name, t in tables.items()}
    with Session(engine) as session, session.begin():
        audit(session, actor, "backup", "database", path.name[:120], revision=revision, signed=signed,
              rows=sum(counts.values()), sha256=hashlib.sha256(manifest).hexdigest())
    return BackupInfo(str(path), revision, created, counts, signed)


# -- restore: what the file must look like -----------------------------------------------------------------

@dataclass(frozen=True)
class _Plan:
    """A backup whose names, signature, manifest and sizes were checked; its members are not read yet."""

    name: str
    revision: str
    created_at: str
    signed: bool
    tables: dict[str, dict[str, Any]]  # in foreign-key order
    members: dict[str, zipfile.ZipInfo]
    schema: dict[str, Table]  # the tables of the backup's revision


def _unsafe_name(name: str) -> bool:
    """A member name that is a path (zip-slip), absolute, a drive, a folder or holds a NUL."""
    parts = name.replace("\\", "/").split("/")
    return (not name or name.startswith(("/", "\\")) or "\\" in name or ":" in name or "\x00" in name
            or any(part in ("", ".", "..") for part in parts) or len(parts) > 1)


def _open(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError) as exc:
        raise BackupRefused(f"{path.name} is not a readable backup: the file is damaged, truncated or not a zip "
                            f"archive ({exc})") from exc
    except OSError as exc:
        raise BackupRefused(f"cannot read {path}: {exc.strerror or exc}") from exc


def _read_small(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, name: str) -> bytes:
    if info.file_size > limit:
        raise BackupRefused(f"{name}: {info.filename} is {info.file_size:,} bytes, more than the {limit:,} it may be")
    try:
        with archive.open(info) as raw:
            data = raw.read(limit + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise BackupRefused(f"{name}: {info.filename} is damaged ({exc})") from exc
    if len(data) > limit:
        raise BackupRefused(f"{name}: {info.filename} is larger than the {limit:,} bytes it may be")
    return data


def _check_names(archive: zipfile.ZipFile, name: str) -> dict[str, zipfile.ZipInfo]:
    members: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        member = info.filename
        if _unsafe_name(member):
            raise BackupRefused(f"{name}: member {member!r} has an unsafe name (a path, a folder or an absolute "
                                "name; a backup holds only plain file names)")
        if member in members:
            raise BackupRefused(f"{name}: member {member!r} appears twice")
        if info.flag_bits & 0x1:
            raise BackupRefused(f"{name}: member {member!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise BackupRefused(f"{name}: member {member!r} uses a compression method backups never use")
        members[member] = info
    if MANIFEST not in members:
        raise BackupRefused(f"{name} is not a backup made by `assessment backup` (no {MANIFEST})")
    return members


def _check_signature(manifest: bytes, signature: bytes | None, key, name: str, accept_unsigned: bool) -> bool:
    """True when the manifest is signed with ``key``; otherwise refuse unless ``accept_unsigned``."""
    secret = _secret(key)
    if signature is None:
        problem = (f"{name} is not signed (it was made without ASSESSMENT_BACKUP_KEY), so nothing shows it is "
                   "the file `assessment backup` wrote")
    elif secret is None:
        problem = (f"{name} is signed, but ASSESSMENT_BACKUP_KEY is not set here, so its signature cannot be "
                   "checked: set the key the backup was made with")
    else:
        expected = hmac.new(secret, manifest, hashlib.sha256).hexdigest()
        if hmac.compare_digest(expected.encode("ascii"), signature.strip()):
            return True
        problem = (f"{name}: the signature does not match ASSESSMENT_BACKUP_KEY: the backup was changed after it "
                   "was made, or signed with another key")
    if accept_unsigned:
        return False
    raise UnsignedBackup(problem + ". Nothing was restored. Restore an unverified backup only if you made it "
                         "yourself and kept it safe, with --accept-unsigned (accept_unsigned=True).")


def _known_revisions() -> tuple[set[str], str]:
    scripts = _scripts()
    return {script.revision for script in scripts.walk_revisions()}, scripts.get_current_head()


def _check_manifest(data: bytes, name: str) -> dict:
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BackupRefused(f"{name}: {MANIFEST} is not valid JSON ({exc})") from exc
    if not isinstance(manifest, dict):
        raise BackupRefused(f"{name}: {MANIFEST} is not a JSON object")
    if manifest.get("format") != BACKUP_FORMAT:
        hint = (" (a backup from an older version, without checksums: restore it with that version, then back "
                "up again)" if manifest.get("format") == "partnership-assessment-backup/1" else "")
        raise BackupRefused(f"{name}: unsupported backup format {manifest.get('format')!r}, expected "
                            f"{BACKUP_FORMAT}{hint}")
    revision = manifest.get("revision")
    known, _head = _known_revisions()
    if not isinstance(revision, str) or not REVISION_PATTERN.match(revision) or revision not in known:
        raise BackupRefused(f"{name}: the backup's schema revision {revision!r} is unknown to this version of the "
                            f"software (it knows {', '.join(sorted(known))}): restore it with the version that "
                            "made it")
    if not isinstance(manifest.get("created_at"), str):
        raise BackupRefused(f"{name}: {MANIFEST} has no created_at time")
    tables = manifest.get("tables")
    if not isinstance(tables, dict) or not tables:
        raise BackupRefused(f"{name}: {MANIFEST} lists no tables")
    models = {table.name: table for table in _schema_at(revision)}
    for table_name, entry in tables.items():
        where = f"{name}: {MANIFEST}, table {table_name!r}"
        if table_name not in models:
            raise BackupRefused(f"{where} is not a table of this version of the software at schema revision {revision}")
        if not isinstance(entry, dict) or set(entry) != {"columns", "rows", "bytes", "sha256"}:
            raise BackupRefused(f"{where} must have exactly columns, rows, bytes and sha256")
        columns = entry["columns"]
        if (not isinstance(columns, list) or not all(isinstance(c, str) for c in columns)
                or len(set(columns)) != len(columns)):
            raise BackupRefused(f"{where}: columns must be a list of distinct names")
        unknown = [c for c in columns if c not in models[table_name].columns]
        if unknown:
            raise BackupRefused(f"{where} has unknown columns {unknown}")
        absent = [c.name for c in models[table_name].columns if c.name not in columns]
        if absent:
            raise BackupRefused(f"{where} lacks columns {absent}")
        for field in ("rows", "bytes"):
            if type(entry[field]) is not int or entry[field] < 0:
                raise BackupRefused(f"{where}: {field} must be a whole number >= 0")
        if not isinstance(entry["sha256"], str) or not re.fullmatch(r"[0-9a-f]{64}", entry["sha256"]):
            raise BackupRefused(f"{where}: sha256 must be 64 lower-case hex digits")
    if missing := [t for t in models if t not in tables]:
        raise BackupRefused(f"{name}: {MANIFEST} lacks tables {missing} of schema revision {revision}")
    manifest["tables"] = {t: tables[t] for t in models if t in tables}  # foreign-key order
    return manifest


def _inspect(archive: zipfile.ZipFile, name: str, key, accept_unsigned: bool, max_member_bytes: int,
             max_total_bytes: int) -> _Plan:
    """Names, signature, manifest and declared sizes: everything that can be checked without the rows."""
    members = _check_names(archive, name)
    manifest_bytes = _read_small(archive, members[MANIFEST], MAX_MANIFEST_BYTES, name)
    signature = (_read_small(archive, members[SIGNATURE], MAX_SIGNATURE_BYTES, name)
                 if SIGNATURE in members else None)
    signed = _check_signature(manifest_bytes, signature, key, name, accept_unsigned)
    manifest = _check_manifest(manifest_bytes, name)
    tables = manifest["tables"]
    expected = {MANIFEST, SIGNATURE} | {_member(t) for t in tables}
    unknown = sorted(set(members) - expected)
    if unknown:
        raise BackupRefused(f"{name}: unknown member {unknown[0]!r} (a backup holds {MANIFEST}, {SIGNATURE} and one "
                            "<table>.jsonl per table of its manifest)")
    missing = [_member(t) for t in tables if _member(t) not in members]
    if missing:
        raise BackupRefused(f"{name}: member {missing[0]} is missing (the manifest lists table "
                            f"{missing[0].removesuffix('.jsonl')})")
    total = 0
    for table_name in tables:
        info = members[_member(table_name)]
        if info.file_size > max_member_bytes:
            raise BackupRefused(f"{name}: {info.filename} would expand to {info.file_size:,} bytes, more than the "
                                f"limit of {max_member_bytes:,} per table: refused without expanding it")
        total += info.file_size
        if total > max_total_bytes:
            raise BackupRefused(f"{name}: the tables would expand to more than the limit of {max_total_bytes:,} "
                                "bytes in all: refused without expanding them")
    for table_name, entry in tables.items():
        info = members[_member(table_name)]
        if info.file_size != entry["bytes"]:
            raise BackupRefused(f"{name}: {info.filename} holds {info.file_size:,} bytes but the manifest says "
                                f"{entry['bytes']:,}")
    return _Plan(name, manifest["revision"], manifest["created_at"], signed, tables,
                 {t: members[_member(t)] for t in tables},
                 {table.name: table for table in _schema_at(manifest["revision"])})


def _lines(archive: zipfile.ZipFile, info: zipfile.ZipInfo, digest, name: str) -> Iterator[tuple[int, bytes, bool]]:
    """The member's lines ``(number, line without its end, complete)``, read in chunks into ``digest``.

    Memory stays at one chunk plus one line: a line longer than ``MAX_ROW_BYTES`` is refused as soon as it
    is, and the zip module stops at the member's declared size (already checked against the limits). The
    last line is incomplete when the member does not end with a line end (a cut-short file).
    """
    number, pending = 0, b""
    try:
        with archive.open(info) as raw:
            while chunk := raw.read(READ_BYTES):
                digest.update(chunk)
                pieces = (pending + chunk).split(b"\n")
                pending = pieces.pop()
                for line in pieces:
                    number += 1
                    yield number, line, True
                if len(pending) > MAX_ROW_BYTES:
                    raise BackupRefused(f"{name}: {info.filename} line {number + 1} is longer than the "
                                        f"{MAX_ROW_BYTES:,} bytes a row may be")
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise BackupRefused(f"{name}: {info.filename} is damaged ({exc})") from exc
    if pending:
        yield number + 1, pending, False


# -- restore: every value and key -------------------------------------------------------------------------------

def _no_constant(word: str):
    raise ValueError(f"{word} is not a JSON number")


def _text_problem(value: str, column: str, limit: int | None) -> str | None:
    if "\x00" in value:
        return f"{column} holds a NUL character, which PostgreSQL cannot store"
    if limit is not None and len(value) > limit:
        return f"{column} is {len(value):,} characters, longer than the {limit:,} it may be"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return f"{column} holds a character that is not valid Unicode"
    return None


def _json_problem(value, column: str) -> str | None:
    """Strings anywhere inside a JSON value follow the text rules (no NUL, valid Unicode)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if problem := _text_problem(item, column, None):
                return problem
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def _value_check(table: Table, column):
    """A function ``value -> problem or None`` for one column, from its type."""
    name, nullable = column.name, column.nullable
    kind = column.type

    def check(value):
        if value is None:
            return None if nullable else f"{name} is empty (null), which the column does not allow"
        if isinstance(kind, Boolean):
            return None if type(value) is bool else f"{name} is not true or false"
        if isinstance(kind, Integer):
            if type(value) is not int:
                return f"{name} is not a whole number"
            low, high = INTEGER_RANGE
            return None if low <= value <= high else f"{name} {value} is outside the integer range"
        if isinstance(kind, Float):  # stored scores (Double): a finite number; a missing score is null
            if type(value) not in (int, float) or not math.isfinite(value):
                return f"{name} is not a finite number"
            return None
        if isinstance(kind, DateTime | Date):
            if not isinstance(value, str) or len(value) > 40:
                return f"{name} is not a date or time"
            try:
                parsed = (dt.datetime if isinstance(kind, DateTime) else dt.date).fromisoformat(value)
            except ValueError:
                return f"{name} is not a date or time"
            if isinstance(parsed, dt.datetime) and parsed.tzinfo is not None:
                return f"{name} has a time zone (times are stored as UTC without one)"
            return None
        if isinstance(kind, JSON):
            if not isinstance(value, dict):
                return f"{name} is not a JSON object"
            return _json_problem(value, name)
        if isinstance(kind, String):  # String and Text
            if not isinstance(value, str):
                return f"{name} is not text"
            generated = (table.name, name) in GENERATED_TEXT
            limit = kind.length or (None if generated else TEXT_COLUMN_LIMITS.get((table.name, name), MAX_TEXT_CHARS))
            if problem := _text_problem(value, name, limit):
                return problem
            if generated:
                try:
                    json.loads(value, parse_constant=_no_constant)
                except (ValueError, RecursionError):
                    return f"{name} is not valid JSON"
            return None
        raise TypeError(f"restore has no check for column {table.name}.{name} of type {kind!r}")

    return check


class _TableCheck:
    """Checks the rows of one table and remembers its keys for the tables that refer to it."""

    def __init__(self, table: Table, columns: list[str], keys: dict[tuple[str, str], set]) -> None:
        self.table, self.columns, self.keys = table, columns, keys
        position = {c: i for i, c in enumerate(columns)}
        self.checks = [_value_check(table, table.columns[c]) for c in columns]
        self.primary = [position[c.name] for c in table.primary_key.columns]
        uniques = {tuple(position[c.name] for c in constraint.columns) for constraint in table.constraints
                   if isinstance(constraint, UniqueConstraint) and all(c.name in position for c in constraint.columns)}
        uniques |= {(position[c.name],) for c in table.columns if c.unique and c.name in position}
        self.uniques = sorted(uniques)
        self.seen: list[set] = [set() for _ in [self.primary, *self.uniques]]
        self.foreign = [(position[fk.parent.name], fk.parent.name, fk.column.table.name, fk.column.name)
                        for fk in table.foreign_keys if fk.parent.name in position]
        # Columns other tables refer to: their values are kept for the foreign-key check.
        self.referred = [(position[c], c) for (t, c) in keys if t == table.name and c in position]

    def problem(self, line: bytes, complete: bool) -> str | None:
        if not complete:
            return "cut short (the file does not end with a line end)"
        try:
            values = json.loads(line.decode("utf-8"), parse_constant=_no_constant)
        except UnicodeDecodeError:
            return "not valid UTF-8"
        except (ValueError, RecursionError):
            return "not valid JSON"
        if not isinstance(values, list) or len(values) != len(self.columns):
            return f"not a list of {len(self.columns)} values ({', '.join(self.columns)})"
        for check, value in zip(self.checks, values, strict=True):
            if problem := check(value):
                return problem
        for index, (columns, seen) in enumerate(zip([self.primary, *self.uniques], self.seen, strict=True)):
            key = tuple(values[i] for i in columns)
            if index and None in key:
                continue  # SQL: rows whose unique key has a null never clash
            if key in seen:
                names = ", ".join(self.columns[i] for i in columns)
                shown = ", ".join(str(v)[:40] for v in key)
                return f"duplicate key: ({names}) = ({shown}) appears twice"
            seen.add(key)
        for position, column, parent, parent_column in self.foreign:
            value = values[position]
            if value is not None and value not in self.keys.get((parent, parent_column), ()):
                return f"{column} {value} refers to no row of {parent} ({parent_column})"
        for position, column in self.referred:
            self.keys[(self.table.name, column)].add(values[position])
        return None


def _verify(archive: zipfile.ZipFile, plan: _Plan) -> None:
    """Stream every member once: SHA-256, row count and every row. Nothing is written."""
    tables = plan.schema
    keys: dict[tuple[str, str], set] = {(fk.column.table.name, fk.column.name): set()
                                        for t in plan.tables for fk in tables[t].foreign_keys}
    for table_name, entry in plan.tables.items():
        info = plan.members[table_name]
        checker = _TableCheck(tables[table_name], entry["columns"], keys)
        digest, count, first = hashlib.sha256(), 0, None
        for number, line, complete in _lines(archive, info, digest, plan.name):
            count = number
            if first is None and (problem := checker.problem(line, complete)):
                first = f"{plan.name}: {info.filename} line {number}: {problem}"
        if digest.hexdigest() != entry["sha256"]:
            raise BackupRefused(f"{plan.name}: {info.filename} does not match the checksum (SHA-256) in the "
                                "manifest: the file was damaged or changed")
        if count != entry["rows"]:
            raise BackupRefused(f"{plan.name}: {info.filename} holds {count:,} rows but the manifest says "
                                f"{entry['rows']:,}")
        if first:
            raise BackupRefused(first)


# -- restore: the one transaction --------------------------------------------------------------------------------

def _check_empty(connection: Connection) -> None:
    """Refuse anything but an empty database (at whatever revision it is); the shipped forces alone are
    removed (the backup has them)."""
    meta = MetaData()
    meta.reflect(connection)
    occupied = []
    for table in meta.sorted_tables:
        if table.name == "alembic_version":
            continue
        count = connection.scalar(select(func.count()).select_from(table)) or 0
        if table.name == "organisations":
            count -= connection.scalar(select(func.count()).select_from(table)
                                       .where(table.c.reference.is_(True))) or 0
        if count:
            occupied.append(f"{table.name} ({count} rows)")
    if occupied:
        raise Conflict("restore needs an empty database, but this one holds data: " + ", ".join(occupied)
                       + ". Point ASSESSMENT_DATABASE_URL at a new, empty database.")
    if "organisations" in meta.tables:
        connection.execute(delete(OrganisationRow).where(OrganisationRow.reference.is_(True)))


def _to_revision(connection: Connection, revision: str) -> None:
    """Bring the target database's schema to the backup's revision: create it, or move an empty database
    (e.g. one the app created at the newest revision) up or down to it."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    from assessment.storage.db import alembic_config

    current = MigrationContext.configure(connection).get_current_revision()
    if current is not None:
        _check_empty(connection)  # before any migration touches it
    if current == revision:
        return
    order = [script.revision for script in _scripts().walk_revisions()]  # newest first
    if current is not None and current not in order:
        raise BackupRefused(f"the target database is at schema revision {current!r}, which this version of the "
                            "software does not know (a newer version made it): restore into a new, empty database")
    if current is not None and order.index(revision) > order.index(current):
        command.downgrade(alembic_config(connection), revision)  # an empty schema: nothing to move
    else:
        command.upgrade(alembic_config(connection), revision)


def _scripts():
    from alembic.script import ScriptDirectory

    from assessment.storage.db import alembic_config

    return ScriptDirectory.from_config(alembic_config())


@contextlib.contextmanager
def _sqlite_foreign_keys_deferred(connection: Connection):
    """SQLite: foreign keys are not enforced during the restore transaction and checked before it commits.

    Upgrading an older backup rebuilds tables (Alembic batch mode: copy, DROP, rename); with enforcement
    on, the DROP would delete or refuse the rows that refer to the table. The pragma only takes effect
    outside a transaction, so it is set before the transaction begins and set back afterwards; every
    foreign key of the backup was already checked row by row, and ``PRAGMA foreign_key_check`` checks the
    result before the commit.
    """
    with sqlite_foreign_keys_off(connection):
        yield


def _check_foreign_keys(connection: Connection, name: str) -> None:
    if connection.dialect.name != "sqlite":
        return  # PostgreSQL enforced every key as the rows went in
    problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if problems:
        table, rowid, parent, _ = problems[0]
        raise BackupRefused(f"{name}: after loading, {len(problems)} row(s) refer to rows that do not exist (first: "
                            f"table {table}, row {rowid}, referring to {parent})")


def _converter(column):
    if isinstance(column.type, DateTime):
        return lambda v: None if v is None else dt.datetime.fromisoformat(v)
    if isinstance(column.type, Date):
        return lambda v: None if v is None else dt.date.fromisoformat(v)
    return None


def _insert(connection: Connection, archive: zipfile.ZipFile, plan: _Plan, table: Table) -> int:
    """Insert one table's rows (read again, checksum again: the file may not change under the restore)."""
    entry, info = plan.tables[table.name], plan.members[table.name]
    names = entry["columns"]
    converters = [(i, c) for i, n in enumerate(names) if (c := _converter(table.columns[n]))]
    revoke = names.index("revoked") if table.name == "invitations" else None
    digest, batch, loaded = hashlib.sha256(), [], 0
    for _number, line, _complete in _lines(archive, info, digest, plan.name):
        values = json.loads(line)
        for i, convert in converters:
            values[i] = convert(values[i])
        if revoke is not None:
            values[revoke] = True  # never a working invite link from a file
        batch.append(dict(zip(names, values, strict=True)))
        if len(batch) >= CHUNK:
            loaded += len(batch)
            connection.execute(table.insert(), batch)
            batch = []
    if batch:
        loaded += len(batch)
        connection.execute(table.insert(), batch)
    if digest.hexdigest() != entry["sha256"]:
        raise BackupRefused(f"{plan.name}: {info.filename} changed while it was being restored")
    return loaded


def _move_sequences(connection: Connection) -> None:
    for table in Base.metadata.sorted_tables:
        pk = list(table.primary_key.columns)
        if len(pk) == 1 and isinstance(pk[0].type, Integer) and pk[0].autoincrement in (True, "auto"):
            connection.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "
                f"COALESCE(MAX({pk[0].name}), 1), MAX({pk[0].name}) IS NOT NULL) FROM {table.name}"))


def _load(engine: Engine, archive: zipfile.ZipFile, plan: _Plan,
          actor: str) -> tuple[dict[str, int], int, str | None]:
    from alembic import command

    from assessment.storage.db import alembic_config, head_revision, write_engine

    head = head_revision()
    tables = plan.schema
    with write_engine(engine).connect() as connection, _sqlite_foreign_keys_deferred(connection):
        transaction = connection.begin()  # SQLite: BEGIN IMMEDIATE, the write lock from the start
        try:
            _to_revision(connection, plan.revision)  # transactional DDL on both engines
            _check_empty(connection)
            loaded = {}
            for table_name in plan.tables:
                try:
                    loaded[table_name] = _insert(connection, archive, plan, tables[table_name])
                except DBAPIError as exc:  # the database's own constraints: a second line behind _verify
                    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
                    raise BackupRefused(f"{plan.name}: the database refused {_member(table_name)} ({reason})") from exc
            stored = {t: connection.scalar(select(func.count()).select_from(tables[t])) for t in plan.tables}
            if stored != loaded:
                raise BackupRefused(f"{plan.name}: the database holds {stored} rows after loading {loaded}")
            upgraded_to = None
            if plan.revision != head:
                try:
                    command.upgrade(alembic_config(connection), "head")
                except Exception as exc:
                    raise BackupRefused(
                        f"{plan.name}: the backup is at schema revision {plan.revision}; its rows were checked and "
                        f"loaded, but upgrading them to this software's schema ({head}) failed ({exc}). Nothing was "
                        f"restored. Restore it with the version of the software that made it (schema revision "
                        f"{plan.revision}) into an empty database, then run `assessment db upgrade` there to see "
                        "which migration fails.") from exc
                upgraded_to = head
            _check_foreign_keys(connection, plan.name)
            if engine.dialect.name == "postgresql":
                _move_sequences(connection)
            revoked = loaded.get("invitations", 0)
            with Session(bind=connection) as session:
                audit(session, actor, "restore", "database", plan.name[:120], revision=plan.revision,
                      created_at=plan.created_at, signed=plan.signed, rows=sum(loaded.values()),
                      invitations_revoked=revoked, **({"upgraded_to": upgraded_to} if upgraded_to else {}))
            transaction.commit()
        except BaseException:
            transaction.rollback()
            raise
    return stored, revoked, upgraded_to


def restore(engine: Engine, path: str | Path, *, key=None, accept_unsigned: bool = False, actor: str = "system",
            max_member_bytes: int = MAX_MEMBER_BYTES, max_total_bytes: int = MAX_TOTAL_BYTES) -> RestoreReport:
    """Check a backup completely, then load it into an empty database (any engine) and upgrade it to the
    newest schema, all in one transaction.

    A backup made at an older schema revision (e.g. before the typed score tables, 0008) is loaded into the
    schema of its revision and then upgraded by the migrations, which move its data forward; if that
    fails, nothing is written and the message names the revision.

    Parameters
    ----------
    key : str or SecretStr, optional
        ``ASSESSMENT_BACKUP_KEY``: the backup's manifest must carry its HMAC-SHA256 signature.
    accept_unsigned : bool
        Restore a backup that is unsigned, wrongly signed, or cannot be checked for want of a key.
    actor : str
        Who restores (recorded in the audit trail of the restored database).

    Raises
    ------
    BackupRefused
        (a ``StorageError``) naming the file, the member, the line and what is wrong; nothing was written.
    Conflict
        The database holds data.
    """
    path = Path(path)
    with _open(path) as archive:
        plan = _inspect(archive, path.name, key, accept_unsigned, max_member_bytes, max_total_bytes)
        _verify(archive, plan)
        stored, revoked, upgraded_to = _load(engine, archive, plan, actor)
    return RestoreReport(str(path), plan.revision, plan.created_at, stored, plan.signed, revoked, upgraded_to)
