"""The indicator catalogue: the shipped file is valid, every broken file gives its exact codes and places,
and the catalogue covers every row of the evidence base (or docs/indicators.md says why not)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assessment.errors import ErrorCode, ValidationFailed
from assessment.indicators import catalogue_rows, get_catalogue, load_catalogue, validate_catalogue_text
from assessment.questionnaire import get_questionnaire
from tests.conftest import ROOT

BROKEN = ROOT / "tests" / "data" / "indicators-broken"
SHIPPED = ROOT / "indicators" / "outcome-indicators" / "1.0.0.yaml"
EVIDENCE_ROWS = set(range(1, 19))  # section B of the evidence base has rows 1 to 18


def _cases() -> list[Path]:
    return sorted(BROKEN.glob("*/*/*.yaml"))


def _expected(path: Path) -> list[tuple[str, str, int | None]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# expect:"):
            code, where, number = (part.strip() for part in line.removeprefix("# expect:").split("|"))
            rows.append((code, where, None if number == "None" else int(number)))
    return rows


def test_corpus_covers_the_catalogue_codes():
    codes = {code for path in _cases() for code, _, _ in _expected(path)}
    required = {
        ErrorCode.YAML_SYNTAX, ErrorCode.YAML_ALIAS, ErrorCode.DUPLICATE_KEY, ErrorCode.NOT_A_MAPPING,
        ErrorCode.UNKNOWN_KEY, ErrorCode.MISSING_KEY, ErrorCode.INVALID_VALUE, ErrorCode.FILENAME_MISMATCH,
        ErrorCode.UNKNOWN_AGENCY, ErrorCode.DUPLICATE_AGENCY, ErrorCode.UNKNOWN_SOURCE,
        ErrorCode.DUPLICATE_INDICATOR_ID, ErrorCode.DUPLICATE_DENOMINATOR_ID, ErrorCode.UNKNOWN_INDICATOR,
        ErrorCode.UNKNOWN_DOMAIN, ErrorCode.QUESTIONNAIRE_NOT_FOUND, ErrorCode.COMPUTED_FROM_MISSING,
        ErrorCode.COMPUTED_FROM_UNEXPECTED, ErrorCode.COMPUTED_FROM_KIND, ErrorCode.REASON_MISSING,
    }
    assert {c.code for c in required} <= codes


@pytest.mark.parametrize("path", _cases(), ids=lambda p: p.parent.parent.name)
def test_broken_catalogue_reports_exact_code_and_place(path: Path):
    from assessment.indicators import validate_catalogue_file

    expected = _expected(path)
    assert expected, f"{path} states no expectation"
    result = validate_catalogue_file(path)
    assert [(p.code.code, p.path, p.line) for p in result.problems] == expected
    assert result.catalogue is None
    assert all(p.file == str(path) for p in result.problems)


def test_shipped_catalogue_is_valid_and_linked_to_questionnaire_2_0_0():
    cat = get_catalogue()
    assert (cat.id, cat.version) == ("outcome-indicators", "1.0.0")
    assert (cat.questionnaire.id, cat.questionnaire.version) == ("police-mental-health", "2.0.0")
    domains = {d.id for d in get_questionnaire("police-mental-health", "2.0.0").domains}
    assert all(set(i.domains) <= domains for i in cat.indicators)
    # the catalogue is frozen: nothing downstream can change it
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises its own ValidationError for frozen models
        cat.indicators[0].name = "changed"


def test_every_computed_figure_names_what_it_is_computed_from():
    cat = get_catalogue()
    for indicator in cat.indicators:
        assert (indicator.computed_from is not None) == indicator.computed, indicator.id


def test_police_and_nhs_both_report_section_136_detentions():
    cat = get_catalogue()
    assert {"police", "mental_health_trust"} <= set(cat.indicator("s136-detentions").reporting_agencies)
    assert cat.indicator("s136-pos-police-station").reporting_agencies == ("police",)


def test_unconfirmed_denominators_ship_no_figures_and_say_why():
    cat = get_catalogue()
    assert cat.denominators, "the rates need denominators"
    for den in cat.denominators:
        assert den.confirmed or den.reason.strip()


def test_every_evidence_row_is_in_the_catalogue_or_left_out_with_a_reason():
    cat = get_catalogue()
    covered = {i.evidence_row for i in cat.indicators}
    doc = (ROOT / "docs" / "indicators.md").read_text(encoding="utf-8")
    section = doc.split("## Left out", 1)[1].split("\n## ", 1)[0]
    left_out = {int(m.group(1)) for m in re.finditer(r"^\| (\d+) \|[^|]+\|\s*\S", section, re.MULTILINE)}
    assert covered | left_out == EVIDENCE_ROWS
    assert not covered & left_out, "a row is both in the catalogue and listed as left out"


def test_catalogue_rows_are_flat_and_name_the_source():
    rows = catalogue_rows(get_catalogue())
    first = rows[0]
    assert first["indicator"] == "s136-detentions" and first["agency"] == "police"
    assert first["source"].startswith("Police powers and procedures")
    assert first["fewer_than"] == 5
    rate = next(r for r in rows if r["indicator"] == "s136-rate")
    assert rate["computed_from"] == "s136-detentions / population" and rate["fewer_than"] == ""


def test_load_catalogue_raises_with_every_problem(tmp_path):
    path = BROKEN / "several-problems" / "outcome-indicators" / "1.0.0.yaml"
    with pytest.raises(ValidationFailed) as caught:
        load_catalogue(path)
    assert len(caught.value.problems) == 3


def test_text_validation_checks_domains_against_the_named_questionnaire_folder(tmp_path):
    text = SHIPPED.read_text(encoding="utf-8")
    result = validate_catalogue_text(text, questionnaires_dir=tmp_path)  # an empty folder
    assert [p.code for p in result.problems] == [ErrorCode.QUESTIONNAIRE_NOT_FOUND]
