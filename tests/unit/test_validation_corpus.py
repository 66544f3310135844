"""Every broken questionnaire in tests/data/broken gives exactly the problems its header expects.

Each file states its expectations in `# expect: code | path | line` comments at the top: the code from the
error catalogue, the path inside the file and the line number. Nothing more, nothing less is reported.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assessment.errors import ErrorCode
from assessment.questionnaire import validate_file

BROKEN = Path(__file__).resolve().parent.parent / "data" / "broken"


def _cases() -> list[Path]:
    return sorted(p for p in BROKEN.glob("*/*/*.yaml") if "# expect:" in p.read_text(encoding="utf-8"))


def _expected(path: Path) -> list[tuple[str, str, int | None]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# expect:"):
            code, where, number = (part.strip() for part in line.removeprefix("# expect:").split("|"))
            rows.append((code, where, None if number == "None" else int(number)))
    return rows


def test_corpus_has_at_least_twenty_cases():
    assert len(_cases()) >= 20


def test_corpus_covers_the_required_codes():
    codes = {code for path in _cases() for code, _, _ in _expected(path)}
    required = {
        ErrorCode.YAML_SYNTAX, ErrorCode.UNKNOWN_KEY, ErrorCode.MISSING_KEY, ErrorCode.DUPLICATE_DOMAIN_ID,
        ErrorCode.DUPLICATE_ITEM_ID, ErrorCode.WEIGHT_NOT_POSITIVE, ErrorCode.DESCRIPTOR_MISSING,
        ErrorCode.BANDS_START, ErrorCode.BANDS_NOT_INCREASING, ErrorCode.FILENAME_MISMATCH,
        ErrorCode.PREVIOUS_NOT_FOUND, ErrorCode.CHANGE_UNKNOWN_ITEM, ErrorCode.ITEM_ID_REUSED,
        # format 2.0.0: routing, min_items, level descriptions, respondent burden
        ErrorCode.UNKNOWN_AGENCY, ErrorCode.ANSWERED_BY_EMPTY, ErrorCode.DUPLICATE_AGENCY, ErrorCode.DOMAIN_NOT_ASKED,
        ErrorCode.TOO_FEW_ITEMS_FOR_AGENCY, ErrorCode.LEVEL_DESCRIPTION_MISSING,
        ErrorCode.LEVEL_DESCRIPTION_UNKNOWN_LEVEL, ErrorCode.TOO_MANY_ITEMS, ErrorCode.TOO_MANY_ITEMS_FOR_AGENCY,
    }
    assert {c.code for c in required} <= codes


@pytest.mark.parametrize("path", _cases(), ids=lambda p: p.parent.parent.name)
def test_broken_file_reports_exact_code_and_place(path: Path):
    result = validate_file(path)
    got = [(p.code.code, p.path, p.line) for p in result.problems]
    assert got == _expected(path)
    assert result.questionnaire is None
    assert all(p.file == str(path) for p in result.problems)
