"""The stored scores of closed rounds: computed once when a round closes, read back across rounds.

When a round closes (:func:`assessment.storage.rounds.close_round`), the scoring engine runs over its
answers and each of its tables (respondents, agencies, partnerships, overall, items) is stored in
``score_frames`` as JSON, one row per round and table. The ``*_scores`` functions read them back as one
frame across closed rounds, with questionnaire, version and period on every row. Suppression flags are
stored as computed (rounds stored before the typed flags are converted on reading): callers blank flagged
figures with ``assessment.disclosure.blank_suppressed`` before showing them.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from assessment.disclosure import with_typed_flags
from assessment.scoring import score_responses
from assessment.storage.answers import round_answers
from assessment.storage.catalogue import questionnaire_of_version_id
from assessment.storage.models import (
    PartnershipRow,
    QuestionnaireVersionRow,
    RoundRow,
    ScoreFrameRow,
    utcnow,
)

__all__ = [
    "SCORE_TABLES",
    "agency_scores",
    "item_scores",
    "overall_scores",
    "partnership_scores",
    "respondent_scores",
    "store_scores",
    "withdraw_scores",
]

#: The score tables stored for a closed round (the ``Scores`` attribute names).
SCORE_TABLES = ("respondents", "agencies", "partnerships", "overall", "items")


# -- storing -------------------------------------------------------------------------------------------------

def _json_value(value):
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, dt.datetime | dt.date | pd.Timestamp):
        return value.isoformat()
    return value


def _dump_frame(frame: pd.DataFrame) -> str:
    data = [[_json_value(v) for v in row] for row in frame.itertuples(index=False, name=None)]
    return json.dumps({"columns": [str(c) for c in frame.columns],
                       "dtypes": {str(c): str(t) for c, t in frame.dtypes.items()},
                       "data": data}, separators=(",", ":"), allow_nan=False)


def _common_dtype(stored: Sequence[str]) -> str:
    """One dtype for a column stored under several (rounds scored by different versions of the engine)."""
    kinds = set(stored)
    if len(kinds) == 1:
        return stored[0]
    if kinds <= {"bool", "boolean"}:
        return "boolean"
    if all(kind.lower().startswith(("int", "float")) for kind in kinds):
        return "float64" if any(kind.lower().startswith("float") for kind in kinds) else "Int64"
    return "object"


def _typed(column: pd.Series, dtype: str) -> pd.Series:
    if dtype in ("bool", "boolean"):
        return column.astype("boolean" if column.isna().any() else "bool")
    if dtype.startswith("int") and column.isna().any():
        return column.astype("Int64")
    return column.astype(dtype)


def _load_frames(blobs: Sequence[str]) -> pd.DataFrame:
    """One frame from stored JSON frames, each column with its stored dtype.

    A column that cannot take its stored dtype means the stored JSON is damaged: that is an error naming
    the column, never a silently different type.
    """
    if not blobs:
        return pd.DataFrame()
    parsed = [json.loads(b) for b in blobs]
    columns: list[str] = []
    for p in parsed:
        columns.extend(c for c in p["columns"] if c not in columns)
    rows: list[list] = []
    for p in parsed:
        if p["columns"] == columns:
            rows.extend(p["data"])
        else:
            index = [p["columns"].index(c) if c in p["columns"] else None for c in columns]
            rows.extend([[r[i] if i is not None else None for i in index] for r in p["data"]])
    frame = pd.DataFrame(rows, columns=columns)
    stored: dict[str, list[str]] = {}
    for p in parsed:
        for c, t in p["dtypes"].items():
            stored.setdefault(c, []).append(t)
    for column, dtypes in stored.items():
        dtype = _common_dtype(dtypes)
        try:
            frame[column] = _typed(frame[column], dtype)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"stored scores: column {column!r} cannot be read as {dtype} ({exc}); "
                             "close the round again to recompute its scores") from exc
    return frame


def store_scores(session: Session, row: RoundRow, *, min_coverage: float, split_threshold: float,
                 min_group_size: int) -> None:
    """Score the round's answers and store every score table (replacing any stored before)."""
    withdraw_scores(session, row)
    answers = round_answers(session, row.key)
    if answers.empty:
        return
    questionnaire = questionnaire_of_version_id(session, row.questionnaire_version_id)
    scores = score_responses(questionnaire, answers.drop(columns=["comment"]), min_coverage=min_coverage,
                             split_threshold=split_threshold, min_group_size=min_group_size)
    now = utcnow()
    session.execute(insert(ScoreFrameRow), [
        {"round_id": row.id, "level": table, "frame": _dump_frame(getattr(scores, table)), "computed_at": now}
        for table in SCORE_TABLES])


def withdraw_scores(session: Session, row: RoundRow) -> None:
    """Remove the round's stored scores (a reopened round has no official scores)."""
    session.execute(delete(ScoreFrameRow).where(ScoreFrameRow.round_id == row.id))


# -- reading ------------------------------------------------------------------------------------------------

def _read_scores(session: Session, table: str, rounds: Sequence[str] | None, partnership: str | None) -> pd.DataFrame:
    query = (select(ScoreFrameRow.frame, RoundRow.key, RoundRow.period, QuestionnaireVersionRow.questionnaire,
                    QuestionnaireVersionRow.version)
             .join(RoundRow, RoundRow.id == ScoreFrameRow.round_id)
             .join(QuestionnaireVersionRow, QuestionnaireVersionRow.id == RoundRow.questionnaire_version_id)
             .join(PartnershipRow, PartnershipRow.id == RoundRow.partnership_id)
             .where(ScoreFrameRow.level == table, RoundRow.status == "closed")
             .order_by(PartnershipRow.key, RoundRow.period))
    if rounds is not None:
        query = query.where(RoundRow.key.in_(list(rounds)))
    if partnership is not None:
        query = query.where(PartnershipRow.key == partnership)
    found = session.execute(query).all()
    frame = with_typed_flags(_load_frames([r[0] for r in found]))  # rounds stored before the typed flags
    if frame.empty:
        return frame
    meta = pd.DataFrame([r[1:] for r in found], columns=["round", "period", "questionnaire", "version"])
    meta = meta.set_index("round")
    for column in ("questionnaire", "version", "period"):
        frame[column] = frame["round"].map(meta[column]).astype(str)
    return frame


def partnership_scores(session: Session, rounds: Sequence[str] | None = None, *,
                       partnership: str | None = None) -> pd.DataFrame:
    """Partnership domain scores of closed rounds (``Scores.partnerships``) with questionnaire, version, period."""
    return _read_scores(session, "partnerships", rounds, partnership)


def agency_scores(session: Session, rounds: Sequence[str] | None = None, *, partnership: str | None = None) -> pd.DataFrame:
    """Agency domain scores of closed rounds (``Scores.agencies``)."""
    return _read_scores(session, "agencies", rounds, partnership)


def respondent_scores(session: Session, rounds: Sequence[str] | None = None, *,
                      partnership: str | None = None) -> pd.DataFrame:
    """Respondent domain scores of closed rounds (``Scores.respondents``; the input of trends)."""
    return _read_scores(session, "respondents", rounds, partnership)


def overall_scores(session: Session, rounds: Sequence[str] | None = None, *, partnership: str | None = None) -> pd.DataFrame:
    """Overall partnership scores of closed rounds (``Scores.overall``)."""
    return _read_scores(session, "overall", rounds, partnership)


def item_scores(session: Session, rounds: Sequence[str] | None = None, *, partnership: str | None = None) -> pd.DataFrame:
    """Item distributions of closed rounds (``Scores.items``)."""
    return _read_scores(session, "items", rounds, partnership)
