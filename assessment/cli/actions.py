"""``assessment actions``: a partnership's action plan (list, add, update), as the Actions page shows it.

The CLI acts as administrator (changes are recorded under ``--actor``). ``list`` shows each action with its
review at the next round's close (target met, the Trends verdict), worked out with the same settings as
the Trends page (``ASSESSMENT_BOOTSTRAP_RESAMPLES``, ``ASSESSMENT_BOOTSTRAP_SEED``,
``ASSESSMENT_MIN_RESPONDENTS_FOR_CHANGE``, ``ASSESSMENT_MIN_GROUP_SIZE``). CSV and Excel go through the one
formula-safe writer (:mod:`assessment.tabular`).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from assessment.cli.database import _print_frame, actor_option, transaction
from assessment.vocabulary import ACTION_STATUSES

__all__ = ["actions"]

STATUS_CHOICE = click.Choice([*ACTION_STATUSES, *(s.replace(" ", "-") for s in ACTION_STATUSES if " " in s)],
                             case_sensitive=False)
_TEXT_FORMATS = click.Choice(["text", "json"])


def _trend_options() -> dict:
    from assessment.settings import load_settings

    settings = load_settings()
    return {"resamples": settings.bootstrap_resamples, "seed": settings.bootstrap_seed,
            "min_respondents": settings.min_respondents_for_change, "min_group_size": settings.min_group_size}


def _json_value(value):
    import pandas as pd

    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, dt.datetime | dt.date | pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def _records(frame) -> list[dict]:
    return [{column: _json_value(value) for column, value in row.items()}
            for row in frame.astype(object).to_dict(orient="records")]


@click.group()
def actions() -> None:
    """A partnership's action plan: actions agreed from a domain's gap, reviewed at the next round's close."""


@actions.command(name="list")
@click.option("--partnership", required=True, help="The partnership whose actions to list.")
@click.option("--status", "statuses", type=STATUS_CHOICE, multiple=True,
              help="Only actions with this status (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "xlsx"]), default="table",
              show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (needed for xlsx; csv and json print to stdout without it).")
def list_(partnership, statuses, fmt, out) -> None:
    """Each action with its status, whether it is overdue, and its review (target met, change verdict)."""
    from assessment.actions import actions_table
    from assessment.storage.services import list_actions
    from assessment.tabular import to_csv_bytes, to_xlsx_bytes

    if fmt == "xlsx" and out is None:
        raise click.UsageError("--format xlsx needs --out FILE")
    with transaction(writes=False) as session:
        frame = actions_table(list_actions(session, partnership, status=list(statuses) or None, **_trend_options()))
    if fmt == "table":
        _print_frame(frame[["action", "domain", "item", "owner", "target_level", "due", "status", "overdue",
                            "review_level", "target_met", "verdict"]])
        return
    if fmt == "json":
        content = (json.dumps(_records(frame), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    elif fmt == "csv":
        content = to_csv_bytes(frame)
    else:
        content = to_xlsx_bytes({"actions": frame})
    if out is None:
        click.echo(content.decode("utf-8-sig"), nl=False)
    else:
        out.write_bytes(content)
        click.echo(f"wrote {len(frame)} action(s) to {out}")


def _show(action, fmt: str, verb: str) -> None:
    if fmt == "json":
        click.echo(json.dumps({k: _json_value(v) for k, v in dict(action).items()}, indent=2, ensure_ascii=False))
    else:
        click.echo(f"{verb} action {action.id} ({action['partnership']}, {action['domain']}): {action['status']}, "
                   f"target level {action['target_level']}, due {action['due']}")


@actions.command(name="add")
@click.option("--partnership", required=True)
@click.option("--domain", required=True, help="The domain whose gap the action answers, e.g. governance.")
@click.option("--item", default=None, help="One item of the domain (optional), e.g. governance.joint_board.")
@click.option("--what", required=True, help="What will be done, in a sentence.")
@click.option("--owner", required=True, help="Who owns it: a role or an agency, e.g. 'Police mental health lead'.")
@click.option("--target-level", required=True, help="The maturity level (1-5) the domain should reach.")
@click.option("--due", required=True, help="Due date, YYYY-MM-DD.")
@click.option("--status", type=STATUS_CHOICE, default="planned", show_default=True)
@click.option("--notes", default="")
@click.option("--round", "round_key", default=None,
              help="The closed round whose results the action answers (default: the latest closed round).")
@click.option("--format", "fmt", type=_TEXT_FORMATS, default="text", show_default=True)
@actor_option
def add(partnership, domain, item, what, owner, target_level, due, status, notes, round_key, fmt, actor) -> None:
    """Add an action to a partnership's plan."""
    from assessment.storage.services import add_action

    with transaction() as session:
        added = add_action(session, partnership, domain=domain, item=item, what=what, owner=owner,
                           target_level=target_level, due=due, status=status, notes=notes, round=round_key,
                           actor=actor)
    _show(added, fmt, "added")


@actions.command(name="update")
@click.argument("action", type=int)
@click.option("--domain")
@click.option("--item", help="An item of the domain; an empty text removes it.")
@click.option("--what")
@click.option("--owner")
@click.option("--target-level")
@click.option("--due", help="YYYY-MM-DD")
@click.option("--status", type=STATUS_CHOICE)
@click.option("--notes")
@click.option("--format", "fmt", type=_TEXT_FORMATS, default="text", show_default=True)
@actor_option
def update(action, fmt, actor, **fields) -> None:
    """Change an action (by its number, as `assessment actions list` shows it); unnamed fields keep their values."""
    from assessment.storage.services import update_action

    changes = {name: value for name, value in fields.items() if value is not None}
    if not changes:
        raise click.UsageError("name at least one field to change, e.g. --status done")
    with transaction() as session:
        changed = update_action(session, action, actor=actor, **changes)
    _show(changed, fmt, "updated")
