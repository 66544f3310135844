"""Indicator values on SQLite and PostgreSQL: stored per partnership, period, indicator and agency (police and
NHS both kept), imported all-or-nothing with every problem's row and column, saved from the entry table,
exported formula-safe, audited."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest
from sqlalchemy import func, select

from assessment.errors import ValidationFailed
from assessment.indicators import get_catalogue
from assessment.storage import services as s
from assessment.storage.indicators import (
    export_indicator_values,
    import_indicator_values,
    indicator_values,
    save_indicator_values,
)
from assessment.storage.models import AuditEvent, IndicatorValueRow

ADMIN = "data.officer@example.org"
HEADER = "partnership,period,indicator,agency,value,note\n"
GOOD = (HEADER
        + "kent,2025-26,s136-detentions,police,412,Home Office return\n"
        + "kent,2025-26,s136-detentions,mental_health_trust,371,MHSDS\n"
        + "kent,2025-26,s136-pos-police-station,police,3,\n"
        + "kent,2025-26,officer-hours-waiting,police,1520.5,local log\n"
        + "surrey,2025-H2,s136-detentions,police,160,\n")


@pytest.fixture(scope="module")
def catalogue():
    return get_catalogue()


@pytest.fixture
def places(db):
    with db.sessions.begin() as session:
        s.add_partnership(session, "kent", "Kent and Medway crisis care partnership", members=["kent"], actor=ADMIN)
        s.add_partnership(session, "surrey", "Surrey partnership", members=["surrey"], actor=ADMIN)
    return db


def _count(db) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(IndicatorValueRow))


def test_an_import_stores_both_agencies_values_and_who_entered_them(places, catalogue):
    with places.sessions.begin() as session:
        report = import_indicator_values(session, GOOD.encode(), actor=ADMIN, catalogue=catalogue)
    assert (report.rows, report.replaced, report.partnerships, report.periods) == (
        5, 0, ("kent", "surrey"), ("2025-26", "2025-H2"))
    with places.sessions() as session:
        values = indicator_values(session, ["kent"])
        events = session.scalars(select(AuditEvent).where(AuditEvent.entity == "indicator_values")).all()
    both = values[values["indicator"] == "s136-detentions"].set_index("agency")["value"]
    assert both.to_dict() == {"mental_health_trust": 371.0, "police": 412.0}
    assert set(values["entered_by"]) == {ADMIN}
    assert values["entered_at"].notna().all()
    assert values.loc[values["indicator"] == "officer-hours-waiting", "value"].item() == 1520.5
    assert [(e.action, e.detail["stored"], e.detail["file"]) for e in events] == [("import", 5, "<upload>")]


def test_importing_again_replaces_the_same_keys_and_keeps_the_others(places, catalogue):
    with places.sessions.begin() as session:
        import_indicator_values(session, GOOD.encode(), actor=ADMIN, catalogue=catalogue)
    with places.sessions.begin() as session:
        report = import_indicator_values(session, (HEADER + "kent,2025-26,s136-detentions,police,415,revised\n").encode(),
                                         actor="second@example.org", catalogue=catalogue)
    assert (report.rows, report.replaced) == (1, 1)
    with places.sessions() as session:
        values = indicator_values(session, ["kent"], ["2025-26"])
    police = values[(values["indicator"] == "s136-detentions") & (values["agency"] == "police")]
    assert (police["value"].item(), police["entered_by"].item(), police["note"].item()) == (
        415.0, "second@example.org", "revised")
    assert len(values) == 4


BAD_ROWS = [
    ("kent,2025-26,s136-rate,police,12.5,", "row 2, column indicator", "indicator-not-entered"),
    ("kent,2025-26,no-such-thing,police,1,", "row 2, column indicator", "indicator-not-in-catalogue"),
    ("kent,2025-26,s136-pos-police-station,mental_health_trust,4,", "row 2, column agency", "agency-not-reporting"),
    ("kent,2025-26,s136-detentions,polise,4,", "row 2, column agency", "unknown-agency"),
    ("atlantis,2025-26,s136-detentions,police,4,", "row 2, column partnership", "partnership-not-found"),
    ("kent,Spring 2026,s136-detentions,police,4,", "row 2, column period", "invalid-value"),
    ("kent,2025-27,s136-detentions,police,4,", "row 2, column period", "invalid-value"),
    ("kent,2025-26,s136-detentions,police,=1+2,", "row 2, column value", "invalid-value"),
    ("kent,2025-26,s136-detentions,police,4.5,", "row 2, column value", "invalid-value"),
    ("kent,2025-26,s136-detentions,police,-1,", "row 2, column value", "invalid-value"),
    ("kent,2025-26,s136-detentions,police,\"1,204\",", "row 2, column value", "invalid-value"),
    ("kent,2025-26,s136-detentions,police,,", "row 2, column value", "invalid-value"),
    ("kent,,s136-detentions,police,4,", "row 2, column period", "empty-identifier"),
    ("kent,2025-26,s136-detentions,police,4,\x01", "row 2, column note", "control-character"),
]


@pytest.mark.parametrize(("row", "place", "code"), BAD_ROWS)
def test_every_bad_row_is_refused_with_its_place_and_nothing_is_stored(places, catalogue, row, place, code,
                                                                       table_dump):
    with places.sessions.begin() as session:
        import_indicator_values(session, GOOD.encode(), actor=ADMIN, catalogue=catalogue)
    before = _count(places)
    every_row = table_dump(places.engine)
    data = (HEADER + row + "\n" + "kent,2025-26,s136-pos-police-station,police,999,\n").encode()
    with places.sessions.begin() as session, pytest.raises(ValidationFailed) as caught:
        import_indicator_values(session, data, actor=ADMIN, catalogue=catalogue)
    assert [(p.path, p.code.code) for p in caught.value.problems] == [(place, code)]
    assert "nothing was stored" in caught.value.summary
    with places.sessions() as session:
        values = indicator_values(session, ["kent"])
    assert _count(places) == before
    assert table_dump(places.engine) == every_row  # no table changed, the audit trail included
    station = values[values["indicator"] == "s136-pos-police-station"]
    assert station["value"].item() == 3.0  # the good row after the bad one was not written either


def test_a_duplicate_row_names_the_first_and_every_problem_is_reported_at_once(places, catalogue):
    data = (HEADER + "kent,2025-26,s136-detentions,police,4,\n" + "kent,2025-26,s136-detentions,police,5,\n"
            + "kent,2025-26,s136-rate,police,1,\n" + "surrey,2025-q3,s136-detentions,ambulance,2,\n").encode()
    with places.sessions.begin() as session, pytest.raises(ValidationFailed) as caught:
        import_indicator_values(session, data, actor=ADMIN, catalogue=catalogue)
    found = [(p.path, p.code.code) for p in caught.value.problems]
    assert found == [("row 3, column indicator", "duplicate-indicator-value"),
                     ("row 4, column indicator", "indicator-not-entered"),
                     ("row 5, column agency", "agency-not-reporting")]
    assert "first at row 2" in caught.value.problems[0].message
    assert _count(places) == 0


def test_a_header_without_the_columns_is_refused_by_name(places, catalogue):
    with places.sessions.begin() as session, pytest.raises(ValidationFailed) as caught:
        import_indicator_values(session, b"partnership,period,indicator,value,colour\nkent,2026,x,1,red\n",
                                actor=ADMIN, catalogue=catalogue)
    assert [(p.path, p.code.code) for p in caught.value.problems] == [
        ("row 1, column agency", "missing-column"), ("row 1, column colour", "invalid-value")]


def test_a_lead_import_refuses_rows_of_another_partnership(places, catalogue):
    with places.sessions.begin() as session, pytest.raises(ValidationFailed) as caught:
        import_indicator_values(session, GOOD.encode(), actor=ADMIN, catalogue=catalogue, partnership="kent")
    assert [(p.path, p.code.code) for p in caught.value.problems] == [("row 6, column partnership", "invalid-value")]


def test_the_entry_table_saves_replaces_and_removes(places, catalogue):
    entry = pd.DataFrame({"indicator": ["s136-detentions", "s136-detentions", "officer-hours-waiting"],
                          "agency": ["police", "mental_health_trust", "police"], "value": ["120", "101", "88.5"]})
    with places.sessions.begin() as session:
        first = save_indicator_values(session, "kent", "2026-h1", entry, actor=ADMIN, catalogue=catalogue)
    assert (first.rows, first.replaced, first.removed, first.periods) == (3, 0, 0, ("2026-H1",))
    entry.loc[0, "value"] = "125"
    entry.loc[2, "value"] = ""
    with places.sessions.begin() as session:
        second = save_indicator_values(session, "kent", "2026-H1", entry, actor="lead@example.org", catalogue=catalogue)
    assert (second.rows, second.replaced, second.removed) == (2, 2, 1)
    with places.sessions() as session:
        values = indicator_values(session, ["kent"])
    assert sorted(zip(values["agency"], values["value"], strict=True)) == [("mental_health_trust", 101.0),
                                                                          ("police", 125.0)]
    entry.loc[1, "value"] = "many"
    with places.sessions.begin() as session, pytest.raises(ValidationFailed) as caught:
        save_indicator_values(session, "kent", "2026-H1", entry, actor=ADMIN, catalogue=catalogue)
    assert [(p.path, p.code.code) for p in caught.value.problems] == [("row 2, column value", "invalid-value")]


def test_the_export_reads_back_as_the_same_values_and_is_formula_safe(places, catalogue):
    data = GOOD.replace("Home Office return", "=HYPERLINK(\"http://evil.example\")").replace(",MHSDS", ",\"+1 see note\"")
    with places.sessions.begin() as session:
        import_indicator_values(session, data.encode(), actor=ADMIN, catalogue=catalogue)
    with places.sessions() as session:
        values = indicator_values(session)
    text = export_indicator_values(values, "csv").decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(rows) == 5
    assert all(not r["note"].startswith(("=", "+", "-", "@")) for r in rows)
    assert {r["note"] for r in rows} >= {"'=HYPERLINK(\"http://evil.example\")", "'+1 see note"}
    as_json = json.loads(export_indicator_values(values, "json"))
    assert {(r["partnership"], r["indicator"], r["agency"], r["value"]) for r in as_json} == {
        (r["partnership"], r["indicator"], r["agency"], float(r["value"])) for r in rows}
    # an exported file imports again (the export-only columns are read past)
    with places.sessions.begin() as session:
        again = import_indicator_values(session, text.encode(), actor="restorer@example.org", catalogue=catalogue)
    assert (again.rows, again.replaced) == (5, 5)
