"""Backup to one file and restore into an empty database, across engines: SQLite -> PostgreSQL -> SQLite."""

from __future__ import annotations

import pytest

from assessment.storage import services as s
from assessment.storage.backup import backup, restore
from assessment.storage.db import make_session_factory
from assessment.storage.imports import import_responses

ADMIN = "board.secretary@example.org"


def _fill(db, mini_v1, mini_v2, responses_csv) -> None:
    """A bit of everything: two questionnaire versions, partnerships, a closed round with scores, an open
    round with invitations, a respondent part-way through, audit events."""
    with db.sessions.begin() as session:
        s.publish_questionnaire(session, mini_v1, actor=ADMIN)
        s.publish_questionnaire(session, mini_v2, actor=ADMIN)
        s.add_organisation(session, "kmpt", "Kent and Medway Mental Health NHS Trust", kind="mental_health_trust",
                           nation="England", region="South East", actor=ADMIN)
        s.add_partnership(session, "kent", "Kent and Medway crisis care partnership", members=["kent", "kmpt"],
                          groups=["coastal"], share_practice=True, actor=ADMIN)
        s.add_partnership(session, "gwent", "Gwent crisis care partnership", members=["gwent"], actor=ADMIN)
        s.create_round(session, "kent", "2026-H1", questionnaire=mini_v1.id, version="1.0.0", actor=ADMIN)
        import_responses(session, "kent-2026-h1", responses_csv().encode(), actor=ADMIN)
        s.open_round(session, "kent-2026-h1", actor=ADMIN)
        s.close_round(session, "kent-2026-h1", actor=ADMIN)
        s.create_round(session, "kent", "2026-H2", questionnaire=mini_v2.id, version="1.1.0", actor=ADMIN)
        s.open_round(session, "kent-2026-h2", actor=ADMIN)
        links = s.create_invitations(session, "kent-2026-h2", "police", 2, actor=ADMIN, base_url="https://x")
    with db.sessions.begin() as session:
        who = s.start_respondent(session, links[0].split("invite=")[1])
        s.save_answer(session, "kent-2026-h2", who.respondent, "governance.joint_board", "4", "=1+1 café ✓")


@pytest.mark.postgres
def test_sqlite_to_postgresql_and_back_loses_nothing(sqlite_db, mini_v1, mini_v2, responses_csv, table_dump,
                                                    empty_postgres, empty_sqlite, tmp_path):
    db = sqlite_db
    _fill(db, mini_v1, mini_v2, responses_csv)
    original = table_dump(db.engine)
    assert all(original[name] for name in ("answers", "score_frames", "invitations", "audit_events"))

    first = backup(db.engine, tmp_path / "from-sqlite.zip")
    restore(empty_postgres, first.path)
    assert table_dump(empty_postgres) == original

    second = backup(empty_postgres, tmp_path / "from-postgres.zip")
    restore(empty_sqlite, second.path)
    assert table_dump(empty_sqlite) == original
    assert first.rows == second.rows

    # The restored PostgreSQL database keeps working: new ids continue after the restored ones.
    factory = make_session_factory(empty_postgres)
    with factory.begin() as session:
        s.add_partnership(session, "essex", "Essex crisis care partnership", members=["essex"], actor=ADMIN)
        assert len(s.list_partnerships(session)) == 3


def test_backup_restores_into_an_empty_database_of_the_same_engine(db, mini_v1, mini_v2, responses_csv, table_dump,
                                                                 tmp_path, request):
    _fill(db, mini_v1, mini_v2, responses_csv)
    info = backup(db.engine, tmp_path / "backup.zip")
    if db.kind == "sqlite":
        target = request.getfixturevalue("empty_sqlite")
    else:
        target = request.getfixturevalue("empty_postgres")
    restore(target, info.path)
    assert table_dump(target) == table_dump(db.engine)


def test_restore_refuses_a_database_that_holds_data(db, mini_v1, mini_v2, responses_csv, table_dump, tmp_path):
    _fill(db, mini_v1, mini_v2, responses_csv)
    info = backup(db.engine, tmp_path / "backup.zip")
    before = table_dump(db.engine)
    with pytest.raises(s.Conflict, match="empty database"):
        restore(db.engine, info.path)
    assert table_dump(db.engine) == before


def test_a_file_that_is_not_a_backup_is_refused(db, tmp_path):
    import zipfile

    path = tmp_path / "not-a-backup.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("answers.csv", "partnership,round\n")
    with pytest.raises(s.StorageError, match="not a backup"):
        restore(db.engine, path)
