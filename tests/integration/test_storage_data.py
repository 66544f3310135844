"""Responses in and out, on SQLite and PostgreSQL: CSV import (all or nothing), materialised scores of
closed rounds, formula-safe CSV and Excel exports."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest

from assessment.errors import ValidationFailed
from assessment.storage import services as s
from assessment.storage.exports import export_round, export_tables
from assessment.storage.imports import import_responses, problems_frame
from assessment.tabular import to_csv_bytes, to_xlsx_bytes

ADMIN = "board.secretary@example.org"


@pytest.fixture
def kent_round(db, mini_v1):
    with db.sessions.begin() as session:
        s.publish_questionnaire(session, mini_v1, actor=ADMIN)
        s.add_partnership(session, "kent", "Kent and Medway crisis care partnership", members=["kent"],
                          share_practice=True, actor=ADMIN)
        s.create_round(session, "kent", "2026-H1", questionnaire=mini_v1.id, version=mini_v1.version, actor=ADMIN)
    return "kent-2026-h1"


def _import(db, round_key, content: bytes | str, **kwargs):
    data = content.encode("utf-8") if isinstance(content, str) else content
    with db.sessions.begin() as session:
        return import_responses(session, round_key, data, actor=ADMIN, **kwargs)


# -- import ------------------------------------------------------------------------------------------------

def test_a_valid_file_is_imported_with_progress_and_comments_as_written(db, responses_csv, kent_round):
    seen = []
    report = _import(db, kent_round, responses_csv(), progress=lambda done, total: seen.append((done, total)),
                     chunk_size=20)
    assert (report.rows, report.respondents, report.answers) == (63, 9, 63)
    assert seen[0] == (0, 63) and seen[-1] == (63, 63) and len(seen) == 5
    with db.sessions() as session:
        answers = s.round_answers(session, kent_round)
        counts = s.list_rounds(session).iloc[0]
    assert len(answers) == 63 and counts["submitted"] == 9
    stored = answers.set_index(["respondent", "item"])
    assert stored.loc[("p1", "governance.joint_board"), "comment"] == responses_csv.hyperlink
    assert stored.loc[("a1", "triage.referral_routes"), "comment"] == responses_csv.repeat
    assert stored.loc[("p1", "safety.hbpos"), "value"] == "NA"
    assert set(answers["period"]) == {"2026-H1"} and set(answers["version"]) == {"1.0.0"}


def test_the_round_column_may_hold_the_period(db, responses_csv, kent_round):
    assert _import(db, kent_round, responses_csv(round_value="2026-H1")).answers == 63


BROKEN = {
    "wrong header": (lambda text: text.replace("respondent,agency", "person,agency", 1), "row 1, column respondent"),
    "unknown item": (lambda text: text.replace("safety.handover", "safety.handovers", 1), "row 7, column item"),
    "value off the scale": (lambda text: text.replace(",governance.escalation,3,", ",governance.escalation,7,", 1),
                            "row 10, column value"),
    "duplicate row": (lambda text: text + text.splitlines()[5] + "\n", "row 65, column item"),
    "respondent under two agencies": (lambda text: text.replace("p2,police,triage.clinician", "p2,icb,triage.clinician"),
                                      "row 11, column agency"),
    "another partnership": (lambda text: text.replace("kent,kent-2026-h1,a3", "essex,kent-2026-h1,a3", 1),
                            "row 58, column partnership"),
}


@pytest.mark.parametrize("breakage", list(BROKEN))
def test_a_broken_file_changes_nothing_and_says_where(db, responses_csv, kent_round, snapshot, breakage):
    before = snapshot()
    change, place = BROKEN[breakage]
    with pytest.raises(ValidationFailed) as failed:
        _import(db, kent_round, change(responses_csv()))
    assert snapshot() == before
    paths = [p.path for p in failed.value.problems]
    assert place in paths, paths
    report = problems_frame(failed.value.problems)
    assert list(report.columns) == ["row", "column", "code", "problem"]
    assert report["row"].notna().all()


def test_invalid_utf8_is_refused_with_its_row_and_column(db, responses_csv, kent_round, snapshot):
    before = snapshot()
    data = responses_csv().encode("utf-8").replace(b"joint rota", b"joint r\xf4ta")
    with pytest.raises(ValidationFailed) as failed:
        _import(db, kent_round, data)
    assert snapshot() == before
    [problem] = failed.value.problems
    assert problem.code.code == "encoding"
    lines = responses_csv().splitlines()
    row = next(n for n, text in enumerate(lines, start=1) if "joint rota" in text)  # the header is row 1
    assert problem.path == f"row {row}, column comment"


def test_a_respondent_already_in_the_round_is_refused(db, responses_csv, kent_round, snapshot):
    _import(db, kent_round, responses_csv())
    before = snapshot()
    with pytest.raises(ValidationFailed, match="already in round"):
        _import(db, kent_round, responses_csv())
    assert snapshot() == before


# -- scores of closed rounds and exports --------------------------------------------------------------------

def _close(db, round_key):
    with db.sessions.begin() as session:
        s.open_round(session, round_key, actor=ADMIN)
        s.close_round(session, round_key, actor=ADMIN)


def test_closing_a_round_materialises_the_scoring_engine_frames(db, responses_csv, kent_round, mini_v1):
    from assessment.scoring import read_answers_csv, score_responses

    _import(db, kent_round, responses_csv())
    _close(db, kent_round)
    expected = score_responses(mini_v1, read_answers_csv(io.StringIO(responses_csv())).drop(columns=["comment"]))
    with db.sessions() as session:
        domains = s.partnership_scores(session)
        people = s.respondent_scores(session, [kent_round])
        agencies = s.agency_scores(session, partnership="kent")
        overall = s.overall_scores(session)
        items = s.item_scores(session)
    assert set(domains["period"]) == {"2026-H1"} and set(domains["questionnaire"]) == {mini_v1.id}
    assert set(domains["version"]) == {"1.0.0"}
    got = domains.set_index("domain")["score"].sort_index()
    want = expected.partnerships.set_index("domain")["score"].sort_index()
    pd.testing.assert_series_equal(got, want, check_names=False)
    assert len(people) == len(expected.respondents) and len(agencies) == len(expected.agencies)
    assert overall["score"].iloc[0] == pytest.approx(expected.overall["score"].iloc[0])
    assert len(items) == len(responses_csv.items)
    assert domains["suppressed"].dtype == bool


def test_reopening_withdraws_the_scores_and_closing_again_recomputes_them(db, responses_csv, kent_round):
    _import(db, kent_round, responses_csv())
    _close(db, kent_round)
    with db.sessions.begin() as session:
        s.reopen_round(session, kent_round, actor=ADMIN, reason="two late ambulance returns")
    with db.sessions() as session:
        assert s.partnership_scores(session).empty
    with db.sessions.begin() as session:
        s.close_round(session, kent_round, actor=ADMIN)
    with db.sessions() as session:
        assert len(s.partnership_scores(session)) == 3


def test_comments_come_out_of_csv_and_excel_escaped_but_are_stored_as_written(db, responses_csv, kent_round):
    _import(db, kent_round, responses_csv())
    _close(db, kent_round)
    with db.sessions.begin() as session:  # the comments leave through the data custodian's export
        answers = s.custodian_export(session, kent_round, actor=ADMIN, purpose="evaluation")
    csv_bytes, custodian_xlsx = to_csv_bytes(answers["answers"]), to_xlsx_bytes(answers)
    with db.sessions() as session:
        xlsx_bytes = export_round(session, kent_round, "xlsx")
        scores_csv = export_round(session, kent_round, "csv", table="domain_scores")
        tables = export_tables(session, kent_round)
        stored = s.round_answers(session, kent_round)
    assert responses_csv.hyperlink in stored["comment"].tolist() and responses_csv.repeat in stored["comment"].tolist()

    exported = pd.read_csv(io.BytesIO(csv_bytes), dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert "'" + responses_csv.hyperlink in exported["comment"].tolist()
    assert "'" + responses_csv.repeat in exported["comment"].tolist()
    assert not exported["comment"].str.startswith(("=", "+", "-", "@")).any()
    assert (exported[["questionnaire", "version", "period"]] == ["mini-partnership", "1.0.0", "2026-H1"]).all().all()

    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes))
    assert set(book.sheetnames) == set(tables) == {"domain_scores", "agency_scores", "overall_scores", "item_scores"}
    sheet = openpyxl.load_workbook(io.BytesIO(custodian_xlsx))["answers"]
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["questionnaire", "version", "period"]
    comments = [row[header.index("comment")] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert "'" + responses_csv.hyperlink in comments and "'" + responses_csv.repeat in comments
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    for name in book.sheetnames:
        rows = list(book[name].iter_rows(values_only=True))
        first = list(rows[0])
        assert first[:3] == ["questionnaire", "version", "period"], name
        assert all(row[:3] == ("mini-partnership", "1.0.0", "2026-H1") for row in rows[1:]), name

    scores = pd.read_csv(io.BytesIO(scores_csv), encoding="utf-8-sig")
    assert scores["score"].dtype == float and len(scores) == 3


def test_practice_library_comments_carry_domain_and_opt_in(db, responses_csv, kent_round):
    _import(db, kent_round, responses_csv())
    _close(db, kent_round)
    with db.sessions() as session:
        comments = s.answer_comments(session)
    assert set(comments["comment"]) == {responses_csv.hyperlink, responses_csv.repeat}
    assert comments.set_index("comment").loc[responses_csv.repeat, "domain"] == "triage"
    assert comments["share_practice"].all()


# -- round status constraint (migration 0003) ------------------------------------------------------------------

def test_a_round_status_outside_draft_open_closed_is_refused_by_the_database(db, kent_round):
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    from assessment.storage.models import RoundRow

    with pytest.raises(IntegrityError, match="ck_rounds_status|CHECK constraint failed"), db.sessions.begin() as session:
        session.execute(update(RoundRow).where(RoundRow.key == kent_round).values(status="archived"))


def test_the_status_migration_keeps_every_row_of_a_database_in_use(db, responses_csv, kent_round, table_dump):
    """Down to 0002 and up again: on SQLite the rounds table is rebuilt, and the rows that refer to it
    (respondents, answers, invitations, stored scores) must all survive."""
    from alembic import command
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    from assessment.storage.db import alembic_config, current_revision, head_revision, upgrade
    from assessment.storage.models import RoundRow

    with db.sessions.begin() as session:
        s.open_round(session, kent_round, actor=ADMIN)
        s.create_invitations(session, kent_round, "police", 2, actor=ADMIN, base_url="https://x.example")
    _import(db, kent_round, responses_csv())
    with db.sessions.begin() as session:
        s.close_round(session, kent_round, actor=ADMIN)
    before = table_dump(db.engine)
    assert before["score_partnerships"] and before["score_item_counts"] and before["respondents"] and before["invitations"]
    with db.engine.connect() as connection:
        command.downgrade(alembic_config(connection), "0002")
        connection.commit()
    assert current_revision(db.engine) == "0002"
    upgrade(db.engine)
    assert current_revision(db.engine) == head_revision()
    after = table_dump(db.engine)
    assert {name: len(rows) for name, rows in after.items()} == {name: len(rows) for name, rows in before.items()}
    assert after["answers"] == before["answers"]
    for name in ("score_rounds", "score_respondents", "score_agencies", "score_partnerships", "score_overall",
                 "score_items", "score_item_counts"):  # down to JSON frames and back: the same typed rows
        assert after[name] == before[name], name
    with pytest.raises(IntegrityError), db.engine.begin() as connection:
        connection.execute(update(RoundRow).where(RoundRow.key == kent_round).values(status="archived"))
