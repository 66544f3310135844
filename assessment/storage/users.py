"""Users, their grants, sign-in and the audit log.

A user is known by the identity provider's issuer and subject once they have signed in. Before that an
administrator grants access to an email address; that grant binds to the issuer and subject of the first
sign-in with that email through a *configured* provider (never an unconfigured one), and from then on the
email is only shown, never trusted. Grants are ``(role, partnership)``: national roles (administrator,
analyst) name no partnership; partnership leads, board members and commissioners name one each.
Every change here is recorded in the audit trail, and so is every sign-in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from assessment.permissions import ADMINISTRATOR, SCOPED_ROLES, check_role
from assessment.storage._common import Conflict, NotFound, audit, get_partnership
from assessment.storage.models import AuditEvent, PartnershipRow, UserGrantRow, UserRow, utcnow

__all__ = [
    "AUDIT_COLUMNS",
    "SignedIn",
    "User",
    "add_user",
    "audit_log",
    "grant_role",
    "list_users",
    "revoke_role",
    "sign_in",
    "user_by_identity",
]

AUDIT_COLUMNS = ("at", "actor", "action", "entity", "entity_key", "detail")


@dataclass(frozen=True)
class User:
    email: str
    name: str
    bound: bool  # signed in at least once (issuer and subject known)
    grants: tuple[tuple[str, str | None], ...]


@dataclass(frozen=True)
class SignedIn:
    """The outcome of a sign-in: the user (None when unknown) and whether the email grant bound just now."""

    user: User | None
    bound_now: bool = False


def _email(email: str) -> str:
    text = str(email or "").strip().lower()
    if "@" not in text or text.startswith("@") or text.endswith("@") or " " in text:
        raise ValueError(f"{email!r} is not an email address")
    return text


def _grants(session: Session, user_id: int) -> tuple[tuple[str, str | None], ...]:
    rows = session.execute(
        select(UserGrantRow.role, PartnershipRow.key)
        .outerjoin(PartnershipRow, PartnershipRow.id == UserGrantRow.partnership_id)
        .where(UserGrantRow.user_id == user_id)
    ).all()
    return tuple(sorted((role, key) for role, key in rows))


def _user(session: Session, row: UserRow) -> User:
    return User(row.email, row.name, row.issuer is not None, _grants(session, row.id))


def _find(session: Session, email: str) -> UserRow | None:
    return session.scalar(select(UserRow).where(UserRow.email == _email(email)))


def add_user(session: Session, email: str, *, actor: str, name: str = "") -> User:
    """Add a user by email (no access until a role is granted)."""
    email = _email(email)
    if _find(session, email) is not None:
        raise Conflict(f"user {email} already exists (grant a role with `assessment user grant`)")
    row = UserRow(email=email, name=name.strip(), created_by=actor, created_at=utcnow())
    session.add(row)
    session.flush()
    audit(session, actor, "add", "user", email, name=row.name)
    return _user(session, row)


def _scope(session: Session, role: str, partnership: str | None) -> int | None:
    if role in SCOPED_ROLES:
        if not partnership:
            raise ValueError(f"the {role.replace('_', ' ')} role is granted on a partnership: name it")
        return get_partnership(session, partnership).id
    if partnership:
        raise ValueError(f"the {role} role is national: it is granted without a partnership")
    return None


def grant_role(session: Session, email: str, role: str, *, actor: str, partnership: str | None = None) -> User:
    """Grant ``role`` (on ``partnership`` for scoped roles); adds the user when the email is new.
    Granting a role the user already holds changes nothing (and records nothing)."""
    role = check_role(role)
    email = _email(email)
    partnership_id = _scope(session, role, partnership)
    row = _find(session, email)
    if row is None:
        row = UserRow(email=email, name="", created_by=actor, created_at=utcnow())
        session.add(row)
        session.flush()
        audit(session, actor, "add", "user", email)
    held = session.scalar(select(UserGrantRow.id).where(
        UserGrantRow.user_id == row.id, UserGrantRow.role == role,
        UserGrantRow.partnership_id.is_(None) if partnership_id is None
        else UserGrantRow.partnership_id == partnership_id))
    if held is None:
        session.add(UserGrantRow(user_id=row.id, role=role, partnership_id=partnership_id, granted_by=actor,
                                 granted_at=utcnow()))
        session.flush()
        audit(session, actor, "grant", "user", email, role=role, partnership=partnership)
    return _user(session, row)


def revoke_role(session: Session, email: str, role: str, *, actor: str, partnership: str | None = None) -> User:
    """Revoke one grant; refuses to remove the last administrator (nobody could grant roles again)."""
    role = check_role(role)
    row = _find(session, email)
    if row is None:
        raise NotFound(f"no user {_email(email)} (list users with `assessment user list`)")
    partnership_id = _scope(session, role, partnership)
    grant = session.scalar(select(UserGrantRow).where(
        UserGrantRow.user_id == row.id, UserGrantRow.role == role,
        UserGrantRow.partnership_id.is_(None) if partnership_id is None
        else UserGrantRow.partnership_id == partnership_id))
    if grant is None:
        where = f" on partnership '{partnership}'" if partnership else ""
        raise NotFound(f"{row.email} does not hold the {role.replace('_', ' ')} role{where}")
    if role == ADMINISTRATOR:
        admins = session.scalar(select(func.count()).select_from(UserGrantRow)
                                .where(UserGrantRow.role == ADMINISTRATOR))
        if admins <= 1:
            raise Conflict(f"{row.email} is the last administrator: grant another administrator first")
    session.execute(delete(UserGrantRow).where(UserGrantRow.id == grant.id))
    audit(session, actor, "revoke", "user", row.email, role=role, partnership=partnership)
    return _user(session, row)


def list_users(session: Session) -> pd.DataFrame:
    """One row per grant (users without a grant have one row with an empty role)."""
    rows = session.execute(
        select(UserRow.email, UserRow.name, UserRow.issuer, UserRow.last_sign_in_at, UserGrantRow.role,
               PartnershipRow.key)
        .outerjoin(UserGrantRow, UserGrantRow.user_id == UserRow.id)
        .outerjoin(PartnershipRow, PartnershipRow.id == UserGrantRow.partnership_id)
        .order_by(UserRow.email, UserGrantRow.role, PartnershipRow.key)
    ).all()
    frame = pd.DataFrame(rows, columns=["email", "name", "issuer", "last_sign_in", "role", "partnership"])
    frame["signed_in"] = frame["issuer"].notna()
    return frame[["email", "name", "role", "partnership", "signed_in", "last_sign_in"]]


def sign_in(session: Session, *, issuer: str, subject: str, email: str | None, name: str = "",
            configured_issuers: Iterable[str], admins: Sequence[str] = ()) -> SignedIn:
    """Record a sign-in and find the user: by issuer and subject, else (through a configured provider only)
    by an email grant not yet bound, which binds now. Emails in ``admins`` (``ASSESSMENT_ADMINS``) become
    administrators at their first sign-in. An unknown user gets ``SignedIn(None)`` (and the attempt is
    recorded)."""
    if not issuer or not subject:
        raise ValueError("a sign-in needs the identity provider's issuer and subject")
    now = utcnow()
    row = session.scalar(select(UserRow).where(UserRow.issuer == issuer, UserRow.subject == subject))
    bound_now = False
    mail = None
    try:
        mail = _email(email) if email else None
    except ValueError:
        mail = None
    if row is None and mail is not None and issuer in set(configured_issuers):
        candidate = _find(session, mail)
        if candidate is None and mail in {a.strip().lower() for a in admins if a.strip()}:
            grant_role(session, mail, ADMINISTRATOR, actor="ASSESSMENT_ADMINS")
            candidate = _find(session, mail)
        if candidate is not None and candidate.issuer is None:
            candidate.issuer, candidate.subject = issuer, subject
            row, bound_now = candidate, True
    if row is None:
        audit(session, f"{issuer}#{subject}"[:120], "sign-in-unknown", "user", (mail or "")[:120], issuer=issuer)
        return SignedIn(None)
    if bound_now and row.email in {a.strip().lower() for a in admins if a.strip()}:  # first sign-in only
        grant_role(session, row.email, ADMINISTRATOR, actor="ASSESSMENT_ADMINS")
    row.last_sign_in_at = now
    if name and not row.name:
        row.name = name.strip()[:200]
    session.flush()
    audit(session, row.email, "sign-in", "user", row.email, issuer=issuer, bound=bound_now)
    return SignedIn(_user(session, row), bound_now)


def user_by_identity(session: Session, *, issuer: str, subject: str) -> User | None:
    """The user bound to this issuer and subject, with their grants as they are now (None: unknown)."""
    row = session.scalar(select(UserRow).where(UserRow.issuer == issuer, UserRow.subject == subject))
    return None if row is None else _user(session, row)


def audit_log(session: Session, *, since: dt.datetime | None = None, until: dt.datetime | None = None,
              actor: str | None = None, action: str | None = None, entity: str | None = None,
              text: str | None = None, limit: int = 10_000) -> pd.DataFrame:
    """Audit events, newest first, filtered by time, actor (substring), action, entity and a text search
    in the entity key."""
    query = select(AuditEvent.at, AuditEvent.actor, AuditEvent.action, AuditEvent.entity,
                   AuditEvent.entity_key, AuditEvent.detail)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    if actor:
        query = query.where(func.lower(AuditEvent.actor).contains(actor.lower()))
    if action:
        query = query.where(AuditEvent.action == action)
    if entity:
        query = query.where(AuditEvent.entity == entity)
    if text:
        query = query.where(func.lower(AuditEvent.entity_key).contains(text.lower()))
    rows = session.execute(query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)).all()
    return pd.DataFrame(rows, columns=list(AUDIT_COLUMNS))
