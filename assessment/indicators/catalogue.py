"""The indicator catalogue: outcome indicators as data, parsed once into strict frozen models.

A catalogue version is ``indicators/<id>/<MAJOR.MINOR.PATCH>.yaml`` (installed with the package as
``assessment.shipped_indicators``). Each indicator says what is counted (numerator), out of what
(denominator), in which unit, which direction is better, which agency owns the source, the official
source and its table where one exists, the disclosure rule for small counts, and the domains of the
linked questionnaire version it belongs to.

Figures in ``percent``, ``per_100000`` and ``ratio`` are never typed in: each names the counts (or rates)
it is computed from in ``computed_from`` (see :mod:`assessment.indicators.figures`). A rate per 100,000
divides by a reference *denominator* (e.g. the resident population of the police force area) that the
catalogue lists with its source; a denominator that could not be confirmed from its source has
``confirmed: false`` and a ``reason``, and every rate computed from it stays blank with that reason.

Validation reuses the questionnaire machinery: the same YAML reader (size limit, no anchors or aliases,
line numbers), the same error catalogue (:mod:`assessment.errors`) and the same structure checks, then
checks the cross-references (ids, sources, agencies, denominators, computed_from, the questionnaire's
domain ids, the file name). Every problem is reported at once with its file, path and line.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from assessment.errors import ErrorCode, Problem, ValidationFailed, format_path
from assessment.questionnaire.loading import get_questionnaire, version_path
from assessment.questionnaire.schema import ID_PATTERN, SEMVER_PATTERN
from assessment.questionnaire.validation import parse_model
from assessment.safe_yaml import read_text
from assessment.settings import shipped_data_dir
from assessment.vocabulary import AGENCIES

__all__ = [
    "COMPUTED_UNITS",
    "ENTERED_UNITS",
    "Catalogue",
    "CatalogueResult",
    "Definition",
    "Denominator",
    "Indicator",
    "catalogue_rows",
    "default_indicators_dir",
    "get_catalogue",
    "load_catalogue",
    "validate_catalogue_file",
    "validate_catalogue_text",
]

Unit = Literal["count", "percent", "per_100000", "ratio", "hours", "minutes"]
Direction = Literal["lower", "higher", "neither"]

#: Units a partnership enters (counts and measured times); the others are always computed.
ENTERED_UNITS: frozenset[str] = frozenset({"count", "hours", "minutes"})
#: Units computed from other figures, and what each is computed from.
COMPUTED_UNITS: dict[str, str] = {
    "percent": "a count out of a count",
    "per_100000": "a count out of a reference denominator",
    "ratio": "a rate (per_100000 or percent) divided by another",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Source(_Strict):
    """An entry of the catalogue's bibliography: an official publication or a named local source."""

    title: str = Field(min_length=1)
    publisher: str = Field(min_length=1)
    url: str | None = None
    note: str = ""


class SourceRef(_Strict):
    """Where the figure is published: a bibliography key and the table within it, where one exists."""

    key: str = Field(min_length=1, description="A key of the catalogue's bibliography.")
    table: str | None = Field(default=None, description="The table of the publication that holds the figure.")


class Definition(_Strict):
    """What is counted, out of what, in which unit, and which direction is better."""

    numerator: str = Field(min_length=1)
    denominator: str | None = Field(default=None, description="Out of what; empty for a plain count or time.")
    unit: Unit
    direction: Direction = Field(description="Whether lower or higher is better, or neither (context only).")


class ComputedFrom(_Strict):
    """The figures a percent, rate or ratio is computed from (indicator ids, or a denominator id)."""

    numerator: str = Field(min_length=1)
    denominator: str = Field(min_length=1)


class Disclosure(_Strict):
    """Counts from 1 to ``fewer_than - 1`` are shown as "fewer than N" (0 is shown)."""

    fewer_than: int = Field(ge=2, le=100)


class Denominator(_Strict):
    """A reference denominator (e.g. resident population per police force area) with its source and year."""

    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1)
    source: str = Field(min_length=1, description="A key of the catalogue's bibliography.")
    year: int | None = None
    confirmed: bool = Field(description="Whether the figures were confirmed from the source and ship with the package.")
    reason: str = Field(default="", description="Why the figures are not shipped, when not confirmed.")


class Indicator(_Strict):
    """One outcome indicator."""

    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1)
    definition: Definition
    agency: str = Field(description="The agency that owns the source (an agency code).")
    reported_by: tuple[str, ...] | None = Field(
        default=None, description="Agencies that may report a value (default: the owning agency only). Two or more "
        "make the indicator one that police and NHS figures are reconciled on.")
    source: SourceRef
    computed_from: ComputedFrom | None = None
    disclosure: Disclosure | None = Field(default=None, description="Overrides the catalogue's disclosure rule.")
    domains: tuple[str, ...] = Field(min_length=1, description="Domain ids of the linked questionnaire version.")
    evidence_row: int = Field(ge=1, description="Row of the evidence base (section B) this indicator answers.")
    confirmed: bool = Field(description="Whether the definition was confirmed against the official source.")
    note: str = ""

    @property
    def computed(self) -> bool:
        return self.definition.unit not in ENTERED_UNITS

    @property
    def reporting_agencies(self) -> tuple[str, ...]:
        return self.reported_by if self.reported_by else (self.agency,)


class QuestionnaireRef(_Strict):
    id: str = Field(pattern=ID_PATTERN)
    version: str = Field(pattern=SEMVER_PATTERN)


class Catalogue(_Strict):
    """A version of the indicator catalogue."""

    id: str = Field(pattern=ID_PATTERN)
    version: str = Field(pattern=SEMVER_PATTERN)
    title: str = Field(min_length=1)
    description: str = ""
    published: dt.date
    questionnaire: QuestionnaireRef
    disclosure: Disclosure
    denominators: tuple[Denominator, ...] = ()
    indicators: tuple[Indicator, ...] = Field(min_length=1)
    bibliography: dict[str, Source] = Field(default_factory=dict)

    def indicator(self, indicator_id: str) -> Indicator:
        for indicator in self.indicators:
            if indicator.id == indicator_id:
                return indicator
        raise KeyError(f"indicator '{indicator_id}' is not in catalogue {self.id} {self.version}")

    def denominator(self, denominator_id: str) -> Denominator:
        for denominator in self.denominators:
            if denominator.id == denominator_id:
                return denominator
        raise KeyError(f"denominator '{denominator_id}' is not in catalogue {self.id} {self.version}")

    def fewer_than(self, indicator_id: str) -> int:
        """The disclosure threshold of an indicator: its own, or the catalogue's."""
        own = self.indicator(indicator_id).disclosure
        return (own or self.disclosure).fewer_than

    def for_domain(self, domain_id: str) -> tuple[Indicator, ...]:
        return tuple(i for i in self.indicators if domain_id in i.domains)


# -- validation ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CatalogueResult:
    """What validating one catalogue file gave: the model (when valid) and every problem found."""

    file: str
    catalogue: Catalogue | None
    problems: tuple[Problem, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems and self.catalogue is not None


def _content_problems(cat: Catalogue, lines, file: str, path: Path | None, questionnaires_dir: Path | None) -> list[Problem]:
    problems: list[Problem] = []

    def add(code: ErrorCode, loc: tuple, **fields) -> None:
        problems.append(Problem.make(code, file=file, path=format_path(loc), line=lines.line(loc), **fields))

    for key, source in cat.bibliography.items():
        if not source.title.strip():
            add(ErrorCode.INVALID_VALUE, ("bibliography", key, "title"), detail="title is empty")

    denominators: dict[str, str] = {}
    for di, den in enumerate(cat.denominators):
        loc = ("denominators", di)
        if den.id in denominators:
            add(ErrorCode.DUPLICATE_DENOMINATOR_ID, (*loc, "id"), id=den.id, first=denominators[den.id])
        denominators.setdefault(den.id, format_path(loc))
        if den.source not in cat.bibliography:
            add(ErrorCode.UNKNOWN_SOURCE, (*loc, "source"), key=den.source)
        if not den.confirmed and not den.reason.strip():
            add(ErrorCode.REASON_MISSING, (*loc, "reason"), id=den.id)

    units: dict[str, str] = {}
    seen: dict[str, str] = {}
    for ii, ind in enumerate(cat.indicators):
        if ind.id in seen:
            add(ErrorCode.DUPLICATE_INDICATOR_ID, ("indicators", ii, "id"), id=ind.id, first=seen[ind.id])
        elif ind.id in denominators:
            add(ErrorCode.DUPLICATE_INDICATOR_ID, ("indicators", ii, "id"), id=ind.id, first=denominators[ind.id])
        seen.setdefault(ind.id, format_path(("indicators", ii)))
        units.setdefault(ind.id, ind.definition.unit)

    domain_ids = _questionnaire_domains(cat, lines, file, questionnaires_dir, problems)

    for ii, ind in enumerate(cat.indicators):
        loc = ("indicators", ii)
        if ind.agency not in AGENCIES:
            add(ErrorCode.UNKNOWN_AGENCY, (*loc, "agency"), agency=ind.agency, allowed=", ".join(AGENCIES))
        if ind.reported_by is not None and not ind.reported_by:
            add(ErrorCode.INVALID_VALUE, (*loc, "reported_by"),
                detail="reported_by is empty: leave it out (the owning agency reports) or name the agencies")
        _reported_by_problems(add, ind, loc)
        if ind.source.key not in cat.bibliography:
            add(ErrorCode.UNKNOWN_SOURCE, (*loc, "source", "key"), key=ind.source.key)
        if domain_ids is not None:
            for di, domain in enumerate(ind.domains):
                if domain not in domain_ids:
                    add(ErrorCode.UNKNOWN_DOMAIN, (*loc, "domains", di), id=domain,
                        questionnaire=cat.questionnaire.id, version=cat.questionnaire.version)
        if len(set(ind.domains)) != len(ind.domains):
            add(ErrorCode.INVALID_VALUE, (*loc, "domains"), detail="a domain is named twice")
        unit = ind.definition.unit
        if unit in ENTERED_UNITS:
            if ind.computed_from is not None:
                add(ErrorCode.COMPUTED_FROM_UNEXPECTED, (*loc, "computed_from"), unit=unit)
            continue
        if ind.definition.denominator is None:
            add(ErrorCode.INVALID_VALUE, (*loc, "definition", "denominator"),
                detail=f"an indicator in {unit} must say what it is out of (denominator)")
        if ind.computed_from is None:
            add(ErrorCode.COMPUTED_FROM_MISSING, (*loc, "definition", "unit"), unit=unit, needs=COMPUTED_UNITS[unit])
            continue
        _computed_from_problems(add, ind, loc, units, denominators)

    if path is not None:
        expected = f"{cat.id}/{cat.version}.yaml"
        if path.name != f"{cat.version}.yaml":
            add(ErrorCode.FILENAME_MISMATCH, ("version",), expected=expected)
        elif path.parent.name != cat.id:
            add(ErrorCode.FILENAME_MISMATCH, ("id",), expected=expected)
    return problems


def _reported_by_problems(add, ind, loc: tuple) -> None:
    """Each agency in ``reported_by`` is known and named once."""
    named: set[str] = set()
    for ai, agency in enumerate(ind.reported_by or ()):
        if agency not in AGENCIES:
            add(ErrorCode.UNKNOWN_AGENCY, (*loc, "reported_by", ai), agency=agency, allowed=", ".join(AGENCIES))
        elif agency in named:
            add(ErrorCode.DUPLICATE_AGENCY, (*loc, "reported_by", ai), field="reported_by", agency=agency)
        named.add(agency)


def _computed_from_problems(add, ind, loc: tuple, units: dict[str, str], denominators: dict[str, str]) -> None:
    """A computed indicator's numerator and denominator name an indicator (or reference denominator) of a
    kind its unit can be computed from, never itself."""
    unit = ind.definition.unit
    for part in ("numerator", "denominator"):
        ref = getattr(ind.computed_from, part)
        where = (*loc, "computed_from", part)
        wanted = _wanted_inputs(unit, part)
        if ref == ind.id:
            add(ErrorCode.COMPUTED_FROM_KIND, where, id=ref, kind="this indicator itself", unit=unit, allowed=wanted)
        elif ref in units:
            if not _input_fits(unit, part, units[ref]):
                add(ErrorCode.COMPUTED_FROM_KIND, where, id=ref, kind=f"an indicator in {units[ref]}",
                    unit=unit, allowed=wanted)
        elif ref in denominators:
            if not (unit == "per_100000" and part == "denominator"):
                add(ErrorCode.COMPUTED_FROM_KIND, where, id=ref, kind="a reference denominator", unit=unit,
                    allowed=wanted)
        else:
            add(ErrorCode.UNKNOWN_INDICATOR, where, id=ref)


def _wanted_inputs(unit: str, part: str) -> str:
    if unit == "percent":
        return "an indicator in count"
    if unit == "per_100000":
        return "an indicator in count" if part == "numerator" else "a reference denominator"
    return "an indicator in per_100000 or percent"


def _input_fits(unit: str, part: str, input_unit: str) -> bool:
    if unit == "percent":
        return input_unit == "count"
    if unit == "per_100000":
        return part == "numerator" and input_unit == "count"
    return input_unit in ("per_100000", "percent")  # ratio


def _questionnaire_domains(cat: Catalogue, lines, file: str, folder: Path | None, problems: list[Problem]) -> set[str] | None:
    """The domain ids of the linked questionnaire version; a problem (and None) when it cannot be loaded."""
    ref = cat.questionnaire
    try:
        questionnaire = get_questionnaire(ref.id, ref.version, folder)
    except ValidationFailed as exc:
        loc = ("questionnaire",)
        problems.append(Problem.make(ErrorCode.QUESTIONNAIRE_NOT_FOUND, file=file, path=format_path(loc),
                                     line=lines.line(loc), id=ref.id, version=ref.version,
                                     detail=exc.problems[0].message if exc.problems else "not valid"))
        return None
    return {domain.id for domain in questionnaire.domains}


def validate_catalogue_text(text: str, *, file: str = "", path: Path | None = None,
                            questionnaires_dir: str | Path | None = None) -> CatalogueResult:
    """Validate catalogue YAML text; ``path`` (when known) enables the file-name check.

    The domains are checked against the linked questionnaire version, read from ``questionnaires_dir``
    (default: the questionnaires folder of the settings).
    """
    cat, lines, problems = parse_model(text, Catalogue, file, format_doc="docs/indicators.md")
    if cat is None:
        return CatalogueResult(file, None, tuple(problems))
    folder = Path(questionnaires_dir) if questionnaires_dir is not None else None
    problems += _content_problems(cat, lines, file, path, folder)
    return CatalogueResult(file, None if problems else cat, tuple(problems))


def validate_catalogue_file(path: str | Path, questionnaires_dir: str | Path | None = None) -> CatalogueResult:
    """Validate one catalogue file on disk."""
    path = Path(path)
    text, problem = read_text(path)
    if problem is not None:
        return CatalogueResult(str(path), None, (problem,))
    return validate_catalogue_text(text, file=str(path), path=path, questionnaires_dir=questionnaires_dir)


# -- loading ---------------------------------------------------------------------------------------
def default_indicators_dir() -> Path:
    """The repository's indicators/ in a checkout; the installed package data otherwise."""
    return shipped_data_dir("indicators", "assessment.shipped_indicators")


def load_catalogue(path: str | Path, questionnaires_dir: str | Path | None = None) -> Catalogue:
    """Load and validate one catalogue file; raise ``ValidationFailed`` listing every problem."""
    result = validate_catalogue_file(path, questionnaires_dir)
    if not result.ok or result.catalogue is None:
        raise ValidationFailed(result.problems, f"{path} is not a valid indicator catalogue")
    return result.catalogue


def get_catalogue(catalogue_id: str = "outcome-indicators", version: str | None = None,
                  directory: str | Path | None = None, questionnaires_dir: str | Path | None = None) -> Catalogue:
    """One version of a catalogue (the newest when ``version`` is None) from the indicators folder."""
    folder = (Path(directory) if directory is not None else default_indicators_dir()) / catalogue_id
    path = version_path(folder, version, what=f"indicator catalogue {catalogue_id}")
    return load_catalogue(path, questionnaires_dir)


def catalogue_rows(cat: Catalogue) -> list[dict]:
    """One flat row per indicator (for CSV and tables): the words users read, ``;`` between domains."""
    rows = []
    for ind in cat.indicators:
        source = cat.bibliography.get(ind.source.key)
        rows.append({
            "catalogue": cat.id,
            "catalogue_version": cat.version,
            "indicator": ind.id,
            "name": ind.name,
            "numerator": ind.definition.numerator,
            "denominator": ind.definition.denominator or "",
            "unit": ind.definition.unit,
            "direction": ind.definition.direction,
            "agency": ind.agency,
            "source": source.title if source else ind.source.key,
            "source_table": ind.source.table or "",
            "computed_from": (f"{ind.computed_from.numerator} / {ind.computed_from.denominator}"
                              if ind.computed_from else ""),
            "fewer_than": cat.fewer_than(ind.id) if ind.definition.unit == "count" else "",
            "domains": ";".join(ind.domains),
            "evidence_row": ind.evidence_row,
            "confirmed": ind.confirmed,
        })
    return rows
