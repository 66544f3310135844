"""Expected errors in the command line print one line and exit 1; ``--debug`` adds the traceback
(issue 11, defect 9).

Storage refusals, bad files, bad settings and an unreachable database are what users cause: they get
``error: <what and where>`` and exit code 1, never a traceback. Anything else is a bug: one line with its
type and place in the code, without its text (which can hold values from the user's file). Every command
is walked with a database that cannot be reached, so a new command that forgets this is caught.
"""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from assessment.cli import main
from tests.conftest import MINI_DIR

KEY = "cli-test-backup-key-0123456789abcdef0123"
MARKER = "SECRET-ROW-VALUE-7f3a"
UNREACHABLE = "postgresql+psycopg://assessor:pw-never-shown@127.0.0.1:1/assessment"
TRACEBACK = "Traceback (most recent call last)"


def _invoke(*args, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env or {})


def _assert_one_line_error(result, *fragments: str) -> str:
    """Exit 1, no traceback, the last line is ``error: ...`` and names every fragment."""
    assert result.exit_code == 1, (result.exit_code, result.output, result.exception)
    assert TRACEBACK not in result.output
    assert isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith("error: "), result.output
    for fragment in fragments:
        assert fragment in lines[-1], (fragment, lines[-1])
    return lines[-1]


@pytest.fixture
def env(db, tmp_path) -> dict[str, str]:
    return {"ASSESSMENT_DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
            "ASSESSMENT_DATA_DIR": str(tmp_path / "data"), "ASSESSMENT_BACKUP_KEY": KEY}


@pytest.fixture
def kent_round(env, responses_csv, tmp_path) -> str:
    """A published questionnaire, the Kent partnership and its draft round kent-2026-h1."""
    for args in (("questionnaire", "publish", MINI_DIR / "1.0.0.yaml"),
                 ("partnership", "add", "kent", "--name", "Kent and Medway", "--member", "kent"),
                 ("round", "create", "--partnership", "kent", "--period", "2026-H1", "--questionnaire",
                  "mini-partnership", "--version", "1.0.0")):
        result = _invoke(*args, env=env)
        assert result.exit_code == 0, result.output
    return "kent-2026-h1"


# -- settings ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("variable", "value", "expected"), [
    ("ASSESSMENT_MIN_PEERS", "0", "ASSESSMENT_MIN_PEERS='0' is not allowed: use a whole number >= 1"),
    ("ASSESSMENT_DATABASE_URL", "not a url", "ASSESSMENT_DATABASE_URL is not a database address"),
    ("ASSESSMENT_DATABASE_URL", "mysql+nodriver://u:pw-never-shown@h/db",
     "ASSESSMENT_DATABASE_URL is not a database address"),
    ("ASSESSMENT_BACKUP_KEY", "too-short-pw-never-shown",
     "ASSESSMENT_BACKUP_KEY=(hidden) is not allowed: use empty, or a secret of at least 32 characters"),
])
def test_a_bad_setting_is_one_line_naming_the_variable(variable, value, expected, tmp_path):
    result = _invoke("db", "status", env={"ASSESSMENT_DATA_DIR": str(tmp_path), variable: value})
    _assert_one_line_error(result, expected)
    assert "pw-never-shown" not in result.output


def test_an_unreachable_database_is_one_line_without_the_password():
    result = _invoke("round", "list", env={"ASSESSMENT_DATABASE_URL": UNREACHABLE})
    _assert_one_line_error(result, "the database could not be reached", "127.0.0.1", "port 1")
    assert "pw-never-shown" not in result.output and "[SQL" not in result.output


# -- storage refusals, bad files ---------------------------------------------------------------------------------

def test_storage_refusals_are_one_line(env, kent_round):
    _assert_one_line_error(_invoke("round", "open", "kent-2026-h9", env=env), "no round 'kent-2026-h9'")
    _assert_one_line_error(_invoke("round", "close", kent_round, env=env), kent_round)
    _assert_one_line_error(_invoke("partnership", "add", "kent", "--name", "Again", "--member", "kent", env=env),
                           "kent")
    _assert_one_line_error(_invoke("partnership", "add", "Bad Key", "--name", "x", env=env), "'Bad Key'")
    _assert_one_line_error(_invoke("round", "reopen", kent_round, "--reason", "late returns", env=env), kent_round)


def test_a_file_that_cannot_be_written_names_the_file(env, kent_round, tmp_path):
    out = tmp_path / "no-such-folder" / "kent.zip"
    _assert_one_line_error(_invoke("backup", "--out", out, env=env), "No such file or directory", str(out))
    out = tmp_path / "no-such-folder" / "answers.csv"
    _assert_one_line_error(_invoke("custodian-export", "--round", kent_round, "--format", "csv", "--out", out,
                                   "--purpose", "audit", env=env), "No such file or directory", str(out))


@pytest.mark.parametrize(("name", "content"), [
    ("unbalanced-quote.csv", b'partnership,round,respondent,agency,item,value\nkent,kent-2026-h1,"p1,police\n'),
    ("empty.csv", b""),
])
def test_an_unreadable_responses_file_is_one_line_naming_the_file(name, content, env, kent_round, tmp_path):
    path = tmp_path / name
    path.write_bytes(content)
    result = _invoke("import", "responses", path, "--round", kent_round, env=env)
    assert result.exit_code == 1 and TRACEBACK not in result.output, result.output
    assert name in result.output
    scored = _invoke("score", "--questionnaire", MINI_DIR / "1.0.0.yaml", "--responses", path)
    assert scored.exit_code == 1 and TRACEBACK not in scored.output and name in scored.output, scored.output


def test_an_invalid_responses_file_lists_its_problems_and_exits_1(env, kent_round, responses_csv, tmp_path):
    path = tmp_path / "answers.csv"
    path.write_text(responses_csv().replace("governance.escalation", "governance.nonsense"), encoding="utf-8")
    result = _invoke("import", "responses", path, "--round", kent_round, env=env)
    assert result.exit_code == 1 and TRACEBACK not in result.output
    assert "governance.nonsense" in result.output and "answers.csv" in result.output


def test_a_refused_backup_is_one_line_and_an_unsigned_one_says_what_to_do(env, kent_round, tmp_path, request, db):
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    target = request.getfixturevalue("empty_sqlite" if db.kind == "sqlite" else "empty_postgres")
    target_env = env | {"ASSESSMENT_DATABASE_URL": target.url.render_as_string(hide_password=False)}
    _assert_one_line_error(_invoke("restore", broken, env=target_env), "broken.zip is not a readable backup")

    unsigned = tmp_path / "unsigned.zip"
    made = _invoke("backup", "--out", unsigned, env=env | {"ASSESSMENT_BACKUP_KEY": ""})
    assert made.exit_code == 0 and "UNSIGNED" in made.output and "--accept-unsigned" in made.output
    _assert_one_line_error(_invoke("restore", unsigned, env=target_env), "unsigned.zip is not signed",
                           "--accept-unsigned")
    accepted = _invoke("restore", unsigned, "--accept-unsigned", env=target_env)
    assert accepted.exit_code == 0 and "UNSIGNED, accepted with --accept-unsigned" in accepted.output


# -- bugs: no traceback, no row values by default; everything with --debug -------------------------------------------

@pytest.fixture
def failing_import(monkeypatch):
    """The importer fails the way a bug would, with a value from the file in the error's text."""
    from assessment.storage import services

    def broken(session, round_key, source, **_options):
        rows = Path(source).read_text(encoding="utf-8").splitlines()
        raise KeyError(f"unexpected row {rows[1]}")

    monkeypatch.setattr(services, "import_responses", broken)


def test_a_bug_shows_its_type_and_place_but_no_traceback_and_no_row_values(env, kent_round, failing_import,
                                                                            tmp_path):
    path = tmp_path / "answers.csv"
    path.write_text(f"partnership,round,respondent,agency,item,value,comment\n"
                    f"kent,kent-2026-h1,p1,police,governance.joint_board,3,{MARKER}\n", encoding="utf-8")
    result = _invoke("import", "responses", path, "--round", kent_round, env=env)
    line = _assert_one_line_error(result, "internal error (KeyError at assessment/", "import responses",
                                  "--debug")
    assert MARKER not in result.output and MARKER not in line

    debug = _invoke("--debug", "import", "responses", path, "--round", kent_round, env=env)
    assert debug.exit_code == 1
    assert TRACEBACK in debug.output and MARKER in debug.output and "KeyError" in debug.output


def test_debug_shows_the_traceback_of_an_expected_error_too(env):
    result = _invoke("--debug", "round", "open", "kent-2026-h9", env=env)
    assert result.exit_code == 1
    assert TRACEBACK in result.output and "NotFound" in result.output
    assert result.output.strip().splitlines()[-1].startswith("error: no round 'kent-2026-h9'")


# -- every command, with a database that cannot be reached ------------------------------------------------------------

def _leaf_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """Every command reachable from ``group`` (through ``get_command``: the top group loads lazily)."""
    ctx = click.Context(group)
    found: set[tuple[str, ...]] = set()
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            found |= _leaf_commands(command, (*prefix, name))
        else:
            found.add((*prefix, name))
    return found


def _sweep(tmp_path: Path) -> dict[tuple[str, ...], list]:
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(b"\xff\xfe\x00 not a csv \x00")
    mini = MINI_DIR / "1.0.0.yaml"
    return {
        ("questionnaire", "validate"): [garbage],
        ("questionnaire", "list"): [],
        ("questionnaire", "show"): [garbage],
        ("questionnaire", "diff"): [mini, garbage],
        ("questionnaire", "schema"): ["--out", tmp_path / "no-folder" / "schema.json"],
        ("questionnaire", "publish"): [mini],
        ("indicators", "validate"): [garbage],
        ("indicators", "catalogue"): ["--id", "no-such-catalogue"],
        ("indicators", "schema"): ["--out", tmp_path / "no-folder" / "indicators.schema.json"],
        ("score",): ["--questionnaire", mini, "--responses", garbage],
        ("db", "upgrade"): [],
        ("db", "status"): [],
        ("partnership", "add"): ["kent", "--name", "Kent", "--member", "kent"],
        ("partnership", "list"): [],
        ("round", "create"): ["--partnership", "kent", "--period", "2026-H1", "--questionnaire", "mini-partnership",
                              "--version", "1.0.0"],
        ("round", "open"): ["kent-2026-h1"],
        ("round", "close"): ["kent-2026-h1"],
        ("round", "reopen"): ["kent-2026-h1", "--reason", "late returns"],
        ("round", "list"): [],
        ("round", "responses"): ["kent-2026-h1"],
        ("invite",): ["--round", "kent-2026-h1", "--agency", "police"],
        ("import", "responses"): [garbage, "--round", "kent-2026-h1"],
        ("export",): ["--round", "kent-2026-h1", "--format", "csv", "--out", tmp_path / "out.csv"],
        ("custodian-export",): ["--round", "kent-2026-h1", "--format", "csv", "--out", tmp_path / "answers.csv",
                                "--purpose", "audit of the 2026 returns"],
        ("backup",): ["--out", tmp_path / "backup.zip"],
        ("restore",): [garbage],
        ("demo",): [],
        ("benchmark",): ["--scores", garbage, "--partnerships", garbage, "--partnership", "kent", "--round", "r"],
        ("regions",): ["--scores", garbage, "--partnerships", garbage],
        ("trends",): ["--responses", garbage, "--partnership", "kent"],
        ("user", "add"): ["lee@example.org"],
        ("user", "grant"): ["lee@example.org", "administrator"],
        ("user", "revoke"): ["lee@example.org", "administrator"],
        ("user", "list"): [],
        ("purge",): ["--older-than", "30"],
        ("actions", "add"): ["--partnership", "kent", "--domain", "governance", "--what", "Agree the terms",
                             "--owner", "Police lead", "--target-level", "3", "--due", "2026-12-31"],
        ("actions", "list"): ["--partnership", "kent"],
        ("actions", "update"): ["1", "--status", "done"],
        ("indicators", "import"): [garbage],
        ("indicators", "export"): ["--format", "csv"],
        ("indicators", "list"): [],
        ("report",): ["--round", "kent-2026-h1", "--out", tmp_path / "pack.html"],
    }


def test_every_command_fails_in_one_line_without_a_traceback(tmp_path):
    sweep = _sweep(tmp_path)
    assert set(sweep) == _leaf_commands(main), "add the new command to the sweep"
    env = {"ASSESSMENT_DATABASE_URL": UNREACHABLE, "ASSESSMENT_DATA_DIR": str(tmp_path / "data"),
           "ASSESSMENT_BACKUP_KEY": KEY}
    for command, args in sweep.items():
        result = _invoke(*command, *args, env=env)
        where = " ".join(command)
        if command == ("questionnaire", "list"):
            assert result.exit_code == 0, (where, result.output)
            continue
        assert result.exit_code == 1, (where, result.exit_code, result.output, result.exception)
        assert TRACEBACK not in result.output, (where, result.output)
        assert "pw-never-shown" not in result.output and "internal error" not in result.output, (where, result.output)
        assert isinstance(result.exception, SystemExit), (where, result.exception)
