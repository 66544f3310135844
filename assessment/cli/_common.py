"""Shared helpers for CLI commands: printing problems, failing with exit code 1, and turning the errors a
user can cause (a bad file, a bad setting, a refused change, an unreachable database) into one line.

Expected errors print ``error: <what and where>`` and exit 1; ``assessment --debug`` adds the traceback.
Anything else is a bug: by default it prints one line with the error's type and the place in the code,
but not its text (an error's text can hold values from the user's files) and no traceback.
"""

from __future__ import annotations

import csv
import json
import sys
import traceback
import zipfile
from collections.abc import Iterable
from pathlib import Path

import click

from assessment.errors import Problem, ValidationFailed

__all__ = ["debug_requested", "expected_error", "fail_with", "make_engine_from_settings", "report_error"]


def fail_with(problems: Iterable[Problem], summary: str = "") -> None:
    """Print every problem to stderr and exit 1."""
    problems = list(problems)
    if summary:
        click.echo(summary, err=True)
    for problem in problems:
        click.echo(str(problem), err=True)
    sys.exit(1)


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


def _loaded(module: str):
    """A module only if something already imported it: an error cannot come from a library never loaded,
    and importing one here would cost a light command (``questionnaire validate``) its small footprint."""
    return sys.modules.get(module)


def expected_error(exc: BaseException) -> str | None:
    """The one-line message for an error a user can cause, or None for anything else (a bug)."""
    sa_exc = _loaded("sqlalchemy.exc")
    if sa_exc is not None and isinstance(exc, sa_exc.DBAPIError):
        # Never str(exc): SQLAlchemy appends the statement and its parameters (row values).
        reason = _one_line(str(exc.orig).split("\n")[0]) if exc.orig is not None else type(exc).__name__
        if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
            return f"the database could not be reached or failed: {reason}"
        return f"the database refused the change: {reason}"
    if isinstance(exc, OSError) and not isinstance(exc, zipfile.BadZipFile):
        if exc.filename:
            return f"{exc.strerror or 'cannot use the file'}: {exc.filename}"
        return _one_line(str(exc))
    if isinstance(exc, csv.Error):
        return f"the file is not a readable CSV file ({_one_line(str(exc))})"
    invitations = _loaded("assessment.storage.invitations")
    if isinstance(exc, ValueError | zipfile.BadZipFile) or (
            invitations is not None and isinstance(exc, invitations.InvalidInvitation)):
        return _one_line(str(exc))
    yaml = _loaded("yaml")
    if yaml is not None and isinstance(exc, yaml.YAMLError):
        return f"not valid YAML: {_one_line(str(exc))}"
    return None


def _innermost_context(exc: BaseException) -> click.Context | None:
    """The context of the innermost click command the error came through (``assessment import responses``)."""
    found = None
    tb = exc.__traceback__
    while tb is not None:
        ctx = tb.tb_frame.f_locals.get("ctx")
        if isinstance(ctx, click.Context):
            found = ctx
        tb = tb.tb_next
    return found


def _about_a_file(exc: BaseException) -> bool:
    """Errors about a file's content, whose text may not say which file (a CSV parser's, a decoder's...)."""
    import json

    kinds: tuple[type[BaseException], ...] = (csv.Error, UnicodeError, json.JSONDecodeError, zipfile.BadZipFile)
    if (pandas_errors := _loaded("pandas.errors")) is not None:
        kinds += (pandas_errors.ParserError, pandas_errors.EmptyDataError)
    if (yaml := _loaded("yaml")) is not None:
        kinds += (yaml.YAMLError,)
    return isinstance(exc, kinds)


def _with_files(message: str, exc: BaseException, ctx: click.Context | None) -> str:
    """Name the command's input files when the message does not say which file it is about."""
    if ctx is None or not _about_a_file(exc):
        return message
    files = [str(value) for value in ctx.params.values() if isinstance(value, Path) and value.is_file()]
    if not files or any(name in message or Path(name).name in message for name in files):
        return message
    return f"{message} (reading {', '.join(files)})"


def _code_place(exc: BaseException) -> str:
    """Where in the product's code the error was raised (file and line, no values)."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "assessment" in Path(f.filename).parts] or frames
    if not ours:
        return "an unknown place"
    frame = ours[-1]
    parts = Path(frame.filename).parts
    shown = "/".join(parts[parts.index("assessment"):]) if "assessment" in parts else Path(frame.filename).name
    return f"{shown}:{frame.lineno}"


def debug_requested() -> bool:
    """Whether the running command was started as ``assessment --debug ...``."""
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.find_root().params.get("debug"))


def report_error(exc: BaseException, *, debug: bool) -> None:
    """Print an error raised by a command and exit 1: one line, or with ``debug`` the full traceback."""
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    if isinstance(exc, ValidationFailed):
        fail_with(exc.problems, exc.summary)
    message = expected_error(exc)
    ctx = _innermost_context(exc)
    if message is None:
        command = ctx.command_path if ctx is not None else "assessment"
        message = (f"internal error ({type(exc).__name__} at {_code_place(exc)}) while running `{command}`: "
                   "this is a bug, please report it"
                   + ("" if debug else "; run again as `assessment --debug ...` to see the traceback"))
    else:
        message = _with_files(message, exc, ctx)
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def make_engine_from_settings(settings):
    """The engine for ``ASSESSMENT_DATABASE_URL``; a URL SQLAlchemy cannot use is a bad setting."""
    from sqlalchemy.exc import ArgumentError

    from assessment.settings import SettingsError
    from assessment.storage.db import make_engine

    try:
        return make_engine(settings.database_url)
    except ArgumentError as exc:
        # The message never repeats the URL: it may hold a password.
        raise SettingsError(f"ASSESSMENT_DATABASE_URL is not a database address this product can use "
                            f"({_one_line(str(exc))}); e.g. sqlite:///data/assessment.db or "
                            "postgresql+psycopg://user@host:5432/db") from exc


def validate_each(paths, validate, describe) -> None:
    """The ``validate`` commands: ``validate(path)`` gives a result with ``ok``, ``problems`` and the model;
    ``describe(result)`` is the line printed for a valid file. Every problem of every file is listed at the
    end, with exit 1."""
    problems: list[Problem] = []
    for path in paths:
        result = validate(path)
        if result.ok:
            click.echo(f"ok  {path}: {describe(result)}")
        else:
            problems.extend(result.problems)
    if problems:
        fail_with(problems, f"{len(problems)} problem(s) found:")


def write_json_schema(model, title: str, out: Path | None) -> None:
    """The ``schema`` commands: the JSON Schema of a file format's pydantic ``model`` (for editors' YAML
    support), to ``out`` or stdout."""
    data = model.model_json_schema(by_alias=True)
    data["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    data["title"] = title
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if out:
        out.write_text(text + "\n", encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")
