"""Outcome indicator values: stored per partnership, period, indicator and reporting agency.

Only entered figures are stored (counts, hours, minutes, as the catalogue says); percentages, rates and
ratios are computed when read (:mod:`assessment.indicators.figures`), never typed in. Police and NHS may
both report the same indicator for the same period: both values are kept (one row per agency).

Values arrive two ways, both checked by :func:`value_problems` with the same rules and the same places:

* :func:`import_indicator_values`: a CSV in the long format (docs/indicators.md, "Import format"), one row
  per partnership, period, indicator and agency. All or nothing: every problem of the file is reported at
  once with its row and column (row 1 is the header) and nothing is written unless the whole file is good.
* :func:`save_indicator_values`: the entry page's table for one partnership and period (a blank value
  removes a stored one).

A value already stored for the same partnership, period, indicator and agency is replaced; the audit
trail records who imported or saved what, and each stored row keeps who entered it and when. Text in
``note`` is stored as written and made formula-safe when exported (:mod:`assessment.tabular`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd
from sqlalchemy import delete, insert, select, tuple_
from sqlalchemy.orm import Session

from assessment.errors import ErrorCode, Problem, ValidationFailed
from assessment.indicators.catalogue import Catalogue
from assessment.periods import PERIOD_FORMS
from assessment.storage._common import audit
from assessment.storage.limits import text_problems
from assessment.storage.models import IndicatorValueRow, PartnershipRow, utcnow
from assessment.vocabulary import AGENCIES

__all__ = [
    "INDICATOR_IMPORT_COLUMNS",
    "VALUE_COLUMNS",
    "IndicatorImportReport",
    "export_indicator_values",
    "import_indicator_values",
    "indicator_values",
    "save_indicator_values",
    "value_problems",
]

REQUIRED = ("partnership", "period", "indicator", "agency", "value")
#: The columns of the import file: the required five and an optional ``note``.
INDICATOR_IMPORT_COLUMNS = (*REQUIRED, "note")
#: Columns an export adds; an import of an exported file reads past them (the importer becomes the enterer).
EXPORT_ONLY_COLUMNS = ("entered_by", "entered_at", "catalogue", "catalogue_version")
#: Columns of :func:`indicator_values`.
VALUE_COLUMNS = ("partnership", "period", "indicator", "agency", "value", "note", "entered_by", "entered_at",
                 "catalogue", "catalogue_version")
MAX_ROWS_REPORTED = 50
Place = Callable[[int, str], str]


@dataclass(frozen=True)
class IndicatorImportReport:
    """What an import or a save stored."""

    rows: int  # values stored (new or replacing)
    replaced: int  # of which replaced a stored value
    removed: int  # stored values removed (a blank value on the entry page)
    partnerships: tuple[str, ...]
    periods: tuple[str, ...]


def _file_place(row: int, column: str) -> str:
    return f"row {row + 2}, column {column}"


def _canonical_periods(text: pd.Series) -> pd.Series:
    """Each period in its canonical form (the grammar of rounds, :mod:`assessment.periods`), "" where it is
    not a period."""
    from assessment.periods import period_bounds

    return period_bounds(text)["label"].astype(str)


def value_problems(frame: pd.DataFrame, catalogue: Catalogue, partnerships: Iterable[str], *, source: str = "",
                   place: Place = _file_place, only_partnership: str | None = None,
                   blank_allowed: bool = False) -> tuple[list[Problem], dict[str, int], pd.DataFrame]:
    """Every problem of a frame of indicator values (text columns :data:`INDICATOR_IMPORT_COLUMNS`).

    Returns the problems (the first ``MAX_ROWS_REPORTED`` rows of each kind), the count of each kind, and
    the rows as they would be stored (trimmed text, canonical period, numeric ``value``; NaN where the
    value is blank and ``blank_allowed``). ``only_partnership`` refuses rows of any other partnership.
    """
    counts: dict[str, int] = {}
    # the answer import's text rules (NUL, control characters, length); indicator ids have the item limit and
    # a note the comment limit; the value is checked as a number below
    checked = frame.drop(columns=["value"]).rename(columns={"indicator": "item", "note": "comment"})
    problems, text_counts = text_problems(checked,
                                          source=source, place=lambda r, c: place(r, _original(c)))
    counts.update(text_counts)
    text = {c: frame[c].astype("string").fillna("").str.strip() for c in frame.columns if c != "note"}
    flag = _flagger(problems, counts, source, place)
    for column in ("partnership", "period", "indicator", "agency"):
        flag(ErrorCode.EMPTY_IDENTIFIER, text[column] == "", column, lambda r, c=column: {"column": c})
    _partnership_problems(flag, text["partnership"], set(partnerships), only_partnership)
    period = _canonical_periods(text["period"])
    flag(ErrorCode.INVALID_VALUE, (period == "") & (text["period"] != ""), "period",
         lambda r: {"detail": f"period '{_cut(text['period'].iloc[r])}' is not a period: use {PERIOD_FORMS}"})
    _indicator_problems(flag, text["indicator"], text["agency"], catalogue)
    value = _value_problems(flag, text["value"], text["indicator"], catalogue, blank_allowed)
    clean = pd.DataFrame({"partnership": text["partnership"], "period": period, "indicator": text["indicator"],
                          "agency": text["agency"], "value": value,
                          "note": frame["note"].astype("string").fillna("") if "note" in frame
                          else pd.Series("", index=frame.index, dtype="string")})
    keys = ["partnership", "period", "indicator", "agency"]
    twice = clean.duplicated(keys, keep="first").to_numpy() & (period != "").to_numpy()
    first_of = pd.Series(np.arange(len(clean))).groupby([clean[k].to_numpy() for k in keys]).transform("min")
    flag(ErrorCode.DUPLICATE_INDICATOR_VALUE, twice, "indicator",
         lambda r: {"first": _row_number(place(int(first_of.iloc[r]), "indicator"))})
    return problems, counts, clean


def _original(column: str) -> str:
    return {"item": "indicator", "comment": "note"}.get(column, column)


def _cut(value: object, width: int = 60) -> str:
    text = str(value)
    return text if len(text) <= width else text[:width] + "…"


def _flagger(problems: list[Problem], counts: dict[str, int], source: str, place: Place):
    def flag(code: ErrorCode, mask: pd.Series | np.ndarray, column: str, fields: Callable[[int], dict]) -> None:
        rows = np.flatnonzero(np.asarray(mask, dtype=bool))
        if not len(rows):
            return
        counts[code.code] = counts.get(code.code, 0) + len(rows)
        problems.extend(Problem.make(code, file=source, path=place(int(r), column), **fields(int(r)))
                        for r in rows[:MAX_ROWS_REPORTED])
    return flag


def _partnership_problems(flag, partnership: pd.Series, known: set[str], only: str | None) -> None:
    unknown = ~partnership.isin(known) & (partnership != "")
    flag(ErrorCode.PARTNERSHIP_NOT_FOUND, unknown, "partnership",
         lambda r: {"partnership": _cut(partnership.iloc[r]), "hint": " (list them with `assessment partnership list`)"})
    if only is not None:
        other = ~unknown & (partnership != only) & (partnership != "")
        flag(ErrorCode.INVALID_VALUE, other, "partnership",
             lambda r: {"detail": f"partnership '{_cut(partnership.iloc[r])}' is not the partnership being "
                                  f"entered ('{only}')"})


def _indicator_problems(flag, indicator: pd.Series, agency: pd.Series, catalogue: Catalogue) -> None:
    by_id = {i.id: i for i in catalogue.indicators}
    unknown = ~indicator.isin(list(by_id)) & (indicator != "")
    flag(ErrorCode.INDICATOR_NOT_IN_CATALOGUE, unknown, "indicator",
         lambda r: {"id": _cut(indicator.iloc[r]), "catalogue": catalogue.id, "version": catalogue.version})
    computed = indicator.isin([i.id for i in catalogue.indicators if i.computed])
    flag(ErrorCode.INDICATOR_NOT_ENTERED, computed, "indicator",
         lambda r: {"id": indicator.iloc[r], "unit": by_id[indicator.iloc[r]].definition.unit})
    bad_agency = ~agency.isin(list(AGENCIES)) & (agency != "")
    flag(ErrorCode.UNKNOWN_AGENCY, bad_agency, "agency",
         lambda r: {"agency": _cut(agency.iloc[r]), "allowed": ", ".join(AGENCIES)})
    pairs = {(i.id, a) for i in catalogue.indicators for a in i.reporting_agencies}
    entered = indicator.isin([i.id for i in catalogue.indicators if not i.computed])
    reports = pd.Series([p in pairs for p in zip(indicator, agency, strict=True)], index=indicator.index, dtype=bool)
    flag(ErrorCode.AGENCY_NOT_REPORTING, entered & ~bad_agency & ~reports & (agency != ""), "agency",
         lambda r: {"agency": agency.iloc[r], "id": indicator.iloc[r],
                    "allowed": ", ".join(by_id[indicator.iloc[r]].reporting_agencies)})


def _value_problems(flag, value: pd.Series, indicator: pd.Series, catalogue: Catalogue,
                    blank_allowed: bool) -> pd.Series:
    """The values as numbers (NaN where blank or wrong), flagging every wrong one."""
    number = pd.to_numeric(value.where(value.str.fullmatch(r"[0-9.eE+-]+"), None), errors="coerce").astype(float)
    blank = value == ""
    flag(ErrorCode.INVALID_VALUE, blank & (not blank_allowed), "value",
         lambda r: {"detail": "the value is empty: leave the row out when there is no figure"})
    not_number = ~blank & (number.isna() | ~np.isfinite(number.fillna(0)))
    flag(ErrorCode.INVALID_VALUE, not_number, "value",
         lambda r: {"detail": f"value '{_cut(value.iloc[r])}' is not a number (write digits, with a '.' for "
                              "decimals and no thousands separator)"})
    negative = ~not_number & (number < 0)
    flag(ErrorCode.INVALID_VALUE, negative, "value", lambda r: {"detail": f"value {value.iloc[r]} is below 0"})
    counts = indicator.isin([i.id for i in catalogue.indicators if i.definition.unit == "count"])
    fractional = counts & ~not_number & ~negative & ~blank & (number % 1 != 0)
    flag(ErrorCode.INVALID_VALUE, fractional, "value",
         lambda r: {"detail": f"'{indicator.iloc[r]}' is a count: {value.iloc[r]} is not a whole number"})
    return number.where(~(not_number | negative | fractional))


def _partnership_ids(session: Session) -> dict[str, int]:
    return dict(session.execute(select(PartnershipRow.key, PartnershipRow.id)).all())


def _refused(name: str, problems: list[Problem], counts: dict[str, int], rows: int) -> ValidationFailed:
    total = sum(counts.values())
    parts = ", ".join(f"{count:,} × {code}" for code, count in counts.items())
    listed = "" if total == len(problems) else f"; the first {MAX_ROWS_REPORTED} rows of each kind are listed"
    problems.sort(key=lambda p: (_row_number(p.path), p.path, p.code.code))
    return ValidationFailed(problems, f"{name}: {total:,} problem(s) in {rows:,} row(s) ({parts}{listed}); "
                                      "nothing was stored", counts=counts)


def _row_number(path: str) -> int:
    match = re.match(r"row (\d+)", path)
    return int(match.group(1)) if match else 0


def _store(session: Session, clean: pd.DataFrame, catalogue: Catalogue, actor: str) -> tuple[int, int, int]:
    """Replace the stored values of the rows' keys: (stored, replaced, removed). A NaN value removes."""
    ids = _partnership_ids(session)
    keys = list(zip(clean["partnership"].map(ids).astype("int64").tolist(), clean["period"].tolist(),
                    clean["indicator"].tolist(), clean["agency"].tolist(), strict=True))
    table = IndicatorValueRow.__table__
    columns = tuple_(table.c.partnership_id, table.c.period, table.c.indicator, table.c.agency)
    existing: set[tuple] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        existing |= {tuple(r) for r in session.execute(select(*columns.clauses).where(columns.in_(chunk))).all()}
        session.execute(delete(table).where(columns.in_(chunk)))
    keep = clean["value"].notna().to_numpy()
    now = utcnow()
    rows = [{"partnership_id": k[0], "period": k[1], "indicator": k[2], "agency": k[3], "value": float(v),
             "note": str(n), "catalogue": catalogue.id, "catalogue_version": catalogue.version,
             "entered_by": actor, "entered_at": now}
            for k, v, n, kept in zip(keys, clean["value"].tolist(), clean["note"].tolist(), keep, strict=True)
            if kept]
    if rows:
        session.execute(insert(table), rows)
    was_stored = np.array([k in existing for k in keys], dtype=bool)
    return len(rows), int((keep & was_stored).sum()), int((~keep & was_stored).sum())


def import_indicator_values(session: Session, source: str | Path | bytes | IO[bytes], *, actor: str,
                            catalogue: Catalogue, partnership: str | None = None) -> IndicatorImportReport:
    """Import a CSV of indicator values: all of it, or nothing (the caller commits).

    Columns: partnership, period, indicator, agency, value and optionally note (docs/indicators.md).
    ``partnership`` (when given) refuses rows of any other partnership (a partnership lead's import).

    Raises
    ------
    ValidationFailed
        With every problem (``path`` "row N, column C", row 1 the header); nothing is written.
    """
    from assessment.storage.imports import read_csv_upload

    frame, name = read_csv_upload(source, required=REQUIRED, allowed=INDICATOR_IMPORT_COLUMNS + EXPORT_ONLY_COLUMNS,
                                  expected=INDICATOR_IMPORT_COLUMNS, what="indicator values",
                                  outcome="nothing was stored")
    frame = frame[[c for c in frame.columns if c in INDICATOR_IMPORT_COLUMNS]]
    problems, counts, clean = value_problems(frame, catalogue, _partnership_ids(session), source=name,
                                             only_partnership=partnership)
    if problems:
        raise _refused(name, problems, counts, len(frame))
    stored, replaced, _ = _store(session, clean, catalogue, actor)
    partnerships = tuple(sorted(set(clean["partnership"])))
    periods = tuple(sorted(set(clean["period"])))
    audit(session, actor, "import", "indicator_values", partnership or ";".join(partnerships)[:120],
          file=Path(name).name, rows=len(frame), stored=stored, replaced=replaced, partnerships=list(partnerships),
          periods=list(periods), catalogue=f"{catalogue.id} {catalogue.version}")
    return IndicatorImportReport(stored, replaced, 0, partnerships, periods)


def save_indicator_values(session: Session, partnership: str, period: str, values: pd.DataFrame, *, actor: str,
                          catalogue: Catalogue) -> IndicatorImportReport:
    """Save the entry page's values of one partnership and period (columns indicator, agency, value and
    optionally note; a blank value removes the stored one). Checked like an import; places name the
    table's rows from 1. Raises ``ValidationFailed`` with every problem; nothing is written then."""
    frame = values.astype("string").fillna("").assign(partnership=partnership, period=period)
    if "note" not in frame:
        frame["note"] = ""
    frame = frame[list(INDICATOR_IMPORT_COLUMNS)].reset_index(drop=True)
    problems, counts, clean = value_problems(frame, catalogue, _partnership_ids(session), source="entry",
                                             place=lambda r, c: f"row {r + 1}, column {c}",
                                             only_partnership=partnership, blank_allowed=True)
    if problems:
        raise _refused("the values entered", problems, counts, len(frame))
    stored, replaced, removed = _store(session, clean, catalogue, actor)
    label = clean["period"].iloc[0] if len(clean) else period
    audit(session, actor, "save", "indicator_values", partnership, period=label, stored=stored, replaced=replaced,
          removed=removed, catalogue=f"{catalogue.id} {catalogue.version}")
    return IndicatorImportReport(stored, replaced, removed, (partnership,), (label,))


def indicator_values(session: Session, partnerships: Iterable[str] | None = None,
                     periods: Iterable[str] | None = None) -> pd.DataFrame:
    """The stored values (:data:`VALUE_COLUMNS`), ordered by partnership, period, indicator and agency."""
    query = (select(PartnershipRow.key, IndicatorValueRow.period, IndicatorValueRow.indicator,
                    IndicatorValueRow.agency, IndicatorValueRow.value, IndicatorValueRow.note,
                    IndicatorValueRow.entered_by, IndicatorValueRow.entered_at, IndicatorValueRow.catalogue,
                    IndicatorValueRow.catalogue_version)
             .join(PartnershipRow, PartnershipRow.id == IndicatorValueRow.partnership_id))
    if partnerships is not None:
        query = query.where(PartnershipRow.key.in_(list(partnerships)))
    if periods is not None:
        query = query.where(IndicatorValueRow.period.in_(list(periods)))
    rows = session.execute(query.order_by(PartnershipRow.key, IndicatorValueRow.period, IndicatorValueRow.indicator,
                                          IndicatorValueRow.agency)).all()
    frame = pd.DataFrame(rows, columns=list(VALUE_COLUMNS))
    return frame.astype({"value": "float64", "partnership": "string", "period": "string", "indicator": "string",
                         "agency": "string", "note": "string", "entered_by": "string"})


def export_indicator_values(values: pd.DataFrame, fmt: str) -> bytes:
    """Stored values as CSV (the import format plus who entered each value and when; formula-safe through
    :mod:`assessment.tabular`, so it can be imported again) or JSON (one object per value)."""
    from assessment.tabular import to_csv_bytes

    out = values.copy()
    out["entered_at"] = pd.to_datetime(out["entered_at"]).dt.strftime("%Y-%m-%dT%H:%M:%S")
    if fmt == "csv":
        return to_csv_bytes(out)
    if fmt == "json":
        records = json.loads(out.to_json(orient="records", force_ascii=False))
        return (json.dumps(records, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    raise ValueError(f"format must be csv or json, not {fmt!r}")

