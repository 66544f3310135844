"""Shared helpers for CLI commands: printing problems and failing with exit code 1."""

from __future__ import annotations

import sys
from collections.abc import Iterable

import click

from assessment.errors import Problem


def fail_with(problems: Iterable[Problem], summary: str = "") -> None:
    """Print every problem to stderr and exit 1."""
    problems = list(problems)
    if summary:
        click.echo(summary, err=True)
    for problem in problems:
        click.echo(str(problem), err=True)
    sys.exit(1)
