"""The rules every stored answer's text obeys, checked in Python before the database sees it.

SQLite stores whatever it is given; PostgreSQL refuses a NUL character and text longer than a
``VARCHAR(n)``. So that a database moved from one to the other (docs/storage.md) holds the same data, the
import and the respondent's save both check these rules first, the same way on every engine:

- no NUL character anywhere;
- no control character in an identifier (partnership, round, respondent, agency, item, value,
  questionnaire, version, period); a comment may hold tabs and line breaks, no other control character;
- at most ``TEXT_LIMITS[column]`` characters (identifiers are measured after trimming the spaces around
  them, as they are stored).

:func:`text_problems` checks whole columns at once and reports each offending row with its column.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd
from sqlalchemy import String, inspect

from assessment.errors import ErrorCode, Problem, ValidationFailed
from assessment.storage.models import (
    AnswerRow,
    PartnershipRow,
    QuestionnaireVersionRow,
    RespondentRow,
    RoundRow,
)

__all__ = ["COMMENT_LIMIT", "MAX_ROWS_REPORTED", "TEXT_LIMITS", "check_flushed_text", "comment_problems",
           "text_problems"]

# A comment is evidence in a sentence or a paragraph; 10,000 characters is about four pages.
COMMENT_LIMIT = 10_000
# Characters per column: the column sizes of the tables they are stored in (a test keeps them equal).
TEXT_LIMITS: dict[str, int] = {
    "partnership": PartnershipRow.__table__.c.key.type.length,
    "round": RoundRow.__table__.c.key.type.length,
    "respondent": RespondentRow.__table__.c.key.type.length,
    "agency": RespondentRow.__table__.c.agency.type.length,
    "item": AnswerRow.__table__.c.item.type.length,
    "value": AnswerRow.__table__.c.value.type.length,
    "comment": COMMENT_LIMIT,
    "questionnaire": QuestionnaireVersionRow.__table__.c.questionnaire.type.length,
    "version": QuestionnaireVersionRow.__table__.c.version.type.length,
    "period": RoundRow.__table__.c.period.type.length,
}
MAX_ROWS_REPORTED = 50

_CONTROL_IN_IDENTIFIER = r"[\x00-\x1f\x7f]"
_CONTROL_IN_COMMENT = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"  # tab, line feed and carriage return are fine


_ANY_CONTROL = {pattern: re.compile(pattern) for pattern in (_CONTROL_IN_IDENTIFIER, _CONTROL_IN_COMMENT)}


def _surely_clean(column: pd.Series, pattern: str, limit: int) -> bool:
    """A quick pass that proves a column holds no NUL, no control character and no text over ``limit``.

    One regular-expression search over its distinct texts joined by a space (not a control character) and
    their longest length. Unstripped text is at least as long as stripped text and holds every character
    stripped text does, so a column found clean here is clean by the exact rules; any other column gets
    the exact check, row by row.
    """
    texts = [text for text in column.unique() if isinstance(text, str)]
    return (_ANY_CONTROL[pattern].search(" ".join(texts)) is None
            and max(map(len, texts), default=0) <= limit)


def _character(text: str, pattern: str) -> str:
    found = re.search(pattern, text)
    return f"U+{ord(found.group()):04X}" if found else "?"


def text_problems(frame: pd.DataFrame, *, source: str = "",
                  place: Callable[[int, str], str] | None = None) -> tuple[list[Problem], dict[str, int]]:
    """NUL characters, control characters and over-long text in the answer columns of ``frame``.

    Returns the problems (at most ``MAX_ROWS_REPORTED`` rows of each kind and column) and the count of
    every kind (code -> rows). ``place(row, column)`` names a row's place; by default ``"row N, column C"``
    with the header as row 1 (a file's numbering).
    """
    place = place or (lambda row, column: f"row {row + 2}, column {column}")
    problems: list[Problem] = []
    counts: dict[str, int] = {}

    def report(code: ErrorCode, mask: np.ndarray, column: str, fields: Callable[[int], dict]) -> None:
        rows = np.flatnonzero(mask)
        if not len(rows):
            return
        counts[code.code] = counts.get(code.code, 0) + len(rows)
        problems.extend(Problem.make(code, file=source, path=place(int(r), column), **fields(int(r)))
                        for r in rows[:MAX_ROWS_REPORTED])

    for column, limit in TEXT_LIMITS.items():
        if column not in frame.columns:
            continue
        pattern = _CONTROL_IN_COMMENT if column == "comment" else _CONTROL_IN_IDENTIFIER
        if frame[column].dtype == "str" and _surely_clean(frame[column], pattern, limit):
            continue  # nearly every column of every import: the exact check below finds nothing
        text = frame[column].astype("str").fillna("")
        # Each distinct text is checked once (identifier columns repeat a few values over many rows); only
        # a column with a bad value is mapped back to its rows.
        distinct = pd.Series(text.unique(), dtype="str")
        measured = distinct if column == "comment" else distinct.str.strip()
        nul = measured.str.contains("\x00", regex=False).to_numpy(dtype=bool)
        control = measured.str.contains(pattern, regex=True).to_numpy(dtype=bool) & ~nul
        long = measured.str.len().to_numpy(dtype=np.int64, na_value=0) > limit
        if not (nul.any() or control.any() or long.any()):
            continue

        def rows_of(bad: np.ndarray, t=text, d=distinct) -> np.ndarray:
            return t.isin(d[bad]).to_numpy(dtype=bool) if bad.any() else np.zeros(len(t), dtype=bool)

        report(ErrorCode.NUL_CHARACTER, rows_of(nul), column, lambda r: {})
        where = "" if column == "comment" else " (identifiers are plain text on one line)"
        report(ErrorCode.CONTROL_CHARACTER, rows_of(control), column,
               lambda r, t=text, p=pattern, w=where: {"character": _character(t.iloc[r].strip(), p), "where": w})
        report(ErrorCode.TEXT_TOO_LONG, rows_of(long), column,
               lambda r, t=text, c=column, m=limit: {"column": c, "limit": m,
                                                     "length": len(t.iloc[r] if c == "comment" else t.iloc[r].strip())})
    return problems, counts


def comment_problems(comment: str, *, source: str = "", path: str = "comment") -> list[Problem]:
    """The rules above for one comment (the respondent's save)."""
    problems, _ = text_problems(pd.DataFrame({"comment": pd.Series([comment], dtype="str")}), source=source,
                                place=lambda row, column: path)
    return problems


def check_flushed_text(session, _flush_context, _instances) -> None:
    """Before any ORM write (a ``before_flush`` listener on every session factory): no text value holds a NUL
    character or is longer than its column, on SQLite exactly as PostgreSQL would refuse it.

    Names, keys and periods typed by an administrator (a partnership, an organisation, a round) reach the
    database through the ORM; the answers of an import go through Core and are checked by
    :func:`text_problems` first.
    """
    problems: list[Problem] = []
    for row in (*session.new, *session.dirty):
        mapper = inspect(row).mapper
        for attribute in mapper.column_attrs:
            column = attribute.columns[0]
            value = getattr(row, attribute.key, None)
            if not isinstance(value, str) or not isinstance(column.type, String):
                continue
            where = f"{column.table.name}.{column.name}"
            if "\x00" in value:
                problems.append(Problem.make(ErrorCode.NUL_CHARACTER, path=where))
            elif column.type.length is not None and len(value) > column.type.length:
                problems.append(Problem.make(ErrorCode.TEXT_TOO_LONG, path=where, column=attribute.key,
                                             length=len(value), limit=column.type.length))
    if problems:
        raise ValidationFailed(problems, "nothing was saved: " + "; ".join(f"{p.path}: {p.message}" for p in problems))
