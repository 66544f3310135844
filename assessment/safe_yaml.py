"""What a YAML file must not do before it is parsed into data: be too large, nest too deep, use aliases.

An alias (``*name``) repeats the node its anchor (``&name``) marked. Nine levels of nine aliases fit in
535 bytes and stand for 9⁹ (387 million) copies: any code that walks or validates the expanded data runs
out of memory. So questionnaire and peer-group files may not use anchors or aliases at all (nothing in
the format needs them: write the content out in full). The check reads the parser's event stream, which
reports an alias as one event and never expands it; the size limit is checked on the bytes first, so the
scan itself is bounded.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from assessment.errors import ErrorCode, Problem

__all__ = ["MAX_DEPTH", "MAX_FILE_BYTES", "file_size_problem", "read_limited", "read_text", "yaml_problems"]

# The shipped questionnaire is about 75 KB; a file over 1 MB is a mistake or an attack.
MAX_FILE_BYTES = 1_000_000
# Mappings and sequences nested deeper than this (the format needs about 6 levels).
MAX_DEPTH = 32
# At most this many anchors and aliases are listed (each one is a problem; the first few show the way).
MAX_LISTED = 20

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: same events, faster


def file_size_problem(size: int, file: str = "") -> Problem | None:
    """A ``file-too-large`` problem when ``size`` (bytes) is over :data:`MAX_FILE_BYTES`."""
    if size <= MAX_FILE_BYTES:
        return None
    return Problem.make(ErrorCode.FILE_TOO_LARGE, file=file, size=f"{size:,}", limit=f"{MAX_FILE_BYTES:,}")


def read_limited(path: str | Path) -> bytes:
    """The file's bytes, never more than ``MAX_FILE_BYTES + 1`` of them (so a huge file is not read)."""
    with open(path, "rb") as handle:
        return handle.read(MAX_FILE_BYTES + 1)


def read_text(path: str | Path) -> tuple[str, Problem | None]:
    """The file's text, or the one problem that stops it being read (missing, unreadable, too large, not UTF-8).

    Questionnaire and indicator catalogue files are read this way, so both report the same problems.
    """
    file = str(path)
    try:
        too_large = file_size_problem(Path(path).stat().st_size, file)
        if too_large is not None:
            return "", too_large
        return read_limited(path).decode("utf-8"), None
    except FileNotFoundError:
        return "", Problem.make(ErrorCode.INVALID_VALUE, file=file, detail="file not found")
    except OSError as exc:  # a folder named like a file, no permission...: a problem, never a crash
        return "", Problem.make(ErrorCode.INVALID_VALUE, file=file,
                                detail=f"the file cannot be read ({exc.strerror or exc})")
    except UnicodeDecodeError as exc:
        return "", Problem.make(ErrorCode.ENCODING, file=file, detail=str(exc))


def yaml_problems(text: str, file: str = "") -> list[Problem]:
    """Every anchor and alias (with its line), too deep a nesting, too large a text, or a syntax error.

    Reads the event stream only: no node is composed and no alias is expanded, so the cost is linear in
    the length of the text. An empty list means the text may be composed and constructed safely.
    """
    size = len(text.encode("utf-8", errors="replace"))
    too_large = file_size_problem(size, file)
    if too_large is not None:
        return [too_large]
    problems: list[Problem] = []
    depth = 0
    loader = _Loader(text)
    try:
        while loader.check_event():
            event = loader.get_event()
            line = event.start_mark.line + 1
            if isinstance(event, yaml.AliasEvent):
                problems.append(Problem.make(ErrorCode.YAML_ALIAS, file=file, line=line, kind="alias",
                                             name=f"*{event.anchor}"))
            elif getattr(event, "anchor", None) is not None:
                problems.append(Problem.make(ErrorCode.YAML_ALIAS, file=file, line=line, kind="anchor",
                                             name=f"&{event.anchor}"))
            if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    problems.append(Problem.make(ErrorCode.YAML_TOO_DEEP, file=file, line=line, limit=MAX_DEPTH))
                    break
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                depth -= 1
            if len(problems) >= MAX_LISTED:
                break
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        detail = getattr(exc, "problem", None) or str(exc)
        problems.append(Problem.make(ErrorCode.YAML_SYNTAX, file=file, line=mark.line + 1 if mark else None,
                                     detail=detail))
    finally:
        loader.dispose()
    return problems
