"""Tables out of the library: one formula-safe writer for every CSV and Excel export.

A spreadsheet treats a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return as a
formula (CWE-1236, "CSV injection"). Free text in this product (evidence comments, partnership names) is
written by respondents, so every export goes through :func:`formula_safe`, which prefixes such text with
an apostrophe, and does the same after every line break inside a cell: a reader that splits a cell at a
bare carriage return (or an importer that re-reads the lines) must never meet a line starting a formula.
Numbers stay numbers: ``-0.4`` in a float column is a number, ``"-3 repeat callers"`` in a text column is
text and gets the prefix.

The CSV writer ends rows with ``\r\n`` (RFC 4180), so Python's ``csv`` module quotes every field that
holds a carriage return or a line feed: with the default ``\n`` ending, a field holding a bare ``\r`` is
written unquoted and a reader sees a new row there. Every CSV the app offers for download and every CSV a
command writes comes from :func:`to_csv_bytes` or :func:`to_csv_text`; a test walks them all.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping

import pandas as pd

__all__ = ["CSV_DECIMALS", "FORMULA_PREFIXES", "formula_safe", "safe_text", "to_csv_bytes", "to_csv_text", "to_xlsx_bytes"]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")
# A line inside a cell (after \r\n, \r or \n) that starts with one of these gets the apostrophe too.
_RISKY_LINE = re.compile(r"(\r\n|\r|\n)(?=[=+\-@\t])")
_HAS_RISKY_LINE = r"[\r\n][=+\-@\t]"
LINE_TERMINATOR = "\r\n"


def safe_text(value: object) -> object:
    """One cell: text starting a formula, on its first line or any other, gets an apostrophe there.

    Anything that is not text is returned unchanged.
    """
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_PREFIXES):
        value = "'" + value
    return _RISKY_LINE.sub(r"\1'", value)


def _is_text_column(series: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(series) or series.dtype == object


def formula_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells cannot be read as spreadsheet formulas.

    Text cells (in string or object columns) starting with ``= + - @``, tab, carriage return or line feed
    get a leading ``'``, and so does every line inside a cell that starts with ``= + - @`` or tab;
    numeric, boolean and date columns are untouched. Column names are made safe too.

    Parameters
    ----------
    frame : pandas.DataFrame
        Any table about to be written to CSV or Excel.

    Returns
    -------
    pandas.DataFrame
        The same shape and dtypes, with risky text prefixed.
    """
    if not isinstance(frame, pd.DataFrame):
        raise ValueError("formula_safe expects a pandas DataFrame")
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if not _is_text_column(series):
            continue
        text = series.astype("string")
        risky = text.str.startswith(FORMULA_PREFIXES).fillna(False).astype(bool)
        risky |= text.str.contains(_HAS_RISKY_LINE, regex=True).fillna(False).astype(bool)
        if risky.any():
            fixed = series.astype(object).copy()
            fixed[risky.to_numpy()] = [safe_text(value) for value in text[risky].to_numpy(dtype=object)]
            out[column] = fixed.astype(series.dtype) if pd.api.types.is_string_dtype(series) else fixed
    out.columns = [safe_text(str(c)) for c in out.columns]
    return out


#: Decimals of every number written to CSV: far below any meaningful difference on a 1-5 scale, and no binary
#: noise (2.9000000000000004 is written 2.9).
CSV_DECIMALS = 6


def to_csv_text(frame: pd.DataFrame, *, decimals: int | None = CSV_DECIMALS) -> str:
    """CSV text, formula-safe, no index, numbers rounded to ``decimals`` (:data:`CSV_DECIMALS`; ``None`` writes
    full precision, each float as the shortest text that parses back to it); rows end in ``\r\n`` so any
    field holding a line break is quoted."""
    rounded = frame
    if decimals is not None:  # float columns only: rounding dates would only warn
        floats = frame.select_dtypes("floating").columns
        if len(floats):
            rounded = frame.copy()
            rounded[floats] = frame[floats].round(decimals)
    return formula_safe(rounded).to_csv(index=False, lineterminator=LINE_TERMINATOR)


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV (with a byte-order mark so Excel reads accents correctly): :func:`to_csv_text` as bytes."""
    return to_csv_text(frame).encode("utf-8-sig")


def to_xlsx_bytes(sheets: Mapping[str, pd.DataFrame]) -> bytes:
    """An Excel workbook with one formula-safe sheet per entry (sheet names cut to Excel's 31 characters).

    Text cells are written as text (never as formulas): openpyxl would otherwise store a cell starting
    with ``=`` as a formula, so the apostrophe prefix is kept as visible text, as in the CSV.
    """
    if not sheets:
        raise ValueError("to_xlsx_bytes needs at least one sheet")
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            safe = formula_safe(frame)
            # Excel has no timezone-aware datetimes: write them as UTC wall-clock times.
            for column in safe.columns:
                if isinstance(safe[column].dtype, pd.DatetimeTZDtype):
                    safe[column] = safe[column].dt.tz_convert("UTC").dt.tz_localize(None)
            safe.to_excel(writer, sheet_name=str(name)[:31] or "Sheet", index=False)
            sheet = writer.sheets[str(name)[:31] or "Sheet"]
            for row in sheet.iter_rows():
                for cell in row:
                    if cell.data_type == "f":  # belt and braces: never a formula
                        cell.data_type = "s"
    return buffer.getvalue()
