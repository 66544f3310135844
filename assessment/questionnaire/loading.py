"""Load questionnaire files: one file, a folder of them, or a given id and version.

Only this module (and the CLI) reads questionnaire files. Everything it returns is a validated, frozen
:class:`~assessment.questionnaire.schema.Questionnaire`; an invalid file raises
:class:`~assessment.errors.ValidationFailed` with every problem found, except in a folder read with
:func:`load_folder` (what the app and the database start use), where an invalid file is skipped and its
problems are returned beside the valid versions: one bad file never stops the start.

Every file is checked before it is parsed (:mod:`assessment.safe_yaml`): at most
``MAX_FILE_BYTES``, no YAML anchors or aliases, nesting at most ``MAX_DEPTH`` deep.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from assessment.errors import ErrorCode, Problem, ValidationFailed
from assessment.questionnaire.schema import Questionnaire, version_key
from assessment.questionnaire.validation import validate_file
from assessment.settings import load_settings

__all__ = [
    "version_path",
    "QuestionnaireInfo",
    "content_hash",
    "FolderContents",
    "get_questionnaire",
    "list_questionnaires",
    "load_directory",
    "load_folder",
    "load_questionnaire",
    "normalised_definition",
]


@dataclass(frozen=True)
class QuestionnaireInfo:
    """One line of a folder listing."""

    id: str
    version: str
    title: str
    published: str
    previous: str | None
    domains: int
    items: int
    path: str
    content_hash: str
    valid: bool
    problems: int


@dataclass(frozen=True)
class FolderContents:
    """The valid versions of a questionnaires folder, and the problems of every file that is not valid."""

    questionnaires: dict[tuple[str, str], Questionnaire]
    problems: tuple[Problem, ...]

    @property
    def invalid_files(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.file for p in self.problems))


def load_questionnaire(path: str | Path) -> Questionnaire:
    """Load and validate one file; raise ``ValidationFailed`` listing every problem."""
    result = validate_file(path)
    if not result.ok:
        raise ValidationFailed(result.problems, f"{path} is not a valid questionnaire")
    assert result.questionnaire is not None
    return result.questionnaire


def normalised_definition(q: Questionnaire) -> dict:
    """The definition as plain JSON data: the YAML key names, defaults filled in, nothing renamed."""
    return q.model_dump(mode="json", by_alias=True)


def content_hash(q: Questionnaire) -> str:
    """SHA-256 of the normalised definition: formatting and key order never change it, content does."""
    canonical = json.dumps(normalised_definition(q), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _directory(directory: str | Path | None) -> Path:
    return Path(directory) if directory is not None else load_settings().questionnaires_dir


def _files(directory: Path) -> list[Path]:
    return sorted(
        (p for p in directory.glob("*/*.yaml") if p.stem.count(".") == 2),
        key=lambda p: (p.parent.name, version_key(p.stem) if p.stem.replace(".", "").isdigit() else (0, 0, 0)),
    )


def list_questionnaires(directory: str | Path | None = None) -> list[QuestionnaireInfo]:
    """Every questionnaire file in the folder (``<id>/<version>.yaml``), valid or not, oldest first."""
    rows = []
    for path in _files(_directory(directory)):
        result = validate_file(path)
        q = result.questionnaire
        if q is not None:
            rows.append(QuestionnaireInfo(q.id, q.version, q.title, q.published.isoformat(), q.previous,
                                          len(q.domains), len(q.items), str(path), content_hash(q), True, 0))
        else:
            rows.append(QuestionnaireInfo(path.parent.name, path.stem, "", "", None, 0, 0, str(path), "", False,
                                          len(result.problems)))
    return rows


def load_folder(directory: str | Path | None = None) -> FolderContents:
    """Every valid questionnaire in the folder, keyed by (id, version), and the problems of the others.

    Never raises for a file's content: an invalid file (bad YAML, an alias, too large, unreadable...) is
    skipped and its problems are listed. A missing folder holds nothing.
    """
    out: dict[tuple[str, str], Questionnaire] = {}
    problems: list[Problem] = []
    folder = _directory(directory)
    for path in _files(folder) if folder.is_dir() else []:
        result = validate_file(path)
        if result.ok and result.questionnaire is not None:
            out[(result.questionnaire.id, result.questionnaire.version)] = result.questionnaire
        else:
            problems.extend(result.problems)
    return FolderContents(out, tuple(problems))


def load_directory(directory: str | Path | None = None) -> dict[tuple[str, str], Questionnaire]:
    """All valid questionnaires in the folder, keyed by (id, version); invalid files raise.

    For a start that must not stop at one bad file, use :func:`load_folder`.
    """
    contents = load_folder(directory)
    if contents.problems:
        raise ValidationFailed(contents.problems, "the questionnaires folder holds invalid files")
    return contents.questionnaires


def versions_of(questionnaires: Mapping[tuple[str, str], Questionnaire], questionnaire_id: str) -> dict[str, Questionnaire]:
    """Version string -> model, for one questionnaire id (input to ``compare_versions``)."""
    return {v: q for (qid, v), q in questionnaires.items() if qid == questionnaire_id}


def version_path(folder: Path, version: str | None, *, what: str) -> Path:
    """The file ``<folder>/<version>.yaml`` of a versioned data file (questionnaire or indicator catalogue);
    the highest ``MAJOR.MINOR.PATCH`` in the folder when ``version`` is None. ``what`` names it in errors."""
    if version is None:
        candidates = sorted((p.stem for p in folder.glob("*.yaml") if p.stem.count(".") == 2
                             and p.stem.replace(".", "").isdigit()), key=version_key)
        if not candidates:
            raise ValidationFailed([Problem.make(ErrorCode.INVALID_VALUE, file=str(folder),
                                                 detail=f"no versions of {what}")])
        version = candidates[-1]
    path = folder / f"{version}.yaml"
    if not path.exists():
        raise ValidationFailed([Problem.make(ErrorCode.INVALID_VALUE, file=str(path),
                                             detail=f"{what} {version} not found")])
    return path


def get_questionnaire(questionnaire_id: str, version: str | None = None, directory: str | Path | None = None) -> Questionnaire:
    """One version (the newest when ``version`` is None) from the folder."""
    path = version_path(_directory(directory) / questionnaire_id, version, what=f"questionnaire {questionnaire_id}")
    return load_questionnaire(path)
