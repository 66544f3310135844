"""Export a round as CSV or Excel, formula-safe, with questionnaire, version and period on every row.

Two kinds of export, kept apart (docs/storage.md, "Exports"):

* The **board export** (:func:`export_tables`, :func:`export_round`; the app's download and
  ``assessment export``) carries aggregates only: once the round is closed, ``domain_scores``,
  ``agency_scores``, ``overall_scores`` and ``item_scores`` with suppressed figures blanked by
  :func:`assessment.disclosure.blank_suppressed`. No respondent-level answer is in it: rescoring a sheet of
  answers would give every hidden figure back.
* The **data-custodian export** (:func:`custodian_export`; ``assessment custodian-export``) carries the
  submitted respondents' answers and comments. Each call is recorded in the audit trail (who, which round,
  how many rows) and re-keys the respondent ids with fresh random ones, in a random order, so two
  custodian exports cannot be joined on respondent, nor one joined to the database.

Every text cell goes through :func:`assessment.tabular.formula_safe` when written.
"""

from __future__ import annotations

import secrets

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from assessment.disclosure import blank_suppressed
from assessment.storage._common import audit
from assessment.storage.answers import round_answers
from assessment.storage.errors import InvalidInput, StateError
from assessment.storage.rounds import round_info
from assessment.storage.scores import agency_scores, item_scores, overall_scores, partnership_scores
from assessment.tabular import to_csv_bytes, to_xlsx_bytes

__all__ = ["CUSTODIAN_TABLES", "EXPORT_FORMATS", "EXPORT_TABLES", "custodian_export", "export_round",
           "export_tables"]

EXPORT_FORMATS = ("csv", "xlsx")
EXPORT_TABLES = ("domain_scores", "agency_scores", "overall_scores", "item_scores")
CUSTODIAN_TABLES = ("answers",)
LEADING = ("questionnaire", "version", "period")


def _lead(frame: pd.DataFrame, info) -> pd.DataFrame:
    frame = frame.copy()
    for column, value in zip(LEADING, (info.questionnaire, info.version, info.period), strict=True):
        frame[column] = value
    return frame[list(LEADING) + [c for c in frame.columns if c not in LEADING]].reset_index(drop=True)


def export_tables(session: Session, round_key: str) -> dict[str, pd.DataFrame]:
    """The board export of a round: its score tables by name, figures blanked as the app shows them.

    Empty (no tables) until the round is closed: an open round has no official scores.
    """
    info = round_info(session, round_key)
    tables: dict[str, pd.DataFrame] = {}
    if info.status != "closed":
        return tables
    for name, read in (("domain_scores", partnership_scores), ("agency_scores", agency_scores),
                       ("overall_scores", overall_scores), ("item_scores", item_scores)):
        frame = read(session, [round_key])
        if frame.empty:
            continue
        tables[name] = _lead(blank_suppressed(frame), info)
    return tables


def export_round(session: Session, round_key: str, fmt: str = "xlsx", *, table: str = "domain_scores") -> bytes:
    """The board export as file content: ``xlsx`` holds every table as a sheet; ``csv`` holds one ``table``."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"format must be one of {', '.join(EXPORT_FORMATS)}, not {fmt!r}")
    if fmt == "csv" and table not in EXPORT_TABLES:
        extra = (" (respondent-level answers leave only through the data-custodian export, "
                 "`assessment custodian-export`)") if table in CUSTODIAN_TABLES else ""
        raise InvalidInput(f"table must be one of {', '.join(EXPORT_TABLES)}, not {table!r}{extra}")
    tables = export_tables(session, round_key)
    if not tables:
        raise StateError(f"round '{round_key}' has no scores to export yet (scores exist once a round is closed)")
    if fmt == "xlsx":
        return to_xlsx_bytes(tables)
    if table not in tables:
        raise StateError(f"round '{round_key}' has no {table} (scores exist once a round is closed)")
    return to_csv_bytes(tables[table])


def custodian_export(session: Session, round_key: str, *, actor: str, purpose: str) -> dict[str, pd.DataFrame]:
    """The data-custodian export of a round: submitted respondents' answers and comments, re-keyed.

    Every respondent id is replaced by a fresh random one (``r-`` and 12 hex digits) drawn for this export
    alone, and rows are grouped by respondent in a random order, so neither the ids nor the order link two
    exports or an export and the database. Recorded in the audit trail (``custodian-export``, the actor,
    the purpose, the numbers of respondents and answers) in the caller's transaction.
    """
    if not purpose or not purpose.strip():
        raise InvalidInput("a data-custodian export needs a purpose (recorded in the audit trail)")
    info = round_info(session, round_key)
    answers = round_answers(session, round_key)
    people = answers["respondent"].unique()
    rng = np.random.default_rng(secrets.randbits(128))
    new_ids: list[str] = []
    while len(set(new_ids)) < len(people):  # 48 random bits each: a clash is vanishingly rare, but checked
        new_ids = [f"r-{secrets.token_hex(6)}" for _ in people]
    mapping = dict(zip(people, new_ids, strict=True))
    order = {person: place for place, person in enumerate(rng.permutation(people))}
    answers = answers.assign(respondent=answers["respondent"].map(mapping),
                             _order=answers["respondent"].map(order))
    answers = answers.sort_values(["_order", "item"], kind="stable").drop(columns="_order")
    audit(session, actor, "custodian-export", "round", round_key, purpose=purpose.strip(),
          respondents=len(people), answers=len(answers))
    return {"answers": _lead(answers, info)}
