"""The complete example in docs/questionnaire-format.md is itself a valid questionnaire file."""

from __future__ import annotations

import re

from assessment.questionnaire import validate_file
from tests.conftest import ROOT


def test_format_doc_example_validates(tmp_path):
    doc = (ROOT / "docs" / "questionnaire-format.md").read_text(encoding="utf-8")
    example = re.findall(r"```yaml\n(.*?)```", doc, flags=re.S)[0]
    folder = tmp_path / "example-partnership"
    folder.mkdir()
    path = folder / "1.0.0.yaml"
    path.write_text(example, encoding="utf-8")
    result = validate_file(path)
    assert result.ok, [str(p) for p in result.problems]
    q = result.questionnaire
    assert [d.id for d in q.domains] == ["governance", "safety"]
    # the example shows every format 2.0.0 key
    assert q.min_items == 2 and q.scale.instruction.startswith("Choose the highest level")
    assert q.item("safety.handover").answered_by == ("police", "ambulance", "mental_health_trust", "acute_trust")
    assert all(set(d.level_descriptions) == {b.level for b in q.bands} for d in q.domains)


def test_format_doc_lists_every_error_code_for_files():
    from assessment.errors import ErrorCode

    doc = (ROOT / "docs" / "questionnaire-format.md").read_text(encoding="utf-8")
    # the questionnaire-file codes are the ones listed before the answer codes in the catalogue
    file_codes = list(ErrorCode)[: list(ErrorCode).index(ErrorCode.MISSING_COLUMN)]
    missing = [c.code for c in file_codes if f"`{c.code}`" not in doc]
    assert not missing, f"undocumented error codes: {missing}"
