"""`assessment indicators catalogue|validate|schema` on the shipped catalogue and the broken corpus."""

from __future__ import annotations

import csv
import io
import json

import jsonschema
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
