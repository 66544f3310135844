"""Database commands: ``db``, ``partnership``, ``round``, ``invite``, ``import``, ``export``, ``backup``, ``restore``.

Every command reads ``ASSESSMENT_DATABASE_URL`` (default: an SQLite file in ``ASSESSMENT_DATA_DIR``), runs
one library call in one transaction and prints the result. A command that changes data brings the schema
up to date first; a read-only command never migrates: it stops and says to run ``assessment db upgrade``
when the schema is behind. Changes are recorded in the audit trail under ``--actor`` (default
``cli:<login name>``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import sys
from collections.abc import Iterator
from pathlib import Path

import click
from sqlalchemy.orm import Session

from assessment.cli._common import debug_requested, make_engine_from_settings, report_error
from assessment.errors import ValidationFailed
from assessment.settings import COMMAND_LINE_BASE_URL, load_settings
from assessment.storage.errors import StorageError
from assessment.vocabulary import AGENCIES

__all__ = ["backup", "db", "export", "import_", "invite", "partnership", "restore", "round"]

AGENCY_CHOICE = click.Choice(AGENCIES)


def default_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name (some containers)
        return "cli"


actor_option = click.option("--actor", default=default_actor, show_default="cli:<login name>",
                            help="Who is making the change (recorded in the audit trail).")


def _engine(*, migrate: bool):
    from assessment.storage.db import upgrade

    engine = make_engine_from_settings(load_settings())
    if migrate:
        try:
            upgrade(engine)
        except BaseException:
            engine.dispose()
            raise
    return engine


@contextlib.contextmanager
def transaction(*, writes: bool = True) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back and reported on a refusal.

    Only the library's refusals are reported as an error line (``ValidationFailed`` with its problems, a
    ``StorageError`` with its message; ``assessment --debug`` adds the traceback); anything else is a bug and
    goes on to the ``assessment`` group, which reports it (see ``cli/_common.py``). ``writes=False``
    (read-only commands) does not migrate: a schema that is behind is reported instead.
    """
    from assessment.storage.db import check_schema, make_session_factory

    engine = _engine(migrate=writes)
    try:
        if not writes:
            check_schema(engine)
        with make_session_factory(engine).begin() as session:
            yield session
    except (ValidationFailed, StorageError) as exc:
        report_error(exc, debug=debug_requested())
    finally:
        engine.dispose()


def _print_frame(frame) -> None:
    if frame.empty:
        click.echo("(none)")
        return
    click.echo(frame.to_string(index=False))


# -- db ---------------------------------------------------------------------------------------------------

@click.group()
def db() -> None:
    """The database schema (migrations)."""


@db.command(name="upgrade")
def db_upgrade() -> None:
    """Bring the database to the newest schema and load the shipped reference data."""
    from assessment.storage.db import current_revision

    engine = _engine(migrate=True)
    click.echo(f"database at revision {current_revision(engine)} ({engine.url.render_as_string(hide_password=True)})")
    engine.dispose()


@db.command(name="status")
def db_status() -> None:
    """Show the database URL and its schema revision against the newest."""
    from assessment.storage.db import current_revision, head_revision

    engine = _engine(migrate=False)
    current, head = current_revision(engine), head_revision()
    click.echo(f"{engine.url.render_as_string(hide_password=True)}: revision {current or '(empty)'}, newest {head}"
               + ("" if current == head else " - run `assessment db upgrade`"))
    engine.dispose()


# -- partnership ---------------------------------------------------------------------------------------------

@click.group()
def partnership() -> None:
    """Partnerships: named sets of organisations, usually one police force area."""


@partnership.command(name="add")
@click.argument("key")
@click.option("--name", required=True, help="The partnership's name, e.g. 'Kent and Medway crisis care partnership'.")
@click.option("--member", "members", multiple=True,
              help="A member organisation by key or name (repeatable); the 44 police forces are shipped, "
                   "e.g. --member kent.")
@click.option("--organisation", "organisations", multiple=True, metavar="KEY=KIND:NAME",
              help="Add a new member organisation first, e.g. 'kmpt=mental_health_trust:Kent and Medway NHS "
                   "and Social Care Partnership Trust' (repeatable).")
@click.option("--nation", help="Default: the police force member's nation.")
@click.option("--region", help="Default: the police force member's region.")
@click.option("--group", "groups", multiple=True, help="A custom peer group name (repeatable).")
@click.option("--share-practice/--no-share-practice", default=False, show_default=True,
              help="Opt in to sharing evidence comments in the practice library.")
@click.option("--named-to-peers/--not-named-to-peers", default=False, show_default=True,
              help="Opt in to being named to peer partnerships.")
@actor_option
def partnership_add(key, name, members, organisations, nation, region, groups, share_practice, named_to_peers,
                    actor) -> None:
    """Add partnership KEY (lower-case letters, digits and '-')."""
    from assessment.storage import services as s

    new_organisations = []
    for spec in organisations:
        org_key, _, rest = spec.partition("=")
        kind, _, org_name = rest.partition(":")
        if not (org_key and kind and org_name):
            raise click.BadParameter(f"expected KEY=KIND:NAME, got {spec!r}", param_hint="--organisation")
        new_organisations.append(s.NewOrganisation(org_key, kind, org_name))
    with transaction() as session:
        created = s.add_partnership(session, key, name, members=members, nation=nation, region=region,
                                    groups=groups, share_practice=share_practice, named_to_peers=named_to_peers,
                                    new_organisations=new_organisations, actor=actor)
    click.echo(f"added partnership {created.key}: {created.name} ({created.nation}, {created.region}); "
               f"members {', '.join(created.members) or '-'}; groups {', '.join(created.groups) or '-'}")


@partnership.command(name="list")
def partnership_list() -> None:
    """List partnerships with nation, region, peer groups and opt-ins."""
    from assessment.storage import services as s

    with transaction(writes=False) as session:
        _print_frame(s.list_partnerships(session))


# -- round ------------------------------------------------------------------------------------------------

@click.group(name="round")
def round() -> None:  # noqa: A001 - the users' word for it
    """Assessment rounds: draft -> open -> closed (reopen needs a reason)."""


def _date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from exc


@round.command(name="create")
@click.option("--partnership", "partnership_key", required=True)
@click.option("--period", required=True,
              help="Period: YYYY, YYYY-H1, YYYY-Q1 or YYYY-YY (financial year), e.g. 2026-H1 or 2025-26.")
@click.option("--questionnaire", required=True, help="Questionnaire id (published with `questionnaire publish`).")
@click.option("--version", "version", default=None,
              help="Questionnaire version, e.g. 2.0.0 (default: the highest published version).")
@click.option("--key", help="Round key (default <partnership>-<period>, lower case).")
@click.option("--opens", help="Opening date YYYY-MM-DD.")
@click.option("--closes", help="Closing date YYYY-MM-DD.")
@actor_option
def round_create(partnership_key, period, questionnaire, version, key, opens, closes, actor) -> None:
    """Create a draft round."""
    from assessment.storage import services as s

    with transaction() as session:
        info = s.create_round(session, partnership_key, period, questionnaire=questionnaire, version=version,
                              key=key, opens_on=_date(opens), closes_on=_date(closes), actor=actor)
        warning = s.period_warning(session, info.partnership, info.period,
                                   window_months=load_settings().peer_window_months)
    click.echo(f"created round {info.key}: {info.partnership} {info.period} on {info.questionnaire} "
               f"{info.version} ({info.status})")
    if warning:
        click.echo(f"warning: {warning}", err=True)


@round.command(name="open")
@click.argument("key")
@actor_option
def round_open(key, actor) -> None:
    """Open a draft round: invitations work and answers can be saved."""
    from assessment.storage import services as s

    with transaction() as session:
        info = s.open_round(session, key, actor=actor)
    click.echo(f"round {info.key} is {info.status}")


@round.command(name="close")
@click.argument("key")
@actor_option
def round_close(key, actor) -> None:
    """Close an open round: answers freeze and the scores are computed and stored."""
    from assessment.storage import services as s
    from assessment.storage.figures import FigureOptions

    settings = load_settings()
    with transaction() as session:
        info = s.close_round(session, key, actor=actor, min_coverage=settings.min_coverage,
                             split_threshold=settings.split_threshold, min_group_size=settings.min_group_size,
                             figure_options=FigureOptions.from_settings(settings))
        n = len(s.partnership_scores(session, [key]))
    click.echo(f"round {info.key} is {info.status}; {n} domain score(s) stored")


@round.command(name="reopen")
@click.argument("key")
@click.option("--reason", required=True, help="Why the round is reopened (recorded in the audit trail).")
@actor_option
def round_reopen(key, reason, actor) -> None:
    """Reopen a closed round (an administrator's action; audited). Its scores are withdrawn until it closes."""
    from assessment.storage import services as s
    from assessment.storage.figures import FigureOptions

    with transaction() as session:
        info = s.reopen_round(session, key, actor=actor, reason=reason,
                              figure_options=FigureOptions.from_settings(load_settings()))
    click.echo(f"round {info.key} is {info.status} again")


@round.command(name="list")
@click.option("--partnership", "partnership_key")
def round_list(partnership_key) -> None:
    """List rounds with their status and respondent counts."""
    from assessment.storage import services as s

    with transaction(writes=False) as session:
        frame = s.list_rounds(session, partnership_key)
    _print_frame(frame.drop(columns=["closed_at", "updated_at"]))


@round.command(name="responses")
@click.argument("key")
def round_responses(key) -> None:
    """Responses per agency against invitations."""
    from assessment.storage import services as s

    with transaction(writes=False) as session:
        _print_frame(s.response_counts(session, key))


# -- invite -------------------------------------------------------------------------------------------------

@click.command()
@click.option("--round", "round_key", required=True)
@click.option("--agency", required=True, type=AGENCY_CHOICE)
@click.option("--count", default=1, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--expires-days", default=30, show_default=True, type=click.IntRange(1, 3650))
@click.option("--max-uses", default=1, show_default=True, type=click.IntRange(1, 10_000),
              help="1: a personal link that can resume; more: a workshop link (a new respondent per browser).")
@actor_option
def invite(round_key, agency, count, expires_days, max_uses, actor) -> None:
    """Create invitation links and print them (the only time they are shown: keep them safe)."""
    from assessment.storage import services as s

    settings = load_settings()
    with transaction() as session:
        links = s.create_invitations(session, round_key, agency, count, actor=actor,
                                     base_url=settings.base_url or COMMAND_LINE_BASE_URL,
                                     expires_days=expires_days, max_uses=max_uses)
    for link in links:
        click.echo(link)


# -- import / export --------------------------------------------------------------------------------------------

@click.group(name="import")
def import_() -> None:
    """Import data into a round."""


@import_.command(name="responses")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--round", "round_key", required=True)
@actor_option
def import_responses(file, round_key, actor) -> None:
    """Import a responses CSV (the `assessment score` format) into a draft or open round: all or nothing."""
    from assessment.storage import services as s

    def progress(done: int, total: int) -> None:
        if total >= 20_000:
            click.echo(f"  {done:,} / {total:,} answers", err=True)

    with transaction() as session:
        report = s.import_responses(session, round_key, file, actor=actor, progress=progress)
    click.echo(f"imported {report.answers} answer(s) from {report.respondents} respondent(s) into {report.round}"
               + (f" ({report.blank_rows} blank row(s) not stored)" if report.blank_rows else ""))


@click.command()
@click.option("--round", "round_key", required=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), required=True)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--table", type=click.Choice(["all", "domain_scores", "agency_scores", "overall_scores", "item_scores"]),
              default="all", show_default=True,
              help="CSV only: one table, or all (the domain scores to OUT, each other table next to it).")
def export(round_key, fmt, out, table) -> None:
    """The board export of a closed round: score tables only, suppressed figures blank, formula-safe.

    Respondent-level answers are not in it; they leave only through `assessment custodian-export`.
    """
    from assessment.storage import services as s
    from assessment.storage._common import audit
    from assessment.tabular import to_csv_bytes, to_xlsx_bytes

    with transaction(writes=False) as session:
        tables = s.export_tables(session, round_key)
        audit(session, default_actor(), "export", "round", round_key, format=fmt, table=table)
    if not tables:
        click.echo(f"error: round '{round_key}' has no scores to export yet (scores exist once a round is closed)",
                   err=True)
        sys.exit(1)
    if fmt == "xlsx":
        out.write_bytes(to_xlsx_bytes(tables))
        click.echo(f"wrote {out} ({', '.join(tables)})")
        return
    if table != "all":
        if table not in tables:
            click.echo(f"error: round '{round_key}' has no {table}", err=True)
            sys.exit(1)
        tables = {table: tables[table]}
    for index, (name, frame) in enumerate(tables.items()):
        path = out if index == 0 else out.with_name(f"{out.stem}.{name}{out.suffix or '.csv'}")
        path.write_bytes(to_csv_bytes(frame))
        click.echo(f"wrote {path} ({name}, {len(frame)} rows)")


@click.command(name="custodian-export")
@click.option("--round", "round_key", required=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), required=True)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--purpose", required=True, help="Why the answers are exported (recorded in the audit trail).")
@actor_option
def custodian_export(round_key, fmt, out, purpose, actor) -> None:
    """The data custodian's export of a round's answers and comments (respondent level).

    Recorded in the audit trail; respondent ids are replaced by fresh random ones in every export, so two
    exports cannot be joined. Board reports use `assessment export`, which carries aggregates only.
    """
    from assessment.storage import services as s
    from assessment.tabular import to_csv_bytes, to_xlsx_bytes

    with transaction() as session:
        tables = s.custodian_export(session, round_key, actor=actor, purpose=purpose)
    out.write_bytes(to_xlsx_bytes(tables) if fmt == "xlsx" else to_csv_bytes(tables["answers"]))
    answers = tables["answers"]
    click.echo(f"wrote {out} ({answers['respondent'].nunique()} respondent(s), {len(answers)} answer(s), "
               "respondent ids re-keyed for this export; recorded in the audit trail)")


# -- backup / restore ------------------------------------------------------------------------------------------

@click.command()
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@actor_option
def backup(out, actor) -> None:
    """Back up the whole database to one file (restores into SQLite or PostgreSQL), signed with
    ASSESSMENT_BACKUP_KEY."""
    from assessment.storage.backup import backup as run_backup
    from assessment.storage.db import check_schema

    settings = load_settings()
    engine = _engine(migrate=False)  # reading only: a schema that is behind is reported, not upgraded
    try:
        check_schema(engine)
        info = run_backup(engine, out, key=settings.backup_key, actor=actor)
    finally:
        engine.dispose()
    click.echo(f"wrote {info.path}: revision {info.revision}, {sum(info.rows.values()):,} rows in "
               f"{len(info.rows)} tables, {'signed' if info.signed else 'UNSIGNED'}")
    if not info.signed:
        click.echo("warning: ASSESSMENT_BACKUP_KEY is not set, so this backup is unsigned: restoring it will need "
                   "--accept-unsigned. Set the key (docs/settings.md) and back up again.", err=True)


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--accept-unsigned", is_flag=True,
              help="Restore a backup whose signature cannot be checked against ASSESSMENT_BACKUP_KEY (unsigned, "
                   "signed with another key, or no key set here). Only for a file you made and kept safe.")
@actor_option
def restore(file, accept_unsigned, actor) -> None:
    """Check a backup completely, then restore it into the empty database at ASSESSMENT_DATABASE_URL.

    Nothing is written unless every check passes; restored invitations come back revoked.
    """
    from assessment.storage.backup import restore as run_restore

    settings = load_settings()
    engine = _engine(migrate=False)
    try:
        report = run_restore(engine, file, key=settings.backup_key, accept_unsigned=accept_unsigned, actor=actor)
    finally:
        engine.dispose()
    trust = "signed" if report.signed else "UNSIGNED, accepted with --accept-unsigned"
    click.echo(f"restored {sum(report.rows.values()):,} rows from {file} (backup of {report.created_at}, "
               f"schema revision {report.revision}, {trust}):")
    click.echo("  " + ", ".join(f"{table} {rows:,}" for table, rows in report.rows.items()))
    if report.upgraded_to:
        click.echo(f"  upgraded from schema revision {report.revision} to {report.upgraded_to} (the migrations "
                   "moved the data forward)")
    if report.invitations_revoked:
        click.echo(f"  {report.invitations_revoked} invitation(s) restored revoked: issue new links with "
                   "`assessment invite`")
