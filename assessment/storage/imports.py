"""Import a responses CSV (the ``assessment score`` format) into a round: all of it, or nothing.

The file is checked in full before anything is written: UTF-8, the header, that every row belongs to
this round, that no respondent is already in the round, and then every rule of
:func:`assessment.scoring.encode_answers` (unknown item, value off the scale, duplicate answer, one
respondent under two agencies...), so the rules live in one place. Every problem is reported at once with
its row and column (row 1 is the header). Only then are respondents and answers inserted, in chunks,
inside the caller's transaction: a failure leaves the database exactly as it was.

Before writing, the import takes the round lock (``FOR SHARE`` on PostgreSQL; on SQLite the write
transaction holds the database's write lock) and checks the round's status again: a close that committed
while the file was being checked refuses the import, and a close that comes later waits for it, so the
closed round's scores include every imported respondent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from assessment.errors import ErrorCode, Problem, ValidationFailed
from assessment.periods import PERIOD_FORMS, period_bounds
from assessment.questionnaire.schema import DONT_KNOW, NOT_APPLICABLE
from assessment.storage import checkpoints
from assessment.storage._common import StateError, audit, get_round
from assessment.storage.limits import text_problems
from assessment.storage.models import AnswerRow, PartnershipRow, RespondentRow, utcnow

__all__ = ["IMPORT_COLUMNS", "ImportReport", "import_responses", "problems_frame"]

REQUIRED_COLUMNS = ("partnership", "round", "respondent", "agency", "item", "value")
OPTIONAL_COLUMNS = ("comment", "questionnaire", "version", "period")
IMPORT_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
MAX_ROWS_REPORTED = 50
CHUNK_SIZE = 5_000

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ImportReport:
    round: str
    rows: int
    respondents: int
    answers: int
    blank_rows: int  # rows with neither a value nor a comment (missing answers): not stored


def _read_bytes(source: str | Path | bytes | IO[bytes]) -> tuple[bytes, str]:
    if isinstance(source, bytes | bytearray):
        return bytes(source), "<upload>"
    if isinstance(source, str | Path):
        return Path(source).read_bytes(), str(source)
    data = source.read()
    if isinstance(data, str):
        raise ValueError("open the responses file in binary mode ('rb') so its encoding can be checked")
    return data, getattr(source, "name", "<upload>")


def read_csv_upload(source: str | Path | bytes | IO[bytes], *, required, allowed, what: str, outcome: str,
                    expected=None) -> tuple[pd.DataFrame, str]:
    """Read an uploaded CSV as text and check its header: every ``required`` column missing and every column
    not in ``allowed`` (the message lists ``expected``, default ``allowed``), all at once. ``what`` names the
    header in the refusal ("answers"), ``outcome`` ends it ("nothing was imported"). Returns the frame and
    the file's name. Answers and indicator values are read this way."""
    from assessment.scoring import read_answers_bytes

    data, name = _read_bytes(source)
    try:  # not a CSV, empty, NUL bytes, not UTF-8, an unclosed quote, ragged rows, no data rows
        frame = read_answers_bytes(data, source=name)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.problems, f"{exc.summary}; {outcome}", counts=exc.counts) from exc
    listed = ", ".join(expected if expected is not None else allowed)
    problems = [Problem.make(ErrorCode.MISSING_COLUMN, file=name, path=f"row 1, column {c}", column=c)
                for c in required if c not in frame.columns]
    problems += [Problem.make(ErrorCode.INVALID_VALUE, file=name, path=f"row 1, column {c}",
                              detail=f"unknown column '{c}' (expected: {listed})")
                 for c in frame.columns if c not in allowed]
    if problems:
        raise ValidationFailed(problems, f"{name} does not have the {what} header; {outcome}")
    return frame, name


def _row_problems(mask: np.ndarray, column: str, name: str, detail: Callable[[int], str],
                  counts: dict[str, int]) -> list[Problem]:
    """Problems for the first ``MAX_ROWS_REPORTED`` flagged rows (row 1 is the header); every row counted."""
    rows = np.flatnonzero(mask)
    if len(rows):
        counts[ErrorCode.INVALID_VALUE.code] = counts.get(ErrorCode.INVALID_VALUE.code, 0) + len(rows)
    return [Problem.make(ErrorCode.INVALID_VALUE, file=name, path=f"row {int(r) + 2}, column {column}",
                         detail=detail(int(r))) for r in rows[:MAX_ROWS_REPORTED]]


def _shown(value: object, width: int = 60) -> str:
    """A value as a message quotes it: cut to ``width`` characters."""
    text = str(value)
    return text if len(text) <= width else text[:width] + "…"


def _refused(name: str, problems: list[Problem], counts: dict[str, int], rows: int) -> ValidationFailed:
    """The import's refusal: the true count of every kind of problem, and the first rows of each."""
    total = sum(counts.values())
    parts = ", ".join(f"{count:,} × {code}" for code, count in counts.items())
    listed = "" if total == len(problems) else f"; the first {MAX_ROWS_REPORTED} rows of each kind are listed"
    problems.sort(key=lambda p: (_row_of(p), p.path, p.code.code))
    return ValidationFailed(problems, f"{name}: {total:,} problem(s) in {rows:,} row(s) ({parts}{listed}); "
                                      "nothing was imported", counts=counts)


def _row_of(problem: Problem) -> int:
    match = re.match(r"row (\d+)", problem.path)
    return int(match.group(1)) if match else 0


def problems_frame(problems) -> pd.DataFrame:
    """A validation report as a table: row, column, code, problem (for the app and the CLI)."""
    records = []
    for p in problems:
        match = re.match(r"(?:row (\d+))?(?:, )?(?:column (.+))?$", p.path or "")
        row = int(match.group(1)) if match and match.group(1) else None
        column = match.group(2) if match and match.group(2) else ""
        records.append({"row": row, "column": column, "code": p.code.code, "problem": p.message})
    frame = pd.DataFrame(records, columns=["row", "column", "code", "problem"])
    frame["row"] = frame["row"].astype("Int64")
    return frame


def _write_answers(session: Session, now, respondent_ids, items, values, comments, *,
                   progress: Progress | None, chunk_size: int) -> int:
    """Insert answer rows inside the caller's transaction, by the fastest route the database offers.

    PostgreSQL: ``COPY ... FROM STDIN`` on the session's own connection; SQLite: the driver's
    ``executemany``; any other database: a Core multi-row insert. Rows are plain tuples built from numpy
    object arrays (iterating pandas' Arrow strings row by row costs more than the insert itself).
    """
    connection = session.connection()
    table = AnswerRow.__table__
    names = ("respondent_id", "item", "value", "comment", "updated_at")
    stamp = table.c.updated_at.type.bind_processor(connection.dialect)  # SQLite stores text, as the ORM would
    when = stamp(now) if stamp is not None else now
    rows = list(zip(respondent_ids.astype("int64").tolist(), items.tolist(), values.tolist(), comments.tolist(),
                    [when] * len(items), strict=True))
    total = len(rows)
    if progress is not None:
        progress(0, total)
    dialect = connection.dialect.name
    if dialect == "postgresql":
        driver = connection.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(
                f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
            for start in range(0, total, chunk_size):
                for row in rows[start:start + chunk_size]:
                    copy.write_row(row)
                if progress is not None:
                    progress(min(start + chunk_size, total), total)
        return total
    for start in range(0, total, chunk_size):
        chunk = rows[start:start + chunk_size]
        if dialect == "sqlite":
            connection.exec_driver_sql(
                f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})", chunk)
        else:
            connection.execute(insert(table), [dict(zip(names, row, strict=True)) for row in chunk])
        if progress is not None:
            progress(min(start + chunk_size, total), total)
    return total


def _refuse_closed(round_row) -> None:
    if round_row.status == "closed":
        raise StateError(f"this round has closed: reopen round '{round_row.key}' before importing responses; "
                         "nothing was imported")


def import_responses(session: Session, round_key: str, source: str | Path | bytes | IO[bytes], *, actor: str,
                     progress: Progress | None = None, chunk_size: int = CHUNK_SIZE) -> ImportReport:
    """Import a responses CSV into a draft or open round, atomically (the caller commits).

    The file has the columns partnership, round, respondent, agency, item, value and optionally comment,
    questionnaire, version, period. ``partnership`` must be the round's partnership and ``round`` the
    round's key or period. Imported respondents count as submitted. Rows with neither a value nor a
    comment are missing answers and are not stored.

    Parameters
    ----------
    progress : callable, optional
        Called as ``progress(done, total)`` after each chunk of answers is written.

    Raises
    ------
    ValidationFailed
        With every problem (``path`` "row N, column C"); nothing is written.
    StateError
        When the round is closed.
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    round_row = get_round(session, round_key)
    _refuse_closed(round_row)
    frame, name, counts = _read_responses(source)
    text = {c: frame[c].astype(str).str.strip() for c in frame.columns}
    problems = _round_problems(session, round_row, round_key, frame, text, name, counts)
    if problems:
        raise _refused(name, problems, counts, len(frame))

    # The round may have closed while the file was checked: lock it and look again (see the module's notes).
    round_row = get_round(session, round_key, for_share=True)
    _refuse_closed(round_row)
    checkpoints.reached("import.checked", session, round=round_key)
    now = utcnow()
    n_people, total, n_missing = _store_responses(session, round_row, frame, text, now, progress, chunk_size)
    round_row.updated_at = now
    session.flush()
    partnership_key = session.scalar(select(PartnershipRow.key).where(PartnershipRow.id == round_row.partnership_id))
    audit(session, actor, "import", "round", round_key, file=Path(name).name, rows=len(frame),
          respondents=n_people, answers=total, partnership=partnership_key)
    return ImportReport(round_key, len(frame), n_people, total, n_missing)


def _read_responses(source: str | Path | bytes | IO[bytes]) -> tuple[pd.DataFrame, str, dict[str, int]]:
    """Read the file and check what needs no round: the header, then NUL and control characters and text
    over the limits (the same on every engine, before anything else). Returns the frame, the file's name
    and the problem counts so far."""
    frame, name = read_csv_upload(source, required=REQUIRED_COLUMNS, allowed=IMPORT_COLUMNS, what="answers",
                                  outcome="nothing was imported")
    text_problems_found, counts = text_problems(frame, source=name)
    if text_problems_found:
        raise _refused(name, text_problems_found, counts, len(frame))
    return frame, name, counts


def _round_problems(session: Session, round_row, round_key: str, frame: pd.DataFrame, text: dict, name: str,
                    counts: dict[str, int]) -> list[Problem]:
    """Every problem of the rows against this round (its partnership, key, period and respondents) and
    against its questionnaire (:func:`encode_answers`); ``counts`` is updated."""
    from assessment.scoring import encode_answers
    from assessment.storage.rounds import round_info, round_questionnaire

    info = round_info(session, round_key)
    questionnaire = round_questionnaire(session, round_key)
    problems: list[Problem] = []
    partnership = text["partnership"].to_numpy(dtype=object)
    problems += _row_problems((partnership != info.partnership) & (partnership != ""), "partnership", name,
                              lambda r: f"partnership '{_shown(partnership[r])}' is not this round's "
                                        f"('{info.partnership}')", counts)
    rounds = text["round"].to_numpy(dtype=object)
    problems += _row_problems(~np.isin(rounds, [info.key, info.period, ""]), "round", name,
                              lambda r: f"round '{_shown(rounds[r])}' is not this round ('{info.key}' or its "
                                        f"period '{info.period}')", counts)
    if "period" in text:
        periods = text["period"].to_numpy(dtype=object)
        labels = period_bounds(text["period"])["label"].to_numpy(dtype=object)  # "" outside the grammar
        problems += _row_problems((labels == "") & (periods != ""), "period", name,
                                  lambda r: f"period '{_shown(periods[r])}' is not a period: use {PERIOD_FORMS}",
                                  counts)
        problems += _row_problems((labels != info.period) & (labels != ""), "period", name,
                                  lambda r: f"period '{_shown(periods[r])}' is not this round's period "
                                            f"'{info.period}'", counts)
    respondents = text["respondent"].to_numpy(dtype=object)
    existing = set(session.scalars(select(RespondentRow.key).where(RespondentRow.round_id == round_row.id)))
    if existing:
        # One problem per respondent (at their first row), not one per answer.
        first = ~pd.Series(respondents).duplicated().to_numpy()
        problems += _row_problems(np.isin(respondents, list(existing)) & first, "respondent", name,
                                  lambda r: f"respondent '{respondents[r]}' is already in round '{round_key}'",
                                  counts)
    # encode_answers checks the answers against the questionnaire; it reads the round column as a group
    # key, so give every row this round's key (a wrong round value is reported above).
    checked = frame.assign(round=info.key)
    try:
        encode_answers(questionnaire, checked, source=name)
    except ValidationFailed as exc:
        problems += list(exc.problems)
        for code, count in exc.counts.items():
            counts[code] = counts.get(code, 0) + count
    return problems


def _store_responses(session: Session, round_row, frame: pd.DataFrame, text: dict, now, progress: Progress | None,
                     chunk_size: int) -> tuple[int, int, int]:
    """Write the respondents (submitted now) and their answers. Returns (respondents, answers stored,
    rows not stored: neither a value nor a comment)."""
    value = text["value"]
    upper = value.str.upper()
    value = value.where(~upper.isin([NOT_APPLICABLE, DONT_KNOW]), upper)
    numeric = pd.to_numeric(value, errors="coerce")
    value = value.where(numeric.isna(), numeric.astype("Int64").astype(str))
    comment = frame["comment"].astype(str) if "comment" in frame else pd.Series("", index=frame.index, dtype=str)
    people = (pd.DataFrame({"key": text["respondent"], "agency": text["agency"]})
              .drop_duplicates("key").reset_index(drop=True))
    if not people.empty:
        session.execute(insert(RespondentRow), [
            {"key": k, "round_id": round_row.id, "agency": a, "invitation_id": None, "started_at": now,
             "submitted_at": now} for k, a in zip(people["key"], people["agency"], strict=True)])
    ids = dict(session.execute(select(RespondentRow.key, RespondentRow.id)
                               .where(RespondentRow.round_id == round_row.id)).all())
    keep = ((value != "") | (comment != "")).to_numpy()
    respondent_ids = text["respondent"].map(ids).to_numpy()[keep]
    total = _write_answers(session, now, respondent_ids,
                           *(series.to_numpy(dtype=object)[keep] for series in (text["item"], value, comment)),
                           progress=progress, chunk_size=chunk_size)
    return len(people), total, int((~keep).sum())
