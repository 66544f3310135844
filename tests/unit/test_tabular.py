"""Formula-safe exports: risky text gets an apostrophe, numbers stay numbers (CWE-1236)."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest

from assessment.tabular import formula_safe, safe_text, to_csv_bytes, to_xlsx_bytes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=HYPERLINK(\"http://evil.example\",\"click\")", "'=HYPERLINK(\"http://evil.example\",\"click\")"),
        ("-3 repeat callers", "'-3 repeat callers"),
        ("+44 1632 960000", "'+44 1632 960000"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Street triage runs 7 days a week", "Street triage runs 7 days a week"),
        ("", ""),
    ],
)
def test_text_that_a_spreadsheet_would_run_is_prefixed(text, expected):
    assert safe_text(text) == expected


def test_numbers_stay_numbers_and_only_text_cells_change():
    frame = pd.DataFrame({
        "domain": ["governance", "triage"],
        "score": [-0.4, 3.2],
        "n_respondents": [12, 3],
        "comment": ["-3 repeat callers", "joint rota"],
        "split": [True, False],
    })
    safe = formula_safe(frame)
    assert safe["score"].tolist() == [-0.4, 3.2]
    assert safe["n_respondents"].dtype == frame["n_respondents"].dtype
    assert safe["comment"].tolist() == ["'-3 repeat callers", "joint rota"]
    assert safe["split"].tolist() == [True, False]
    assert frame["comment"].iloc[0] == "-3 repeat callers"  # the input is not changed


def test_missing_text_stays_missing():
    frame = pd.DataFrame({"comment": pd.Series(["=1+1", None], dtype="string")})
    safe = formula_safe(frame)
    assert safe["comment"].iloc[0] == "'=1+1"
    assert pd.isna(safe["comment"].iloc[1])


def test_csv_and_xlsx_come_out_escaped():
    frame = pd.DataFrame({"comment": ["=HYPERLINK(\"x\")", "fine"], "score": [-1.5, 2.0]})
    csv_text = to_csv_bytes(frame).decode("utf-8-sig")
    back = pd.read_csv(io.StringIO(csv_text), dtype={"comment": str})
    assert back["comment"].tolist() == ["'=HYPERLINK(\"x\")", "fine"]
    assert back["score"].tolist() == [-1.5, 2.0]
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx_bytes({"answers": frame})))
    sheet = book["answers"]
    assert sheet["A2"].value == "'=HYPERLINK(\"x\")" and sheet["A2"].data_type == "s"
    assert sheet["B2"].value == -1.5


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        formula_safe([["=1"]])
    with pytest.raises(ValueError):
        to_xlsx_bytes({})


def test_numbers_in_csv_are_rounded_to_six_decimals():
    import pandas as pd

    from assessment.tabular import to_csv_text

    text = to_csv_text(pd.DataFrame({"domain": ["triage"], "score": [2.9000000000000004], "rate": [1 / 3],
                                     "n": [12]}))
    assert text.splitlines()[1] == "triage,2.9,0.333333,12"


def test_full_precision_on_request():
    import pandas as pd

    from assessment.tabular import to_csv_text

    text = to_csv_text(pd.DataFrame({"score": [11 / 3]}), decimals=None)
    assert float(text.splitlines()[1]) == 11 / 3
