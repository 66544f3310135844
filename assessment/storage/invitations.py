"""Invite links: random tokens, stored only as SHA-256 hashes, scoped to a round and an agency.

A token is ``secrets.token_urlsafe(32)`` (256 bits). The plain token is returned once, inside the links,
and never stored; the database keeps its SHA-256. Every refusal (unknown, forged, expired, used up,
revoked, round not open) raises :class:`InvalidInvitation` with the same message, so a link reveals
nothing about why it fails.

A use is counted when a respondent submits. Until then a single-use link resumes its own respondent; a
multi-use link (a workshop) starts a new respondent for each browser session and cannot resume.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from assessment.storage._common import StateError, audit, check_agency, get_round
from assessment.storage.models import (
    InvitationRow,
    PartnershipRow,
    QuestionnaireVersionRow,
    RespondentRow,
    RoundRow,
    utcnow,
)

__all__ = [
    "INVALID_INVITATION_MESSAGE",
    "InvalidInvitation",
    "InvitationContext",
    "create_invitations",
    "hash_token",
    "invitation_link",
    "issue_invitations",
    "IssuedInvitation",
    "resolve_invitation",
    "revoke_invitation",
]

INVALID_INVITATION_MESSAGE = ("This invitation link is not valid: it may be mistyped, expired, withdrawn or "
                              "already used. Ask the person who sent it for a new link.")
INVITE_PARAMETER = "invite"


class InvalidInvitation(Exception):
    """Every refusal of an invite token, with one message whatever the reason."""

    def __init__(self) -> None:
        super().__init__(INVALID_INVITATION_MESSAGE)


@dataclass(frozen=True)
class IssuedInvitation:
    token: str  # shown once, never stored
    link: str
    expires_at: dt.datetime
    max_uses: int


@dataclass(frozen=True)
class InvitationContext:
    """What a valid token gives access to."""

    invitation_id: int
    round: str
    partnership: str
    agency: str
    questionnaire: str
    version: str
    period: str
    single_use: bool
    uses_left: int
    respondent: str | None  # single-use link: the respondent it already started (resume), if any


def hash_token(token: str) -> str:
    """SHA-256 hex of a token (what the database stores)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def invitation_link(base_url: str, token: str) -> str:
    """The one place links are built: ``<base_url>/?invite=<token>``."""
    return f"{base_url.rstrip('/')}/?{INVITE_PARAMETER}={token}"


def issue_invitations(session: Session, round_key: str, agency: str, count: int, *, actor: str, base_url: str,
                      expires_days: int = 30, max_uses: int = 1) -> list[IssuedInvitation]:
    """Create ``count`` invitations for one agency in a round; the plain tokens are in the result only."""
    check_agency(agency)
    if count < 1 or count > 10_000:
        raise ValueError("count must be between 1 and 10,000")
    if expires_days < 1:
        raise ValueError("expires_days must be at least 1")
    if max_uses < 1:
        raise ValueError("max_uses must be at least 1")
    row = get_round(session, round_key)
    if row.status == "closed":
        raise StateError(f"round '{round_key}' is closed: reopen it before inviting more people")
    now = utcnow()
    expires_at = now + dt.timedelta(days=expires_days)
    tokens = [secrets.token_urlsafe(32) for _ in range(count)]
    session.execute(insert(InvitationRow), [
        {"token_hash": hash_token(t), "round_id": row.id, "agency": agency, "expires_at": expires_at,
         "max_uses": max_uses, "uses": 0, "revoked": False, "created_at": now, "created_by": actor}
        for t in tokens])
    audit(session, actor, "invite", "round", round_key, agency=agency, count=count, max_uses=max_uses,
          expires_at=expires_at.isoformat())
    return [IssuedInvitation(t, invitation_link(base_url, t), expires_at, max_uses) for t in tokens]


def create_invitations(session: Session, round_key: str, agency: str, count: int, *, actor: str, base_url: str,
                       expires_days: int = 30, max_uses: int = 1) -> list[str]:
    """Create ``count`` invitations and return their links (the only time the tokens exist in clear)."""
    return [i.link for i in issue_invitations(session, round_key, agency, count, actor=actor, base_url=base_url,
                                              expires_days=expires_days, max_uses=max_uses)]


def _lookup(session: Session, token: str) -> InvitationRow:
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        raise InvalidInvitation()
    digest = hash_token(token)
    row = session.scalar(select(InvitationRow).where(InvitationRow.token_hash == digest))
    # The index finds the row; compare_digest keeps the final comparison constant-time.
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        raise InvalidInvitation()
    return row


def resolve_invitation(session: Session, token: str) -> InvitationContext:
    """Check a token and say what it opens; raise :class:`InvalidInvitation` for any refusal."""
    inv = _lookup(session, token)
    found = session.execute(
        select(RoundRow.key, RoundRow.status, PartnershipRow.key, QuestionnaireVersionRow.questionnaire,
               QuestionnaireVersionRow.version, RoundRow.period)
        .join(PartnershipRow, PartnershipRow.id == RoundRow.partnership_id)
        .join(QuestionnaireVersionRow, QuestionnaireVersionRow.id == RoundRow.questionnaire_version_id)
        .where(RoundRow.id == inv.round_id)).one()
    round_key, status, partnership, questionnaire, version, period = found
    if inv.revoked or inv.expires_at <= utcnow() or inv.uses >= inv.max_uses or status != "open":
        raise InvalidInvitation()
    respondent = None
    if inv.max_uses == 1:
        respondent = session.scalar(select(RespondentRow.key).where(
            RespondentRow.invitation_id == inv.id, RespondentRow.submitted_at.is_(None)))
    return InvitationContext(inv.id, round_key, partnership, inv.agency, questionnaire, version, period,
                             inv.max_uses == 1, inv.max_uses - inv.uses, respondent)


def revoke_invitation(session: Session, token: str, *, actor: str) -> None:
    """Withdraw a link (the holder then gets the uniform refusal)."""
    inv = _lookup(session, token)
    session.execute(update(InvitationRow).where(InvitationRow.id == inv.id).values(revoked=True))
    audit(session, actor, "revoke", "invitation", str(inv.id))


def revoke_round_invitations(session: Session, round_key: str, *, actor: str, agency: str | None = None) -> int:
    """Withdraw every unused link of a round (optionally one agency's); return how many."""
    row = get_round(session, round_key)
    query = update(InvitationRow).where(InvitationRow.round_id == row.id, InvitationRow.revoked.is_(False))
    if agency is not None:
        query = query.where(InvitationRow.agency == check_agency(agency))
    count = session.execute(query.values(revoked=True)).rowcount or 0
    audit(session, actor, "revoke-all", "round", round_key, agency=agency, count=count)
    return count
