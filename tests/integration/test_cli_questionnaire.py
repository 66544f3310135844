"""`assessment questionnaire validate|list|show|diff|schema` on the test and shipped files."""

from __future__ import annotations

import json

from click.testing import CliRunner

from assessment.cli import main
from assessment.settings import default_questionnaires_dir
from tests.conftest import MINI_DIR, ROOT, TEST_QUESTIONNAIRES

BROKEN = ROOT / "tests" / "data" / "broken"


def run(*args):
    return CliRunner().invoke(main, list(map(str, args)))


def test_validate_valid_files_prints_one_line_each():
    result = run("questionnaire", "validate", MINI_DIR / "1.0.0.yaml", MINI_DIR / "1.1.0.yaml")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("ok ") for line in lines)
    assert "3 domains, 7 items" in lines[0]


def test_validate_invalid_exits_1_with_code_file_path_line():
    path = BROKEN / "several-problems" / "mini-partnership" / "1.0.0.yaml"
    result = run("questionnaire", "validate", MINI_DIR / "1.0.0.yaml", path)
    assert result.exit_code == 1
    assert f"{path}:107: weight-not-positive at domains[2].items[2].weight" in result.output
    assert "unknown-key at domains[0].items[1].guidence" in result.output
    assert "3 problem(s) found" in result.output


def test_list_shows_versions():
    result = run("questionnaire", "list", TEST_QUESTIONNAIRES)
    assert result.exit_code == 0
    assert "mini-partnership\t1.0.0" in result.output and "mini-partnership\t1.1.0" in result.output


def test_show_json_uses_yaml_key_names_with_defaults():
    result = run("questionnaire", "show", MINI_DIR / "1.0.0.yaml", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["id"] == "mini-partnership" and data["version"] == "1.0.0"
    assert data["scale"]["levels"][4] == {"value": 5, "label": "Leading"}
    assert data["bands"][0] == {"lower_bound": 1.0, "level": 1, "label": "Initial"}
    item = data["domains"][0]["items"][1]
    assert item["weight"] == 1.0 and item["guidance"].startswith("Check the escalation")
    assert data["changes"] == [] and data["previous"] is None


def test_show_invalid_exits_1():
    result = run("questionnaire", "show", BROKEN / "weight-zero-item" / "mini-partnership" / "1.0.0.yaml")
    assert result.exit_code == 1 and "weight-not-positive" in result.output


def test_diff_reports_items_and_domains():
    result = run("questionnaire", "diff", MINI_DIR / "1.0.0.yaml", MINI_DIR / "1.1.0.yaml")
    assert result.exit_code == 0
    out = result.output
    assert "split      triage.clinician -> triage.control_room_clinician, triage.advice_line" in out
    assert "added      safety.police_station_use" in out
    assert "comparable      governance" in out and "NOT comparable  triage" in out


def test_diff_json():
    result = run("questionnaire", "diff", MINI_DIR / "1.0.0.yaml", MINI_DIR / "1.1.0.yaml", "--format", "json")
    data = json.loads(result.output)
    assert {d["domain"]: d["comparable"] for d in data["domains"]} == {
        "governance": True, "triage": False, "safety": False
    }


def test_schema_is_a_json_schema_with_the_format_keys(tmp_path):
    result = run("questionnaire", "schema")
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert schema["$schema"].endswith("2020-12/schema")
    assert {"id", "version", "scale", "bands", "domains"} <= set(schema["required"])
    assert schema["additionalProperties"] is False
    assert "from" in schema["$defs"]["Change"]["properties"]
    # format 2.0.0 keys, optional; answered_by offers exactly the vocabulary's agency codes
    from assessment.vocabulary import AGENCIES

    assert schema["properties"]["min_items"]["minimum"] == 1 and "min_items" not in schema["required"]
    assert "instruction" in schema["$defs"]["Scale"]["properties"]
    assert "level_descriptions" in schema["$defs"]["Domain"]["properties"]
    answered_by = schema["$defs"]["Item"]["properties"]["answered_by"]
    assert answered_by["anyOf"][0]["items"]["enum"] == list(AGENCIES)
    assert "answered_by" not in schema["$defs"]["Item"]["required"]
    out = tmp_path / "schema.json"
    assert run("questionnaire", "schema", "--out", out).exit_code == 0
    assert json.loads(out.read_text()) == schema


def test_schema_accepts_the_example_and_rejects_unknown_keys():
    import jsonschema
    import yaml

    schema = json.loads(run("questionnaire", "schema").output)
    data = yaml.safe_load((MINI_DIR / "1.0.0.yaml").read_text())
    data["published"] = str(data["published"])
    for domain in data["domains"]:
        for item in domain["items"]:
            item["descriptors"] = {str(k): v for k, v in item["descriptors"].items()}
    jsonschema.validate(data, schema)
    data["titel"] = "typo"
    try:
        jsonschema.validate(data, schema)
    except jsonschema.ValidationError as exc:
        assert "titel" in str(exc)
    else:  # pragma: no cover - the schema must reject unknown keys
        raise AssertionError("unknown key accepted")


def test_shipped_questionnaires_validate():
    paths = sorted(default_questionnaires_dir().glob("*/*.yaml"))
    assert paths, "no shipped questionnaire files"
    result = run("questionnaire", "validate", *paths)
    assert result.exit_code == 0, result.output
