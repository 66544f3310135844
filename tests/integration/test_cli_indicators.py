"""`assessment indicators catalogue|validate|schema` on the shipped catalogue and the broken corpus."""

from __future__ import annotations

import csv
import io
import json

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from assessment.cli import main
from tests.conftest import ROOT

SHIPPED = ROOT / "indicators" / "outcome-indicators" / "1.0.0.yaml"
BROKEN = ROOT / "tests" / "data" / "indicators-broken"


def run(*args):
    return CliRunner().invoke(main, list(map(str, args)))


def test_catalogue_csv_has_one_row_per_indicator():
    result = run("indicators", "catalogue", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert len(rows) == len(yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))["indicators"])
    first = rows[0]
    assert (first["indicator"], first["unit"], first["agency"], first["fewer_than"]) == (
        "s136-detentions", "count", "police", "5")
    assert {"numerator", "denominator", "direction", "source", "source_table", "domains"} <= set(first)


def test_catalogue_json_is_the_normalised_catalogue():
    result = run("indicators", "catalogue", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["id"], data["version"]) == ("outcome-indicators", "1.0.0")
    assert data["questionnaire"] == {"id": "police-mental-health", "version": "2.0.0"}


def test_schema_accepts_the_shipped_catalogue_and_refuses_an_unknown_key():
    result = run("indicators", "schema")
    assert result.exit_code == 0, result.output
    schema = json.loads(result.output)
    data = json.loads(json.dumps(yaml.safe_load(SHIPPED.read_text(encoding="utf-8")), default=str))
    jsonschema.validate(data, schema)
    data["indicators"][0]["colour"] = "red"
    try:
        jsonschema.validate(data, schema)
    except jsonschema.ValidationError:
        pass
    else:
        raise AssertionError("the schema let an unknown key through")


def test_validate_ok_and_broken():
    ok = run("indicators", "validate", SHIPPED)
    count = len(yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))["indicators"])
    assert ok.exit_code == 0 and ok.output.startswith("ok ") and f"{count} indicators" in ok.output
    broken = BROKEN / "several-problems" / "outcome-indicators" / "1.0.0.yaml"
    result = run("indicators", "validate", broken)
    assert result.exit_code == 1
    assert f"{broken}:25: unknown-agency at indicators[0].agency" in result.output
    assert "unknown-domain at indicators[1].domains[0]" in result.output


def test_schema_out_writes_a_file(tmp_path):
    out = tmp_path / "indicators.schema.json"
    assert run("indicators", "schema", "--out", out).exit_code == 0
    assert json.loads(out.read_text(encoding="utf-8"))["title"] == "Outcome indicator catalogue version"


# -- values: import, list, export on both engines --------------------------------------------------------------
@pytest.fixture
def run_db(db, tmp_path):
    from assessment.storage import services as s

    with db.sessions.begin() as session:
        s.add_partnership(session, "kent", "Kent and Medway crisis care partnership", members=["kent"], actor="t")
    env = {"ASSESSMENT_DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
           "ASSESSMENT_DATA_DIR": str(tmp_path / "data")}

    def invoke(*args):
        return CliRunner().invoke(main, list(map(str, args)), env=env)
    return invoke


def test_import_list_and_export_round_trip_and_a_bad_file_changes_nothing(run_db, tmp_path):
    good = tmp_path / "kent.csv"
    good.write_text("partnership,period,indicator,agency,value,note\n"
                    "kent,2026-H1,s136-detentions,police,120,=cmd\n"
                    "kent,2026-H1,s136-detentions,mental_health_trust,101,\n"
                    "kent,2026-H1,s136-pos-police-station,police,2,\n", encoding="utf-8")
    result = run_db("indicators", "import", good, "--actor", "analyst@example.org")
    assert result.exit_code == 0, result.output
    assert "stored 3 value(s) (0 replacing stored ones) for 1 partnership(s), period(s) 2026-H1" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("partnership,period,indicator,agency,value\nkent,2026-H1,s136-detentions,police,7\n"
                   "kent,2026-H1,s136-rate,police,3.2\n", encoding="utf-8")
    refused = run_db("indicators", "import", bad)
    assert refused.exit_code == 1
    assert "row 3, column indicator" in refused.output and "indicator-not-entered" in refused.output
    assert "nothing was stored" in refused.output

    listed = list(csv.DictReader(io.StringIO(run_db("indicators", "list").output)))
    assert sorted((r["agency"], r["value"]) for r in listed if r["indicator"] == "s136-detentions") == [
        ("mental_health_trust", "101.0"), ("police", "120.0")]  # the refused file's 7 is not there
    assert {r["note"] for r in listed} == {"'=cmd", ""}
    shown = list(csv.DictReader(io.StringIO(run_db("indicators", "list", "--figures").output)))
    station = next(r for r in shown if r["indicator"] == "s136-pos-police-station")
    assert (station["shown"], station["hidden"]) == ("fewer than 5", "True")

    out = tmp_path / "out.json"
    assert run_db("indicators", "export", "--format", "json", "--out", out).exit_code == 0
    assert len(json.loads(out.read_text(encoding="utf-8"))) == 3
    exported = tmp_path / "out.csv"
    assert run_db("indicators", "export", "--format", "csv", "--out", exported).exit_code == 0
    again = run_db("indicators", "import", exported)
    assert "stored 3 value(s) (3 replacing stored ones)" in again.output
