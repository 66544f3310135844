"""``assessment score``: the CLI writes exactly what the library computes."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from assessment.cli import main
from assessment.scoring import read_answers_csv, score_responses

DATA = Path(__file__).resolve().parents[1] / "data"
QUESTIONNAIRE = DATA / "questionnaires" / "mini-partnership" / "1.0.0.yaml"
RESPONSES = DATA / "responses" / "mini-two-partnerships.csv"
TABLES = {"respondent": "respondents", "agency": "agencies", "partnership": "partnerships",
          "overall": "overall", "item": "items"}


def run(*args: str):
    return CliRunner().invoke(main, ["score", "--questionnaire", str(QUESTIONNAIRE), *args], catch_exceptions=False)


@pytest.fixture(scope="module")
def library_scores():
    from assessment.questionnaire import load_questionnaire

    return score_responses(load_questionnaire(QUESTIONNAIRE), read_answers_csv(RESPONSES))


@pytest.mark.parametrize("table", list(TABLES))
def test_cli_and_library_agree(table, library_scores, tmp_path):
    out = tmp_path / f"{table}.csv"
    result = run("--responses", str(RESPONSES), "--table", table, "--out", str(out))
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out, dtype=str, keep_default_na=False)
    expected = getattr(library_scores, TABLES[table])
    assert list(written.columns) == list(expected.columns)
    assert len(written) == len(expected)
    for column in expected.columns:
        values = expected[column]
        if pd.api.types.is_float_dtype(values.dtype):
            # full precision: the text parses back to exactly the same float
            parsed = pd.to_numeric(written[column].replace("", None)).astype(float)
            pd.testing.assert_series_equal(parsed, values.reset_index(drop=True), check_names=False, check_exact=True)
        else:
            assert written[column].tolist() == values.astype(object).where(values.notna(), "").astype(str).tolist()


def test_default_table_is_partnership_on_stdout(library_scores):
    result = run("--responses", str(RESPONSES))
    assert result.exit_code == 0
    frame = pd.read_csv(io.StringIO(result.stdout), dtype=str, keep_default_na=False)
    assert list(frame.columns) == list(library_scores.partnerships.columns)
    # sorted by the key columns; levels are whole numbers
    assert frame[["partnership", "round", "domain"]].values.tolist() == sorted(
        frame[["partnership", "round", "domain"]].values.tolist())
    assert all(text == "" or text.isdigit() for text in frame["level"])


def test_the_old_level_option_still_works_with_a_warning(library_scores):
    result = run("--responses", str(RESPONSES), "--level", "agency")
    assert result.exit_code == 0
    assert "--level is deprecated" in result.stderr and "--table" in result.stderr
    frame = pd.read_csv(io.StringIO(result.stdout), dtype=str, keep_default_na=False)
    assert list(frame.columns) == list(library_scores.agencies.columns)
    clash = run("--responses", str(RESPONSES), "--level", "agency", "--table", "item")
    assert clash.exit_code == 2 and "use --table only" in clash.stderr


def test_respondent_table_has_every_domain_for_every_respondent():
    result = run("--responses", str(RESPONSES), "--table", "respondent")
    frame = pd.read_csv(io.StringIO(result.stdout), dtype=str, keep_default_na=False)
    respondents = read_answers_csv(RESPONSES)["respondent"].nunique()
    assert len(frame) == respondents * 3
    # n-l1 answered no triage item but clinician DK: no score, an empty cell
    row = frame[(frame["respondent"] == "n-l1") & (frame["domain"] == "triage")].iloc[0]
    assert row["score"] == "" and row["status"] == "insufficient"


def test_invalid_input_exits_1_with_the_report():
    result = run("--responses", str(DATA / "responses" / "mini-invalid.csv"))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "6 problem(s)" in result.stderr
    assert "row 4, column value" in result.stderr and "value-off-scale" in result.stderr


def test_thresholds_are_options(tmp_path):
    result = run("--responses", str(RESPONSES), "--min-group-size", "1", "--table", "agency")
    frame = pd.read_csv(io.StringIO(result.stdout), dtype=str, keep_default_na=False)
    assert set(frame["suppressed"]) == {"False"}


def test_a_broken_questionnaire_exits_1(tmp_path):
    broken = next((DATA / "broken" / "bands-start").rglob("*.yaml"))
    result = CliRunner().invoke(main, ["score", "--questionnaire", str(broken), "--responses", str(RESPONSES)])
    assert result.exit_code == 1
    assert "bands-start" in result.stderr
