"""Export a round's answers and scores as CSV or Excel, formula-safe, with questionnaire, version and period
on every row.

The tables are ``answers`` (submitted respondents, with their evidence comments) and, once the round is
closed, ``domain_scores``, ``agency_scores``, ``overall_scores`` and ``item_scores``, with suppressed
figures blanked (small groups never reach a download). Every text cell goes through
:func:`assessment.tabular.formula_safe`.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy.orm import Session

from assessment.storage.answers import round_answers
from assessment.storage.errors import StateError
from assessment.storage.rounds import (
    agency_scores,
    item_scores,
    overall_scores,
    partnership_scores,
    round_info,
)
from assessment.tabular import to_csv_bytes, to_xlsx_bytes

__all__ = ["EXPORT_FORMATS", "EXPORT_TABLES", "export_round", "export_tables"]

EXPORT_FORMATS = ("csv", "xlsx")
EXPORT_TABLES = ("answers", "domain_scores", "agency_scores", "overall_scores", "item_scores")
LEADING = ("questionnaire", "version", "period")


def _lead(frame: pd.DataFrame, info) -> pd.DataFrame:
    frame = frame.copy()
    for column, value in zip(LEADING, (info.questionnaire, info.version, info.period), strict=True):
        frame[column] = value
    return frame[list(LEADING) + [c for c in frame.columns if c not in LEADING]].reset_index(drop=True)


def export_tables(session: Session, round_key: str) -> dict[str, pd.DataFrame]:
    """The round's tables by name (scores only when the round is closed), ready to write."""
    info = round_info(session, round_key)
    tables = {"answers": _lead(round_answers(session, round_key), info)}
    if info.status != "closed":
        return tables
    from assessment.scoring import blank_suppressed

    for name, read in (("domain_scores", partnership_scores), ("agency_scores", agency_scores),
                       ("overall_scores", overall_scores), ("item_scores", item_scores)):
        frame = read(session, [round_key])
        if frame.empty:
            continue
        if "suppressed" in frame.columns:
            frame = blank_suppressed(frame)
        tables[name] = _lead(frame, info)
    return tables


def export_round(session: Session, round_key: str, fmt: str = "xlsx", *, table: str = "answers") -> bytes:
    """The round as file content: ``xlsx`` holds every table as a sheet; ``csv`` holds one ``table``."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"format must be one of {', '.join(EXPORT_FORMATS)}, not {fmt!r}")
    tables = export_tables(session, round_key)
    if fmt == "xlsx":
        return to_xlsx_bytes(tables)
    if table not in EXPORT_TABLES:
        raise ValueError(f"table must be one of {', '.join(EXPORT_TABLES)}, not {table!r}")
    if table not in tables:
        raise StateError(f"round '{round_key}' has no {table} (scores exist once a round is closed)")
    return to_csv_bytes(tables[table])
