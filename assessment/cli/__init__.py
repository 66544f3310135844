"""The ``assessment`` command line: a thin layer over the library.

Each command group lives in its own module and is registered here. Commands print results to stdout and
problems to stderr; exit 0 on success, 1 when the input is invalid or a change is refused (one line:
``error: ...``; ``assessment --debug`` adds the traceback), 2 for a wrong command line. The CLI acts as
administrator: whoever has a shell on the server can read and change everything (changes are recorded
under ``--actor``).

A command's module is imported only when that command runs: ``assessment questionnaire validate`` needs
YAML and pydantic, not pandas, SQLAlchemy and the database layer, so it starts fast and fits in a small
memory limit (the YAML-bomb test runs it under 256 MB of address space).
"""

from __future__ import annotations

from importlib import import_module

import click

__all__ = ["main"]

# command name -> (module, attribute); listed here so that `--help` needs no import either
COMMANDS = {
    "questionnaire": ("assessment.cli.questionnaire", "questionnaire"),
    "score": ("assessment.cli.scoring", "score"),
    "db": ("assessment.cli.database", "db"),
    "partnership": ("assessment.cli.database", "partnership"),
    "round": ("assessment.cli.database", "round"),
    "invite": ("assessment.cli.database", "invite"),
    "import": ("assessment.cli.database", "import_"),
    "export": ("assessment.cli.database", "export"),
    "custodian-export": ("assessment.cli.database", "custodian_export"),
    "backup": ("assessment.cli.database", "backup"),
    "restore": ("assessment.cli.database", "restore"),
    "demo": ("assessment.cli.demo", "demo"),
    "benchmark": ("assessment.cli.peers", "benchmark"),
    "regions": ("assessment.cli.peers", "regions"),
    "trends": ("assessment.cli.peers", "trends"),
    "indicators": ("assessment.cli.indicators", "indicators"),
    "user": ("assessment.cli.users", "user"),
    "purge": ("assessment.cli.retention", "purge"),
    "actions": ("assessment.cli.actions", "actions"),
    "report": ("assessment.cli.report", "report"),
}


class _LazyGroup(click.Group):
    """Imports a command's module when the command is looked up (click's lazy-loading recipe); every error
    a command lets through ends here, printed as one line (see ``_common.report_error``)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit,
                KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - printed as one line, or with its traceback under --debug
            from assessment.cli._common import report_error

            report_error(exc, debug=bool(ctx.params.get("debug")))

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module, attribute = COMMANDS[cmd_name]
            self.add_command(getattr(import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="partnership-assessment")
@click.option("--debug", is_flag=True, help="Show the full traceback when a command fails.")
def main(debug: bool) -> None:
    """Maturity assessment for police–mental health partnerships.

    The command line acts as administrator: shell access to the server is administrator access, so every
    command may read and change every partnership (changes are recorded in the audit trail under --actor).
    """
    from assessment.settings import load_settings

    # A bad setting stops every command at start, naming the variable, its value and the range: the
    # SettingsError is printed as one line by _LazyGroup.invoke (with its traceback under --debug).
    load_settings()

