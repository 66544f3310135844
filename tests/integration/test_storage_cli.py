"""The database commands end to end on SQLite and PostgreSQL, as a board secretary would run them."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from assessment.cli import main


@pytest.fixture
def run(db, tmp_path):
    """``run("round", "open", ...)`` with the database and base URL settings pointing at the test database."""
    env = {"ASSESSMENT_DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
           "ASSESSMENT_DATA_DIR": str(tmp_path / "data"), "ASSESSMENT_BASE_URL": "https://assess.example.org/",
           "ASSESSMENT_BACKUP_KEY": "integration-test-backup-key-0123456789abcdef"}
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True, url: str | None = None):
        result = runner.invoke(main, list(args), env=env | ({"ASSESSMENT_DATABASE_URL": url} if url else {}))
        if ok:
            assert result.exit_code == 0, (result.output, result.exception)
        return result

    return invoke


def test_a_round_from_publishing_to_export_and_backup(run, db, mini_v1_path, tmp_path, responses_csv, table_dump,
                                                      request):
    run("db", "upgrade")
    assert "published" in run("questionnaire", "publish", str(mini_v1_path)).output
    assert "already published" in run("questionnaire", "publish", str(mini_v1_path)).output
    added = run("partnership", "add", "kent", "--name", "Kent and Medway crisis care partnership", "--member", "kent",
                "--organisation", "kmpt=mental_health_trust:Kent and Medway NHS and Social Care Partnership Trust",
                "--group", "coastal", "--share-practice").output
    assert "England, South East" in added and "kmpt" in added
    run("round", "create", "--partnership", "kent", "--period", "2026-H1", "--questionnaire", "mini-partnership",
        "--version", "1.0.0", "--opens", "2026-01-12", "--closes", "2026-03-27")
    run("round", "open", "kent-2026-h1", "--actor", "board.secretary@example.org")
    links = run("invite", "--round", "kent-2026-h1", "--agency", "police", "--count", "3").output.split()
    assert len(links) == 3 and all(link.startswith("https://assess.example.org/?invite=") for link in links)

    answers = tmp_path / "answers.csv"
    answers.write_text(responses_csv(), encoding="utf-8")
    assert "63 answer(s) from 9 respondent(s)" in run("import", "responses", str(answers), "--round",
                                                      "kent-2026-h1").output
    refused = run("import", "responses", str(answers), "--round", "kent-2026-h1", ok=False)
    assert refused.exit_code == 1 and "already in round" in refused.output

    counts = run("round", "responses", "kent-2026-h1").output
    assert "police" in counts and "imported" in counts
    assert "3 domain score(s) stored" in run("round", "close", "kent-2026-h1").output
    refused = run("round", "reopen", "kent-2026-h1", ok=False)
    assert refused.exit_code == 2  # --reason is required
    run("round", "reopen", "kent-2026-h1", "--reason", "two late ambulance returns")
    run("round", "close", "kent-2026-h1")

    out = tmp_path / "kent.csv"
    run("export", "--round", "kent-2026-h1", "--format", "csv", "--out", str(out))
    exported = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert len(exported) == 3 and "comment" not in exported.columns  # the domain scores: aggregates only
    assert (tmp_path / "kent.agency_scores.csv").exists()
    answers = tmp_path / "kent-answers.csv"
    said = run("custodian-export", "--round", "kent-2026-h1", "--format", "csv", "--out", str(answers),
               "--purpose", "evaluation by the university").output
    assert "re-keyed" in said and "audit" in said
    exported = pd.read_csv(answers, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert "'" + responses_csv.hyperlink in exported["comment"].tolist()
    xlsx = tmp_path / "kent.xlsx"
    run("export", "--round", "kent-2026-h1", "--format", "xlsx", "--out", str(xlsx))
    assert "domain_scores" in openpyxl.load_workbook(io.BytesIO(xlsx.read_bytes())).sheetnames

    backup_file = tmp_path / "backup.zip"
    before = table_dump(db.engine)
    assert "signed" in run("backup", "--out", str(backup_file)).output
    target = request.getfixturevalue("empty_sqlite" if db.kind == "sqlite" else "empty_postgres")
    target_url = target.url.render_as_string(hide_password=False)
    restored_output = run("restore", str(backup_file), url=target_url).output
    assert "restored" in restored_output and "3 invitation(s) restored revoked" in restored_output
    restored = table_dump(target)
    assert restored["audit_events"][:-1] == before["audit_events"]  # plus the restore itself
    assert all(row[7] is True for row in restored["invitations"])  # invite links never work from a file
    assert {k: v for k, v in restored.items() if k not in ("audit_events", "invitations")} == \
        {k: v for k, v in before.items() if k not in ("audit_events", "invitations")}
    actors = {row[2] for row in restored["audit_events"]}
    assert "board.secretary@example.org" in actors and any(a.startswith("cli") for a in actors)
    refused = run("restore", str(backup_file), url=target_url, ok=False)
    assert refused.exit_code == 1 and "empty database" in refused.output


def test_a_changed_file_under_a_published_version_is_refused(run, mini_v1_path, tmp_path):
    run("questionnaire", "publish", str(mini_v1_path))
    edited = tmp_path / "mini-partnership" / "1.0.0.yaml"
    edited.parent.mkdir()
    edited.write_text(mini_v1_path.read_text(encoding="utf-8").replace(
        "title: Police–mental health partnership check (short form)", "title: A quietly edited title"),
        encoding="utf-8")
    refused = run("questionnaire", "publish", str(edited), ok=False)
    assert refused.exit_code == 1 and "publish the change as a new version" in refused.output


@pytest.fixture
def empty_database(db, request):
    """A database with no schema on the engine of the ``db`` parameter."""
    return request.getfixturevalue("empty_sqlite" if db.kind == "sqlite" else "empty_postgres")


@pytest.mark.parametrize("command", [("partnership", "list"), ("round", "list"), ("round", "responses", "x"),
                                     ("export", "--round", "x", "--format", "csv", "--out", "x.csv"),
                                     ("backup", "--out", "x.zip")])
def test_read_only_commands_never_migrate_and_say_how_to_upgrade(run, empty_database, command, tmp_path):
    from assessment.storage.db import current_revision

    url = empty_database.url.render_as_string(hide_password=False)
    refused = run(*command, url=url, ok=False)
    assert refused.exit_code == 1
    assert "no schema yet: run `assessment db upgrade`" in refused.output
    assert current_revision(empty_database) is None  # nothing was created
    run("db", "upgrade", url=url)
    if command[0] == "partnership":
        assert run(*command, url=url).output.strip() == "(none)"


def test_a_command_that_changes_data_brings_the_schema_up_to_date(run, empty_database):
    from assessment.storage.db import current_revision, head_revision

    url = empty_database.url.render_as_string(hide_password=False)
    run("partnership", "add", "kent", "--name", "Kent", "--member", "kent", url=url)
    assert current_revision(empty_database) == head_revision()


def test_partnership_add_puts_new_organisations_in_the_partnerships_place(run, db):
    from assessment.storage import services as s

    run("partnership", "add", "kent", "--name", "Kent", "--member", "kent",
        "--organisation", "kmpt=mental_health_trust:Kent and Medway NHS and Social Care Partnership Trust")
    with db.sessions.begin() as session:
        kmpt = s.list_organisations(session).set_index("organisation").loc["kmpt"]
    assert (kmpt["kind"], kmpt["nation"], kmpt["region"]) == ("mental_health_trust", "England", "South East")
    refused = run("partnership", "add", "x", "--name", "X", "--organisation", "y=vcse:Y", ok=False)
    assert refused.exit_code == 1 and "give nation and region" in refused.output
    with db.sessions.begin() as session:  # refused as a whole: the new organisation was not kept
        assert "y" not in set(s.list_organisations(session)["organisation"])
    refused = run("partnership", "add", "x", "--name", "X", "--member", "kent", "--organisation", "y=fire:Y", ok=False)
    assert refused.exit_code == 1 and "agency 'fire' is not one of" in refused.output


def test_only_the_librarys_refusals_are_reported_a_bug_keeps_its_traceback(db, monkeypatch):
    from assessment.cli.database import transaction
    from assessment.storage.errors import InvalidInput

    monkeypatch.setenv("ASSESSMENT_DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    with pytest.raises(SystemExit) as stopped, transaction():
        raise InvalidInput("a refusal")
    assert stopped.value.code == 1
    with pytest.raises(ZeroDivisionError), transaction():
        1 / 0  # noqa: B018
    with pytest.raises(ValueError, match="a bug"), transaction():
        raise ValueError("a bug")


def test_a_read_only_command_on_an_older_schema_says_to_upgrade_and_leaves_it(run, db):
    from alembic import command

    from assessment.storage.db import alembic_config, current_revision, head_revision

    with db.engine.connect() as connection:
        command.downgrade(alembic_config(connection), "0002")
        connection.commit()
    refused = run("round", "list", ok=False)
    assert refused.exit_code == 1
    assert f"at schema revision 0002, older than this software's {head_revision()}" in refused.output
    assert "run `assessment db upgrade`" in refused.output and current_revision(db.engine) == "0002"
    run("db", "upgrade")
    assert run("round", "list").output.strip() == "(none)"
