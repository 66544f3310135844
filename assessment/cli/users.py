"""``assessment user``: staff users and their roles (the CLI acts as administrator)."""

from __future__ import annotations

import json

import click

from assessment.cli.database import _print_frame, actor_option, transaction
from assessment.permissions import ROLE_LABELS, SCOPED_ROLES, STAFF_ROLES

__all__ = ["user"]

ROLE_CHOICE = click.Choice([*STAFF_ROLES, *(r.replace("_", "-") for r in SCOPED_ROLES if "_" in r)])
_ROLES_HELP = ", ".join(STAFF_ROLES)
partnership_option = click.option("--partnership", default=None,
                                  help="The partnership the role is granted on (partnership_lead, board_member "
                                       "and commissioner only; repeat the grant for a commissioner's portfolio).")


def role_arguments(command):
    """EMAIL ROLE [--partnership] [--actor]: what `user grant` and `user revoke` both take."""
    for decorate in reversed((click.argument("email"), click.argument("role", type=ROLE_CHOICE),
                              partnership_option, actor_option)):
        command = decorate(command)
    return command


@click.group()
def user() -> None:
    """Staff users and their roles. A user is added by email; the grant binds to their identity provider
    account at their first sign-in. Roles: """


user.help = (user.help or "") + _ROLES_HELP + "."


@user.command(name="add")
@click.argument("email")
@click.option("--name", default="", help="Display name (the identity provider's name is used otherwise).")
@actor_option
def add(email, name, actor) -> None:
    """Add a user by email (no access until a role is granted)."""
    from assessment.storage.users import add_user

    with transaction() as session:
        added = add_user(session, email, actor=actor, name=name)
    click.echo(f"added {added.email} (grant a role with `assessment user grant {added.email} ROLE`)")


def _change_role(change: str, email, role, partnership, actor) -> None:
    """Run ``storage.users.<change>`` (grant_role or revoke_role) in one transaction; print the roles after."""
    from assessment.storage import users

    with transaction() as session:
        changed = getattr(users, change)(session, email, role, actor=actor, partnership=partnership)
    click.echo(f"{changed.email} now holds: {_describe(changed.grants) or 'no role'}")


@user.command(name="grant")
@role_arguments
def grant(email, role, partnership, actor) -> None:
    """Grant ROLE to EMAIL (adds the user when new), e.g. `assessment user grant ann@example.org administrator`."""
    _change_role("grant_role", email, role, partnership, actor)


@user.command(name="revoke")
@role_arguments
def revoke(email, role, partnership, actor) -> None:
    """Revoke ROLE (on --partnership) from EMAIL."""
    _change_role("revoke_role", email, role, partnership, actor)


@user.command(name="list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def list_(fmt) -> None:
    """Every user with their roles (one row per grant)."""
    from assessment.storage.users import list_users

    with transaction() as session:
        frame = list_users(session)
    if fmt == "json":
        frame = frame.astype(object).where(frame.notna(), None)
        frame["last_sign_in"] = [v.isoformat() if v is not None else None for v in frame["last_sign_in"]]
        click.echo(json.dumps(frame.to_dict(orient="records"), indent=2))
        return
    _print_frame(frame)


def _describe(grants) -> str:
    return ", ".join(ROLE_LABELS[role] + (f" of {partnership}" if partnership else "") for role, partnership in grants)
