"""``assessment purge``: remove respondent-level answers of closed rounds past the retention period."""

from __future__ import annotations

import sys

import click

from assessment.cli.database import actor_option, transaction
from assessment.settings import load_settings

__all__ = ["purge"]


@click.command()
@click.option("--older-than", "days", type=click.IntRange(min=1), default=None,
              help="Days since the round closed (default: the ASSESSMENT_RETENTION_DAYS setting).")
@click.option("--dry-run", is_flag=True, help="List what would be removed and change nothing.")
@actor_option
def purge(days, dry_run, actor) -> None:
    """Remove the answers and comments of rounds closed more than DAYS ago, keeping their stored scores.

    Purged rounds can no longer be reopened. Each purged round is recorded in the audit trail.
    """
    from assessment.storage.retention import purge_answers

    if days is None:
        days = load_settings().retention_days
        if days == 0:
            click.echo("error: give --older-than DAYS, or set ASSESSMENT_RETENTION_DAYS (0 means keep answers)",
                       err=True)
            sys.exit(1)
    with transaction() as session:
        report = purge_answers(session, older_than_days=days, actor=actor, dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    click.echo(f"{verb} {report.answers:,} answer(s) from {len(report.rounds)} round(s) closed before "
               f"{report.cutoff:%Y-%m-%d %H:%M} UTC" + (f": {', '.join(report.rounds)}" if report.rounds else ""))
