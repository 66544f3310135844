"""Validate a questionnaire file and report every problem at once, each with code, path and line.

Stages (each a plain function): read the YAML into a dict and a map of path -> line; check the
structure with the pydantic models (unknown and missing keys, types, weights); then check the
cross-references on the model (ids, descriptors, bands, sources, file name) and, for a revision, against
the previous version (``previous`` exists, the change list matches what really changed, no removed id is
reused). Cross-reference checks run once the structure is valid.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from assessment.errors import ErrorCode, Problem, format_path
from assessment.questionnaire.crosswalk import build_crosswalk
from assessment.questionnaire.schema import Questionnaire, version_key
from assessment.safe_yaml import read_limited, read_text, yaml_problems
from assessment.vocabulary import AGENCIES

__all__ = ["ValidationResult", "parse_model", "parse_yaml", "validate_file", "validate_text"]

Loc = tuple[str | int, ...]

#: Respondent burden (issue 13): at most this many items in a questionnaire, and asked of any one agency.
#: The limits hold from version 2.0.0 on; the published 1.0.0 and 1.1.0 (58 and 59 items, every one asked of
#: every agency) predate them.
MAX_ITEMS = 60
MAX_ITEMS_PER_AGENCY = 45
BURDEN_FROM_MAJOR = 2
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: same marks, faster


@dataclass(frozen=True)
class ValidationResult:
    """What validating one file gave: the model (when valid) and every problem found."""

    file: str
    questionnaire: Questionnaire | None
    problems: tuple[Problem, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems and self.questionnaire is not None


# -- stage 1: YAML with line numbers ---------------------------------------------------------------
class _LineMap:
    """Line (1-based) of every path in the YAML document; the nearest ancestor's line otherwise."""

    def __init__(self) -> None:
        self.lines: dict[Loc, int] = {}

    def line(self, loc: Loc) -> int | None:
        key = tuple(str(p) if not isinstance(p, int) else p for p in loc)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get((), None)


def _walk(node: yaml.Node, loc: Loc, lines: _LineMap, problems: list[Problem], file: str) -> None:
    lines.lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = (*loc, key)
            if key in seen:
                problems.append(
                    Problem.make(
                        ErrorCode.DUPLICATE_KEY, file=file, path=format_path(child),
                        line=key_node.start_mark.line + 1, key=key,
                    )
                )
            seen.add(key)
            lines.lines[child] = key_node.start_mark.line + 1
            _walk(value_node, child, lines, problems, file)
    elif isinstance(node, yaml.SequenceNode):
        for index, value_node in enumerate(node.value):
            _walk(value_node, (*loc, index), lines, problems, file)


def parse_yaml(text: str, file: str = "") -> tuple[Any, _LineMap, list[Problem]]:
    """Parse YAML text into plain data plus a line map; syntax errors become problems.

    The text is first read as a stream of events (:func:`~assessment.safe_yaml.yaml_problems`):
    a file over the size limit, nested too deep or holding an anchor or alias is refused there, before any
    node is composed, so an alias is never expanded.
    """
    lines = _LineMap()
    problems = yaml_problems(text, file)
    if problems:
        return None, lines, problems
    # One parse: compose the node tree (for line numbers), then construct plain data from it.
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        detail = getattr(exc, "problem", None) or str(exc)
        line = mark.line + 1 if mark is not None else None
        problems.append(Problem.make(ErrorCode.YAML_SYNTAX, file=file, line=line, detail=detail))
        return None, lines, problems
    finally:
        loader.dispose()
    if node is not None:
        _walk(node, (), lines, problems, file)
    if not isinstance(data, dict):
        problems.append(Problem.make(ErrorCode.NOT_A_MAPPING, file=file, line=1))
    return data, lines, problems


# -- stage 2: structure ----------------------------------------------------------------------------
def _structure_problems(exc: ValidationError, lines: _LineMap, file: str) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc: Loc = tuple(p for p in err["loc"] if p != "[key]")
        path = format_path(loc)
        kind = err["type"]
        if kind == "extra_forbidden":
            problems.append(Problem.make(ErrorCode.UNKNOWN_KEY, file=file, path=path, line=lines.line(loc), key=loc[-1]))
        elif kind == "missing":
            problems.append(
                Problem.make(ErrorCode.MISSING_KEY, file=file, path=path, line=lines.line(loc[:-1]), key=loc[-1])
            )
        elif kind == "literal_error" and len(loc) >= 2 and loc[-2] == "answered_by":
            problems.append(
                Problem.make(ErrorCode.UNKNOWN_AGENCY, file=file, path=path, line=lines.line(loc),
                             agency=err["input"], allowed=", ".join(AGENCIES))
            )
        elif kind == "greater_than" and loc and loc[-1] == "weight":
            problems.append(
                Problem.make(
                    ErrorCode.WEIGHT_NOT_POSITIVE, file=file, path=path, line=lines.line(loc), value=err["input"]
                )
            )
        else:
            detail = f"{err['msg']} (got {err['input']!r})" if not isinstance(err["input"], dict | list) else err["msg"]
            problems.append(Problem.make(ErrorCode.INVALID_VALUE, file=file, path=path, line=lines.line(loc), detail=detail))
    return problems


# -- stage 3: cross-references within the file -----------------------------------------------------
def _content_problems(q: Questionnaire, lines: _LineMap, file: str, path: Path | None) -> list[Problem]:
    problems: list[Problem] = []

    def add(code: ErrorCode, loc: Loc, **fields) -> None:
        problems.append(Problem.make(code, file=file, path=format_path(loc), line=lines.line(loc), **fields))

    values = q.scale.values
    if any(b <= a for a, b in zip(values, values[1:], strict=False)):
        add(ErrorCode.SCALE_NOT_INCREASING, ("scale", "levels"))

    if q.bands[0].lower_bound != q.scale.minimum:
        add(ErrorCode.BANDS_START, ("bands", 0, "lower_bound"), minimum=q.scale.minimum, value=q.bands[0].lower_bound)
    for i, (a, b) in enumerate(zip(q.bands, q.bands[1:], strict=False), start=1):
        if b.lower_bound <= a.lower_bound or b.level <= a.level:
            add(ErrorCode.BANDS_NOT_INCREASING, ("bands", i), detail=f"band {i} does not rise above band {i - 1}")
    for i, band in enumerate(q.bands):
        if band.lower_bound > q.scale.maximum:
            add(ErrorCode.BAND_OUTSIDE_SCALE, ("bands", i, "lower_bound"), value=band.lower_bound, maximum=q.scale.maximum)

    seen_domains: dict[str, str] = {}
    seen_items: dict[str, str] = {}
    for di, domain in enumerate(q.domains):
        here = format_path(("domains", di))
        if domain.id in seen_domains:
            add(ErrorCode.DUPLICATE_DOMAIN_ID, ("domains", di, "id"), id=domain.id, first=seen_domains[domain.id])
        seen_domains.setdefault(domain.id, here)
        for ii, item in enumerate(domain.items):
            loc = ("domains", di, "items", ii)
            if item.id in seen_items:
                add(ErrorCode.DUPLICATE_ITEM_ID, (*loc, "id"), id=item.id, first=seen_items[item.id])
            seen_items.setdefault(item.id, format_path(loc))
            for level in values:
                if level not in item.descriptors:
                    add(ErrorCode.DESCRIPTOR_MISSING, (*loc, "descriptors"), level=level)
                elif not item.descriptors[level].strip():
                    add(ErrorCode.INVALID_VALUE, (*loc, "descriptors", level), detail=f"descriptor for level {level} is empty")
            for level in item.descriptors:
                if level not in values:
                    add(ErrorCode.DESCRIPTOR_UNKNOWN_LEVEL, (*loc, "descriptors", level), level=level)
            for si, key in enumerate(item.sources):
                if key not in q.bibliography:
                    add(ErrorCode.UNKNOWN_SOURCE, (*loc, "sources", si), key=key)

    problems += _routing_problems(q, lines, file)

    for ci, domain_id in enumerate(q.comparable_domains):
        if domain_id not in seen_domains:
            add(ErrorCode.UNKNOWN_COMPARABLE_DOMAIN, ("comparable_domains", ci), id=domain_id)

    if path is not None:
        expected = f"{q.id}/{q.version}.yaml"
        if path.name != f"{q.version}.yaml":
            add(ErrorCode.FILENAME_MISMATCH, ("version",), expected=expected)
        elif path.parent.name != q.id:
            add(ErrorCode.FILENAME_MISMATCH, ("id",), expected=expected)
    return problems


def _routing_problems(q: Questionnaire, lines: _LineMap, file: str) -> list[Problem]:
    """Who is asked what (answered_by, min_items), level descriptions and respondent burden."""
    problems: list[Problem] = []

    def add(code: ErrorCode, loc: Loc, **fields) -> None:
        problems.append(Problem.make(code, file=file, path=format_path(loc), line=lines.line(loc), **fields))

    levels = [band.level for band in q.bands]
    for di, domain in enumerate(q.domains):
        for ii, item in enumerate(domain.items):
            loc = ("domains", di, "items", ii, "answered_by")
            if item.answered_by is not None and not item.answered_by:
                add(ErrorCode.ANSWERED_BY_EMPTY, loc)
            seen: set[str] = set()
            for ai, agency in enumerate(item.answered_by or ()):
                if agency in seen:
                    add(ErrorCode.DUPLICATE_AGENCY, (*loc, ai), field="answered_by", agency=agency)
                seen.add(agency)
        asked = {agency: len(domain.items_for(agency)) for agency in AGENCIES}
        if not any(asked.values()):
            add(ErrorCode.DOMAIN_NOT_ASKED, ("domains", di, "id"), id=domain.id)
        too_few = [f"{agency} {count}" for agency, count in asked.items() if 0 < count < q.min_items]
        if too_few:
            add(ErrorCode.TOO_FEW_ITEMS_FOR_AGENCY, ("domains", di, "id"), id=domain.id, min_items=q.min_items,
                detail=", ".join(too_few))
        if domain.level_descriptions:
            loc = ("domains", di, "level_descriptions")
            for level in levels:
                if level not in domain.level_descriptions:
                    add(ErrorCode.LEVEL_DESCRIPTION_MISSING, loc, level=level)
                elif not domain.level_descriptions[level].strip():
                    add(ErrorCode.INVALID_VALUE, (*loc, level), detail=f"level description for level {level} is empty")
            for level in domain.level_descriptions:
                if level not in levels:
                    add(ErrorCode.LEVEL_DESCRIPTION_UNKNOWN_LEVEL, (*loc, level), level=level)

    if int(q.version.split(".")[0]) >= BURDEN_FROM_MAJOR:
        if len(q.items) > MAX_ITEMS:
            add(ErrorCode.TOO_MANY_ITEMS, ("domains",), count=len(q.items), limit=MAX_ITEMS)
        counts = {agency: len(q.items_for(agency)) for agency in AGENCIES}
        over = [f"{agency} {count}" for agency, count in counts.items() if count > MAX_ITEMS_PER_AGENCY]
        if over:
            detail = f"every agency {len(q.items)}" if not q.routed else ", ".join(over)
            add(ErrorCode.TOO_MANY_ITEMS_FOR_AGENCY, ("domains",), detail=detail, limit=MAX_ITEMS_PER_AGENCY)
    return problems


# -- stage 4: against the previous version ---------------------------------------------------------
def _load_quietly(path: Path) -> Questionnaire | None:
    try:
        data, _lines, problems = parse_yaml(read_limited(path).decode("utf-8"), str(path))
        return None if problems else Questionnaire.model_validate(data)
    except (OSError, ValidationError, UnicodeDecodeError):
        return None


def _history_problems(q: Questionnaire, lines: _LineMap, file: str, path: Path | None) -> list[Problem]:
    problems: list[Problem] = []

    def add(code: ErrorCode, loc: Loc, **fields) -> None:
        problems.append(Problem.make(code, file=file, path=format_path(loc), line=lines.line(loc), **fields))

    folder = path.parent if path is not None else None
    if q.previous is None:
        if q.changes:
            add(ErrorCode.CHANGES_WITHOUT_PREVIOUS, ("changes",))
        if folder is not None:
            older = sorted(
                (p.stem for p in folder.glob("*.yaml") if _is_semver(p.stem) and version_key(p.stem) < version_key(q.version)),
                key=version_key,
            )
            if older:
                add(ErrorCode.PREVIOUS_MISSING, ("version",), version=q.version, older=older[-1])
        return problems

    if version_key(q.previous) >= version_key(q.version):
        add(ErrorCode.PREVIOUS_NOT_OLDER, ("previous",), previous=q.previous, version=q.version)
        return problems
    if folder is None:
        return problems  # validated as text: no folder to look in
    prev_path = folder / f"{q.previous}.yaml"
    previous = _load_quietly(prev_path) if prev_path.exists() else None
    if previous is None:
        why = f"expected a valid {prev_path.name} beside this file"
        add(ErrorCode.PREVIOUS_NOT_FOUND, ("previous",), previous=q.previous, expected=why)
        return problems

    # ancestors older than `previous`, for the "id reused after removal" rule
    ancestors = [previous]
    while ancestors[-1].previous and (folder / f"{ancestors[-1].previous}.yaml").exists():
        older = _load_quietly(folder / f"{ancestors[-1].previous}.yaml")
        if older is None or older.version in {a.version for a in ancestors}:
            break
        ancestors.append(older)

    old_ids = {item.id for item in previous.items}
    new_ids = {item.id for item in q.items}
    item_loc = {item.id: ("domains", di, "items", ii) for di, d in enumerate(q.domains) for ii, item in enumerate(d.items)}

    # each declared change must name real items and match the content
    for ci, change in enumerate(q.changes):
        loc = ("changes", ci)
        needs = {"split": "into", "merged": "from", "moved": "to"}.get(change.change)
        value = {"split": change.into, "merged": change.from_, "moved": change.to}.get(change.change)
        if needs and not value:
            add(ErrorCode.CHANGE_INCOMPLETE, loc, change=change.change, needs=needs)
            continue
        named = [change.item, *(change.into or ()), *(change.from_ or ())]
        unknown = [i for i in named if i not in old_ids and i not in new_ids]
        if unknown:
            add(ErrorCode.CHANGE_UNKNOWN_ITEM, (*loc, "item"), item=unknown[0])
            continue
        mismatch = _declared_mismatch(change, previous, q, old_ids, new_ids)
        if mismatch:
            add(ErrorCode.CHANGE_MISMATCH, loc, detail=mismatch)

    # ids reused after an earlier removal
    for new_id in sorted(new_ids - old_ids):
        for newer, older in zip(ancestors, ancestors[1:], strict=False):
            if new_id in {i.id for i in older.items} and new_id not in {i.id for i in newer.items}:
                add(ErrorCode.ITEM_ID_REUSED, (*item_loc[new_id], "id"), id=new_id, removed_in=newer.version)
                break

    # what really changed must be declared
    if not problems:
        declared = {(c.item, c.change) for c in q.changes}
        for row in build_crosswalk(previous, q).items:
            if row.change == "unchanged":
                continue
            if (row.subject, row.change) not in declared:
                where = item_loc.get(row.subject, ("changes",))
                detail = f"item '{row.subject}' was {row.change} since {previous.version}"
                add(ErrorCode.UNDECLARED_CHANGE, where, detail=detail)
    return problems


def _declared_mismatch(change, previous: Questionnaire, q: Questionnaire, old_ids: set, new_ids: set) -> str:
    item = change.item
    kind = change.change
    if kind == "added" and item in old_ids:
        return f"'{item}' is declared added but exists in {previous.version}"
    if kind == "removed" and item in new_ids:
        return f"'{item}' is declared removed but is still in {q.version}"
    if kind in ("reworded", "rescaled", "moved") and not (item in old_ids and item in new_ids):
        return f"'{item}' is declared {kind} but is not in both versions"
    if kind == "moved" and change.to != q.domain_of(item):
        return f"'{item}' is declared moved to '{change.to}' but is in '{q.domain_of(item)}'"
    if kind == "moved" and previous.domain_of(item) == q.domain_of(item):
        return f"'{item}' is declared moved but stays in '{q.domain_of(item)}'"
    if kind == "reworded":
        old, new = previous.item(item), q.item(item)
        if old.text == new.text and old.descriptors == new.descriptors:
            return f"'{item}' is declared reworded but its text and descriptors are unchanged"
    if kind == "split":
        if item not in old_ids or item in new_ids:
            return f"'{item}' is declared split, so it must be in {previous.version} and gone from {q.version}"
        missing = [i for i in change.into if i not in new_ids]
        if missing:
            return f"split target '{missing[0]}' is not in {q.version}"
    if kind == "merged":
        if item not in new_ids:
            return f"'{item}' is declared merged, so it must be in {q.version}"
        missing = [i for i in change.from_ if i not in old_ids]
        if missing:
            return f"merge source '{missing[0]}' is not in {previous.version}"
    return ""


def _is_semver(text: str) -> bool:
    parts = text.split(".")
    return len(parts) == 3 and all(p.isdigit() for p in parts)


# -- entry points ----------------------------------------------------------------------------------
def parse_model(text: str, model, file: str = "", *, format_doc: str = "docs/questionnaire-format.md"):
    """Stages 1 and 2 for a YAML file format (questionnaires, indicator catalogues): parse with line numbers,
    then build the pydantic ``model``. Returns ``(instance or None, line map, problems)``: ``None`` when
    either stage failed (the problems say why); the structure messages point to ``format_doc``."""
    data, lines, problems = parse_yaml(text, file)
    if problems and (data is None or not isinstance(data, dict)):
        return None, lines, problems
    try:
        return model.model_validate(data), lines, problems
    except ValidationError as exc:
        structure = _structure_problems(exc, lines, file)
        if format_doc != "docs/questionnaire-format.md":
            structure = [replace(p, message=p.message.replace("docs/questionnaire-format.md", format_doc))
                         for p in structure]
        return None, lines, problems + structure


def validate_text(text: str, *, file: str = "", path: Path | None = None) -> ValidationResult:
    """Validate YAML text; ``path`` (when known) enables the file-name and previous-version checks."""
    q, lines, problems = parse_model(text, Questionnaire, file)
    if q is None:
        return ValidationResult(file, None, tuple(problems))
    problems += _content_problems(q, lines, file, path)
    if not problems:
        problems += _history_problems(q, lines, file, path)
    return ValidationResult(file, None if problems else q, tuple(problems))


def validate_file(path: str | Path) -> ValidationResult:
    """Validate one questionnaire file on disk."""
    path = Path(path)
    text, problem = read_text(path)
    if problem is not None:
        return ValidationResult(str(path), None, (problem,))
    return validate_text(text, file=str(path), path=path)
