"""Issue 11, defect 7: the importer refuses what either engine would refuse, and every broken file, the same
way on SQLite and PostgreSQL, with a message naming the row and column where there is one.

Before: SQLite stored a NUL byte and a 300-character respondent id that PostgreSQL refuses (so the documented
move to PostgreSQL failed); ``٣``, ``３`` and ``𝟛`` were stored as answers; a binary file, an ``.xlsx`` renamed
``.csv`` and an unbalanced quote gave a raw traceback; an empty or header-only file "imported" and wrote an
audit row; a million bad rows were summarised as "50 problem(s)". Each file of the corpus below is refused
with its code and place, and every table of the database hashes the same afterwards.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from assessment.errors import ErrorCode, ValidationFailed
from assessment.scoring.encoding import _field_counts, read_answers_bytes
from assessment.storage import services as s
from assessment.storage.imports import import_responses
from assessment.storage.limits import COMMENT_LIMIT, TEXT_LIMITS
from assessment.storage.models import Base
from tests.integration.conftest import ADMIN, ITEMS, PEOPLE, _responses_csv, dump_tables

ROUND = "kent-2026-h1"


def row_of(who: str, item: str) -> int:
    """The file row (header = 1) of a respondent's answer in the valid Kent file."""
    return 2 + [p for p, _ in PEOPLE].index(who) * len(ITEMS) + ITEMS.index(item)


def valid() -> str:
    return _responses_csv()


def with_field(who: str, item: str, column: str, value: str) -> str:
    """The valid file with one field of one row replaced (written with the csv module, so quoted as needed)."""
    rows = list(csv.reader(io.StringIO(valid(), newline="")))
    header = rows[0]
    rows[row_of(who, item) - 1][header.index(column)] = value
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def replace_line(number: int, line: str) -> str:
    lines = valid().splitlines()
    lines[number - 1] = line
    return "\n".join(lines) + "\n"


def xlsx_of_the_valid_file() -> bytes:
    book = openpyxl.Workbook()
    for row in csv.reader(io.StringIO(valid(), newline="")):
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


R = row_of("a1", "triage.referral_routes")  # the row with a comment ("-3 repeat callers ...")
V = row_of("p2", "triage.clinician")  # a plain answer row

# name -> (file content, the code expected, the place expected (path) or None for the whole file)
CORPUS: dict[str, tuple[bytes | str, ErrorCode, str | None]] = {
    "NUL in a comment": (valid().replace("joint rota", "joint\x00rota"), ErrorCode.NUL_CHARACTER,
                         f"row {R}, column comment"),
    "NUL in a respondent id": (with_field("p2", "triage.clinician", "respondent", "p\x002"),
                               ErrorCode.NUL_CHARACTER, f"row {V}, column respondent"),
    "binary noise": (bytes(range(256)) * 64, ErrorCode.NUL_CHARACTER, "row 1, column 1"),
    "an .xlsx renamed .csv": (xlsx_of_the_valid_file(), ErrorCode.NOT_A_CSV, None),
    "an old .xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, ErrorCode.NOT_A_CSV, None),
    "a PDF": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", ErrorCode.NOT_A_CSV, None),
    "a gzipped CSV": (gzip.compress(valid().encode()), ErrorCode.NOT_A_CSV, None),
    "UTF-16 from Excel's Unicode text": (valid().encode("utf-16"), ErrorCode.NOT_A_CSV, None),
    "Latin-1 instead of UTF-8": (valid().replace("joint rota", "joint rôta").encode("latin-1"), ErrorCode.ENCODING,
                                 f"row {R}, column comment"),
    "an unbalanced quote": (replace_line(V, f'kent,{ROUND},p2,police,triage.clinician,3,"see the minutes'),
                            ErrorCode.CSV_MALFORMED, None),
    "classic Mac line ends (a carriage return alone)": (valid().replace("\n", "\r"), ErrorCode.CSV_MALFORMED, None),
    "a carriage return inside the header": (b"partnership\rround,respondent\n" + valid().encode()[valid().index("\n") + 1:],
                                            ErrorCode.CSV_MALFORMED, "row 1"),
    "a carriage return in binary noise": (b"\x89\r\x01", ErrorCode.CSV_MALFORMED, None),
    "an empty file": (b"", ErrorCode.EMPTY_FILE, None),
    "blank lines only": (b"\r\n\n   \n", ErrorCode.EMPTY_FILE, None),
    "a byte-order mark only": (b"\xef\xbb\xbf", ErrorCode.EMPTY_FILE, None),
    "the header only": (valid().splitlines()[0] + "\n", ErrorCode.NO_ANSWER_ROWS, "row 2"),
    "the header and blank lines": (valid().splitlines()[0] + "\r\n\r\n\r\n", ErrorCode.NO_ANSWER_ROWS, "row 2"),
    "a row with an extra field": (replace_line(V, f"kent,{ROUND},p2,police,triage.clinician,3,,surplus"),
                                  ErrorCode.FIELD_COUNT, f"row {V}"),
    "a row with a field missing": (replace_line(V, f"kent,{ROUND},p2,police,triage.clinician"),
                                   ErrorCode.FIELD_COUNT, f"row {V}"),
    "a 300-character respondent id": (with_field("p2", "triage.clinician", "respondent", "p" * 300),
                                      ErrorCode.TEXT_TOO_LONG, f"row {V}, column respondent"),
    "a 200-character item": (with_field("p2", "triage.clinician", "item", "triage." + "x" * 193),
                             ErrorCode.TEXT_TOO_LONG, f"row {V}, column item"),
    "a comment over the limit": (with_field("a1", "triage.referral_routes", "comment", "x" * (COMMENT_LIMIT + 1)),
                                 ErrorCode.TEXT_TOO_LONG, f"row {R}, column comment"),
    "a bell in a comment": (with_field("a1", "triage.referral_routes", "comment", "ring\x07ring"),
                            ErrorCode.CONTROL_CHARACTER, f"row {R}, column comment"),
    "a tab inside a respondent id": (with_field("p2", "triage.clinician", "respondent", "p\t2"),
                                     ErrorCode.CONTROL_CHARACTER, f"row {V}, column respondent"),
    "a line break inside an agency": (with_field("p2", "triage.clinician", "agency", "police\nicb"),
                                      ErrorCode.CONTROL_CHARACTER, f"row {V}, column agency"),
    "an escape in an item": (with_field("p2", "triage.clinician", "item", "triage.\x1b[31mclinician"),
                             ErrorCode.CONTROL_CHARACTER, f"row {V}, column item"),
    "an Arabic-Indic three": (with_field("p2", "triage.clinician", "value", "٣"), ErrorCode.VALUE_NOT_ASCII,
                              f"row {V}, column value"),
    "a full-width three": (with_field("p2", "triage.clinician", "value", "３"), ErrorCode.VALUE_NOT_ASCII,
                           f"row {V}, column value"),
    "a mathematical bold three": (with_field("p2", "triage.clinician", "value", "𝟛"), ErrorCode.VALUE_NOT_ASCII,
                                  f"row {V}, column value"),
    "a superscript three": (with_field("p2", "triage.clinician", "value", "³"), ErrorCode.VALUE_OFF_SCALE,
                            f"row {V}, column value"),
    "a signed three": (with_field("p2", "triage.clinician", "value", "+3"), ErrorCode.VALUE_OFF_SCALE,
                       f"row {V}, column value"),
    "a decimal three": (with_field("p2", "triage.clinician", "value", "3.0"), ErrorCode.VALUE_OFF_SCALE,
                        f"row {V}, column value"),
}


def fingerprint(engine) -> dict[str, str]:
    """SHA-256 of every table's rows (ordered by primary key)."""
    return {name: hashlib.sha256(repr(rows).encode("utf-8")).hexdigest()
            for name, rows in dump_tables(engine).items()}


@pytest.fixture
def kent_round(db, mini_v1):
    with db.sessions.begin() as session:
        s.publish_questionnaire(session, mini_v1, actor=ADMIN)
        s.add_partnership(session, "kent", "Kent and Medway crisis care partnership", members=["kent"],
                          actor=ADMIN)
        s.create_round(session, "kent", "2026-H1", questionnaire=mini_v1.id, version=mini_v1.version, actor=ADMIN)
        s.open_round(session, ROUND, actor=ADMIN)
    return ROUND


def _import(db, content: bytes | str):
    data = content.encode("utf-8") if isinstance(content, str) else content
    with db.sessions.begin() as session:
        return import_responses(session, ROUND, data, actor=ADMIN)


def test_the_corpus_is_large_and_the_base_file_is_valid(db, kent_round):
    assert len(CORPUS) >= 25
    assert len(fingerprint(db.engine)) == len(Base.metadata.tables)
    assert _import(db, valid()).answers == len(PEOPLE) * len(ITEMS)


@pytest.mark.parametrize("name", list(CORPUS))
def test_every_bad_file_is_refused_with_its_place_and_changes_nothing(db, kent_round, name):
    content, code, place = CORPUS[name]
    before = fingerprint(db.engine)
    with pytest.raises(ValidationFailed) as refused:
        _import(db, content)
    assert fingerprint(db.engine) == before, "a refused file changed the database"
    found = [(p.code, p.path) for p in refused.value.problems]
    assert code in [c for c, _ in found], (refused.value.summary, found)
    if place is not None:
        assert (code, place) in found, found
    assert refused.value.summary.endswith("nothing was imported"), refused.value.summary
    assert all(len(p.message) < 400 for p in refused.value.problems)  # a huge value is never echoed in full


@pytest.mark.parametrize("name", ["an .xlsx renamed .csv", "binary noise", "an unbalanced quote", "the header only",
                                  "NUL in a comment"])
def test_the_command_refuses_with_a_message_not_a_traceback(db, kent_round, tmp_path, name):
    content, code, _ = CORPUS[name]
    path = tmp_path / "responses.csv"
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    before = fingerprint(db.engine)
    result = CliRunner().invoke(
        __import__("assessment.cli", fromlist=["main"]).main,
        ["import", "responses", str(path), "--round", ROUND],
        env={"ASSESSMENT_DATABASE_URL": db.engine.url.render_as_string(hide_password=False)})
    assert result.exit_code == 1, (result.output, result.exception)
    assert "Traceback" not in result.output and code.code in result.output, result.output
    assert fingerprint(db.engine) == before


def test_an_empty_or_header_only_file_writes_no_audit_row(db, kent_round, table_dump):
    audit_before = table_dump(db.engine)["audit_events"]
    for content in (b"", valid().splitlines()[0].encode() + b"\n"):
        with pytest.raises(ValidationFailed):
            _import(db, content)
    assert table_dump(db.engine)["audit_events"] == audit_before


def test_a_million_bad_rows_are_counted_in_full_and_the_first_listed(db, kent_round):
    """The summary gives the true total of every kind; the report lists the first rows of each kind."""
    n = 1_000_000
    body = "".join(f"kent,{ROUND},r{i // 7},police,{ITEMS[i % 7]},9,\n" for i in range(n))
    data = (valid().splitlines()[0] + "\n" + body).encode("utf-8")
    before = fingerprint(db.engine)
    with pytest.raises(ValidationFailed) as refused:
        _import(db, data)
    assert fingerprint(db.engine) == before
    failure = refused.value
    assert failure.counts == {"value-off-scale": n} and failure.total == n
    assert "1,000,000 problem(s) in 1,000,000 row(s) (1,000,000 × value-off-scale" in failure.summary
    assert "the first 50 rows of each kind are listed" in failure.summary
    assert [p.path for p in failure.problems] == [f"row {r}, column value" for r in range(2, 52)]


def test_the_same_text_rules_hold_for_a_respondent_saving_answers(db, kent_round, table_dump):
    """The respondent's save refuses what the importer refuses, with catalogued problems, and stores nothing."""
    with db.sessions.begin() as session:
        link = s.create_invitations(session, ROUND, "police", 1, actor=ADMIN, base_url="https://x")[0]
        who = s.start_respondent(session, link.rsplit("invite=", 1)[1])
    item = ITEMS[0]
    refused_answers = [
        ({"item": item, "value": "٣"}, ErrorCode.VALUE_NOT_ASCII, f"item {item}, value"),
        ({"item": item, "value": "３"}, ErrorCode.VALUE_NOT_ASCII, f"item {item}, value"),
        ({"item": item, "value": "𝟛"}, ErrorCode.VALUE_NOT_ASCII, f"item {item}, value"),
        ({"item": item, "value": "7"}, ErrorCode.VALUE_OFF_SCALE, f"item {item}, value"),
        ({"item": item, "value": "3", "comment": "minutes\x00seen"}, ErrorCode.NUL_CHARACTER, f"item {item}, comment"),
        ({"item": item, "value": "3", "comment": "ring\x07"}, ErrorCode.CONTROL_CHARACTER, f"item {item}, comment"),
        ({"item": item, "value": "3", "comment": "x" * (COMMENT_LIMIT + 1)}, ErrorCode.TEXT_TOO_LONG,
         f"item {item}, comment"),
        ({"item": "x" * 300, "value": "3"}, ErrorCode.UNKNOWN_ITEM, "item " + "x" * 60 + "…"),
    ]
    before = fingerprint(db.engine)
    for answer, code, path in refused_answers:
        with db.sessions.begin() as session, pytest.raises(ValidationFailed) as refused:
            s.save_answers(session, ROUND, who.respondent, [answer])
        assert [(p.code, p.path) for p in refused.value.problems] == [(code, path)]
        assert refused.value.summary.startswith("the answer was not saved: ")
    assert fingerprint(db.engine) == before
    with db.sessions.begin() as session:  # plain answers still save: a comment may hold line breaks and tabs
        s.save_answers(session, ROUND, who.respondent, [{"item": item, "value": " 03 ", "comment": "a\r\n\tb"}])
        saved = s.respondent_answers(session, ROUND, who.respondent)
    assert saved[["value", "comment"]].values.tolist() == [["3", "a\r\n\tb"]]


def test_the_limits_are_the_stored_column_sizes():
    """One set of limits, on both engines: the sizes of the columns the text is stored in."""
    from assessment.storage.models import AnswerRow, RespondentRow

    assert TEXT_LIMITS["respondent"] == RespondentRow.__table__.c.key.type.length == 80
    assert TEXT_LIMITS["item"] == AnswerRow.__table__.c.item.type.length
    assert TEXT_LIMITS["value"] == AnswerRow.__table__.c.value.type.length
    assert TEXT_LIMITS["comment"] == COMMENT_LIMIT


@settings(max_examples=200)
@given(st.lists(st.lists(st.text(alphabet='ab ,"\r\n\t3', max_size=6), min_size=3, max_size=3), min_size=1,
                max_size=8))
def test_the_fast_field_count_agrees_with_the_csv_module(rows):
    """The numpy count (quote parity) gives what Python's csv module gives, for any file a spreadsheet writes."""
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows([["a", "b", "c"], *rows])
    text = out.getvalue()
    fast = _field_counts(text.encode(), text)
    assert fast.tolist() == _field_counts(text.encode(), text, exact=True).tolist()


@pytest.mark.parametrize(("line", "fields"), [
    ('1,said "no" then,3', ["1", 'said "no" then', "3"]),
    ('1,5" screen,3', ["1", '5" screen', "3"]),
    ('1,"q ""x"", y",3', ["1", 'q "x", y', "3"]),
])
def test_a_quote_inside_an_unquoted_field_is_read_as_a_spreadsheet_reads_it(line, fields):
    frame = read_answers_bytes(f"a,b,c\n{line}\n4,5,6\n".encode(), source="f.csv")
    assert frame.values.tolist() == [fields, ["4", "5", "6"]]


@pytest.mark.parametrize(("change", "code", "where"), [
    ({"name": "Kent " + "x" * 300}, ErrorCode.TEXT_TOO_LONG, "partnerships.name"),
    ({"name": "Kent\x00"}, ErrorCode.NUL_CHARACTER, "partnerships.name"),
    ({"key": "k" * 81}, ErrorCode.TEXT_TOO_LONG, "partnerships.key"),
])
def test_what_an_administrator_types_obeys_the_same_limits_on_both_engines(db, change, code, where):
    """Names and keys reach the database through the ORM: refused there before PostgreSQL would refuse them."""
    before = fingerprint(db.engine)
    arguments = {"key": "kent", "name": "Kent crisis care partnership"} | change
    with pytest.raises(ValidationFailed) as refused, db.sessions.begin() as session:
        s.add_partnership(session, arguments["key"], arguments["name"], members=["kent"], actor=ADMIN)
    assert [(p.code, p.path) for p in refused.value.problems] == [(code, where)]
    assert fingerprint(db.engine) == before


# -- the quick pass of text_problems never hides a problem the exact rules find ----------------------------------

@pytest.mark.parametrize("value", [
    "ok", "  padded  ", "\tindented", "line\nbreak", "nul\x00", "bell\x07", "del\x7f", "x" * 121, " " + "x" * 120 + " ",
    "comment\twith tab", "é✓", "",
])
@pytest.mark.parametrize("column", ["respondent", "item", "comment"])
def test_the_quick_pass_of_the_text_check_agrees_with_the_exact_rules(column, value):
    """text_problems first proves most columns clean with one search over their distinct texts; a column it
    cannot prove clean gets the exact row-by-row check, so both must give the same problems (a str column
    takes the quick pass, an object column only the exact check)."""
    import pandas as pd

    from assessment.storage.limits import text_problems

    rows = ["fine", value, "fine", None]
    quick = text_problems(pd.DataFrame({column: pd.Series(rows, dtype="str")}))
    exact = text_problems(pd.DataFrame({column: pd.Series(rows, dtype=object)}))
    assert [(p.code, p.path) for p in quick[0]] == [(p.code, p.path) for p in exact[0]]
    assert quick[1] == exact[1]
