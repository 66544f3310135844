"""Custom peer groups from files: a CSV (``group, partnership``) or YAML (``{group: [partnerships]}``).

The file side of peer groups; who is in a group and the statistics over it are :mod:`assessment.peers`.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from assessment.errors import ErrorCode, Problem, ValidationFailed
from assessment.safe_yaml import yaml_problems
from assessment.vocabulary import BUILT_IN_PEER_GROUPS

__all__ = ["load_peer_groups", "parse_peer_groups"]


def parse_peer_groups(text: str, *, format: str, file: str = "") -> dict[str, tuple[str, ...]]:
    """Custom peer groups from CSV text (columns ``group, partnership``) or YAML (``{group: [partnerships]}``).

    Raises ``ValidationFailed`` listing every problem (missing column, empty names, reserved group names
    ``all``/``nation``/``region``).
    """
    problems: list[Problem] = []
    pairs: list[tuple[str, str, str]] = []  # group, partnership, where
    if format == "csv":
        table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        table.columns = [str(c).strip() for c in table.columns]
        for column in ("group", "partnership"):
            if column not in table.columns:
                problems.append(Problem.make(ErrorCode.MISSING_COLUMN, file=file, column=column))
        if problems:
            raise ValidationFailed(problems, "the peer group file cannot be read")
        for offset, (group, member) in enumerate(zip(table["group"], table["partnership"], strict=True)):
            pairs.append((group.strip(), member.strip(), f"row {offset + 2}"))
    elif format == "yaml":
        import yaml

        refused = yaml_problems(text, file)  # no aliases, size and depth limits: checked before parsing
        if refused:
            raise ValidationFailed(refused, "the peer group file cannot be read")
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ValidationFailed([Problem.make(ErrorCode.YAML_SYNTAX, file=file, detail=str(exc))]) from exc
        if not isinstance(data, dict):
            raise ValidationFailed([Problem.make(ErrorCode.NOT_A_MAPPING, file=file)])
        for group, members in data.items():
            if not isinstance(members, list):
                problems.append(Problem.make(ErrorCode.INVALID_VALUE, file=file, path=str(group),
                                             detail="a group must list its partnerships"))
                continue
            for index, member in enumerate(members):
                pairs.append((str(group).strip(), str(member).strip(), f"{group}[{index}]"))
    else:
        raise ValueError(f"format must be 'csv' or 'yaml', not {format!r}")
    groups: dict[str, list[str]] = {}
    for group, member, where in pairs:
        if not group or not member:
            problems.append(Problem.make(ErrorCode.EMPTY_IDENTIFIER, file=file, path=where,
                                         column="group" if not group else "partnership"))
        elif group in BUILT_IN_PEER_GROUPS:
            problems.append(Problem.make(ErrorCode.INVALID_VALUE, file=file, path=where,
                                         detail=f"'{group}' is a built-in peer group; choose another name"))
        elif ";" in group:
            problems.append(Problem.make(ErrorCode.INVALID_VALUE, file=file, path=where,
                                         detail="a group name cannot contain ';'"))
        elif member not in groups.setdefault(group, []):
            groups[group].append(member)
    if problems:
        raise ValidationFailed(problems, f"{len(problems)} problem(s) in the peer group file")
    return {group: tuple(members) for group, members in groups.items()}


def load_peer_groups(path: str | Path) -> dict[str, tuple[str, ...]]:
    """Read custom peer groups from a ``.csv`` (``group, partnership``) or ``.yaml``/``.yml`` file."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".yaml", ".yml"):
        raise ValueError(f"peer group file must end in .csv, .yaml or .yml: {path}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed([Problem.make(ErrorCode.ENCODING, file=str(path), detail=str(exc))]) from exc
    return parse_peer_groups(text, format="csv" if suffix == ".csv" else "yaml", file=str(path))
