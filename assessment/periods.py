"""Periods: the one grammar of a round's period label, parsed to the dates it covers.

A period is one of (case does not matter on input; the label is kept in the form shown):

========== ================================ =================================
label      covers                           example
========== ================================ =================================
``YYYY``   the calendar year                ``2026`` = 1 Jan 2026 – 31 Dec 2026
``YYYY-H1`` a half year (``H1``, ``H2``)    ``2026-H2`` = 1 Jul – 31 Dec 2026
``YYYY-Q1`` a quarter (``Q1`` … ``Q4``)     ``2026-Q3`` = 1 Jul – 30 Sep 2026
``YYYY-YY`` a UK financial year, April–March ``2025-26`` = 1 Apr 2025 – 31 Mar 2026
========== ================================ =================================

The peer window (docs/benchmarking.md): a round's peers are the other partnerships' most recent closed
round whose period *ends* within the ``months`` months that end with the round's own period
(:func:`in_window`; the same period is included, later periods never are).

Pure: no file, database or clock. Bottom layer (imports nothing from the product).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "PERIOD_FORMS",
    "Period",
    "PeriodError",
    "in_window",
    "parse_period",
    "period_bounds",
    "period_label",
    "window_text",
]

#: The accepted forms in words, for messages and the docs.
PERIOD_FORMS = "YYYY (2026), YYYY-H1 (2026-H1, 2026-H2), YYYY-Q1 (2026-Q1 … 2026-Q4) or YYYY-YY (2025-26)"

_PATTERN = r"^\s*(?P<year>\d{4})(?:-(?P<part>[HhQq]\d|\d{2}))?\s*$"
_REGEX = re.compile(_PATTERN)


class PeriodError(ValueError):
    """A period label outside the grammar; the message names the value and the accepted forms."""


@dataclass(frozen=True)
class Period:
    """A parsed period: its label (canonical form), first and last day."""

    label: str
    start: dt.date
    end: dt.date

    @property
    def end_month(self) -> int:
        """Months since year 0 of the period's last month (the window arithmetic)."""
        return self.end.year * 12 + self.end.month - 1


def _shown(value: str, width: int = 40) -> str:
    """The value as a message names it: "(empty)" for blank, cut to ``width`` characters (a pasted page
    must not become the message)."""
    if not value.strip():
        return "(empty)"
    return value if len(value) <= width else value[:width] + "…"


def _first_last_month(year: int, part: str | None, text: str) -> tuple[int, int, str]:
    """(first month index, last month index, canonical label) of one matched label."""
    if part is None:
        return year * 12, year * 12 + 11, f"{year}"
    kind, number = part[0].upper(), part[1:]
    if kind == "H" and number in ("1", "2"):
        first = year * 12 + 6 * (int(number) - 1)
        return first, first + 5, f"{year}-H{number}"
    if kind == "Q" and number in ("1", "2", "3", "4"):
        first = year * 12 + 3 * (int(number) - 1)
        return first, first + 2, f"{year}-Q{number}"
    if part.isdigit():
        if int(part) != (year + 1) % 100:
            raise PeriodError(f"period '{text}' is not a financial year: the second year must follow the first "
                              f"(e.g. {year}-{(year + 1) % 100:02d})")
        return year * 12 + 3, year * 12 + 14, f"{year}-{int(part):02d}"  # ASCII digits, as the year
    raise PeriodError(f"period '{text}' is not a period: use {PERIOD_FORMS}")


def _month_start(index: int) -> dt.date:
    return dt.date(index // 12, index % 12 + 1, 1)


def _month_end(index: int) -> dt.date:
    return _month_start(index + 1) - dt.timedelta(days=1)


def parse_period(text: object) -> Period:
    """The period a label stands for.

    Raises
    ------
    PeriodError
        Naming the value, when it does not follow the grammar (``Spring 2026``, ``2026-H3``, ``2025-27``).

    Examples
    --------
    >>> parse_period("2025-26")
    Period(label='2025-26', start=datetime.date(2025, 4, 1), end=datetime.date(2026, 3, 31))
    >>> parse_period("2026-h1").label
    '2026-H1'
    """
    value = "" if text is None else str(text)
    match = _REGEX.match(value)
    shown = _shown(value)
    if match is None:
        raise PeriodError(f"period '{shown}' is not a period: use {PERIOD_FORMS}")
    year = int(match["year"])
    if year < 1900:
        raise PeriodError(f"period '{shown}' is not a period: the year must be 1900 or later")
    first, last, label = _first_last_month(year, match["part"], shown)
    return Period(label, _month_start(first), _month_end(last))


def period_label(text: object) -> str:
    """The canonical form of a period label (``2026-h1`` -> ``2026-H1``); PeriodError when it is not one."""
    return parse_period(text).label


def period_bounds(labels: pd.Series) -> pd.DataFrame:
    """Each label's canonical form, first and last day and end month index, vectorised over distinct labels.

    Labels outside the grammar get an empty ``label``, NaT dates and ``end_month`` -1 (never in a window);
    nothing is raised, so frames with free-text periods (older files) can still be compared by label.
    Columns: ``label, start, end, end_month``, on the index of ``labels``.
    """
    text = labels.astype("string").fillna("").astype(str)
    codes, distinct = pd.factorize(text)
    parsed = {}
    for value in distinct:  # one parse per distinct label (a handful), not per row
        try:
            p = parse_period(value)
            parsed[value] = (p.label, pd.Timestamp(p.start), pd.Timestamp(p.end), p.end_month)
        except PeriodError:
            parsed[value] = ("", pd.NaT, pd.NaT, -1)
    table = pd.DataFrame.from_dict(parsed, orient="index", columns=["label", "start", "end", "end_month"])
    out = table.take(codes)  # by position: the labels were factorised, not looked up row by row
    out.index = labels.index
    return out.astype({"end_month": int})


def in_window(peer_end_months: np.ndarray | pd.Series, own_end_month: int, months: int) -> np.ndarray:
    """Which periods end within the ``months`` months ending with the own period's last month.

    ``peer_end_months`` and ``own_end_month`` are :attr:`Period.end_month` values (-1: not a period,
    never in the window). With ``months=12`` and own period 2026-H1 (ends June 2026), periods ending July
    2025 – June 2026 are in: 2025-H2, 2026-Q1, 2026-H1, 2025-26; 2025-H1 and 2026-H2 are not.
    """
    if months < 1:
        raise ValueError(f"the peer window must be at least 1 month, not {months}")
    ends = np.asarray(peer_end_months, dtype=np.int64)
    return (ends >= 0) & (ends <= own_end_month) & (ends > own_end_month - months)


def window_text(period: str, months: int) -> str:
    """The window in words, e.g. ``the 12 months to June 2026 (2026-H1)``."""
    end = parse_period(period).end
    return f"the {months} months to {end:%B %Y} ({period_label(period)})"
