"""Answers in long form: reading, validating and encoding them to integer codes in one step.

The scoring engine never looks at text. :func:`encode_answers` checks every answer row against one
questionnaire version and turns the text columns into small integer arrays (respondent, item, value
codes) plus the code -> label tables. Every check is a whole-column operation on the dictionary codes of
a column (each distinct text is looked at once), so validating 24 million answers costs a few passes
over integer arrays.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import IO

import numpy as np
import pandas as pd

from assessment.errors import ErrorCode, Problem, ValidationFailed
from assessment.questionnaire.schema import DONT_KNOW, NOT_APPLICABLE, Questionnaire
from assessment.vocabulary import AGENCIES

__all__ = [
    "ANSWER_COLUMNS",
    "CARRIED_COLUMNS",
    "DK_CODE",
    "DK_REFUSED_CODE",
    "MISSING_CODE",
    "NA_CODE",
    "NA_REFUSED_CODE",
    "NOT_ASCII_CODE",
    "OFF_SCALE_CODE",
    "VALUE_PROBLEMS",
    "EncodedAnswers",
    "encode_answers",
    "read_answers_bytes",
    "read_answers_csv",
    "value_codes",
]

ANSWER_COLUMNS = ("partnership", "round", "respondent", "agency", "item", "value")
CARRIED_COLUMNS = ("questionnaire", "version", "period")

# Value codes: 0..k-1 are the positions of the scale levels; the rest are negative.
NA_CODE = -1
DK_CODE = -2
MISSING_CODE = -3
# Codes of refused values (never scored; each is a key of VALUE_PROBLEMS, which names its error).
OFF_SCALE_CODE = -10  # not a level of the scale
NA_REFUSED_CODE = -11  # NA where the scale forbids it
DK_REFUSED_CODE = -12  # DK where the scale forbids it
NOT_ASCII_CODE = -13  # a number written with digits other than 0-9

# How many rows are listed per kind of problem (the count always covers every row).
MAX_ROWS_REPORTED = 50


@dataclass(frozen=True)
class EncodedAnswers:
    """Validated answers as integer codes, ready for :func:`assessment.scoring.score_encoded`.

    Attributes
    ----------
    questionnaire : Questionnaire
        The version the answers were checked against.
    respondent : numpy.ndarray
        Per answer row (int32): index into ``respondents``.
    item : numpy.ndarray
        Per answer row (int16): index into ``questionnaire.items``.
    value : numpy.ndarray
        Per answer row (int8): position of the scale level (0 = lowest), or ``NA_CODE``, ``DK_CODE``,
        ``MISSING_CODE``.
    respondents : pandas.DataFrame
        One row per respondent code, sorted by (partnership, round, respondent): ``group`` (index into
        ``groups``), ``agency`` (index into ``AGENCIES``) and the ``respondent`` id.
    groups : pandas.DataFrame
        One row per (partnership, round), sorted: ``partnership``, ``round``, ``questionnaire``,
        ``version``, ``period`` (questionnaire and version default to the questionnaire's; period to "").
    has_period : bool
        Whether the answers had a ``period`` column.
    """

    questionnaire: Questionnaire
    respondent: np.ndarray
    item: np.ndarray
    value: np.ndarray
    respondents: pd.DataFrame
    groups: pd.DataFrame
    has_period: bool = False

    @property
    def n_answers(self) -> int:
        return len(self.value)


# ---------------------------------------------------------------------------------------------------
# reading


def read_answers_csv(path_or_buffer: str | IO, *, source: str | None = None) -> pd.DataFrame:
    """Read an answers CSV with every column as text.

    ``NA`` stays the text ``"NA"`` (not applicable) and an empty cell stays ``""`` (missing): nothing is
    guessed (``dtype=str, keep_default_na=False``). A UTF-8 byte-order mark is accepted. (The importer
    reads with the stricter :func:`read_answers_bytes`.)

    Raises
    ------
    ValidationFailed
        With code ``encoding`` when the file is not valid UTF-8, ``empty-file`` or ``csv-malformed``.
    """
    name = source if source is not None else (str(path_or_buffer) if isinstance(path_or_buffer, str | bytes)
                                              or hasattr(path_or_buffer, "__fspath__") else "")
    try:
        frame = pd.read_csv(path_or_buffer, dtype=str, keep_default_na=False, na_filter=False,
                            encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(
            [Problem.make(ErrorCode.ENCODING, file=name, detail=f"byte {exc.start}: {exc.reason}")],
            "the answers file could not be read",
        ) from exc
    except pd.errors.EmptyDataError as exc:
        raise ValidationFailed([Problem.make(ErrorCode.EMPTY_FILE, file=name)], "the answers file is empty") from exc
    except (pd.errors.ParserError, csv.Error) as exc:
        raise ValidationFailed([Problem.make(ErrorCode.CSV_MALFORMED, file=name, detail=_parser_detail(exc))],
                               "the answers file could not be read") from exc
    frame.columns = [str(column).strip() for column in frame.columns]
    return frame


# Files that are not CSV, known by their first bytes: (signature, what it is, what to do).
_SIGNATURES = (
    (b"PK\x03\x04", "an Excel workbook (.xlsx) or another zip archive",
     "in Excel use File > Save As > CSV UTF-8 (comma delimited)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls) or another Office file",
     "in Excel use File > Save As > CSV UTF-8 (comma delimited)"),
    (b"%PDF", "a PDF document", "export the answers as CSV UTF-8"),
    (b"\x1f\x8b", "a gzip archive", "unpack it first"),
    (b"\xff\xfe", "a UTF-16 text file", "save it as CSV UTF-8 (comma delimited)"),
    (b"\xfe\xff", "a UTF-16 text file", "save it as CSV UTF-8 (comma delimited)"),
)


def _parser_detail(exc: Exception) -> str:
    text = str(exc).replace("Error tokenizing data. C error: ", "").strip()
    if "EOF inside string" in text or "unexpected end of data" in text:
        return f"a quoted field is never closed ({text}); check for an unbalanced \" in that row"
    return text


def _place(data: bytes, offset: int, header: list[str]) -> str:
    """'row N, column C' of a byte offset (row 1 is the header); good enough for an error message."""
    row = data.count(b"\n", 0, offset) + 1
    line_start = data.rfind(b"\n", 0, offset) + 1
    before = data[line_start:offset].decode("utf-8", errors="replace")
    position = len(next(csv.reader([before]), [""])) - 1 if before else 0
    name = header[position].strip() if 0 <= position < len(header) else ""
    # a binary file's "header" is noise: name the column by its number then
    column = name if name and name.isprintable() and len(name) <= 40 else str(position + 1)
    return f"row {row}, column {column}"


def _field_counts(data: bytes, text: str, *, exact: bool = False) -> np.ndarray:
    """Fields per record, blank lines left out (as pandas leaves them out), the header first.

    Fast path (numpy over the bytes): a comma or line feed counts when an even number of quotes comes
    before it, i.e. outside a quoted field. It is exact for files that quote whole fields, as spreadsheets
    write them. When it finds something wrong (a quote left open, rows of different lengths), or with
    ``exact``, Python's csv module reads the file to give the exact answer (``csv.Error`` for an unclosed
    quote, with its line, propagates).
    """
    if not exact:
        raw = np.frombuffer(data, dtype=np.uint8)
        quote = raw == 34
        if quote.any():
            inside = np.bitwise_xor.accumulate(quote.view(np.uint8))
            open_at_end = bool(inside[-1]) if len(inside) else False
            outside = inside == 0
            del inside
            breaks = np.flatnonzero((raw == 10) & outside)
            commas = np.flatnonzero((raw == 44) & outside)
        else:
            open_at_end = False
            breaks = np.flatnonzero(raw == 10)
            commas = np.flatnonzero(raw == 44)
        if not open_at_end:
            if len(raw) and raw[-1] != 10:
                breaks = np.append(breaks, len(raw))
            starts = np.concatenate([[0], breaks[:-1] + 1])
            # commas before each line break, then per line (one search per line, not per comma)
            fields = np.diff(np.searchsorted(commas, breaks), prepend=0) + 1
            length = breaks - starts
            ends_cr = np.zeros(len(breaks), dtype=bool)
            has = length > 0
            ends_cr[has] = raw[breaks[has] - 1] == 13
            fields = fields[(length - ends_cr) > 0]
            if not len(fields) or bool((fields == fields[0]).all()):
                return fields
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        counts = np.fromiter(map(len, reader), dtype=np.int64)
    except csv.Error as exc:
        raise csv.Error(f"{exc} at line {reader.line_num}") from exc
    return counts[counts > 0]


def _refuse_ragged(fields: np.ndarray, source: str) -> None:
    expected = int(fields[0]) if len(fields) else 0
    ragged = np.flatnonzero(fields[1:] != expected)
    if len(ragged):
        problems = [Problem.make(ErrorCode.FIELD_COUNT, file=source, path=f"row {int(r) + 2}",
                                 found=int(fields[r + 1]), expected=expected) for r in ragged[:MAX_ROWS_REPORTED]]
        raise ValidationFailed(problems, f"{source or 'the file'}: {len(ragged):,} row(s) do not have the header's "
                                         f"{expected} fields", counts={"field-count": len(ragged)})


def read_answers_bytes(data: bytes, *, source: str = "") -> pd.DataFrame:
    """Read an answers file strictly: every column as text, or a :class:`ValidationFailed` naming the place.

    Refused, each with its own code: a file that is not CSV at all (an Excel workbook renamed ``.csv``,
    a PDF...: ``not-a-csv``); an empty file (``empty-file``); NUL bytes (``nul-character``, with the count
    and the first place); bytes that are not UTF-8 (``encoding``); a quote that is never closed or a
    row that cannot be split (``csv-malformed``); a row with more or fewer fields than the header
    (``field-count``, each row); a header with no answer rows (``no-answer-rows``). Row 1 is the header.
    """
    head = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    for signature, kind, hint in _SIGNATURES:
        if head.startswith(signature):
            raise ValidationFailed([Problem.make(ErrorCode.NOT_A_CSV, file=source, kind=kind, hint=hint)],
                                   f"{source or 'the file'} is not a CSV file")
    if not head.strip():
        raise ValidationFailed([Problem.make(ErrorCode.EMPTY_FILE, file=source)], f"{source or 'the file'} is empty")
    if b"\r" in head and b"\n" not in head:
        raise ValidationFailed(
            [Problem.make(ErrorCode.CSV_MALFORMED, file=source,
                          detail="its lines end with a carriage return alone (a classic Mac CSV); "
                                 "save it as CSV UTF-8 (comma delimited)")],
            f"{source or 'the file'} cannot be read as CSV")
    first_line = head.split(b"\n", 1)[0].decode("utf-8", errors="replace").strip("\r")
    try:
        header = next(csv.reader([first_line]), [])
    except csv.Error as exc:  # e.g. a carriage return inside the header row
        raise ValidationFailed([Problem.make(ErrorCode.CSV_MALFORMED, file=source, path="row 1",
                                             detail=_parser_detail(exc))],
                               f"{source or 'the file'} cannot be read as CSV") from exc
    nul = head.find(b"\x00")
    if nul >= 0:
        count = head.count(b"\x00")
        raise ValidationFailed([Problem.make(ErrorCode.NUL_CHARACTER, file=source, path=_place(head, nul, header))],
                               f"{source or 'the file'} holds {count:,} NUL byte(s), the first at "
                               f"{_place(head, nul, header)}: it is not a text CSV file", counts={"nul-character": count})
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        problem = Problem.make(ErrorCode.ENCODING, file=source, path=_place(head, exc.start, header),
                               detail=f"byte {exc.start} ({exc.reason}); save the file as UTF-8")
        raise ValidationFailed([problem], f"{source or 'the file'} is not valid UTF-8") from exc
    try:
        fields = _field_counts(head, text)
    except csv.Error as exc:
        raise ValidationFailed([Problem.make(ErrorCode.CSV_MALFORMED, file=source, detail=_parser_detail(exc))],
                               f"{source or 'the file'} cannot be read as CSV") from exc
    _refuse_ragged(fields, source)
    try:
        frame = pd.read_csv(io.BytesIO(head), dtype=str, keep_default_na=False, na_filter=False, index_col=False,
                            encoding="utf-8")
    except pd.errors.EmptyDataError as exc:
        raise ValidationFailed([Problem.make(ErrorCode.EMPTY_FILE, file=source)], f"{source or 'the file'} is empty") from exc
    except (pd.errors.ParserError, csv.Error) as exc:
        raise ValidationFailed([Problem.make(ErrorCode.CSV_MALFORMED, file=source, detail=_parser_detail(exc))],
                               f"{source or 'the file'} cannot be read as CSV") from exc
    if len(frame) != len(fields) - 1:
        # the fast count and pandas disagree (a quote inside an unquoted field): count exactly
        try:
            exact = _field_counts(head, text, exact=True)
        except csv.Error as exc:
            raise ValidationFailed([Problem.make(ErrorCode.CSV_MALFORMED, file=source, detail=_parser_detail(exc))],
                                   f"{source or 'the file'} cannot be read as CSV") from exc
        _refuse_ragged(exact, source)
        if len(frame) != len(exact) - 1:
            raise ValidationFailed([Problem.make(ErrorCode.CSV_MALFORMED, file=source,
                                                 detail="its rows cannot be told apart; check the quotes")],
                                   f"{source or 'the file'} cannot be read as CSV")
    if frame.empty:
        raise ValidationFailed([Problem.make(ErrorCode.NO_ANSWER_ROWS, file=source, path="row 2")],
                               f"{source or 'the file'} has a header but no answer rows")
    frame.columns = [str(column).strip() for column in frame.columns]
    return frame


# ---------------------------------------------------------------------------------------------------
# column helpers


def _as_text(series: pd.Series) -> pd.Series:
    """The column as text; NaN/None (a frame not read with keep_default_na=False) count as empty."""
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        values = series.to_numpy(dtype=float, na_value=np.nan)
        out = np.full(len(values), "", dtype=object)
        ok = ~np.isnan(values)
        integral = ok & (values == np.round(values))
        out[integral] = values[integral].astype(np.int64).astype(str)
        out[ok & ~integral] = values[ok & ~integral].astype(str)
        return pd.Series(out, index=series.index, dtype="str")
    if not pd.api.types.is_string_dtype(series.dtype) or series.dtype == object:
        series = series.astype("str")
    if series.hasnans:
        series = series.fillna("")
    return series


def _dictionary(series: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Dictionary-encode a text column: (codes per row, distinct labels as a text Series)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        # already dictionary-encoded (e.g. read from Parquet or built with categories): reuse the codes
        categories = pd.Series(series.cat.categories.astype(str), dtype="str")
        codes = series.cat.codes.to_numpy()
        if (codes < 0).any():  # missing values become the empty text
            categories = pd.concat([categories, pd.Series([""], dtype="str")], ignore_index=True)
            codes = np.where(codes < 0, len(categories) - 1, codes)
        return codes.astype(np.int32, copy=False), categories
    series = _as_text(series)
    pa_array = getattr(series.array, "_pa_array", None)
    if pa_array is not None:
        encoded = pa_array.dictionary_encode()
        if encoded.num_chunks > 1:
            encoded = encoded.unify_dictionaries()
        if encoded.num_chunks == 0:
            return np.zeros(0, dtype=np.int32), pd.Series([], dtype="str")
        labels = pd.Series(pd.array(encoded.chunks[0].dictionary, dtype="str"))
        codes = np.concatenate([chunk.indices.to_numpy(zero_copy_only=False) for chunk in encoded.chunks])
        return codes.astype(np.int32, copy=False), labels
    codes, labels = pd.factorize(series.to_numpy(dtype=object), use_na_sentinel=False)
    return codes.astype(np.int32, copy=False), pd.Series(pd.array(np.asarray(labels, dtype=object), dtype="str"))


def _blank(labels: pd.Series) -> np.ndarray:
    """Per label: empty or only whitespace."""
    return (labels.str.strip() == "").to_numpy(dtype=bool)


def _rank(labels: pd.Series) -> np.ndarray:
    """Each label's position in sorted order (to renumber codes so that their order is the text order)."""
    order = labels.argsort(kind="stable").to_numpy() if len(labels) else np.zeros(0, dtype=np.int64)
    rank = np.empty(len(labels), dtype=np.int64)
    rank[order] = np.arange(len(labels), dtype=np.int64)
    return rank


def _index_type(size: int) -> type:
    """The smaller integer type that can index ``size`` positions (halves the memory of large keys)."""
    return np.int32 if size < 2**31 - 1 else np.int64


def _compress(keys: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Dense codes for integer keys in ``[0, size)``, in key order: (codes, distinct keys)."""
    n = len(keys)
    if size <= 8 * n + (1 << 22):
        present = np.zeros(size, dtype=bool)
        present[keys] = True
        distinct = np.flatnonzero(present)
        rank = (np.cumsum(present, dtype=np.int64) - 1).astype(np.int32)
        return rank[keys], distinct
    distinct, codes = np.unique(keys, return_inverse=True)
    return codes.astype(np.int32).reshape(-1), distinct


def _conflicting_rows(owner: np.ndarray, attribute: np.ndarray, n_owners: int, valid: np.ndarray) -> np.ndarray:
    """Rows whose ``attribute`` differs from the first valid row of the same ``owner``.

    The fast check (a scatter and a compare) runs on every row; only owners with a conflict are looked
    at row by row (with pandas) to name the rows that differ from the owner's first one.
    """
    chosen = np.zeros(n_owners, dtype=attribute.dtype)
    all_valid = bool(valid.all())
    if all_valid:
        chosen[owner] = attribute  # any one row's value per owner
        differs = attribute != chosen[owner]
    else:
        chosen[owner[valid]] = attribute[valid]
        differs = valid & (attribute != chosen[owner])
    if not differs.any():
        return np.zeros(0, dtype=np.int64)
    bad = np.zeros(n_owners, dtype=bool)
    bad[owner[differs]] = True
    rows = np.flatnonzero(bad[owner] & valid)
    first = pd.Series(attribute[rows]).groupby(owner[rows]).transform("first").to_numpy()
    return rows[attribute[rows] != first]


# ---------------------------------------------------------------------------------------------------
# problems


class _Problems:
    """Collects offending rows per error code; keeps the first few as Problems and every count."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []
        self.counts: dict[ErrorCode, int] = {}

    def rows(self, code: ErrorCode, rows: np.ndarray, column: str, fields) -> None:
        """Record ``rows`` (0-based positions); ``fields(row)`` gives the template's fields."""
        if len(rows) == 0:
            return
        self.counts[code] = self.counts.get(code, 0) + len(rows)
        for row in rows[:MAX_ROWS_REPORTED]:
            row = int(row)
            self.problems.append(
                Problem.make(code, file=self.source, path=f"row {row + 2}, column {column}", **fields(row))
            )

    def raise_if_any(self, n_rows: int) -> None:
        if not self.counts:
            return
        total = sum(self.counts.values())
        parts = ", ".join(f"{count:,} × {code.code}" for code, count in self.counts.items())
        shown = "" if len(self.problems) == total else f"; the first {MAX_ROWS_REPORTED} rows of each kind are listed"
        summary = f"{total:,} problem(s) in {n_rows:,} answer row(s); nothing was scored ({parts}{shown})"
        self.problems.sort(key=lambda p: (int(p.path.split(",")[0][4:]), p.code.code))
        raise ValidationFailed(self.problems, summary,
                               counts={code.code: count for code, count in self.counts.items()})


# ---------------------------------------------------------------------------------------------------
# encoding


_ASCII_INTEGER = re.compile(r"-?[0-9]+")


def _reads_as_integer(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


# What each refused value code means (the codes _value_table gives besides the scale positions).
VALUE_PROBLEMS = {OFF_SCALE_CODE: ErrorCode.VALUE_OFF_SCALE, NA_REFUSED_CODE: ErrorCode.NA_NOT_ALLOWED,
                  DK_REFUSED_CODE: ErrorCode.DK_NOT_ALLOWED, NOT_ASCII_CODE: ErrorCode.VALUE_NOT_ASCII}


def value_codes(questionnaire: Questionnaire, values) -> np.ndarray:
    """Each value's code: a scale position (0 = lowest), ``NA_CODE``, ``DK_CODE``, ``MISSING_CODE``, or a
    key of ``VALUE_PROBLEMS`` when refused. The one reading of an answer's value (the importer, scoring
    and the respondent's save all use it)."""
    return _value_table(questionnaire, pd.Series(list(values), dtype=object))


def _value_table(questionnaire: Questionnaire, labels: pd.Series) -> np.ndarray:
    """Per distinct value text: its code, or ``OFF_SCALE_CODE``, ``NA_REFUSED_CODE`` (NA forbidden),
    ``DK_REFUSED_CODE`` (DK forbidden), ``NOT_ASCII_CODE`` (a number written with digits other than 0-9:
    ``٣``, ``３``, ``𝟛``: Python's ``int`` reads them, the product does not).

    The scale's accepted answers decide; a level may be written with spaces or leading zeros (`` 05``).
    """
    accepted = questionnaire.scale.accepted_answers()
    code_of = {answer: index for index, answer in enumerate(accepted) if answer not in (NOT_APPLICABLE, DONT_KNOW)}
    code_of[NOT_APPLICABLE] = NA_CODE if NOT_APPLICABLE in accepted else NA_REFUSED_CODE
    code_of[DONT_KNOW] = DK_CODE if DONT_KNOW in accepted else DK_REFUSED_CODE
    table = np.empty(len(labels), dtype=np.int16)
    for index, label in enumerate(labels.to_numpy(dtype=object)):
        text = str(label).strip()
        if text == "":
            code = MISSING_CODE
        elif text.upper() in (NOT_APPLICABLE, DONT_KNOW):
            code = code_of[text.upper()]
        elif _ASCII_INTEGER.fullmatch(text):
            code = code_of.get(str(int(text)), OFF_SCALE_CODE)
        else:
            code = NOT_ASCII_CODE if not text.isascii() and _reads_as_integer(text) else OFF_SCALE_CODE
        table[index] = code
    return table


def encode_answers(questionnaire: Questionnaire, answers: pd.DataFrame, *, source: str = "") -> EncodedAnswers:
    """Validate answers against one questionnaire version and encode them as integer codes.

    Checks (every row, all at once): required columns; empty identifiers; unknown agency; unknown item;
    value off the scale; NA or DK where the scale forbids them; an answer to an item not asked of the
    respondent's agency (``answered_by``); a respondent under two agencies in one
    round; a respondent id under two partnerships; two answers for the same (partnership, round,
    respondent, item); ``questionnaire``/``version`` columns naming another questionnaire version.

    Parameters
    ----------
    questionnaire : Questionnaire
        The version the answers belong to.
    answers : pandas.DataFrame
        Long form: ``partnership, round, respondent, agency, item, value`` (text; value is a scale
        value, ``NA``, ``DK`` or empty) and optionally ``questionnaire, version, period, comment``.
        An item with no row for a respondent is missing, like an empty value.
    source : str, optional
        File name used in problem reports.

    Returns
    -------
    EncodedAnswers

    Raises
    ------
    ValidationFailed
        With one :class:`~assessment.errors.Problem` per offending row (``path`` like
        ``"row 12, column value"``; row 1 is the header, so the first answer is row 2; at most
        ``MAX_ROWS_REPORTED`` rows per kind of problem are listed) and a summary with the counts.
    """
    _check_shape(questionnaire, answers, source)
    problems = _Problems(source)
    columns = {column: _dictionary(answers[column]) for column in ANSWER_COLUMNS}
    _report_blank_identifiers(columns, problems)
    agency = _encode_agency(columns["agency"], problems)
    item = _encode_item(questionnaire, columns["item"], problems)
    value = _encode_values(questionnaire, columns["value"], problems)
    _report_not_asked(questionnaire, agency, item, value, problems)
    _report_other_version(questionnaire, answers, problems)
    respondent_codes, key_i, key_r, key_p = _respondent_keys(columns, agency, problems)
    _report_duplicates(respondent_codes, item, len(key_i), len(questionnaire.items), problems)
    problems.raise_if_any(len(answers))

    labels = {column: columns[column][1] for column in ("partnership", "round", "respondent")}
    ranks = {column: _rank(text) for column, text in labels.items()}
    respondent_codes, respondent_group, key_i, groups = _sort_respondents(
        respondent_codes, key_i, key_r, key_p, labels, ranks)
    groups = _groups_table(questionnaire, answers, groups, respondent_group[respondent_codes])
    respondent_agency = np.zeros(len(key_i), dtype=np.int8)
    respondent_agency[respondent_codes] = agency
    i_rank, i_labels = ranks["respondent"], labels["respondent"]
    respondents = pd.DataFrame({
        "group": respondent_group,
        "agency": respondent_agency,
        # categorical: the distinct ids (sorted) and a code per respondent; cheap to repeat per domain
        "respondent": pd.Categorical.from_codes(
            i_rank[key_i], categories=pd.Index(i_labels.take(np.argsort(i_rank)).to_numpy(dtype=object), dtype="str")),
    })
    return EncodedAnswers(
        questionnaire=questionnaire,
        respondent=respondent_codes.astype(np.int32, copy=False),
        item=item.astype(np.int16, copy=False),
        value=value,
        respondents=respondents,
        groups=groups,
        has_period="period" in answers.columns,
    )


def _check_shape(questionnaire: Questionnaire, answers: pd.DataFrame, source: str) -> None:
    """Refuse answers without the required columns, and scales too large for the int8 value codes."""
    missing = [column for column in ANSWER_COLUMNS if column not in answers.columns]
    if missing:
        raise ValidationFailed(
            [Problem.make(ErrorCode.MISSING_COLUMN, file=source, path=f"column {c}", column=c) for c in missing],
            "the answers lack required column(s): " + ", ".join(missing),
        )
    scale_size = len(questionnaire.scale.values)
    if scale_size > 120:
        raise ValueError(f"scales with more than 120 levels are not supported (got {scale_size})")


def _report_blank_identifiers(columns: dict, problems: _Problems) -> None:
    for column in ("partnership", "round", "respondent", "agency", "item"):
        codes, labels = columns[column]
        blank = _blank(labels)
        if blank.any():
            problems.rows(ErrorCode.EMPTY_IDENTIFIER, np.flatnonzero(blank[codes]), column,
                          lambda row, c=column: {"column": c})


def _lookup(column: tuple[np.ndarray, pd.Series], index: dict[str, int], dtype) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the position of its label in ``index`` (-1 when unknown); and the rows whose (non-blank)
    label is unknown. One dictionary look-up per distinct label, then a gather."""
    codes, labels = column
    table = np.array([index.get(label, -1) for label in labels.to_numpy(dtype=object)], dtype=dtype)
    unknown = (table == -1) & ~_blank(labels)
    return table[codes], np.flatnonzero(unknown[codes]) if unknown.any() else np.zeros(0, dtype=np.int64)


def _encode_agency(column: tuple[np.ndarray, pd.Series], problems: _Problems) -> np.ndarray:
    codes, labels = column
    agency, unknown = _lookup(column, {agency: index for index, agency in enumerate(AGENCIES)}, np.int8)
    problems.rows(ErrorCode.UNKNOWN_AGENCY, unknown, "agency",
                  lambda row: {"agency": labels.iloc[codes[row]], "allowed": ", ".join(AGENCIES)})
    return agency


def _encode_item(questionnaire: Questionnaire, column: tuple[np.ndarray, pd.Series], problems: _Problems) -> np.ndarray:
    codes, labels = column
    item, unknown = _lookup(column, {item.id: index for index, item in enumerate(questionnaire.items)}, np.int16)
    problems.rows(ErrorCode.UNKNOWN_ITEM, unknown, "item",
                  lambda row: {"item": labels.iloc[codes[row]], "questionnaire": questionnaire.id,
                               "version": questionnaire.version})
    return item


def _encode_values(questionnaire: Questionnaire, column: tuple[np.ndarray, pd.Series], problems: _Problems) -> np.ndarray:
    codes, labels = column
    table = _value_table(questionnaire, labels)
    allowed = ", ".join(questionnaire.scale.accepted_answers()) + " or empty"
    for bad_code, error in VALUE_PROBLEMS.items():
        bad = table == bad_code
        if bad.any():
            problems.rows(error, np.flatnonzero(bad[codes]), "value",
                          lambda row: {"value": labels.iloc[codes[row]], "allowed": allowed})
    return table[codes].astype(np.int8)


def _report_not_asked(questionnaire: Questionnaire, agency: np.ndarray, item: np.ndarray, value: np.ndarray,
                      problems: _Problems) -> None:
    """Routing: an answer (a value, NA or DK) to an item not asked of the respondent's agency. An empty
    value is no answer, so a row for every item (a blank template) stays acceptable."""
    if not questionnaire.routed:
        return
    n_items = len(questionnaire.items)
    asked = np.array([[i.asked_of(code) for i in questionnaire.items] for code in AGENCIES], dtype=bool).ravel()
    known = (agency >= 0) & (item >= 0)  # unknown agencies and items are reported already
    cell = np.where(known, agency.astype(np.int32) * n_items + item, 0)
    not_asked = known & (value != MISSING_CODE) & ~asked[cell]
    if not_asked.any():
        problems.rows(ErrorCode.ITEM_NOT_ASKED, np.flatnonzero(not_asked), "item",
                      lambda row: {"item": questionnaire.items[item[row]].id, "agency": AGENCIES[agency[row]],
                                   "answered_by": ", ".join(questionnaire.items[item[row]].answered_by or ())})


def _report_other_version(questionnaire: Questionnaire, answers: pd.DataFrame, problems: _Problems) -> None:
    """The questionnaire / version columns must name this version (empty is fine); one text comparison."""
    for column, expected in (("questionnaire", questionnaire.id), ("version", questionnaire.version)):
        if column in answers.columns:
            text = _as_text(answers[column])
            other = np.flatnonzero(~(text == expected).to_numpy(dtype=bool))
            if len(other):
                values = text.iloc[other]
                wrong = other[~(values.str.strip() == "").to_numpy(dtype=bool)]
                problems.rows(ErrorCode.QUESTIONNAIRE_MISMATCH, wrong, column,
                              lambda row, c=column, e=expected, t=text: {"column": c, "value": t.iloc[row], "expected": e})


def _respondent_keys(columns: dict, agency: np.ndarray, problems: _Problems):
    """Number the respondents and report ids under two partnerships or two agencies.

    A respondent is (partnership, round, respondent id); an id must keep to one partnership, so
    (respondent id, round) is the key: a small key space, no string hashing. Returns the respondent code
    per row and, per respondent, its id, round and partnership codes.
    """
    p_codes, p_labels = columns["partnership"]
    r_codes, r_labels = columns["round"]
    i_codes, i_labels = columns["respondent"]
    n_r, n_i = len(r_labels), len(i_labels)
    key = i_codes.astype(_index_type(n_i * n_r))
    key *= n_r
    key += r_codes
    respondent_codes, keys = _compress(key, max(n_i * n_r, 1))
    del key
    key_i, key_r = keys // n_r, keys % n_r
    key_p = np.zeros(len(keys), dtype=np.int32)
    key_p[respondent_codes] = p_codes  # any one row's partnership per key
    id_p = np.zeros(n_i, dtype=np.int32)
    id_p[key_i] = key_p
    n_respondents = len(keys)
    if (p_codes != key_p[respondent_codes]).any() or (key_p != id_p[key_i]).any():
        two_partnerships = _conflicting_rows(i_codes, p_codes, n_i, ~_blank(p_labels)[p_codes])
        problems.rows(ErrorCode.RESPONDENT_TWO_PARTNERSHIPS, two_partnerships, "partnership",
                      lambda row: {"respondent": i_labels.iloc[i_codes[row]]})
        if len(two_partnerships):
            # the remaining checks need the full key; this input is reported, never scored
            frame = pd.DataFrame({"p": p_codes, "r": r_codes, "i": i_codes})
            respondent_codes = frame.groupby(["p", "r", "i"], sort=False).ngroup().to_numpy().astype(np.int32)
            n_respondents = int(respondent_codes.max()) + 1
            key_i = np.zeros(n_respondents, dtype=key_i.dtype)
    rows = _conflicting_rows(respondent_codes, agency, n_respondents, agency >= 0)
    problems.rows(ErrorCode.RESPONDENT_TWO_AGENCIES, rows, "agency",
                  lambda row: {"respondent": i_labels.iloc[i_codes[row]]})
    return respondent_codes, key_i, key_r, key_p


def _report_duplicates(respondent_codes: np.ndarray, item: np.ndarray, n_respondents: int, n_items: int,
                       problems: _Problems) -> None:
    """Duplicate answers: more than one row for a (respondent, item) slot."""
    n = len(item)
    slot = respondent_codes.astype(_index_type(n_respondents * (n_items + 1)))
    slot *= n_items + 1
    slot += item
    slot += 1
    valid = item >= 0
    size = n_respondents * (n_items + 1)
    if size <= 8 * n + (1 << 22):
        # fast check: mark each slot once in a byte grid; as many marks as rows means no duplicate
        seen = np.zeros(size, dtype=np.uint8)
        seen[slot] = 1
        seen[:: n_items + 1] = 0  # the slots of unknown items (reported already)
        suspect = int(np.count_nonzero(seen)) != int(np.count_nonzero(valid))
        del seen
        if suspect:
            counts = np.bincount(slot, minlength=size)
            duplicated = (counts[slot] > 1) & valid
            problems.rows(ErrorCode.DUPLICATE_ANSWER, np.flatnonzero(duplicated), "item", lambda row: {})
    else:
        duplicated = pd.Series(slot).duplicated(keep=False).to_numpy() & valid
        problems.rows(ErrorCode.DUPLICATE_ANSWER, np.flatnonzero(duplicated), "item", lambda row: {})


def _sort_respondents(respondent_codes, key_i, key_r, key_p, labels: dict, ranks: dict):
    """Sort respondents by (partnership, round, respondent id) and renumber them in that order.

    Returns the renumbered respondent code per row, each respondent's (partnership, round) group, its id
    code, and the groups' partnership and round labels (a frame, one row per group)."""
    p_rank, r_rank, i_rank = ranks["partnership"], ranks["round"], ranks["respondent"]
    n_respondents = len(key_i)
    order = np.lexsort((i_rank[key_i], r_rank[key_r], p_rank[key_p]))
    rank = np.empty(n_respondents, dtype=np.int32)
    rank[order] = np.arange(n_respondents, dtype=np.int32)
    respondent_codes = rank[respondent_codes]
    key_i, key_r, key_p = key_i[order], key_r[order], key_p[order]
    group_key = p_rank[key_p].astype(np.int64) * len(labels["round"]) + r_rank[key_r]
    starts = np.flatnonzero(np.diff(group_key, prepend=-1) != 0)  # first respondent of each group
    respondent_group = (np.cumsum(np.diff(group_key, prepend=-1) != 0) - 1).astype(np.int32)
    groups = pd.DataFrame({"partnership": labels["partnership"].array.take(key_p[starts]),
                           "round": labels["round"].array.take(key_r[starts])})
    return respondent_codes, respondent_group, key_i, groups


def _groups_table(questionnaire: Questionnaire, answers: pd.DataFrame, groups: pd.DataFrame,
                  row_group: np.ndarray) -> pd.DataFrame:
    """Add the carried columns: questionnaire and version are this version's (checked above); the period
    is the first non-empty one of each (partnership, round), in row order."""
    n_groups, n = len(groups), len(answers)
    groups["questionnaire"] = pd.array([questionnaire.id] * n_groups, dtype="str")
    groups["version"] = pd.array([questionnaire.version] * n_groups, dtype="str")
    periods = np.full(n_groups, "", dtype=object)
    if "period" in answers.columns and n:
        text = _as_text(answers["period"])
        # a group's first row starts a run of rows of that group: only run starts are candidates
        runs = np.concatenate([[0], np.flatnonzero(row_group[1:] != row_group[:-1]) + 1])
        first = np.full(n_groups, n, dtype=np.int64)
        np.minimum.at(first, row_group[runs], runs)
        periods = text.iloc[first].to_numpy(dtype=object)
        blank = np.array([str(value).strip() == "" for value in periods], dtype=bool)
        if blank.any():  # a group whose first row has no period: look at all its rows
            nonempty = np.flatnonzero(~(text.str.strip() == "").to_numpy(dtype=bool))
            first = np.full(n_groups, n, dtype=np.int64)
            np.minimum.at(first, row_group[nonempty], nonempty)
            fill = blank & (first < n)
            periods[fill] = text.iloc[first[fill]].to_numpy(dtype=object)
            periods[blank & ~fill] = ""
    groups["period"] = pd.array(periods.astype(str), dtype="str")
    return groups
