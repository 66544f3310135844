"""The period grammar (assessment/periods.py) and the peer window built on it."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from assessment.periods import PeriodError, in_window, parse_period, period_bounds, period_label, window_text

D = dt.date


@pytest.mark.parametrize(("text", "label", "start", "end"), [
    ("2026", "2026", D(2026, 1, 1), D(2026, 12, 31)),
    ("2026-H1", "2026-H1", D(2026, 1, 1), D(2026, 6, 30)),
    ("2026-h2", "2026-H2", D(2026, 7, 1), D(2026, 12, 31)),
    ("2026-Q1", "2026-Q1", D(2026, 1, 1), D(2026, 3, 31)),
    ("2024-Q1", "2024-Q1", D(2024, 1, 1), D(2024, 3, 31)),
    (" 2026-q3 ", "2026-Q3", D(2026, 7, 1), D(2026, 9, 30)),
    ("2026-Q4", "2026-Q4", D(2026, 10, 1), D(2026, 12, 31)),
    ("2025-26", "2025-26", D(2025, 4, 1), D(2026, 3, 31)),
    ("2099-00", "2099-00", D(2099, 4, 1), D(2100, 3, 31)),
])
def test_each_form_of_the_grammar_parses_to_the_days_it_covers(text, label, start, end):
    period = parse_period(text)
    assert (period.label, period.start, period.end) == (label, start, end)


@pytest.mark.parametrize("text", ["Spring 2026", "2026-H3", "2026-Q5", "2026H1", "26-H1", "2026-", "", None,
                                  "2026-1", "H1-2026", "2026-H1-extra"])
def test_anything_else_is_refused_naming_the_value_and_the_forms(text):
    with pytest.raises(PeriodError) as caught:
        parse_period(text)
    message = str(caught.value)
    assert (f"'{text}'" in message) or (not text and "(empty)" in message)
    assert "YYYY-H1" in message and "YYYY-YY" in message


def test_a_financial_year_must_be_two_consecutive_years():
    with pytest.raises(PeriodError, match=r"period '2025-27' is not a financial year.*2025-26"):
        parse_period("2025-27")


def test_labels_are_canonical():
    assert period_label("2026-h1") == "2026-H1"


def test_bounds_of_a_column_parse_each_distinct_label_and_leave_free_text_empty():
    labels = pd.Series(["2026-H1", "Spring", "2026-h1", "2025-26"], index=[5, 6, 7, 8])
    bounds = period_bounds(labels)
    assert list(bounds.index) == [5, 6, 7, 8]
    assert list(bounds["label"]) == ["2026-H1", "", "2026-H1", "2025-26"]
    assert bounds.loc[6, "end_month"] == -1 and pd.isna(bounds.loc[6, "end"])
    assert bounds.loc[8, "end"] == pd.Timestamp("2026-03-31")


def test_the_window_holds_periods_ending_in_the_twelve_months_to_the_own_period():
    own = parse_period("2026-H1").end_month  # June 2026: window July 2025 - June 2026
    names = ["2026-H1", "2026-Q2", "2026-Q1", "2025-26", "2025-H2", "2025", "2025-H1", "2026-H2", "2026", "free"]
    ends = period_bounds(pd.Series(names))["end_month"].to_numpy()
    inside = dict(zip(names, in_window(ends, own, 12), strict=True))
    assert [n for n, ok in inside.items() if ok] == ["2026-H1", "2026-Q2", "2026-Q1", "2025-26", "2025-H2", "2025"]
    six = dict(zip(names, in_window(ends, own, 6), strict=True))
    assert [n for n, ok in six.items() if ok] == ["2026-H1", "2026-Q2", "2026-Q1", "2025-26"]
    with pytest.raises(ValueError, match="at least 1 month"):
        in_window(np.array([own]), own, 0)


def test_the_window_in_words():
    assert window_text("2025-26", 12) == "the 12 months to March 2026 (2025-26)"
