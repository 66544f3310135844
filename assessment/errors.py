"""One catalogue of error codes, each with a message template.

Validation never stops at the first problem: it collects :class:`Problem` records (code, message, file,
path inside the file, line) and raises :class:`ValidationFailed` carrying all of them, so a user fixes a
file in one pass. Codes are stable: tests and users can rely on them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

__all__ = ["ErrorCode", "Problem", "ValidationFailed", "format_path"]


class ErrorCode(Enum):
    """Stable error codes. The value is the code users see; the template is filled by ``Problem.make``."""

    # -- questionnaire files -------------------------------------------------------------------
    YAML_SYNTAX = ("yaml-syntax", "the file is not valid YAML: {detail}")
    YAML_ALIAS = ("yaml-alias", "YAML {kind} '{name}': anchors and aliases are not allowed; write the content out in full")
    YAML_TOO_DEEP = ("yaml-too-deep", "mappings and lists are nested more than {limit} levels deep")
    FILE_TOO_LARGE = ("file-too-large", "the file is {size} bytes; the limit is {limit} bytes")
    NOT_A_MAPPING = ("not-a-mapping", "the file must hold one YAML mapping (key: value pairs) at the top")
    DUPLICATE_KEY = ("duplicate-key", "the key '{key}' appears twice in the same mapping")
    UNKNOWN_KEY = ("unknown-key", "unknown key '{key}' (check the spelling against docs/questionnaire-format.md)")
    MISSING_KEY = ("missing-key", "required key '{key}' is missing")
    INVALID_VALUE = ("invalid-value", "{detail}")
    DUPLICATE_DOMAIN_ID = ("duplicate-domain-id", "domain id '{id}' is used twice (first at {first})")
    DUPLICATE_ITEM_ID = ("duplicate-item-id", "item id '{id}' is used twice (first at {first})")
    WEIGHT_NOT_POSITIVE = ("weight-not-positive", "weight must be greater than 0, got {value}")
    DESCRIPTOR_MISSING = ("descriptor-missing", "no descriptor for scale level {level}")
    DESCRIPTOR_UNKNOWN_LEVEL = ("descriptor-unknown-level", "descriptor for level {level}, which the scale does not have")
    SCALE_NOT_INCREASING = ("scale-not-increasing", "scale level values must be distinct and increasing")
    BANDS_START = ("bands-start", "the first band must start at the scale minimum {minimum}, not {value}")
    BANDS_NOT_INCREASING = ("bands-not-increasing", "band lower bounds and levels must increase ({detail})")
    BAND_OUTSIDE_SCALE = ("band-outside-scale", "band lower bound {value} lies above the scale maximum {maximum}")
    FILENAME_MISMATCH = ("filename-mismatch", "the file must be named {expected}, as its id and version say")
    PREVIOUS_NOT_FOUND = ("previous-not-found", "previous version {previous} not found ({expected})")
    PREVIOUS_NOT_OLDER = ("previous-not-older", "previous version {previous} is not older than {version}")
    PREVIOUS_MISSING = ("previous-missing", "version {version} is not the first ({older} exists): it must name `previous`")
    UNKNOWN_SOURCE = ("unknown-source", "source '{key}' is not in the bibliography")
    CHANGE_UNKNOWN_ITEM = ("change-unknown-item", "change names item '{item}', which exists in neither version")
    CHANGE_INCOMPLETE = ("change-incomplete", "a '{change}' change needs '{needs}'")
    CHANGE_MISMATCH = ("change-mismatch", "{detail}")
    CHANGES_WITHOUT_PREVIOUS = ("changes-without-previous", "a change list needs `previous` to compare against")
    UNDECLARED_CHANGE = ("undeclared-change", "{detail}: declare it in `changes`")
    ITEM_ID_REUSED = ("item-id-reused", "item id '{id}' was removed in version {removed_in} and cannot name a different item now")
    UNKNOWN_COMPARABLE_DOMAIN = ("unknown-comparable-domain", "comparable_domains names '{id}', which is not a domain of this version")
    # -- routing, min_items, level descriptions and respondent burden (format 2.0.0, issue 13) --
    ANSWERED_BY_EMPTY = ("answered-by-empty", "answered_by is empty: leave it out to ask every agency, or name the agencies")
    DUPLICATE_AGENCY = ("duplicate-agency", "{field} names agency '{agency}' twice")
    DOMAIN_NOT_ASKED = ("domain-not-asked", "no agency is asked any item of domain '{id}'")
    TOO_FEW_ITEMS_FOR_AGENCY = (
        "too-few-items-for-agency",
        "domain '{id}' asks {detail}, fewer than min_items ({min_items}): ask each agency at least "
        "{min_items} of its items or none",
    )
    LEVEL_DESCRIPTION_MISSING = ("level-description-missing", "no level description for maturity level {level}")
    LEVEL_DESCRIPTION_UNKNOWN_LEVEL = (
        "level-description-unknown-level",
        "level description for maturity level {level}, which the bands do not have",
    )
    TOO_MANY_ITEMS = ("too-many-items", "{count} items in all; a respondent can be asked at most {limit}")
    TOO_MANY_ITEMS_FOR_AGENCY = (
        "too-many-items-for-agency", "too many items for one respondent ({detail}); at most {limit} for any one agency"
    )

    # -- answers / responses ---------------------------------------------------------------------
    MISSING_COLUMN = ("missing-column", "required column '{column}' is missing")
    UNKNOWN_ITEM = ("unknown-item", "item '{item}' is not in questionnaire {questionnaire} {version}")
    VALUE_OFF_SCALE = ("value-off-scale", "value '{value}' is not on the scale ({allowed})")
    NA_NOT_ALLOWED = ("na-not-allowed", "NA is not allowed by this questionnaire's scale")
    DK_NOT_ALLOWED = ("dk-not-allowed", "DK is not allowed by this questionnaire's scale")
    RESPONDENT_TWO_AGENCIES = ("respondent-two-agencies", "respondent '{respondent}' appears under more than one agency")
    RESPONDENT_TWO_PARTNERSHIPS = (
        "respondent-two-partnerships",
        "respondent '{respondent}' appears under more than one partnership",
    )
    ITEM_NOT_ASKED = (
        "item-not-asked", "item '{item}' is not asked of agency '{agency}' (answered_by: {answered_by})"
    )
    DUPLICATE_ANSWER = ("duplicate-answer", "more than one answer for the same partnership, round, respondent and item")
    UNKNOWN_AGENCY = ("unknown-agency", "agency '{agency}' is not one of: {allowed}")
    EMPTY_IDENTIFIER = ("empty-identifier", "'{column}' must not be empty")
    ENCODING = ("encoding", "the file is not valid UTF-8: {detail}")
    # -- answer files and answer text (issue 11): refused the same way on every database engine --
    NOT_A_CSV = ("not-a-csv", "this is {kind}, not a CSV file: {hint}")
    EMPTY_FILE = ("empty-file", "the file is empty: it needs the header row and at least one answer row")
    NO_ANSWER_ROWS = ("no-answer-rows", "the file has a header but no answer rows")
    CSV_MALFORMED = ("csv-malformed", "the file cannot be read as CSV: {detail}")
    FIELD_COUNT = ("field-count", "the row has {found} field(s) but the header has {expected}")
    NUL_CHARACTER = ("nul-character", "the text holds a NUL character (byte 0), which no database stores: "
                                      "a binary file or a damaged export")
    CONTROL_CHARACTER = ("control-character", "the text holds the control character {character}{where}")
    TEXT_TOO_LONG = ("text-too-long", "'{column}' is {length:,} characters long; the limit is {limit:,}")
    VALUE_NOT_ASCII = (
        "value-not-ascii",
        "value '{value}' is not written with the digits 0-9: answers are scale values ({allowed})",
    )
    # -- scoring (issue 4) --
    QUESTIONNAIRE_MISMATCH = (
        "questionnaire-mismatch",
        "column '{column}' says '{value}', but the answers are scored against '{expected}'",
    )

    # -- indicator catalogue (issue 16) --
    DUPLICATE_INDICATOR_ID = ("duplicate-indicator-id", "indicator id '{id}' is used twice (first at {first})")
    DUPLICATE_DENOMINATOR_ID = ("duplicate-denominator-id", "denominator id '{id}' is used twice (first at {first})")
    UNKNOWN_INDICATOR = ("unknown-indicator", "'{id}' is neither an indicator nor a denominator of this catalogue")
    UNKNOWN_DOMAIN = ("unknown-domain", "domain '{id}' is not a domain of questionnaire {questionnaire} {version}")
    QUESTIONNAIRE_NOT_FOUND = ("questionnaire-not-found", "questionnaire {id} {version} could not be loaded: {detail}")
    COMPUTED_FROM_MISSING = (
        "computed-from-missing", "a figure in {unit} is computed, never typed in: name {needs} in computed_from"
    )
    COMPUTED_FROM_UNEXPECTED = (
        "computed-from-unexpected", "a figure in {unit} is entered, not computed: leave computed_from out"
    )
    COMPUTED_FROM_KIND = ("computed-from-kind", "'{id}' is {kind}; a figure in {unit} is computed from {allowed} here")
    REASON_MISSING = ("reason-missing", "denominator '{id}' is not confirmed: say why in `reason`")
    # -- indicator values (issue 16) --
    INDICATOR_NOT_IN_CATALOGUE = ("indicator-not-in-catalogue", "indicator '{id}' is not in catalogue {catalogue} {version}")
    INDICATOR_NOT_ENTERED = (
        "indicator-not-entered", "'{id}' is a figure in {unit}: it is computed from its counts, never typed in"
    )
    AGENCY_NOT_REPORTING = ("agency-not-reporting", "agency '{agency}' does not report '{id}' (reported by: {allowed})")
    DUPLICATE_INDICATOR_VALUE = (
        "duplicate-indicator-value", "a second value for the same partnership, period, indicator and agency "
        "(first at row {first})"
    )
    PARTNERSHIP_NOT_FOUND = ("partnership-not-found", "no partnership '{partnership}'{hint}")

    # -- action plans (issue 14): every problem names the field --
    FIELD_REQUIRED = ("field-required", "'{field}' is required: {hint}")
    ACTION_STATUS = ("action-status", "status '{value}' is not one of: {allowed}")
    TARGET_LEVEL = ("target-level", "target level '{value}' is not a maturity level of {questionnaire} {version} ({allowed})")
    NOT_A_DATE = ("not-a-date", "'{field}' must be a date written YYYY-MM-DD, not '{value}'")
    ITEM_NOT_IN_DOMAIN = ("item-not-in-domain", "item '{item}' is not an item of domain '{domain}'")
    UNKNOWN_ACTION_FIELD = ("unknown-action-field", "'{field}' cannot be changed (changeable: {allowed})")

    def __init__(self, code: str, template: str) -> None:
        self.code = code
        self.template = template

    def __str__(self) -> str:
        return self.code


@dataclass(frozen=True)
class Problem:
    """One problem found in an input: what, where (file, path inside it, line) and a message."""

    code: ErrorCode
    message: str
    file: str = ""
    path: str = ""
    line: int | None = None

    @classmethod
    def make(cls, code: ErrorCode, *, file: str = "", path: str = "", line: int | None = None, **fields) -> Problem:
        return cls(code=code, message=code.template.format(**fields), file=file, path=path, line=line)

    def __str__(self) -> str:
        place = self.file or "<input>"
        if self.line is not None:
            place += f":{self.line}"
        where = f" at {self.path}" if self.path else ""
        return f"{place}: {self.code.code}{where}: {self.message}"

    def as_dict(self) -> dict:
        return {"code": self.code.code, "file": self.file, "path": self.path, "line": self.line, "message": self.message}


class ValidationFailed(ValueError):
    """Raised with every problem found; nothing was loaded, scored or stored."""

    def __init__(self, problems: Sequence[Problem], summary: str = "", *,
                 counts: Mapping[str, int] | None = None) -> None:
        self.problems = tuple(problems)
        self.summary = summary
        # code -> how many times it was found; a long report lists only the first rows of each kind
        self.counts = dict(counts) if counts else dict(Counter(p.code.code for p in self.problems))
        head = summary or f"{self.total:,} problem(s) found"
        super().__init__(head + "\n" + "\n".join(f"  {p}" for p in self.problems[:20]))

    @property
    def total(self) -> int:
        """How many problems were found in all (``problems`` may list only the first of each kind)."""
        return sum(self.counts.values())


def format_path(loc: Iterable[str | int]) -> str:
    """Render a location tuple the way users read it: ``domains[2].items[4].descriptors``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
