"""The ``assessment`` command line: a thin layer over the library.

Each command group lives in its own module and is registered here. Commands print results to stdout and
problems to stderr; exit 0 on success, 1 when the input is invalid.
"""

from __future__ import annotations

import click

from assessment.cli.database import backup, db, export, import_, invite, partnership, restore, round
from assessment.cli.demo import demo
from assessment.cli.peers import benchmark, regions, trends
from assessment.cli.questionnaire import questionnaire
from assessment.cli.scoring import score

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="partnership-assessment")
def main() -> None:
    """Maturity assessment for police–mental health partnerships."""


for _command in (questionnaire, score, db, partnership, round, invite, import_, export, backup, restore, demo,
                 benchmark, regions, trends):
    main.add_command(_command)
