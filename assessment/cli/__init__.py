"""The ``assessment`` command line: a thin layer over the library.

Each command group lives in its own module and is registered here. Commands print results to stdout and
problems to stderr; exit 0 on success, 1 when the input is invalid.
"""

from __future__ import annotations

import click

from assessment.cli.questionnaire import questionnaire

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="partnership-assessment")
def main() -> None:
    """Maturity assessment for police–mental health partnerships."""


main.add_command(questionnaire)


def _register_optional() -> None:
    """Register command groups from their modules (each module owns its commands)."""
    import importlib

    for module, names in (
        ("assessment.cli.scoring", ("score",)),
        ("assessment.cli.database", ("db", "partnership", "round", "invite", "import_", "export", "backup", "restore")),
        ("assessment.cli.demo", ("demo",)),
        ("assessment.cli.peers", ("benchmark", "regions", "trends")),
    ):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        for name in names:
            command = getattr(mod, name, None)
            if command is not None:
                main.add_command(command)


_register_optional()
