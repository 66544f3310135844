"""Restore trusts nothing in the file (issue 11, defect 4), on SQLite and PostgreSQL.

A real backup of a small populated database is taken on each engine, then bent into a corpus of crafted
backups: cut short, padded, wrong counts and checksums, missing and unknown members, a wrong schema
revision, zip-slip and absolute names, a zip bomb, broken foreign keys, duplicate keys, invalid JSON, NUL
bytes, a planted invitation, oversized rows, a forged manifest that agrees with itself but lacks the key.
Each is refused with its own message, and every table of the target database hashes the same afterwards.
A sound backup restores every table exactly (invitations revoked, the restore in the audit trail), within
an engine and from SQLite to PostgreSQL and back.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import tracemalloc
import warnings
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import inspect

from assessment.questionnaire import load_questionnaire
from assessment.storage import services as s
from assessment.storage.backup import (
    MANIFEST,
    MAX_MEMBER_BYTES,
    MAX_TEXT_CHARS,
    SIGNATURE,
    BackupRefused,
    UnsignedBackup,
    backup,
    restore,
    sign_manifest,
)
from assessment.storage.db import make_engine, make_session_factory, upgrade
from assessment.storage.imports import import_responses
from assessment.storage.invitations import InvalidInvitation, hash_token
from assessment.storage.limits import COMMENT_LIMIT
from tests.conftest import MINI_DIR
from tests.integration.conftest import ADMIN, _responses_csv, dump_tables

KEY = "test-backup-key-4b1f0c9e2d7a8b6c5e3f1a0d9c8b7a6e"
OTHER_KEY = "another-deployments-key-000000000000000000"
PLANTED_TOKEN = "planted-token-that-the-attacker-knows"


# -- a small populated database and its backup, once per engine ---------------------------------------------

def _populate(engine) -> None:
    """A bit of everything: two questionnaire versions, partnerships and a peer group, a closed round with
    scores, an open round with invitations, a respondent part-way through, audit events."""
    v1, v2 = load_questionnaire(MINI_DIR / "1.0.0.yaml"), load_questionnaire(MINI_DIR / "1.1.0.yaml")
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        s.publish_questionnaire(session, v1, actor=ADMIN)
        s.publish_questionnaire(session, v2, actor=ADMIN)
        s.add_organisation(session, "kmpt", "Kent and Medway Mental Health NHS Trust", kind="mental_health_trust",
                           nation="England", region="South East", actor=ADMIN)
        s.add_partnership(session, "kent", "Kent and Medway crisis care partnership", members=["kent", "kmpt"],
                          groups=["coastal"], share_practice=True, actor=ADMIN)
        s.add_partnership(session, "gwent", "Gwent crisis care partnership", members=["gwent"], actor=ADMIN)
        s.create_round(session, "kent", "2026-H1", questionnaire=v1.id, version="1.0.0", actor=ADMIN)
        import_responses(session, "kent-2026-h1", _responses_csv().encode(), actor=ADMIN)
        s.open_round(session, "kent-2026-h1", actor=ADMIN)
        s.close_round(session, "kent-2026-h1", actor=ADMIN)
        s.create_round(session, "kent", "2026-H2", questionnaire=v2.id, version="1.1.0", actor=ADMIN)
        s.open_round(session, "kent-2026-h2", actor=ADMIN)
        links = s.create_invitations(session, "kent-2026-h2", "police", 2, actor=ADMIN, base_url="https://x")
    with sessions.begin() as session:
        who = s.start_respondent(session, links[0].split("invite=")[1])
        s.save_answer(session, "kent-2026-h2", who.respondent, "governance.joint_board", "4", "=1+1 café ✓")


class Source:
    """A populated database on one engine, its table dump and a signed backup of it."""

    def __init__(self, engine, folder: Path) -> None:
        upgrade(engine)
        _populate(engine)
        self.engine = engine
        self.dump = dump_tables(engine)
        self.info = backup(engine, folder / f"source-{engine.dialect.name}.zip", key=KEY, actor=ADMIN)
        self.data = Path(self.info.path).read_bytes()


@pytest.fixture(scope="module")
def sources(tmp_path_factory, postgres_server):
    """``sources(kind)`` -> the populated source database of that engine (built once per module)."""
    made: dict[str, Source] = {}
    folder = tmp_path_factory.mktemp("sources")

    def get(kind: str) -> Source:
        if kind not in made:
            url = (f"sqlite:///{(folder / 'source.db').as_posix()}" if kind == "sqlite"
                   else postgres_server.create())
            made[kind] = Source(make_engine(url), folder)
        return made[kind]

    yield get
    for source in made.values():
        source.engine.dispose()


# -- crafting backups ----------------------------------------------------------------------------------------

class Crafted:
    """A backup's members, to be bent and written back as a zip (names and order kept as given)."""

    def __init__(self, data: bytes) -> None:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            self.members: list[tuple[str, bytes]] = [(i.filename, archive.read(i)) for i in archive.infolist()]

    def get(self, name: str) -> bytes:
        return next(content for member, content in self.members if member == name)

    def put(self, name: str, content: bytes) -> Crafted:
        self.members = [(m, content if m == name else c) for m, c in self.members]
        return self

    def add(self, name: str, content: bytes) -> Crafted:
        self.members.append((name, content))
        return self

    def drop(self, name: str) -> Crafted:
        self.members = [(m, c) for m, c in self.members if m != name]
        return self

    @property
    def manifest(self) -> dict:
        return json.loads(self.get(MANIFEST))

    def rows(self, table: str) -> list[list]:
        return [json.loads(line) for line in self.get(f"{table}.jsonl").decode("utf-8").splitlines()]

    def put_rows(self, table: str, rows: list[list], *, reseal: bool = True, key: str | None = KEY) -> Crafted:
        """Replace a table's rows; ``reseal`` updates the manifest (checksum, count, size) and signs it
        with ``key`` (None keeps the old signature: a forger without the key)."""
        content = "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in rows)
        return self.put_member(table, content.encode("utf-8"), reseal=reseal, key=key)

    def put_member(self, table: str, content: bytes, *, reseal: bool = True, key: str | None = KEY,
                   rows: int | None = None) -> Crafted:
        self.put(f"{table}.jsonl", content)
        if reseal:
            def update(manifest: dict) -> None:
                manifest["tables"][table].update(
                    sha256=hashlib.sha256(content).hexdigest(), bytes=len(content),
                    rows=content.count(b"\n") if rows is None else rows)
            self.edit_manifest(update, key=key)
        return self

    def edit_manifest(self, change: Callable[[dict], None], *, key: str | None = KEY) -> Crafted:
        manifest = self.manifest
        change(manifest)
        data = json.dumps(manifest, indent=2).encode("utf-8")
        self.put(MANIFEST, data)
        if key is not None:
            self.drop(SIGNATURE).add(SIGNATURE, (sign_manifest(data, key) + "\n").encode())
        return self

    def zip(self) -> bytes:
        buffer = io.BytesIO()
        with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            warnings.simplefilter("ignore", UserWarning)  # a duplicate name is one of the crafted cases
            for name, content in self.members:
                archive.writestr(zipfile.ZipInfo(name), content, compress_type=zipfile.ZIP_DEFLATED)
        return buffer.getvalue()


def _raw_zip(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip written by hand from ``(name, deflated data, crc32, uncompressed size)``: for members whose
    uncompressed form is too large to build in a test (the zip module would have to expand them)."""
    out, central = io.BytesIO(), io.BytesIO()
    for name, data, crc, size in members:
        offset, encoded = out.tell(), name.encode("utf-8")
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), size, len(encoded), 0))
        out.write(encoded + data)
        central.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(data), size,
                                  len(encoded), 0, 0, 0, 0, 0, offset))
        central.write(encoded)
    start, directory = out.tell(), central.getvalue()
    out.write(directory)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(directory), start, 0))
    return out.getvalue()


def _deflate(content: bytes) -> tuple[bytes, int, int]:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(content) + packer.flush(), zlib.crc32(content), len(content)


@pytest.fixture(scope="module")
def zeros_member() -> tuple[bytes, int, int]:
    """1 GiB + 1 MiB of zeros deflated to about a megabyte: built by repeating one fully flushed block
    (each block after a full flush is the same bytes), never holding the zeros in memory."""
    mib = bytes(1 << 20)
    count = MAX_MEMBER_BYTES // len(mib) + 1
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = packer.compress(mib) + packer.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(mib, crc)
    return block * count + packer.flush(), crc, count * len(mib)


def _zip_bomb(data: bytes, zeros) -> bytes:
    crafted = Crafted(data)
    members = [(n, *_deflate(c)) for n, c in crafted.members if n != "answers.jsonl"]
    return _raw_zip([*members, ("answers.jsonl", *zeros)])


# -- the corpus --------------------------------------------------------------------------------------------------

def _answers_with(data: bytes, change: Callable[[list[list]], None], **options) -> bytes:
    crafted = Crafted(data)
    rows = crafted.rows("answers")
    change(rows)
    return crafted.put_rows("answers", rows, **options).zip()


def _set(rows: list[list], index: int, column: int, value) -> None:
    rows[index][column] = value


def _plant_invitation(data: bytes) -> bytes:
    """What an attacker would add: a token hash they know, many uses, far expiry; the manifest re-checksummed
    to agree with itself, but the attacker cannot re-sign it."""
    crafted = Crafted(data)
    rows = crafted.rows("invitations")
    planted = list(rows[0])
    columns = crafted.manifest["tables"]["invitations"]["columns"]
    planted[columns.index("id")] = max(r[0] for r in rows) + 1
    planted[columns.index("token_hash")] = hash_token(PLANTED_TOKEN)
    planted[columns.index("max_uses")] = 1000
    planted[columns.index("revoked")] = False
    planted[columns.index("expires_at")] = "2099-01-01T00:00:00"
    return crafted.put_rows("invitations", [*rows, planted], key=None).zip()


# Each case: (id, build(backup bytes, zeros member) -> crafted bytes, the refusal's message).
# Answers rows are [respondent_id, item, value, comment, updated_at].
CORPUS: list[tuple[str, Callable[[bytes, tuple], bytes], str]] = [
    ("truncated-file", lambda d, z: d[: len(d) // 2], "not a readable backup: the file is damaged, truncated"),
    ("empty-file", lambda d, z: b"", "not a readable backup"),
    ("not-a-zip", lambda d, z: b"partnership,round\nkent,kent-2026-h1\n", "not a readable backup"),
    ("truncated-member", lambda d, z: Crafted(d).put(
        "answers.jsonl", b"\n".join(Crafted(d).get("answers.jsonl").split(b"\n")[:3]) + b"\n").zip(),
     "answers.jsonl holds [0-9,]+ bytes but the manifest says"),
    ("truncated-member-resealed-count", lambda d, z: Crafted(d).put_member(
        "answers", b"\n".join(Crafted(d).get("answers.jsonl").split(b"\n")[:3]) + b"\n", rows=63).zip(),
     "answers.jsonl holds 3 rows but the manifest says 63"),
    ("padded-member", lambda d, z: Crafted(d).put("answers.jsonl", Crafted(d).get("answers.jsonl") + b" " * 64).zip(),
     "answers.jsonl holds [0-9,]+ bytes but the manifest says"),
    ("wrong-count", lambda d, z: Crafted(d).edit_manifest(
        lambda m: m["tables"]["answers"].update(rows=m["tables"]["answers"]["rows"] + 1)).zip(),
     r"answers.jsonl holds 64 rows but the manifest says 65"),
    ("bad-checksum", lambda d, z: Crafted(d).edit_manifest(
        lambda m: m["tables"]["respondents"].update(sha256=hashlib.sha256(b"other").hexdigest())).zip(),
     r"respondents.jsonl does not match the checksum \(SHA-256\) in the manifest"),
    ("same-size-other-bytes", lambda d, z: Crafted(d).put(
        "answers.jsonl", Crafted(d).get("answers.jsonl").replace(b'"4"', b'"1"', 1)).zip(),
     "answers.jsonl does not match the checksum"),
    ("missing-member", lambda d, z: Crafted(d).drop("answers.jsonl").zip(), "member answers.jsonl is missing"),
    ("missing-manifest", lambda d, z: Crafted(d).drop(MANIFEST).zip(), "not a backup made by `assessment backup`"),
    ("unknown-member", lambda d, z: Crafted(d).add("notes.txt", b"hello").zip(), "unknown member 'notes.txt'"),
    ("duplicate-member", lambda d, z: Crafted(d).add("answers.jsonl", Crafted(d).get("answers.jsonl")).zip(),
     "member 'answers.jsonl' appears twice"),
    ("wrong-schema-revision", lambda d, z: Crafted(d).edit_manifest(lambda m: m.update(revision="ffff0000beef")).zip(),
     "schema revision 'ffff0000beef' is unknown to this version"),
    ("old-format", lambda d, z: Crafted(d).edit_manifest(
        lambda m: m.update(format="partnership-assessment-backup/1")).zip(), "an older version, without checksums"),
    ("zip-slip", lambda d, z: Crafted(d).add("../../../tmp/evil.jsonl", b"[]\n").zip(), "has an unsafe name"),
    ("zip-slip-inside", lambda d, z: Crafted(d).add("answers/../../evil.jsonl", b"[]\n").zip(), "has an unsafe name"),
    ("absolute-name", lambda d, z: Crafted(d).add("/etc/cron.d/evil", b"* * * * * root id\n").zip(),
     "has an unsafe name"),
    ("windows-drive-name", lambda d, z: Crafted(d).add("C:\\evil.jsonl", b"[]\n").zip(), "has an unsafe name"),
    ("zip-bomb", _zip_bomb, r"answers.jsonl would expand to 1,074,790,400 bytes, more than the limit of "
                            r"1,073,741,824 per table: refused without expanding it"),
    ("unknown-table", lambda d, z: Crafted(d).edit_manifest(
        lambda m: m["tables"].update(shadow_users={"columns": ["id"], "rows": 0, "bytes": 0,
                                                   "sha256": hashlib.sha256(b"").hexdigest()})).zip(),
     "table 'shadow_users' is not a table of this version"),
    ("unknown-column", lambda d, z: Crafted(d).edit_manifest(
        lambda m: m["tables"]["answers"]["columns"].__setitem__(3, "remark")).zip(),
     r"table 'answers' has unknown columns \['remark'\]"),
    ("broken-foreign-key", lambda d, z: _answers_with(d, lambda r: _set(r, 5, 0, 999_999)),
     "answers.jsonl line 6: respondent_id 999999 refers to no row of respondents"),
    ("duplicate-key", lambda d, z: _answers_with(d, lambda r: r.insert(10, list(r[9]))),
     r"answers.jsonl line 11: duplicate key: \(respondent_id, item\) = \(\d+, [a-z_.]+\) appears twice"),
    ("duplicate-unique-key", lambda d, z: Crafted(d).put_rows("partnerships", [
        *Crafted(d).rows("partnerships"), [99, "kent", "A second Kent", "England", "South East", False, False,
                                           "2026-01-01T00:00:00"]]).zip(),
     r"partnerships.jsonl line 3: duplicate key: \(key\) = \(kent\) appears twice"),
    ("invalid-json", lambda d, z: Crafted(d).put_member("answers", Crafted(d).get("answers.jsonl").replace(
        b"\n", b"\n[1,\"governance.joint_board\",\n", 1)).zip(), "answers.jsonl line 2: not valid JSON"),
    ("nan-in-json", lambda d, z: Crafted(d).put_member("answers", Crafted(d).get("answers.jsonl").replace(
        b"\n", b"\n[NaN,\"x\",\"1\",\"\",\"2026-01-01T00:00:00\"]\n", 1)).zip(), "answers.jsonl line 2: not valid JSON"),
    ("invalid-utf8", lambda d, z: Crafted(d).put_member("answers", Crafted(d).get("answers.jsonl").replace(
        b'""', b'"\xff\xfe"', 1)).zip(), r"answers.jsonl line \d+: not valid UTF-8"),
    ("cut-short-line", lambda d, z: Crafted(d).put_member("answers", Crafted(d).get("answers.jsonl")[:-1],
                                                          rows=64).zip(),
     "answers.jsonl line 64: cut short"),
    ("wrong-width", lambda d, z: _answers_with(d, lambda r: r[0].pop()),
     r"answers.jsonl line 1: not a list of 5 values \(respondent_id, item, value, comment, updated_at\)"),
    ("wrong-type", lambda d, z: _answers_with(d, lambda r: _set(r, 0, 0, str(r[0][0]))),
     "answers.jsonl line 1: respondent_id is not a whole number"),
    ("integer-out-of-range", lambda d, z: _answers_with(d, lambda r: _set(r, 0, 0, 2**40)),
     "answers.jsonl line 1: respondent_id 1099511627776 is outside the integer range"),
    ("bad-time", lambda d, z: _answers_with(d, lambda r: _set(r, 0, 4, "yesterday")),
     "answers.jsonl line 1: updated_at is not a date or time"),
    ("null-in-required-column", lambda d, z: _answers_with(d, lambda r: _set(r, 0, 2, None)),
     r"answers.jsonl line 1: value is empty \(null\)"),
    ("nul-byte", lambda d, z: _answers_with(d, lambda r: _set(r, 2, 3, "see minutes\x00DROP TABLE answers")),
     "answers.jsonl line 3: comment holds a NUL character"),
    ("nul-byte-in-json-column", lambda d, z: Crafted(d).put_rows("audit_events", [
        [*r[:6], {"note\x00": 1}] if i == 0 else r for i, r in enumerate(Crafted(d).rows("audit_events"))]).zip(),
     "audit_events.jsonl line 1: detail holds a NUL character"),
    ("oversized-comment", lambda d, z: _answers_with(d, lambda r: _set(r, 0, 3, "x" * (COMMENT_LIMIT + 1))),
     "answers.jsonl line 1: comment is 10,001 characters, longer than the 10,000 it may be"),
    ("oversized-text", lambda d, z: Crafted(d).put_rows("peer_groups", [
        [*r[:2], "x" * (MAX_TEXT_CHARS + 1)] if i == 0 else r for i, r in enumerate(Crafted(d).rows("peer_groups"))]).zip(),
     "peer_groups.jsonl line 1: description is 100,001 characters, longer than the 100,000 it may be"),
    ("oversized-key", lambda d, z: _answers_with(d, lambda r: _set(r, 0, 2, "123456789")),
     "answers.jsonl line 1: value is 9 characters, longer than the 8 it may be"),
    ("text-for-a-stored-score", lambda d, z: Crafted(d).put_rows("score_partnerships", [
        [*r[:2], "high", *r[3:]] if i == 0 else r for i, r in enumerate(Crafted(d).rows("score_partnerships"))]).zip(),
     "score_partnerships.jsonl line 1: score is not a finite number"),
    ("planted-invitation", lambda d, z: _plant_invitation(d),
     "the signature does not match ASSESSMENT_BACKUP_KEY: the backup was changed after it was made"),
    ("forged-manifest-without-key", lambda d, z: _answers_with(
        d, lambda r: [_set(r, i, 2, "5") for i in range(len(r)) if r[i][2] in "1234"], key=None),
     "the signature does not match ASSESSMENT_BACKUP_KEY"),
    ("unsigned", lambda d, z: Crafted(d).drop(SIGNATURE).zip(), "is not signed .* with --accept-unsigned"),
    ("signed-with-another-key", lambda d, z: Crafted(d).edit_manifest(lambda m: None, key=OTHER_KEY).zip(),
     "the signature does not match ASSESSMENT_BACKUP_KEY"),
]


@pytest.mark.parametrize(("case", "build", "message"), CORPUS, ids=[c[0] for c in CORPUS])
def test_a_crafted_backup_is_refused_and_the_database_is_unchanged(case, build, message, db, sources, zeros_member,
                                                                  table_dump, tmp_path):
    source = sources(db.kind)
    path = tmp_path / f"{case}.zip"
    path.write_bytes(build(source.data, zeros_member))
    before = table_dump(db.engine)
    tracemalloc.start()
    try:
        with pytest.raises(BackupRefused, match=message) as refused:
            restore(db.engine, path, key=KEY, actor=ADMIN)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "\n" not in str(refused.value) and path.name in str(refused.value)
    assert peak < 64 << 20, f"restore held {peak:,} bytes while refusing {case}"
    assert table_dump(db.engine) == before


def test_the_corpus_covers_what_the_issue_lists():
    names = {case[0] for case in CORPUS}
    listed = {"truncated-file", "padded-member", "wrong-count", "bad-checksum", "missing-member", "unknown-member",
              "wrong-schema-revision", "zip-slip", "zip-bomb", "broken-foreign-key", "duplicate-key", "invalid-json",
              "nul-byte", "planted-invitation", "oversized-comment", "forged-manifest-without-key"}
    assert listed <= names and len(names) >= 15


def test_the_crafting_alone_breaks_nothing(db, sources, tmp_path):
    """The corpus is honest: a backup unpacked, re-signed and re-zipped by the same tools restores, so each
    refusal above comes from its one change."""
    source = sources(db.kind)
    path = tmp_path / "resealed.zip"
    crafted = Crafted(source.data)
    path.write_bytes(crafted.put_rows("answers", crafted.rows("answers")).zip())
    report = restore(db.engine, path, key=KEY)
    assert report.rows["answers"] == 64 and report.signed


# -- refusal leaves even a brand-new database without tables -----------------------------------------------------

def _new_target(kind: str, request, tmp_path):
    if kind == "sqlite":
        return make_engine(f"sqlite:///{(tmp_path / 'new.db').as_posix()}")
    return request.getfixturevalue("empty_postgres")


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_refusal_while_loading_rolls_back_the_schema_too(kind, sources, monkeypatch, request, tmp_path):
    """The schema, the rows and the audit record are one transaction: a refusal half-way through the
    tables (here forced at the answers, after eleven tables were inserted) leaves a new database empty."""
    from assessment.storage import backup as module

    source = sources(kind)
    path = tmp_path / "sound.zip"
    path.write_bytes(source.data)
    target = _new_target(kind, request, tmp_path)
    real_insert = module._insert

    def insert(connection, archive, plan, table):
        if table.name == "answers":
            raise BackupRefused("forced refusal while loading answers")
        return real_insert(connection, archive, plan, table)

    monkeypatch.setattr(module, "_insert", insert)
    with pytest.raises(BackupRefused, match="forced refusal"):
        restore(target, path, key=KEY)
    assert inspect(target).get_table_names() == []
    target.dispose()


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_database_that_holds_data_is_refused_and_unchanged(kind, sources, table_dump, tmp_path):
    source = sources(kind)
    path = tmp_path / "sound.zip"
    path.write_bytes(source.data)
    before = table_dump(source.engine)
    with pytest.raises(s.Conflict, match="restore needs an empty database"):
        restore(source.engine, path, key=KEY)
    assert table_dump(source.engine) == before


def test_the_total_size_limit_is_checked_before_reading(sources, db, table_dump, tmp_path):
    path = tmp_path / "sound.zip"
    path.write_bytes(sources(db.kind).data)
    before = table_dump(db.engine)
    with pytest.raises(BackupRefused, match="more than the limit of 1,000 bytes in all"):
        restore(db.engine, path, key=KEY, max_total_bytes=1_000)
    assert table_dump(db.engine) == before


# -- the planted invitation, accepted unsigned, still opens nothing ------------------------------------------------

def test_an_unsigned_backup_restores_only_when_accepted_and_its_invitations_are_revoked(db, sources, table_dump,
                                                                                       tmp_path):
    path = tmp_path / "planted.zip"
    path.write_bytes(_plant_invitation(sources(db.kind).data))
    before = table_dump(db.engine)
    with pytest.raises(UnsignedBackup, match="--accept-unsigned"):
        restore(db.engine, path, key=KEY)
    with pytest.raises(UnsignedBackup, match="ASSESSMENT_BACKUP_KEY is not set here"):
        restore(db.engine, path, key=None)
    assert table_dump(db.engine) == before

    report = restore(db.engine, path, key=KEY, accept_unsigned=True, actor=ADMIN)
    assert report.signed is False and report.invitations_revoked == 3
    with db.sessions() as session, pytest.raises(InvalidInvitation):
        s.resolve_invitation(session, PLANTED_TOKEN)
    restored = table_dump(db.engine)
    assert all(row[7] is True for row in restored["invitations"])  # revoked
    event = restored["audit_events"][-1]
    assert (event[2], event[3], event[4]) == (ADMIN, "restore", "database")
    assert event[6]["signed"] is False and event[6]["invitations_revoked"] == 3


# -- round trips -------------------------------------------------------------------------------------------------------

def _as_restored(dump: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """The source's tables as a restore must reproduce them: every invitation revoked."""
    revoked = [(*row[:7], True, *row[8:]) for row in dump["invitations"]]
    return dump | {"invitations": revoked}


def _check_round_trip(source: Source, target, report) -> None:
    restored = dump_tables(target)
    events = restored["audit_events"]
    assert events[:-1] == source.dump["audit_events"]
    assert (events[-1][2], events[-1][3], events[-1][6]["rows"]) == ("system", "restore",
                                                                      sum(source.info.rows.values()))
    assert restored | {"audit_events": events[:-1]} == _as_restored(source.dump)
    # the stored trend and peer figures (issue 17) come back exactly, with the fingerprint they were made under
    assert source.dump["trend_figures"] and source.dump["peer_figures"] and len(source.dump["figure_states"]) == 2
    assert report.rows == {table: len(rows) for table, rows in source.dump.items()} == source.info.rows
    assert report.signed and report.invitations_revoked == len(source.dump["invitations"]) > 0


@pytest.mark.parametrize(("from_kind", "to_kind"), [
    ("sqlite", "sqlite"),
    pytest.param("postgresql", "postgresql", marks=pytest.mark.postgres),
    pytest.param("sqlite", "postgresql", marks=pytest.mark.postgres),
    pytest.param("postgresql", "sqlite", marks=pytest.mark.postgres),
])
def test_backup_then_restore_reproduces_every_table(from_kind, to_kind, sources, request, tmp_path):
    source = sources(from_kind)
    assert all(source.dump[name] for name in ("answers", "score_partnerships", "score_item_counts", "invitations", "audit_events",
                                              "peer_group_members", "questionnaire_versions"))
    path = tmp_path / "backup.zip"
    path.write_bytes(source.data)
    target = _new_target(to_kind, request, tmp_path)
    report = restore(target, path, key=KEY)
    _check_round_trip(source, target, report)

    # The restored database keeps working: new ids continue after the restored ones.
    with make_session_factory(target).begin() as session:
        s.add_partnership(session, "essex", "Essex crisis care partnership", members=["essex"], actor=ADMIN)
        assert len(s.list_partnerships(session)) == 3
    target.dispose()


def test_backup_is_recorded_in_the_audit_trail_and_signed(db, tmp_path, table_dump):
    _populate(db.engine)
    signed = backup(db.engine, tmp_path / "signed.zip", key=KEY, actor=ADMIN)
    unsigned = backup(db.engine, tmp_path / "unsigned.zip", actor="cli:someone")
    events = [e for e in table_dump(db.engine)["audit_events"] if e[3] == "backup"]
    assert [(e[2], e[5], e[6]["signed"]) for e in events] == [(ADMIN, "signed.zip", True),
                                                              ("cli:someone", "unsigned.zip", False)]
    assert signed.signed and not unsigned.signed
    with zipfile.ZipFile(unsigned.path) as archive:
        assert SIGNATURE not in archive.namelist()
    with zipfile.ZipFile(signed.path) as archive:
        manifest = archive.read(MANIFEST)
        assert archive.read(SIGNATURE).decode().strip() == sign_manifest(manifest, KEY)
        assert json.loads(manifest)["tables"]["answers"]["rows"] == len(table_dump(db.engine)["answers"])


# -- a backup made at an older schema revision (before the typed score tables, 0008) ------------------------------

BEFORE_TYPED_SCORES = "0007"
SCORE_TABLES = ("score_rounds", "score_respondents", "score_agencies", "score_partnerships", "score_overall",
                "score_items", "score_item_counts")


def _comparable(dump: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """Tables to compare after an upgrade: without the audit trail, and without the time stored figures were
    computed (the upgrade computes them again; kind, fingerprint and options must agree)."""
    return dump | {"audit_events": [], "figure_states": [row[:3] for row in dump.get("figure_states", [])]}


@pytest.fixture(scope="module")
def old_backups(tmp_path_factory, postgres_server):
    """``old_backups(kind)`` -> (tables at the newest revision, a backup of the same data made at 0007).

    The data is made at the newest revision, then the database is migrated down to 0007 (the round's
    scores become the JSON ``score_frames`` that revision stored) and backed up there, as the software of
    that revision did.
    """
    from alembic import command

    from assessment.storage.db import alembic_config, current_revision

    made: dict[str, tuple[dict, bytes]] = {}
    folder = tmp_path_factory.mktemp("old")

    def get(kind: str) -> tuple[dict, bytes]:
        if kind not in made:
            url = (f"sqlite:///{(folder / 'at-0007.db').as_posix()}" if kind == "sqlite" else postgres_server.create())
            engine = make_engine(url)
            upgrade(engine)
            _populate(engine)
            at_head = dump_tables(engine)
            with engine.connect() as connection:
                command.downgrade(alembic_config(connection), BEFORE_TYPED_SCORES)
                connection.commit()
            assert current_revision(engine) == BEFORE_TYPED_SCORES
            info = backup(engine, folder / f"at-0007-{kind}.zip", key=KEY, actor=ADMIN)
            made[kind] = (at_head, Path(info.path).read_bytes())
            engine.dispose()
        return made[kind]

    return get


@pytest.mark.parametrize(("from_kind", "to_kind"), [
    ("sqlite", "sqlite"),
    pytest.param("postgresql", "postgresql", marks=pytest.mark.postgres),
    pytest.param("sqlite", "postgresql", marks=pytest.mark.postgres),
])
def test_a_backup_made_before_the_typed_score_tables_is_restored_and_upgraded(from_kind, to_kind, old_backups,
                                                                              request, tmp_path):
    from assessment.storage.db import current_revision, head_revision

    at_head, data = old_backups(from_kind)
    crafted = Crafted(data)
    assert crafted.manifest["revision"] == BEFORE_TYPED_SCORES
    assert crafted.manifest["tables"]["score_frames"]["rows"] == 5  # one JSON frame per score table
    assert "score_partnerships" not in crafted.manifest["tables"]
    path = tmp_path / "at-0007.zip"
    path.write_bytes(data)
    target = _new_target(to_kind, request, tmp_path)

    report = restore(target, path, key=KEY)

    assert report.revision == BEFORE_TYPED_SCORES and report.upgraded_to == head_revision()
    assert current_revision(target) == head_revision()
    restored = dump_tables(target)
    for table in SCORE_TABLES:  # the migration moved the frames into the typed tables, row for row
        assert restored[table] == at_head[table], table
        assert restored[table], table
    events = restored["audit_events"]
    assert events[-1][3] == "restore" and events[-1][6]["upgraded_to"] == head_revision()
    assert _comparable(restored) == _comparable(_as_restored(at_head))
    target.dispose()


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_an_old_backup_restores_into_an_empty_database_the_app_created_at_the_newest_revision(kind, old_backups,
                                                                                              request, tmp_path):
    """The app migrates a new database to the newest revision and loads the reference forces on its first
    start: restore moves that empty schema down to the backup's revision, loads, and upgrades again."""
    from assessment.storage.db import current_revision, head_revision

    at_head, data = old_backups("sqlite")
    path = tmp_path / "at-0007.zip"
    path.write_bytes(data)
    target = _new_target(kind, request, tmp_path)
    upgrade(target)  # reference forces loaded
    report = restore(target, path, key=KEY)
    assert report.upgraded_to == head_revision() == current_revision(target)
    restored = dump_tables(target)
    assert _comparable(restored) == _comparable(_as_restored(at_head))
    target.dispose()


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_an_old_backup_whose_data_cannot_be_moved_forward_leaves_nothing_and_names_its_revision(kind, old_backups,
                                                                                                request, tmp_path):
    """A score frame that passes every check of its revision (valid JSON) but that the migration cannot
    turn into typed rows: the whole restore rolls back, the schema included."""
    _, data = old_backups("sqlite")
    crafted = Crafted(data)
    rows = crafted.rows("score_frames")
    level = rows[0][1]
    rows[0][2] = json.dumps({"columns": ["domain"], "data": "no rows"})  # JSON, but not a frame
    path = tmp_path / "bad-frame.zip"
    path.write_bytes(crafted.put_rows("score_frames", rows).zip())
    target = _new_target(kind, request, tmp_path)
    with pytest.raises(BackupRefused, match=r"schema revision 0007.*upgrading them to this software's") as refused:
        restore(target, path, key=KEY)
    assert "Restore it with the version of the software that made it" in str(refused.value), level
    assert inspect(target).get_table_names() == []
    target.dispose()


def test_a_revision_schema_checks_what_the_models_check():
    """The schema read back from the migrations (used for older backups) gives, at the newest revision, the
    same tables, columns, types, keys and unique keys as the models (used for backups at the newest)."""
    from sqlalchemy import JSON as JSONType
    from sqlalchemy import Boolean, Date, DateTime, Float, Integer, String, UniqueConstraint

    from assessment.storage.backup import _reflected_schema
    from assessment.storage.db import head_revision
    from assessment.storage.models import Base

    def kind(column):
        for family in (Boolean, Integer, Float, DateTime, Date, JSONType, String):
            if isinstance(column.type, family):
                return family.__name__, getattr(column.type, "length", None)
        raise AssertionError(f"{column.table.name}.{column.name}: {column.type!r}")

    def shape(table):
        uniques = {tuple(sorted(c.name for c in u.columns)) for u in table.constraints
                   if isinstance(u, UniqueConstraint)} | {(c.name,) for c in table.columns if c.unique}
        return ({c.name: (kind(c), c.nullable, c.primary_key) for c in table.columns}, uniques,
                {(fk.parent.name, fk.column.table.name, fk.column.name) for fk in table.foreign_keys})

    reflected = {t.name: shape(t) for t in _reflected_schema(head_revision())}
    models = {t.name: shape(t) for t in Base.metadata.sorted_tables}
    assert reflected == models
